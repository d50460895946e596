"""real.py: the prerequisites gate and the per-host choice of backends."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from installer.backends.juju import JujuCliBackend
from installer.backends.k8s import LightkubeK8sBackend
from installer.backends.real import check_prerequisites, real_backends
from installer.backends.snapd import SshCurlTransport
from installer.backends.ssh import SshHostBackend
from manifests.answers import Answers
from tests.fakes.snapd import FakeSnapd


def _answers() -> Answers:
    return Answers.model_validate(
        {
            "version": 1,
            "release": "2025.1",
            "hosts": [
                {"name": "node1", "roles": ["control", "compute"]},
                {
                    "name": "node2",
                    "address": "10.20.0.12",
                    "ssh_user": "ubuntu",
                    "roles": ["compute", "storage"],
                    "osd_devices": ["/dev/sdb"],
                },
            ],
            "network": {
                "management_cidr": "10.20.0.0/24",
                "loadbalancer_range": "10.20.0.200-10.20.0.220",
            },
        }
    )


def test_prerequisites_name_what_is_missing(tmp_path: Path) -> None:
    missing = check_prerequisites(snapd_socket=str(tmp_path / "none.socket"), euid=1000,
                                  snapd_binary=str(tmp_path / "no-snapd"))
    assert missing == [
        "root: run sunbeam-install with sudo",
        "snapd: it is not installed; install it (sudo apt install snapd) and start it",
    ]


def test_prerequisites_tell_installed_but_not_running(tmp_path: Path) -> None:
    snapd = tmp_path / "snapd"
    snapd.write_text("")
    missing = check_prerequisites(snapd_socket=str(tmp_path / "none.socket"), euid=0,
                                  snapd_binary=str(snapd))
    assert len(missing) == 1
    assert missing[0].startswith("snapd running: snapd is installed but not running")


def test_prerequisites_met(fake_snapd: FakeSnapd) -> None:
    assert check_prerequisites(snapd_socket=fake_snapd.socket_path, euid=0) == []


async def test_local_host_uses_the_socket_remote_hosts_ssh(
    tmp_path: Path, fake_snapd: FakeSnapd
) -> None:
    b = real_backends(
        _answers(),
        tmp_path,
        snapd_socket=fake_snapd.socket_path,
        juju_binary="/bin/false",
        known_hosts=tmp_path / "kh",
    )
    assert isinstance(b.juju, JujuCliBackend) and b.juju.controller == "sunbeam-controller"
    assert isinstance(b.k8s, LightkubeK8sBackend)
    assert isinstance(b.hosts, SshHostBackend) and b.hosts.local_hosts == {"node1"}
    assert b.hosts.connections.target("node2").address == "10.20.0.12"
    # node1 reaches the (fake) local snapd for real
    assert await b.snaps.info("node1", "juju") is None  # type: ignore[attr-defined]
    assert isinstance(b.snaps.client("node2").transport, SshCurlTransport)  # type: ignore[attr-defined]
    await b.snaps.aclose()  # type: ignore[attr-defined]


def test_importing_real_does_not_import_the_heavy_clients() -> None:
    code = (
        "import sys, installer.backends.real; "
        "print(sorted(m for m in ('asyncssh', 'lightkube', 'jubilant') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
