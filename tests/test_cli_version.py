"""--version (issue 17, item 6): the version is printed when asked for, and only then looked up
(reading the package metadata cost every command ~34 ms)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from installer import cli

SCRIPT = Path(sys.executable).with_name("sunbeam-install")


def test_the_console_script_prints_the_installed_version() -> None:
    script = str(SCRIPT) if SCRIPT.exists() else shutil.which("sunbeam-install")
    assert script, "the sunbeam-install console script is not installed"
    r = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (
        0, f"sunbeam-install {version('sunbeam-install')}\n", "")


def test_version_among_other_options_goes_through_the_parser(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--plain", "--version"]) == 0
    assert capsys.readouterr().out == f"sunbeam-install {version('sunbeam-install')}\n"


def test_other_commands_never_look_the_version_up(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def looked_up() -> str:
        raise AssertionError("the version was looked up")

    monkeypatch.setattr(cli, "_version", looked_up)
    assert cli.main(["schema"]) == 0
    assert '"title"' in capsys.readouterr().out
    assert cli.main(["--help"]) == 0
    assert "--version" in capsys.readouterr().out
