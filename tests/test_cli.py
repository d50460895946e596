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
        "address, ssh_user, roles, osd_devices, external_nic"
    )
    assert err[-1] == f"{bad}: 3 problems; nothing was changed"


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "x.yaml")]) == 1
    assert "x.yaml:0:0: no such file" in capsys.readouterr().err


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
