"""Probe hosts over SSH: send the standard-library readers, run them as `python3 -`, read JSON.

The far side needs only python3: the modules of `probes.readers` travel in one script with a
tiny importer, so local and remote hosts run exactly the same probe code. Hosts are probed
concurrently (bounded), each within a timeout; every failure becomes a `ProbeFailure` with a
one-line reason and never stops the other hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from probes.facts import HostFacts
from probes.local import ProbeError, facts_from_dict

if TYPE_CHECKING:
    import asyncssh

FailureKind = Literal[
    "unreachable",
    "timeout",
    "auth-refused",
    "host-key-unknown",
    "host-key-changed",
    "no-python3",
    "probe-crashed",
    "bad-output",
    "ssh-error",
    "known-hosts",
]

REMOTE_COMMAND = "python3 -"
# Printed by the probe script right before its JSON: a login shell may print text first
# (an `echo` in .bashrc, a motd script), so the facts are what follows the last marker.
FACTS_MARKER = "--- sunbeam-install probe facts ---"
_PACKAGE = "sunbeam_probe"


@dataclass(frozen=True)
class Target:
    """One SSH target: `[user@]host[:port]` (IPv6 as `[addr]` or `[addr]:port`)."""

    text: str
    host: str
    port: int = 22
    user: str | None = None


@dataclass(frozen=True)
class ProbeFailure:
    target: str
    kind: FailureKind
    reason: str  # one line, says what to do

    def __str__(self) -> str:
        return f"{self.target}: {self.reason}"


class TargetError(ValueError):
    """A HOST argument that is not `[user@]host[:port]`."""


_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


def parse_target(text: str) -> Target:
    """Parse `[user@]host[:port]`; raises TargetError naming the value and the expected form."""
    rest = text.strip()
    user = None
    if "@" in rest:
        user, rest = rest.rsplit("@", 1)
        if not user:
            raise TargetError(f"Host {text!r} has an empty user name; write user@host or host.")
    port_text = None
    if rest.startswith("["):
        host, sep, tail = rest[1:].partition("]")
        if not sep or (tail and not tail.startswith(":")):
            raise TargetError(f"Host {text!r} is not [IPv6]:port; write e.g. [fd00::2]:22.")
        port_text = tail[1:] if tail else None
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
    else:
        host = rest  # a bare IPv6 address (several colons) or a name
    if not host:
        raise TargetError(f"Host {text!r} has no address; write [user@]host[:port].")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise TargetError(
                f"Host {text!r} is not a valid host name or address; write [user@]host[:port]."
            ) from None
    port = 22
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise TargetError(f"Host {text!r} has port {port_text!r}; use a number 1-65535.")
        port = int(port_text)
    return Target(text=text, host=host, port=port, user=user)


def target_text(host: str, port: int = 22, user: str | None = None) -> str:
    """`[user@]host[:port]` as `parse_target` reads it (IPv6 in brackets when a port follows);
    port 22 is left out."""
    where = host
    if port != 22:
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"{user}@{where}" if user else where


@functools.lru_cache(maxsize=1)
def probe_script() -> bytes:
    """The self-contained script sent to each host: the readers' sources and an importer."""
    here = Path(__file__).parent / "readers"
    sources = {p.stem: p.read_text(encoding="utf-8") for p in sorted(here.glob("*.py"))}
    sources.pop("__init__", None)
    return _SCRIPT.format(package=_PACKAGE, sources=repr(sources), marker=FACTS_MARKER).encode()


_SCRIPT = """\
import importlib.machinery, sys
SOURCES = {sources}
PKG = "{package}"
class Importer:  # importlib.abc would pull in importlib.resources: 40 ms of imports
    def find_spec(self, name, path=None, target=None):
        if name == PKG or (name.startswith(PKG + ".") and name[len(PKG) + 1:] in SOURCES):
            return importlib.machinery.ModuleSpec(name, self, is_package=name == PKG)
        return None
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        if module.__name__ == PKG:
            return
        short = module.__name__[len(PKG) + 1:]
        exec(compile(SOURCES[short], "<probe>/" + short + ".py", "exec"), module.__dict__)
sys.meta_path.insert(0, Importer())
from {package} import collect
sys.stdout.write({marker!r} + "\\n")
sys.stdout.flush()
sys.exit(collect.main())
"""


