"""The command line: help for every command, validate's output and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from installer.cli import COMMANDS, main

from .conftest import EXAMPLES, FIXTURES


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out
    assert "--dry-run" in out and "exit codes" in out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, "--help"]) == 0
    assert f"usage: sunbeam-install {name}" in capsys.readouterr().out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-such-option"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["single-node.yaml", "three-node.yaml", "twelve-node.yaml"])
def test_validate_examples(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES / name)]) == 0
    assert ": valid: release 2025.1" in capsys.readouterr().out


def test_validate_bad_file(capsys: pytest.CaptureFixture[str]) -> None:
    bad = FIXTURES / "answers" / "bad-everything.yaml"
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"{bad}:7:5: hosts[0].colour: unknown key 'colour'; expected one of: name, "
        "address, ssh_user, ssh_port, roles, osd_devices, external_nic"
    )
    assert err[-1] == f"{bad}: 3 problems; nothing was changed"


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "x.yaml")]) == 1
    assert "x.yaml: no such file" in capsys.readouterr().err


def test_console_script_never_tracebacks(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    r = subprocess.run(
        [sys.executable, "-m", "installer", "validate", str(garbage)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith(f"{garbage}:1:1: is a binary file")


def test_validate_dry_run_runs_preflight_on_lab_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES / "three-node.yaml"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "preflight against the simulated lab's default hosts: 0 errors" in out


def test_validate_dry_run_with_recorded_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A laptop VM's facts recorded as node1: its disks and names are not what the example says.
    (tmp_path / "node1.json").write_text((FIXTURES / "facts" / "sunbeam-vm.json").read_text())
    example = EXAMPLES / "single-node.yaml"
    assert main(["validate", str(example), "--dry-run", "--facts", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert f"facts from {tmp_path}: 3 errors" in captured.out
    err = captured.err
    assert (
        f"{example}:15:9: error: OSD device /dev/disk/by-id/wwn-0x5000c500a1b2c3d4 does not "
        "exist on host node1" in err
    )
    assert f"{example}:11:11: error: Host node1 calls itself sunbeam-vm.lan" in err


def test_validate_probe_checks_the_real_hosts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # This machine is probed for real; the remote host is a loopback address where no sshd
    # listens, so it fails with its reason and the others are still checked.
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "version: 1\n"
        'release: "2025.1"\n'
        "hosts:\n"
        "  - name: not-this-host\n"
        "    roles: [control, compute]\n"
        "  - name: far\n"
        "    address: 127.0.0.9\n"
        "    ssh_user: ubuntu\n"
        "    roles: [compute]\n"
        "network:\n"
        "  management_cidr: 127.0.0.0/8\n"
        "  loadbalancer_range: 127.0.0.200-127.0.0.210\n"
    )
    assert main(["validate", str(answers), "--probe"]) == 1
    captured = capsys.readouterr()
    assert "preflight against the probed hosts:" in captured.out
    assert "error: host far: cannot be probed: cannot reach 127.0.0.9 port 22" in captured.err
    assert f"{answers}:4:11: error: Host not-this-host calls itself" in captured.err
