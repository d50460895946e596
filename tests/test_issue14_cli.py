"""The headless install's output for a new user (issue 14): in dry-run, findings about what the
hosts are say how to try other hosts (--facts); the "unfinished run" note names --dry-run."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.cli import main
from installer.interactive.commands import command_line, facts_hint
from installer.pipeline import RunSettings

from .conftest import EXAMPLES, FIXTURES


def test_commands_name_dry_run_and_the_state_dir_given(tmp_path: Path) -> None:
    assert command_line(RunSettings(dry_run=False), "resume") == "sunbeam-install resume"
    lab = RunSettings(dry_run=True, state_dir=tmp_path)
    assert command_line(lab, "status") == f"sunbeam-install status --dry-run --state-dir {tmp_path}"


def test_facts_hint_only_in_dry_run_and_only_for_host_findings(tmp_path: Path) -> None:
    lab = RunSettings(dry_run=True)
    assert facts_hint(lab, {"no-proxy-missing-cidr"}) is None
    assert facts_hint(RunSettings(dry_run=False), {"os-unsupported"}) is None
    assert "--facts DIR" in (facts_hint(lab, {"os-unsupported"}) or "")
    given = RunSettings(dry_run=True, facts_dir=tmp_path)
    assert str(tmp_path) in (facts_hint(given, {"os-unsupported"}) or "")


def test_headless_dry_run_with_host_errors_names_facts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "node1.json").write_text((FIXTURES / "facts" / "sunbeam-vm.json").read_text())
    code = main(["--answers", str(EXAMPLES / "single-node.yaml"), "--dry-run", "--yes",
                 "--facts", str(facts), "--state-dir", str(tmp_path / "state")])
    assert code == 1
    err = capsys.readouterr().err
    assert f"Dry run: these hosts are the facts in {facts}" in err


def test_tui_and_plain_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--tui", "--plain", "--dry-run"]) == 2
    assert "--tui and --plain" in capsys.readouterr().err


def test_plain_with_answers_asks_prefilled_instead_of_installing_headless(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_plain(settings: object, *, answers_path: str | None = None,
                   assume_yes: bool = False) -> int:
        seen["answers"] = answers_path
        return 0

    monkeypatch.setattr("installer.plain.run_plain", fake_plain)
    example = str(EXAMPLES / "single-node.yaml")
    assert main(["--plain", "--answers", example, "--dry-run",
                 "--state-dir", str(tmp_path)]) == 0
    assert seen == {"answers": example}
