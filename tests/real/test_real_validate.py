"""`validate --probe` against a real sshd: the answers name an address, sshd listens on port 22
there (127.0.0.2, a loopback address of its own, so no port is needed in the answers)."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.cli import main
from tests.fakes.real import SSHD, RealSshd, need, start_sshd
from tests.real.conftest import PLAIN, USERS

pytestmark = pytest.mark.timeout(300)
ADDRESS = "127.0.0.2"

ANSWERS = f"""\
version: 1
release: "2025.1"
deployment: {{name: sunbeam, region: RegionOne}}
hosts:
  - name: node2
    address: {ADDRESS}
    ssh_user: {PLAIN}
    roles: [control, compute]
network:
  management_cidr: 127.0.0.0/8
  loadbalancer_range: 127.0.0.200-127.0.0.210
  external: null
  dns_servers: [127.0.0.53]
"""


@pytest.fixture(scope="module")
def sshd_port_22(real_root: Path) -> Iterator[RealSshd]:
    need(SSHD, "openssh-server")
    with socket.socket() as s:
        if s.connect_ex((ADDRESS, 22)) == 0:
            pytest.skip(f"something already listens on {ADDRESS}:22")
    sshd = start_sshd(real_root / "sshd22", USERS, address=ADDRESS, port=22)
    try:
        yield sshd
    finally:
        sshd.stop()
        shutil.rmtree(real_root / "sshd22", ignore_errors=True)


def test_validate_probe_uses_identity_and_known_hosts(
    sshd_port_22: RealSshd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS)
    known = tmp_path / "known_hosts"
    args = ["validate", str(answers), "--probe", "--identity", str(sshd_port_22.client_key),
            "--known-hosts", str(known)]
    main(args)
    out = capsys.readouterr()
    assert "not in" in out.out + out.err and str(known) in out.out + out.err, out
    known.write_text(sshd_port_22.known_hosts_line())
    main(args)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "host key" not in text and "refused" not in text, text
