"""The snapd client and backend against Debian's real snapd (its store a closed local port)."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.backends.base import BackendError
from installer.backends.real import check_prerequisites
from installer.backends.snapd import SnapdClient, SnapdSnapBackend, remote_client
from installer.backends.ssh import SshConnections, SshTarget
from tests.fakes.real import RealSnapd, RealSshd
from tests.real.conftest import NOISY

pytestmark = pytest.mark.timeout(300)


def _backend(snapd: RealSnapd) -> SnapdSnapBackend:
    return SnapdSnapBackend(
        lambda host: SnapdClient.local(snapd.socket, where="on this host", host=host,
                                       poll_interval=0.1)
    )


async def test_list_and_info_of_a_missing_snap(real_snapd: RealSnapd) -> None:
    b = _backend(real_snapd)
    try:
        assert await b.client("node1").list_snaps() == []
        assert await b.info("node1", "hello") is None
    finally:
        await b.aclose()


async def test_set_config_on_a_missing_snap_says_not_installed(real_snapd: RealSnapd) -> None:
    b = _backend(real_snapd)
    try:
        with pytest.raises(BackendError) as e:
            await b.set_config("node1", "hello", {"a": "1"})
        assert "is not installed" in e.value.message, e.value.message
        assert "store" not in e.value.message
    finally:
        await b.aclose()


async def test_install_without_a_store_says_check_proxy(real_snapd: RealSnapd) -> None:
    b = _backend(real_snapd)
    try:
        with pytest.raises(BackendError) as e:
            await b.install("node1", "hello", "stable", classic=False, progress=lambda m, f: None)
        assert e.value.message.startswith("node1 cannot reach the snap store: check proxy"), (
            e.value.message
        )
        assert await b.info("node1", "hello") is None
    finally:
        await b.aclose()


async def test_remote_snapd_through_a_noisy_login_shell(
    real_snapd: RealSnapd, real_sshd: RealSshd, known: Path
) -> None:
    """snapd's reads need no root: the noisy user's curl reaches the real socket."""
    conns = SshConnections({"node2": SshTarget("127.0.0.1", NOISY, real_sshd.port)},
                           known_hosts=known, client_keys=[str(real_sshd.client_key)],
                           connect_timeout=60)
    client = remote_client(conns, "node2", sudo=False, socket_path=real_snapd.socket)
    try:
        assert await client.list_snaps() == []
        assert await client.get_snap("hello") is None
    finally:
        await client.aclose()
        await conns.close()


def test_gate_connects_to_the_socket(real_snapd: RealSnapd, tmp_path: Path) -> None:
    assert check_prerequisites(snapd_socket=real_snapd.socket, euid=0) == []
    # A socket file nobody listens on: snapd installed but not running.
    dead = tmp_path / "dead.socket"
    import socket

    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(dead))
    missing = check_prerequisites(snapd_socket=str(dead), euid=0)
    assert len(missing) == 1 and "not running" in missing[0], missing
    missing = check_prerequisites(snapd_socket=str(tmp_path / "none"), euid=0,
                                  snapd_binary=str(tmp_path / "no-snapd"))
    assert len(missing) == 1 and "not installed" in missing[0], missing