class KnownHostsError(ValueError):
    """The known_hosts file cannot be read or written; the message names it and the fix."""


def removal_command(path: Path, host: str, port: int) -> str:
    """The `ssh-keygen -R` command that removes `host`'s entry for `port` from `path`."""
    entry = host if port == 22 else f'"[{host}]:{port}"'
    return f"ssh-keygen -f {path} -R {entry}"


def _hashed_match(pattern: str, names: Sequence[str]) -> bool:
    import base64
    import hashlib
    import hmac

    try:
        _, _, salt, digest = pattern.split("|", 3)
        key, want = base64.b64decode(salt), base64.b64decode(digest)
    except ValueError:
        return False
    return any(
        hmac.compare_digest(hmac.new(key, n.encode(), hashlib.sha1).digest(), want) for n in names
    )


def _applies_to_port(line: str, port: int, names: Sequence[str]) -> bool:
    """Whether a known_hosts line speaks of `port`: as OpenSSH reads it, a pattern without
    `[...]:port` is for port 22 only (asyncssh consults it for every port, which made a port-22
    entry look like a "changed" key for another port of the same address)."""
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return False
    if fields[0].startswith("@"):  # @revoked / @cert-authority: always consulted
        return True
    for pattern in fields[0].split(","):
        pattern = pattern.lstrip("!")
        if pattern.startswith("|1|"):
            forms = names if port == 22 else [f"[{n}]:{port}" for n in names]
            if _hashed_match(pattern, forms):
                return True
        elif pattern.startswith("["):
            if pattern.endswith(f"]:{port}"):
                return True
        elif port == 22:
            return True
    return False


class _HostKeyPolicy:
    """known_hosts checking with ssh's `accept-new`: a first-seen key may be trusted and recorded;
    a key different from the recorded one never is. Entries are matched with their port."""

    def __init__(self, path: Path, accept_new: bool) -> None:
        self.path = path
        self.accept_new = accept_new
        self._lines = self._read()

    def _read(self) -> list[str]:
        if not self.path.exists():
            return []
        try:
            return self.path.read_bytes().decode("utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise KnownHostsError(
                f"The known_hosts file {self.path} is not UTF-8 text (byte {e.start}); fix or "
                "remove that line, or give another file with --known-hosts FILE."
            ) from None
        except OSError as e:
            raise KnownHostsError(
                f"Cannot read the known_hosts file {self.path}: {e.strerror}; give a readable "
                "file with --known-hosts FILE."
            ) from None

    def known_for(self, host: str, addr: str | None, port: int) -> Any:
        """The asyncssh known-hosts object of the entries that speak of `host`'s `port`."""
        import asyncssh

        names = [n for n in (host, addr) if n]
        text = "\n".join(ln for ln in self._lines if _applies_to_port(ln, port, names))
        try:
            return asyncssh.import_known_hosts(text + "\n" if text else "")
        except (ValueError, asyncssh.KeyImportError) as e:
            raise KnownHostsError(
                f"The known_hosts file {self.path} has an entry for {host} that cannot be read "
                f"({e}); fix or remove it ({removal_command(self.path, host, port)})."
            ) from None

    def recorded(self, host: str, addr: str, port: int) -> list[Any]:
        known = self.known_for(host, addr, port)
        return list(known.match(host, addr, port if port != 22 else None)[0])

    def remember(self, host: str, port: int, key: Any) -> None:
        """Append the key for `host`'s `port`; KnownHostsError when the file cannot be written."""
        pattern = host if port == 22 else f"[{host}]:{port}"
        line = f"{pattern} {key.export_public_key().decode().strip()}"
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError as e:
            raise KnownHostsError(
                f"Cannot record the host key of {host} port {port} in the known_hosts file "
                f"{self.path}: {e.strerror}; make it writable or give another file with "
                "--known-hosts FILE."
            ) from None
        # Later connections in this run (same host on another port, or twice) see it too.
        self._lines.append(line)


