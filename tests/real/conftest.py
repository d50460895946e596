"""Fixtures of the real-component tests: Debian's sshd and snapd, one of each per session."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.real import SNAPD, SSHD, RealSnapd, RealSshd, need, start_sshd

# Login accounts of the real sshd, by what their login shell does before the command runs.
PLAIN = "sbi-plain"
NOISY = "sbi-noisy"  # .bashrc prints to stdout and stderr, as a chatty motd script would
NO_PYTHON = "sbi-nopy"  # no python3 on PATH
NO_CURL = "sbi-nocurl"  # python3 and nothing else on PATH: no curl, no sudo
USERS = {
    PLAIN: "",
    NOISY: 'echo "Welcome to node2 {not json}"\necho "bashrc warning" >&2\n',
    NO_PYTHON: "export PATH=/nonexistent\n",
    NO_CURL: 'mkdir -p "$HOME/bin" && ln -sf /usr/bin/python3 "$HOME/bin/python3"\n'
    'export PATH="$HOME/bin"\n',
}


@pytest.fixture(scope="session")
def real_root() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="sbreal-", dir="/tmp"))  # short: unix socket paths
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def real_sshd(real_root: Path) -> Iterator[RealSshd]:
    need(SSHD, "openssh-server")
    sshd = start_sshd(real_root / "sshd", USERS)
    try:
        yield sshd
    finally:
        sshd.stop()


@pytest.fixture(scope="session")
def real_sshd_two_sessions(real_root: Path) -> Iterator[RealSshd]:
    need(SSHD, "openssh-server")
    sshd = start_sshd(real_root / "sshd2", USERS, max_sessions=2)
    try:
        yield sshd
    finally:
        sshd.stop()


@pytest.fixture(scope="session")
def real_snapd(real_root: Path) -> Iterator[RealSnapd]:
    need(SNAPD, "snapd")
    snapd = RealSnapd(real_root / "snapd")
    snapd.start()
    try:
        yield snapd
    finally:
        snapd.stop()


@pytest.fixture
def known(tmp_path: Path, real_sshd: RealSshd) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(real_sshd.known_hosts_line())
    return path
