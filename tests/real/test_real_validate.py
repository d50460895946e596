"""`validate --probe` and the real backends against a real sshd listening at a free port: the
answers file names that port (`ssh_port`), not a second loopback address at port 22."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.backends.real import real_backends
from installer.cli import main
from manifests.answers import Answers
from manifests.loader import load_answers_file
from tests.fakes.real import RealSshd
from tests.real.conftest import NO_CURL, NO_PYTHON, PLAIN

pytestmark = pytest.mark.timeout(300)


def answers_text(sshd: RealSshd, user: str = PLAIN, *, port: int | None = None) -> str:
    return f"""\
version: 1
release: "2025.1"
deployment: {{name: sunbeam, region: RegionOne}}
hosts:
  - name: node2
    address: {sshd.address}
    ssh_user: {user}
    ssh_port: {sshd.port if port is None else port}
    roles: [control, compute]
network:
  management_cidr: 127.0.0.0/8
  loadbalancer_range: 127.0.0.200-127.0.0.210
  external: null
  dns_servers: [127.0.0.53]
"""


def test_validate_probe_reaches_the_port_of_the_answers(
    real_sshd: RealSshd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert real_sshd.port != 22
    answers = tmp_path / "answers.yaml"
    answers.write_text(answers_text(real_sshd))
    known = tmp_path / "known_hosts"
    args = ["validate", str(answers), "--probe", "--identity", str(real_sshd.client_key),
            "--known-hosts", str(known)]
    main(args)
    out = capsys.readouterr()
    text = out.out + out.err
    # The unknown key is the one of the answers' port, and the file given.
    assert f"port {real_sshd.port} is not in {known}" in text, text
    known.write_text(real_sshd.known_hosts_line())
    main(args)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "host key" not in text and "refused" not in text and "cannot reach" not in text, text
    assert "facts-missing" not in text and "could not be probed" not in text, text


def test_validate_probe_names_the_port_it_could_not_reach(
    real_sshd: RealSshd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fakes.real import free_port

    port = free_port()  # nothing listens there
    answers = tmp_path / "answers.yaml"
    answers.write_text(answers_text(real_sshd, port=port))
    known = tmp_path / "known_hosts"
    known.write_text(real_sshd.known_hosts_line())
    main(["validate", str(answers), "--probe", "--identity", str(real_sshd.client_key),
          "--known-hosts", str(known)])
    text = "".join(capsys.readouterr())
    assert f"cannot reach {real_sshd.address} port {port}" in text, text


async def test_real_backends_reach_the_port_of_the_answers(
    real_sshd: RealSshd, tmp_path: Path
) -> None:
    answers_file = tmp_path / "answers.yaml"
    answers_file.write_text(answers_text(real_sshd))
    answers: Answers = load_answers_file(answers_file).answers
    known = tmp_path / "known_hosts"
    known.write_text(real_sshd.known_hosts_line())
    backends = real_backends(answers, tmp_path, known_hosts=known,
                             client_keys=[str(real_sshd.client_key)])
    try:
        lines: list[str] = []
        result = await backends.hosts.run("node2", ["sh", "-c", "echo here"], log=lines.append)
        assert result.returncode == 0 and lines == ["here"]
    finally:
        for close in backends.closers:
            await close()


def _validate(sshd: RealSshd, user: str, tmp_path: Path,
              capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    answers = tmp_path / "answers.yaml"
    answers.write_text(answers_text(sshd, user))
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    code = main(["validate", str(answers), "--probe", "--identity", str(sshd.client_key),
                 "--known-hosts", str(known)])
    return code, "".join(capsys.readouterr())


def test_validate_probe_says_sudo_asks_for_a_password(
    real_sshd: RealSshd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # sbi-plain has no sudoers entry (and this machine may have no sudo at all).
    code, text = _validate(real_sshd, PLAIN, tmp_path, capsys)
    assert code == 1, text
    assert f"`sudo -n true` fails for {PLAIN}" in text and "NOPASSWD" in text, text
    assert "has no curl" not in text and "has no python3" not in text, text


def test_validate_probe_says_curl_is_missing(
    real_sshd: RealSshd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _validate(real_sshd, NO_CURL, tmp_path, capsys)
    assert code == 1, text
    assert "has no curl" in text and "apt install curl" in text, text
    assert f"`sudo -n true` fails for {NO_CURL}" in text, text


def test_validate_probe_says_python3_is_missing(
    real_sshd: RealSshd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _validate(real_sshd, NO_PYTHON, tmp_path, capsys)
    assert code == 1, text
    assert "python3 is not installed" in text and "apt install python3-minimal" in text, text
