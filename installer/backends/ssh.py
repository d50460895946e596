"""HostBackend over SSH (asyncssh), one connection per host reused by every step.

Host keys: known_hosts checking with ssh's `accept-new` policy, the same policy object as the
remote probe (`probes.remote._HostKeyPolicy`): a key seen for the first time is trusted and
recorded only with `--accept-new-host-keys`; a key that differs from the recorded one never is.

Commands run as the SSH user, or as root through ``sudo -n`` (never a password prompt: a run is
unattended; the SSH user needs NOPASSWD sudo). Secret environment values do not go over SSH's
`env` requests (sshd drops them unless AcceptEnv allows) nor on a command line (visible in
`ps`): a small ``sh`` prologue reads them from stdin and exports them before exec'ing the command.

sshd allows 10 sessions per connection by default (MaxSessions), so at most `max_sessions`
commands run at once per host; more wait their turn instead of failing to open a channel.

Hosts without an address are this machine: their commands run through `commands.run_command`.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shlex
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from installer.backends.base import BackendError, CommandResult, LogFn
from installer.backends.commands import TAIL_LINES, redact, run_command

if TYPE_CHECKING:
    import asyncssh

T = TypeVar("T")
_LONE_REFUSALS = 8
_SUDO_PASSWORD = ("a password is required", "a terminal is required", "no tty present")


@dataclass(frozen=True)
class SshTarget:
    """How to reach one host: its management address, SSH user and port."""

    address: str
    user: str | None = None
    port: int = 22


def secret_prologue(names: Sequence[str]) -> str:
    """A `sh -c` script that reads one line per secret name from stdin, exports it, execs "$@"."""
    reads = "".join(f"IFS= read -r {n} && export {n} && " for n in names)
    return f'{reads}exec "$@"'


def wrap_command(argv: Sequence[str], *, sudo: bool, secret_names: Sequence[str] = ()) -> str:
    """The remote command line for `argv`: optional secret prologue, optional `sudo -n`."""
    for n in secret_names:
        if not n.isidentifier():
            raise BackendError(
                f"The environment variable name {n!r} is not valid.",
                hint="Use letters, digits and underscores.",
            )
    inner: list[str] = list(argv)
    if secret_names:
        inner = ["sh", "-c", secret_prologue(secret_names), "sh", *inner]
    if sudo:
        inner = ["sudo", "-n", "--", *inner]
    return shlex.join(inner)


class SshConnections:
    """One reused asyncssh connection per host name (as named in the answers file)."""

    def __init__(
        self,
        targets: Mapping[str, SshTarget],
        *,
        known_hosts: str | Path | None = None,
        accept_new_host_keys: bool = False,
        client_keys: Sequence[Any] | None = None,
        connect_timeout: float = 30.0,
        max_sessions: int = 8,
    ) -> None:
        self.targets = dict(targets)
        self.known_hosts = (
            Path(known_hosts) if known_hosts else Path.home() / ".ssh" / "known_hosts"
        )
        self.accept_new = accept_new_host_keys
        self.client_keys = client_keys
        self.connect_timeout = connect_timeout
        self._conns: dict[str, asyncssh.SSHClientConnection] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._sessions: dict[str, _SessionGate] = {}
        self._max_sessions = max_sessions
        self._policy: Any = None

    def target(self, host: str) -> SshTarget:
        try:
            return self.targets[host]
        except KeyError:
            raise BackendError(
                f"The host {host!r} has no SSH address.",
                hint="Give it an address in the answers file.",
            ) from None

    def _host_key_policy(self) -> Any:
        if self._policy is None:
            # The probes' policy: one policy for both.
            from probes.remote import KnownHostsError, _HostKeyPolicy

            try:
                self._policy = _HostKeyPolicy(self.known_hosts, self.accept_new)
            except KnownHostsError as e:
                raise BackendError(str(e)) from None
        return self._policy

    async def connection(self, host: str) -> asyncssh.SSHClientConnection:
        """The host's connection, opened on first use and reopened if it was lost."""
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            conn = self._conns.get(host)
            if conn is not None and not conn.is_closed():
                return conn
            conn = await self._connect(host)
            self._conns[host] = conn
            return conn

    async def _connect(self, host: str) -> asyncssh.SSHClientConnection:
        import asyncssh

        from probes.remote import KnownHostsError, removal_command

        t = self.target(host)
        policy = self._host_key_policy()
        problem: list[str] = []
        hint: list[str] = []

        class Client(asyncssh.SSHClient):
            def validate_host_public_key(
                self, host_: str, addr: str, port: int, key: asyncssh.SSHKey
            ) -> bool:
                # Called only for keys known_hosts does not already trust.
                if policy.recorded(host_, addr, port):
                    problem.append(
                        f"The SSH host key of {host} ({t.address} port {port}) has CHANGED since "
                        f"it was recorded in {policy.path}."
                    )
                    hint.append(
                        f"If {host} was reinstalled, remove the old key "
                        f"({removal_command(policy.path, host_, port)}) and run again."
                    )
                    return False
                if policy.accept_new:
                    try:
                        policy.remember(host_, port, key)
                    except KnownHostsError as e:
                        problem.append(str(e))
                        hint.append("Give a writable file with --known-hosts FILE.")
                        return False
                    return True
                problem.append(
                    f"The SSH host key of {host} ({t.address} port {port}) is not in {policy.path}."
                )
                return False

        options: dict[str, Any] = {
            "port": t.port,
            "known_hosts": self._known_for(policy, t),
            "client_factory": Client,
            "connect_timeout": self.connect_timeout,
            "kbdint_auth": False,
            "password_auth": False,
            "keepalive_interval": 30,
        }
        if t.user:
            options["username"] = t.user
        if self.client_keys is not None:
            # Keys given (--identity) are tried first; an agent that sudo kept (SSH_AUTH_SOCK)
            # still offers its keys too (asyncssh reads SSH_AUTH_SOCK itself).
            options["client_keys"] = self.client_keys
        who = f"{t.user + '@' if t.user else ''}{t.address}"
        try:
            return await asyncssh.connect(t.address, **options)
        except asyncssh.HostKeyNotVerifiable as e:
            raise BackendError(
                problem[0]
                if problem
                else f"The SSH host key of {host} was not accepted ({e.reason}).",
                hint=hint[0]
                if hint
                else "Check the key's fingerprint and add it to known_hosts, or run with "
                "--accept-new-host-keys.",
            ) from None
        except asyncssh.PermissionDenied:
            raise BackendError(
                f"SSH authentication as {who} was refused.",
                hint="Install your public key on the host (ssh-copy-id) or load it into ssh-agent.",
            ) from None
        except asyncssh.DisconnectError as e:
            raise BackendError(
                f"The SSH connection to {who} failed: {e.reason}.",
                hint="Check sshd on that host.",
                transient=True,
            ) from None
        except (TimeoutError, OSError) as e:
            what = (e.strerror if isinstance(e, OSError) else None) or str(e) or "timed out"
            raise BackendError(
                f"Cannot reach {host} at {t.address} port {t.port}: {what}.",
                hint="Check the address and that sshd runs there.",
                transient=True,
            ) from None

    @staticmethod
    def _known_for(policy: Any, t: SshTarget) -> Any:
        from probes.remote import KnownHostsError

        try:
            return policy.known_for(t.address, None, t.port)
        except KnownHostsError as e:
            raise BackendError(str(e)) from None

    @contextlib.asynccontextmanager
    async def _session(self, host: str) -> AsyncIterator[_SessionGate]:
        """Hold one of the host's session slots for the body."""
        gate = self._sessions.setdefault(host, _SessionGate(self._max_sessions))
        await gate.acquire()
        try:
            yield gate
        finally:
            await gate.release()

    async def _open(self, host: str, gate: _SessionGate, open_: Callable[[], Awaitable[T]]) -> T:
        """`open_()` (which opens one SSH channel); when sshd refuses the channel while other
        sessions of this installer are open, its MaxSessions is lower than ours: wait for one
        of them to end, with the limit lowered to what sshd allowed, and try again."""
        import asyncssh

        lone_refusals = 0
        while True:
            try:
                return await open_()
            except asyncssh.ChannelOpenError as e:
                if await gate.refused():
                    continue
                # sshd frees an ended session a moment after the client sees it end: a refusal
                # right after our other sessions ended is tried again a few times.
                lone_refusals += 1
                if lone_refusals < _LONE_REFUSALS:
                    await asyncio.sleep(0.1 * lone_refusals)
                    continue
                raise BackendError(
                    f"sshd on {host} refused to open an SSH session ({e.reason}) although no "
                    "other session of the installer was open.",
                    hint="Check MaxSessions in that host's /etc/ssh/sshd_config (it must be 1 or "
                    "more; the default is 10) and restart sshd.",
                ) from None
            except (asyncssh.ConnectionLost, OSError) as e:
                raise BackendError(
                    f"The SSH session to {host} failed: {e}.", hint="It is retried.", transient=True
                ) from None

    async def exec_bytes(
        self, host: str, command: str, stdin: bytes = b""
    ) -> tuple[int, bytes, bytes]:
        """Run a command line on `host`, feeding `stdin`; (exit code, stdout, stderr)."""

        conn = await self.connection(host)
        async with self._session(host) as gate:
            result = await self._open(
                host, gate, lambda: conn.run(command, input=stdin, encoding=None, check=False)
            )
        code = result.exit_status if result.exit_status is not None else 255
        out = result.stdout if isinstance(result.stdout, bytes) else b""
        err = result.stderr if isinstance(result.stderr, bytes) else b""
        return code, out, err

    async def stream(
        self,
        host: str,
        command: str,
        *,
        stdin: bytes,
        log: LogFn,
        secrets: Sequence[str],
        timeout: float | None,
        tail: int = TAIL_LINES,
    ) -> CommandResult:
        """Run a command line on `host`, logging each stdout/stderr line as it arrives."""

        conn = await self.connection(host)
        lines: deque[str] = deque(maxlen=max(tail, 1))
        async with self._session(host) as gate:
            proc = await self._open(
                host,
                gate,
                lambda: conn.create_process(command, encoding="utf-8", errors="replace"),
            )

            async def pump(stream: Any) -> None:
                while True:
                    raw = await stream.readline()
                    if not raw:  # EOF
                        break
                    line = redact(str(raw).rstrip("\r\n"), secrets)
                    lines.append(line)
                    log(line)

            async def all_of_it() -> None:
                # A command that does not read its input may end (and close the channel)
                # before the input is written: not an error.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if stdin:
                        proc.stdin.write(stdin.decode())
                    proc.stdin.write_eof()
                await asyncio.gather(pump(proc.stdout), pump(proc.stderr))
                await proc.wait_closed()

            try:
                await asyncio.wait_for(all_of_it(), timeout)
            except TimeoutError:
                _stop(proc)
                raise BackendError(
                    f"The command on {host} did not finish within {timeout:g} s and was stopped.",
                    hint="Look at its last output lines in the log; raise the step's timeout if "
                    "the host is just slow.",
                ) from None
            except BaseException:
                _stop(proc)
                raise
        code = proc.exit_status if proc.exit_status is not None else 255
        return CommandResult(code, tuple(lines))

    async def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
            with contextlib.suppress(Exception):
                await conn.wait_closed()
        self._conns.clear()