def _client_class() -> type:
    import asyncssh

    class Client(asyncssh.SSHClient):
        def __init__(self, policy: _HostKeyPolicy, target: Target) -> None:
            self.policy = policy
            self.target = target
            self.problem: ProbeFailure | None = None

        def validate_host_public_key(
            self, host: str, addr: str, port: int, key: asyncssh.SSHKey
        ) -> bool:
            # Called only for keys known_hosts does not already trust.
            t = self.target
            if self.policy.recorded(host, addr, port):
                self.problem = ProbeFailure(
                    t.text,
                    "host-key-changed",
                    f"the host key of {host} port {port} has CHANGED since it was recorded in "
                    f"{self.policy.path}; if the host was reinstalled, remove the old key "
                    f"({removal_command(self.policy.path, host, port)}) and probe again",
                )
                return False
            if self.policy.accept_new:
                try:
                    self.policy.remember(host, port, key)
                except KnownHostsError as e:
                    self.problem = ProbeFailure(t.text, "known-hosts", str(e))
                    return False
                return True
            self.problem = ProbeFailure(
                t.text,
                "host-key-unknown",
                f"the host key of {host} port {port} is not in {self.policy.path}; check its "
                "fingerprint and add it, or pass --accept-new-host-keys",
            )
            return False

    return Client


async def _probe_one(
    target: Target,
    *,
    policy: _HostKeyPolicy,
    timeout: float,
    client_keys: Sequence[Any] | None,
    passphrase: str | None,
) -> HostFacts | ProbeFailure:
    import asyncssh

    client = _client_class()(policy, target)
    options: dict[str, Any] = {
        "port": target.port,
        "known_hosts": policy.known_for(target.host, None, target.port),
        "client_factory": lambda: client,
        "connect_timeout": timeout,
        # Never prompt: a probe of many hosts runs unattended.
        "kbdint_auth": False,
        "password_auth": False,
    }
    if target.user:
        options["username"] = target.user
    if client_keys is not None:
        # An agent that sudo kept (SSH_AUTH_SOCK) still offers its keys too.
        options["client_keys"] = client_keys
    if passphrase is not None:
        options["passphrase"] = passphrase
    who = f"{target.user + '@' if target.user else ''}{target.host}"
    try:
        async with asyncssh.connect(target.host, **options) as conn:
            result = await _run_with_input(conn, REMOTE_COMMAND, probe_script())
    except asyncssh.HostKeyNotVerifiable as e:
        return client.problem or ProbeFailure(
            target.text, "host-key-unknown", f"the host key was not accepted ({e.reason})"
        )
    except asyncssh.PermissionDenied:
        return ProbeFailure(
            target.text,
            "auth-refused",
            f"SSH authentication as {who} was refused; install your public key on the host "
            "(ssh-copy-id) or load it into ssh-agent",
        )
    except asyncssh.DisconnectError as e:
        return ProbeFailure(target.text, "ssh-error", f"SSH connection failed: {e.reason}")
    except (asyncssh.ChannelOpenError, asyncssh.ProcessError) as e:
        return ProbeFailure(target.text, "ssh-error", f"SSH session failed: {e}")
    except asyncssh.KeyImportError as e:
        return ProbeFailure(target.text, "auth-refused", f"a client key could not be read: {e}")
    except (TimeoutError, OSError) as e:
        if isinstance(e, asyncio.TimeoutError):
            raise  # the caller's wait_for reports it with the configured limit
        what = e.strerror or str(e) or type(e).__name__
        return ProbeFailure(
            target.text,
            "unreachable",
            f"cannot reach {target.host} port {target.port}: {what}; check the address and "
            "that sshd runs there",
        )
    return _interpret(target, result.exit_status, result.stdout, result.stderr)


