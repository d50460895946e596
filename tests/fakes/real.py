"""Real components for the tests: Debian's OpenSSH server and snapd, started here.

`RealSshd` runs `/usr/sbin/sshd -D` on 127.0.0.1 at a free port with its own config, host key and
authorized keys in a temp dir. Its users are real accounts made with `useradd` (password field
`*`: sshd refuses even key logins for a locked `!` account); each has a home in the temp dir
whose `.bashrc` the test chooses (bash sources it for commands run by sshd).

`RealSnapd` runs `/usr/lib/snapd/snapd` under `SNAPPY_GLOBAL_ROOT` (a temp dir: its socket is
`ROOT/run/snapd.socket`, the machine's own /run and /var/lib/snapd are untouched), with
`SNAPD_STANDBY_WAIT` set long (without systemd's socket activation it would exit after a few
seconds) and the store pointed at a closed port on 127.0.0.1, so an install fails the way it
does on a host that cannot reach the store, and no traffic leaves the machine.

Each is skipped with the reason when its binary (or root, which both need) is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"
SNAPD = "/usr/lib/snapd/snapd"
# Generous bounds: CI is a loaded 2-core machine. Waits end as soon as the condition holds.
START_BOUND = 60.0


def wait_for(cond: Callable[[], bool], what: str, bound: float = START_BOUND) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {bound:g} s")


def need(binary: str, package: str) -> None:
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} is missing: install Debian's {package} (.ci/run does)")
    if os.geteuid() != 0:
        pytest.skip(f"the real {package} tests run as root (CI does)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def ensure_user(name: str, home: Path, bashrc: str = "") -> None:
    """A login account `name` with home `home` (made now) and that `.bashrc`; password `*`."""
    if subprocess.run(["id", name], capture_output=True).returncode != 0:
        subprocess.run(
            ["useradd", "-M", "-s", "/bin/bash", "-d", str(home), name],
            check=True, capture_output=True,
        )
    subprocess.run(["usermod", "-p", "*", "-d", str(home), name], check=True, capture_output=True)
    home.mkdir(parents=True, exist_ok=True)
    (home / ".bashrc").write_text(bashrc)
    shutil.chown(home, name, name)
    shutil.chown(home / ".bashrc", name, name)


@dataclass
class RealSshd:
    """One running OpenSSH server; `users` maps a login name to its `.bashrc`."""

    root: Path
    client_key: Path  # private key file (OpenSSH format) every user accepts
    port: int = 0
    address: str = "127.0.0.1"
    proc: subprocess.Popen[bytes] | None = None
    host_key: Path = field(init=False)

    def __post_init__(self) -> None:
        self.host_key = self.root / "ssh_host_ed25519_key"

    def known_hosts_line(self, *, port: int | None = None) -> str:
        key = (self.root / "ssh_host_ed25519_key.pub").read_text().split()
        p = self.port if port is None else port
        host = self.address if p == 22 else f"[{self.address}]:{p}"
        return f"{host} {key[0]} {key[1]}\n"

    def start(self, *, max_sessions: int = 10, address: str = "127.0.0.1",
              port: int | None = None) -> None:
        self.address = address
        self.port = port or free_port()
        config = self.root / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress {address}\n"
            f"HostKey {self.host_key}\nPidFile {self.root / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
            f"MaxSessions {max_sessions}\nMaxStartups 100\nLogLevel VERBOSE\n"
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL, stderr=open(self.root / "sshd.log", "wb"),  # noqa: SIM115
            start_new_session=True,
        )

        def listening() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"sshd exited: {(self.root / 'sshd.log').read_text()[-2000:]}"
                )
            with socket.socket() as s:
                return s.connect_ex((self.address, self.port)) == 0

        wait_for(listening, "sshd listening")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


def start_sshd(root: Path, users: dict[str, str], *, max_sessions: int = 10,
               address: str = "127.0.0.1", port: int | None = None) -> RealSshd:
    """Host key, client key and users made under `root`, then sshd started."""
    root.mkdir(parents=True, exist_ok=True)
    for d in (root.parent, root):  # the users read their homes and the authorized keys
        d.chmod(0o755)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "ssh_host_ed25519_key")],
        check=True,
    )
    client = root / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(client)], check=True)
    (root / "authorized_keys").write_text((root / "id_ed25519.pub").read_text())
    (root / "authorized_keys").chmod(0o644)
    for name, bashrc in users.items():
        # One home per user for every sshd under the same parent: an account has one home.
        ensure_user(name, root.parent / "home" / name, bashrc)
    sshd = RealSshd(root, client)
    sshd.start(max_sessions=max_sessions, address=address, port=port)
    return sshd


@dataclass
class RealSnapd:
    """One running snapd whose socket is `socket`; its store is a closed local port."""

    root: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> str:
        return str(self.root / "run" / "snapd.socket")

    def start(self) -> None:
        (self.root / "run").mkdir(parents=True, exist_ok=True)
        (self.root / "usr" / "lib").mkdir(parents=True, exist_ok=True)
        # Users other than root reach the socket (its reads need no root), whatever umask an
        # earlier in-process run left: a session fixture starts before any test resets it.
        for d in (self.root.parent, self.root, self.root / "run"):
            d.chmod(0o755)
        link = self.root / "usr" / "lib" / "snapd"
        if not link.exists():
            link.symlink_to("/usr/lib/snapd")  # snap-seccomp and friends
        store = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
        env = dict(os.environ)
        env.update(
            SNAPPY_GLOBAL_ROOT=str(self.root),
            SNAPD_STANDBY_WAIT="10h",
            SNAPPY_FORCE_API_URL=store,
            SNAPPY_FORCE_SAS_URL=store,
            SNAPPY_FORCE_CPI_URL=store,
        )
        self.proc = subprocess.Popen(
            [SNAPD], env=env, cwd=self.root, stdout=subprocess.DEVNULL,
            stderr=open(self.root / "snapd.log", "wb"),  # noqa: SIM115
            start_new_session=True,
        )

        def answering() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                log = (self.root / "snapd.log").read_text()
                raise AssertionError(f"snapd exited: {log[-2000:]}")
            with socket.socket(socket.AF_UNIX) as s:
                if s.connect_ex(self.socket) != 0:
                    return False
                s.sendall(b"GET /v2/system-info HTTP/1.0\r\nHost: localhost\r\n\r\n")
                return b'"status-code":200' in s.recv(65536)

        wait_for(answering, "snapd answering on its socket")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None
