"""SshHostBackend and remote snapd against asyncssh's in-process server on 127.0.0.1."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from installer.backends.base import BackendError
from installer.backends.snapd import SnapdClient, SnapdSnapBackend, remote_client
from installer.backends.ssh import (
    LocalHostBackend,
    SshConnections,
    SshHostBackend,
    SshTarget,
    wrap_command,
)
from tests.fakes.snapd import FakeSnapd
from tests.fakes.ssh_server import SshServer, start_ssh_server


@pytest.fixture
async def sshd(tmp_path: Path) -> AsyncIterator[SshServer]:
    server = await start_ssh_server(tmp_path)
    try:
        yield server
    finally:
        await server.close()


def _connections(
    sshd: SshServer, known: Path, *, accept_new: bool = False, user: str = "ubuntu"
) -> SshConnections:
    return SshConnections(
        {"node2": SshTarget("127.0.0.1", user, sshd.port)},
        known_hosts=known,
        accept_new_host_keys=accept_new,
        client_keys=[sshd.client_key],
        connect_timeout=5,
    )


def _hosts(conns: SshConnections) -> SshHostBackend:
    return SshHostBackend(conns, LocalHostBackend(is_root=True), {"node1"})


@pytest.fixture
def known(tmp_path: Path, sshd: SshServer) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(sshd.known_hosts_line())
    return path


async def test_runs_streams_and_reports_exit_codes(sshd: SshServer, known: Path) -> None:
    conns = _connections(sshd, known)
    hosts = _hosts(conns)
    lines: list[str] = []
    script = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(4)"
    result = await hosts.run("node2", [sys.executable, "-c", script], log=lines.append)
    assert result.returncode == 4
    assert sorted(lines) == ["err", "out"]
    assert sorted(result.output_tail) == ["err", "out"]
    # the connection is reused
    first = await conns.connection("node2")
    await hosts.run("node2", ["true"], log=lines.append)
    assert await conns.connection("node2") is first
    await conns.close()


async def test_sudo_and_secret_env(sshd: SshServer, known: Path) -> None:
    conns = _connections(sshd, known)
    hosts = _hosts(conns)
    lines: list[str] = []
    result = await hosts.run(
        "node2",
        ["sh", "-c", 'echo "pw=$ADMIN_PW"'],
        sudo=True,
        log=lines.append,
        secret_env={"ADMIN_PW": "hunter2-long"},
    )
    assert result.returncode == 0
    assert lines == ["pw=********"]
    assert "sudo" not in sshd.commands[-1].split()[1:]  # sudo once, at the front
    assert sshd.commands[-1].startswith("sudo -n -- sh -c")
    assert "hunter2" not in " ".join(sshd.commands)  # the secret never was on a command line
    assert sshd.sudo_log.read_text().strip()
    await conns.close()


async def test_sudo_password_needed_is_explained(sshd: SshServer, known: Path) -> None:
    sshd.env["FAKE_SUDO_NEEDS_PASSWORD"] = "1"
    conns = _connections(sshd, known)
    with pytest.raises(BackendError) as e:
        await _hosts(conns).run("node2", ["snap", "list"], sudo=True, log=lambda _: None)
    assert e.value.message == "sudo on node2 asks for a password."
    assert e.value.hint and "NOPASSWD" in e.value.hint
    await conns.close()


async def test_timeout_stops_the_command(sshd: SshServer, known: Path) -> None:
    conns = _connections(sshd, known)
    start = time.monotonic()
    with pytest.raises(BackendError) as e:
        await _hosts(conns).run("node2", ["sleep", "2"], log=lambda _: None, timeout=0.3)
    assert time.monotonic() - start < 1.5
    assert "did not finish within 0.3 s" in e.value.message
    await conns.close()


async def test_a_stopped_remote_command_is_reaped_before_the_loop_ends(
    sshd: SshServer, known: Path
) -> None:
    """Issue 14 item 21: when the loop ends, its leftover tasks are cancelled; the fake server's
    handler then killed its command but left the transport to the garbage collector, which
    closed it after the loop ("Event loop is closed", an unraisable warning)."""
    import asyncio
    import contextlib
    import gc
    from asyncio.base_subprocess import BaseSubprocessTransport

    conns = _connections(sshd, known)
    with pytest.raises(BackendError):
        await _hosts(conns).run("node2", ["sleep", "5"], log=lambda _: None, timeout=0.3)
    await conns.close()
    handlers = [t for t in asyncio.all_tasks()
                if getattr(t.get_coro(), "__qualname__", "").endswith("<locals>.handle")]
    assert handlers  # still running `sleep 5`, as at the end of a test
    for task in handlers:  # what the loop's shutdown does to them
        task.cancel()
    for task in handlers:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    open_transports = [o for o in gc.get_objects()
                       if isinstance(o, BaseSubprocessTransport) and not o.is_closing()]
    assert open_transports == []


async def test_unknown_host_key_refused_then_accepted_new(sshd: SshServer, tmp_path: Path) -> None:
    empty = tmp_path / "kh-empty"
    conns = _connections(sshd, empty)
    with pytest.raises(BackendError) as e:
        await _hosts(conns).run("node2", ["true"], log=lambda _: None)
    assert (
        "is not in" in e.value.message and e.value.hint and "--accept-new-host-keys" in e.value.hint
    )
    conns2 = _connections(sshd, empty, accept_new=True)
    assert (await _hosts(conns2).run("node2", ["true"], log=lambda _: None)).returncode == 0
    assert sshd.host_key.export_public_key().decode().split()[1] in empty.read_text()
    await conns2.close()


async def test_changed_host_key_is_never_accepted(sshd: SshServer, tmp_path: Path) -> None:
    import asyncssh

    other = asyncssh.generate_private_key("ssh-ed25519")
    kh = tmp_path / "kh-other"
    kh.write_text(f"[127.0.0.1]:{sshd.port} {other.export_public_key().decode().strip()}\n")
    conns = _connections(sshd, kh, accept_new=True)
    with pytest.raises(BackendError) as e:
        await _hosts(conns).run("node2", ["true"], log=lambda _: None)
    assert "has CHANGED" in e.value.message and e.value.hint and "ssh-keygen -f" in e.value.hint


async def test_auth_refused_and_unreachable(sshd: SshServer, known: Path) -> None:
    conns = _connections(sshd, known, user="mallory")
    with pytest.raises(BackendError) as e:
        await _hosts(conns).run("node2", ["true"], log=lambda _: None)
    assert e.value.message == "SSH authentication as mallory@127.0.0.1 was refused."
    dead = SshConnections(
        {"node3": SshTarget("127.0.0.1", "ubuntu", 1)}, known_hosts=known, connect_timeout=2
    )
    with pytest.raises(BackendError) as e2:
        await SshHostBackend(dead, LocalHostBackend(is_root=True), set()).run(
            "node3", ["true"], log=lambda _: None
        )
    assert e2.value.transient and e2.value.message.startswith(
        "Cannot reach node3 at 127.0.0.1 port 1"
    )


async def test_local_host_runs_without_ssh(sshd: SshServer, known: Path) -> None:
    conns = _connections(sshd, known)
    lines: list[str] = []
    result = await _hosts(conns).run("node1", ["echo", "local"], log=lines.append)
    assert (result.returncode, lines) == (0, ["local"])
    assert sshd.commands == []


def test_wrap_command_quotes() -> None:
    assert wrap_command(["echo", "a b"], sudo=False) == "echo 'a b'"
    assert wrap_command(["x"], sudo=True, secret_names=["TOKEN"]) == (
        "sudo -n -- sh -c 'IFS= read -r TOKEN && export TOKEN && exec \"$@\"' sh x"
    )
    with pytest.raises(BackendError):
        wrap_command(["x"], sudo=False, secret_names=["BAD NAME"])


async def test_remote_snapd_through_ssh_and_sudo_curl(
    sshd: SshServer, known: Path, fake_snapd: FakeSnapd
) -> None:
    """The whole remote snap path: SshCurlTransport -> SSH -> sudo -n curl -> snapd socket."""
    conns = _connections(sshd, known)

    def client_for(host: str) -> SnapdClient:
        return remote_client(
            conns, host, sudo=True, socket_path=fake_snapd.socket_path, poll_interval=0.01
        )

    snaps = SnapdSnapBackend(client_for)
    assert await snaps.info("node2", "microceph") is None
    progress: list[tuple[str, float | None]] = []
    info = await snaps.install(
        "node2",
        "microceph",
        "squid/stable",
        classic=False,
        progress=lambda m, f: progress.append((m, f)),
    )
    assert info.channel == "squid/stable"
    assert progress[-1][1] == 1.0
    await snaps.set_config("node2", "microceph", {"rbd.size": 10})
    assert fake_snapd.state.conf["microceph"] == {"rbd": {"size": 10}}  # nested, as snapd does
    assert await snaps.get_config("node2", "microceph", ["rbd.size"]) == {"rbd.size": 10}
    with pytest.raises(BackendError) as e:
        await snaps.install(
            "node2", "k8s", "1.32-classic/stable", classic=False, progress=lambda m, f: None
        )
    assert e.value.message == "The snap 'k8s' needs classic confinement (on node2)."
    assert all("; sudo -n curl" in c for c in sshd.commands)
    assert len({id(await conns.connection("node2"))}) == 1
    await snaps.aclose()
    await conns.close()