async def _run_with_input(conn: Any, command: str, data: bytes) -> Any:
    """Run `command` with `data` on its stdin. A command that ends before reading it all (no
    python3 on the host: the shell exits at once) is not an SSH failure: its exit status and
    stderr say what happened, whichever of the write and the exit comes first."""
    async with conn.create_process(command, encoding=None) as proc:
        with contextlib.suppress(BrokenPipeError, ConnectionError):
            proc.stdin.write(data)
            proc.stdin.write_eof()
        return await proc.wait(check=False)


def _last_line(data: Any) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error output"


def _interpret(target: Target, status: int | None, out: Any, err: Any) -> HostFacts | ProbeFailure:
    if status == 127:
        return ProbeFailure(
            target.text,
            "no-python3",
            f"python3 is not installed on {target.host}; install it (apt install python3-minimal)"
            " and probe again",
        )
    if status != 0:
        return ProbeFailure(
            target.text,
            "probe-crashed",
            f"the probe exited with status {status}: {_last_line(err)}",
        )
    try:
        import json

        text = out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out or "")
        _, found, after = text.rpartition(FACTS_MARKER + "\n")
        raw = json.loads(after if found else text)
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        return facts_from_dict(raw, source=target.text)
    except (ValueError, ProbeError) as e:
        return ProbeFailure(
            target.text, "bad-output", f"the probe's output is not host facts: {str(e)[:200]}"
        )


async def probe_hosts(
    targets: list[str],
    *,
    concurrency: int = 32,
    timeout: float = 30.0,
    known_hosts: str | os.PathLike[str] | None = None,
    accept_new_host_keys: bool = False,
    client_keys: Sequence[Any] | None = None,
    passphrase: str | None = None,
) -> dict[str, HostFacts | ProbeFailure]:
    """Probe every target over SSH; {target text: facts or failure}, in the order given.

    `known_hosts` defaults to ~/.ssh/known_hosts; `client_keys` to asyncssh's defaults
    (ssh-agent and ~/.ssh/id_*). Raises TargetError before connecting anywhere when a target
    is malformed, and ValueError for a concurrency or timeout that is not positive.
    """
    if concurrency < 1:
        raise ValueError(f"Concurrency {concurrency} is not positive; use 1 or more.")
    if timeout <= 0:
        raise ValueError(f"Timeout {timeout} is not positive; use seconds above 0.")
    parsed = [parse_target(t) for t in targets]
    path = Path(known_hosts) if known_hosts else Path.home() / ".ssh" / "known_hosts"
    policy = _HostKeyPolicy(path, accept_new_host_keys)
    probe_script()  # build once, outside the per-host timeouts
    gate = asyncio.Semaphore(concurrency)

    async def one(target: Target) -> HostFacts | ProbeFailure:
        async with gate:
            try:
                return await asyncio.wait_for(
                    _probe_one(
                        target,
                        policy=policy,
                        timeout=timeout,
                        client_keys=client_keys,
                        passphrase=passphrase,
                    ),
                    timeout,
                )
            except TimeoutError:
                return ProbeFailure(
                    target.text,
                    "timeout",
                    f"no answer within {timeout:g} s; check that the host is up, or raise "
                    "--timeout",
                )
            except Exception as e:  # one host's surprise must not stop the others
                return ProbeFailure(
                    target.text, "ssh-error", f"unexpected {type(e).__name__}: {_last_line(str(e))}"
                )

    results = await asyncio.gather(*(one(t) for t in parsed))
    return {t.text: r for t, r in zip(parsed, results, strict=True)}


def probe_hosts_sync(targets: list[str], **kwargs: Any) -> dict[str, HostFacts | ProbeFailure]:
    """`probe_hosts` for callers without an event loop."""
    return asyncio.run(probe_hosts(targets, **kwargs))
