"""asyncssh's own SSH server on 127.0.0.1, running each command in a local shell.

The shell's PATH starts with a directory holding a fake `sudo` that insists on `-n` (as the
installer must never prompt) and records that it ran, then execs the rest. So "remote" commands
really run (curl to a fake snapd socket, sh prologues reading secrets) and their exit codes,
stdout and stderr come back over a real SSH channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

FAKE_SUDO = """#!/bin/sh
if [ "$1" != "-n" ]; then echo "sudo: a terminal is required to read the password" >&2; exit 1; fi
shift
if [ -n "$FAKE_SUDO_NEEDS_PASSWORD" ]; then echo "sudo: a password is required" >&2; exit 1; fi
echo "$*" >> "$FAKE_SUDO_LOG"
if [ "$1" = "--" ]; then shift; fi
exec "$@"
"""


@dataclass
class SshServer:
    port: int
    host_key: asyncssh.SSHKey
    client_key: asyncssh.SSHKey
    sudo_log: Path
    commands: list[str] = field(default_factory=list)
    server: Any = None
    env: dict[str, str] = field(default_factory=dict)

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode().strip()}\n"

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()


async def start_ssh_server(
    workdir: Path,
    *,
    user: str = "ubuntu",
    client_key: asyncssh.SSHKey | None = None,
    path: tuple[str, ...] = (),
) -> SshServer:
    """Start a server on 127.0.0.1 (a free port). `client_key` is the key it accepts (a new one
    by default; several servers, one per fake host, may share one); `path` are directories put
    first on the commands' PATH (e.g. fake `openstack`)."""
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = client_key or asyncssh.generate_private_key("ssh-ed25519")
    bin_dir = workdir / "sshbin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    sudo = bin_dir / "sudo"
    sudo.write_text(FAKE_SUDO)
    sudo.chmod(sudo.stat().st_mode | stat.S_IXUSR)
    sudo_log = workdir / "sudo.log"
    sudo_log.write_text("")
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
    state = SshServer(0, host_key, client_key, sudo_log)
    search = ":".join((str(bin_dir), *path, os.environ.get("PATH", "")))
    state.env = {"PATH": search, "FAKE_SUDO_LOG": str(sudo_log)}

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def public_key_auth_supported(self) -> bool:
            return True

        def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
            return (
                username == user and authorized.validate(key, "127.0.0.1", "127.0.0.1") is not None
            )

    async def handle(process: asyncssh.SSHServerProcess[bytes]) -> None:
        command = process.command or ""
        state.commands.append(command)
        proc = await asyncio.create_subprocess_shell(
            command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **state.env},
            start_new_session=True,
        )
        assert proc.stdin and proc.stdout and proc.stderr

        async def feed() -> None:
            try:
                async for chunk in process.stdin:
                    proc.stdin.write(chunk)  # type: ignore[union-attr]
                    await proc.stdin.drain()  # type: ignore[union-attr]
            except (BrokenPipeError, ConnectionResetError, asyncssh.BreakReceived):
                pass
            finally:
                proc.stdin.close()  # type: ignore[union-attr]

        async def copy(src: asyncio.StreamReader, dst: Any) -> None:
            while chunk := await src.read(4096):
                dst.write(chunk)

        feeder = asyncio.ensure_future(feed())
        copies = [
            asyncio.ensure_future(copy(proc.stdout, process.stdout)),
            asyncio.ensure_future(copy(proc.stderr, process.stderr)),
        ]
        try:
            await asyncio.gather(*copies)
            code = await proc.wait()
        except (asyncio.CancelledError, asyncssh.Error):
            with_kill(proc)
            # Reap it and read its pipes to their end now, while the loop runs: left to garbage
            # collection, its transport closes after the test's loop ("Event loop is closed").
            for task in (*copies, feeder):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*copies, feeder, return_exceptions=True)
                await proc.communicate()
            raise
        feeder.cancel()
        process.exit(code)

    server = await asyncssh.create_server(
        Server,
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        process_factory=handle,
        encoding=None,
    )
    state.server = server
    state.port = server.sockets[0].getsockname()[1]
    return state


def with_kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
