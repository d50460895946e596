"""A real SSH server (asyncssh's own, in-process, on 127.0.0.1) that plays remote hosts.

`mode` says what the far side does with the command: "python" runs the script it is sent with
this interpreter in isolated mode (no site-packages, so the probe must be self-contained);
the other modes answer the way a broken host would.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh


@dataclass
class FakeHost:
    server: asyncssh.SSHAcceptor
    port: int
    host_key: asyncssh.SSHKey
    mode: str
    commands: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"probe@127.0.0.1:{self.port}"

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode().strip()}\n"


@dataclass
class Stats:
    active: int = 0
    peak: int = 0


async def start_host(
    client_key: asyncssh.SSHKey,
    mode: str = "python",
    stats: Stats | None = None,
    reply: bytes = b"",
) -> FakeHost:
    """Start one fake host; mode "canned" answers every command with `reply` (benchmarks)."""
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
    commands: list[str] = []
    stats = stats or Stats()

    async def handle(process: asyncssh.SSHServerProcess) -> None:
        commands.append(process.command or "")
        stats.active += 1
        stats.peak = max(stats.peak, stats.active)
        try:
            script = await process.stdin.read()
            if mode == "python":
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-I",
                    "-S",
                    "-",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    cwd="/",
                )
                out, err = await proc.communicate(script)
                process.stdout.write(out)
                process.stderr.write(err)
                process.exit(proc.returncode or 0)
            elif mode == "canned":
                process.stdout.write(reply)
                process.exit(0)
            elif mode == "no-python":
                process.stderr.write(b"bash: line 1: python3: command not found\n")
                process.exit(127)
            elif mode == "crash":
                process.stderr.write(
                    b'Traceback (most recent call last):\n  File "<stdin>", line 3\n'
                    b"SyntaxError: invalid syntax\n"
                )
                process.exit(1)
            elif mode == "garbage":
                process.stdout.write(b"Welcome to node7!\n{not json\n")
                process.exit(0)
            elif mode == "hang":
                await asyncio.sleep(3600)
        finally:
            stats.active -= 1

    server = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        authorized_client_keys=authorized,
        process_factory=handle,
        encoding=None,
        allow_scp=False,
    )
    port = server.sockets[0].getsockname()[1]
    return FakeHost(server, port, host_key, mode, commands)


def write_known_hosts(path: Path, *hosts: FakeHost) -> Path:
    path.write_text("".join(h.known_hosts_line() for h in hosts))
    return path