class _SessionGate:
    """How many SSH sessions may be open on one host's connection at once: our own limit at
    first, lowered to what the host's sshd allowed when it refuses one (MaxSessions)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 1)
        self.active = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.active < self.limit)
            self.active += 1

    async def release(self) -> None:
        async with self._changed:
            self.active -= 1
            self._changed.notify_all()

    async def refused(self) -> bool:
        """sshd refused the session of a holder: False when no other session is open (the
        refusal is not about the limit), else lower the limit and wait for a free slot."""
        async with self._changed:
            others = self.active - 1
            if others < 1:
                return False
            self.limit = min(self.limit, others)
            self.active -= 1
            self._changed.notify_all()
            await self._changed.wait_for(lambda: self.active < self.limit)
            self.active += 1
            return True


def _stop(proc: Any) -> None:
    # Ask sshd to kill the command (OpenSSH honours signal requests since 8.1), then close.
    with contextlib.suppress(Exception):
        proc.send_signal("KILL")
    with contextlib.suppress(Exception):
        proc.close()


class LocalHostBackend:
    """HostBackend for this machine: commands through commands.run_command."""

    def __init__(self, *, is_root: bool) -> None:
        self.is_root = is_root

    async def run(
        self,
        host: str,
        argv: Sequence[str],
        *,
        sudo: bool = False,
        log: LogFn,
        timeout: float | None = None,
        secret_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        del host
        cmd = list(argv)
        if sudo and not self.is_root:
            keep = ",".join(secret_env or {})
            cmd = ["sudo", "-n", *([f"--preserve-env={keep}"] if keep else []), "--", *cmd]
        result = await run_command(cmd, log=log, timeout=timeout, secret_env=secret_env)
        _check_sudo(result, "this host", sudo and not self.is_root)
        return result


class SshHostBackend:
    """The real HostBackend: local hosts through commands.py, the others over SSH."""

    def __init__(
        self, connections: SshConnections, local: LocalHostBackend, local_hosts: set[str]
    ) -> None:
        self.connections = connections
        self.local = local
        self.local_hosts = set(local_hosts)

    async def run(
        self,
        host: str,
        argv: Sequence[str],
        *,
        sudo: bool = False,
        log: LogFn,
        timeout: float | None = None,
        secret_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        if host in self.local_hosts:
            return await self.local.run(
                host, argv, sudo=sudo, log=log, timeout=timeout, secret_env=secret_env
            )
        secrets = dict(secret_env or {})
        for name, value in secrets.items():
            if "\n" in value:
                raise BackendError(
                    f"The secret {name} contains a line break and cannot be "
                    "passed to a remote command.",
                    hint="Use a single-line secret.",
                )
        # No user in the target means the local user name, as with ssh itself.
        user = self.connections.target(host).user or getpass.getuser()
        use_sudo = sudo and user != "root"
        command = wrap_command(argv, sudo=use_sudo, secret_names=list(secrets))
        stdin = "".join(v + "\n" for v in secrets.values()).encode()
        result = await self.connections.stream(
            host, command, stdin=stdin, log=log, secrets=list(secrets.values()), timeout=timeout
        )
        _check_sudo(result, host, use_sudo)
        return result


def _check_sudo(result: CommandResult, where: str, used: bool) -> None:
    if (
        used
        and result.returncode == 1
        and any(p in line for line in result.output_tail[-3:] for p in _SUDO_PASSWORD)
    ):
        raise BackendError(
            f"sudo on {where} asks for a password.",
            hint="Give the user passwordless sudo (NOPASSWD in /etc/sudoers.d) or run as root.",
        )
