"""Hostile host text (issue 13, item 3): control characters a host reports never reach the
terminal raw, through preflight findings, the probe table, the console renderers, the
closing report, `status` and the plain mode; JSON output stays faithful."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from installer.cli import main
from installer.events import PlanStarted, StepFinished, StepLog, StepProgress, StepStarted
from installer.preflight.finding import Finding, format_finding
from installer.render.console import PlainRenderer, RichRenderer, report_lines
from installer.runner import FailedStep, RunResult
from installer.text import has_control, neutralise, one_line
from probes.facts import HostFacts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EVIL_HOST = "evil\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"


def hostile_facts_dir(tmp_path: Path) -> Path:
    """node1..3 as in the three-node fixture, node1 reporting ESC sequences everywhere."""
    out = tmp_path / "facts"
    shutil.copytree(FIXTURES / "facts", out)
    path = out / "node1.json"
    doc = json.loads(path.read_text())
    doc["hostname"] = EVIL_HOST
    for nic in doc["nics"]:
        if nic["name"] == "eno2":
            nic["name"] = f"eno2{CLEAR}"
    for disk in doc["disks"]:
        disk["model"] = f"{CLEAR}SAMSUNG\x9b31m"
    doc["probe_errors"] = [f"lsblk: {CLEAR}\x1b[31mboom\r\x7f"]
    path.write_text(json.dumps(doc))
    return out


def test_neutralise_shows_every_control_character_visibly() -> None:
    assert neutralise("a\x1b[2Jb\x07\x7f\x9b\x00") == "a\\x1b[2Jb\\x07\\x7f\\x9b\\x00"
    assert neutralise("two\nlines\tand tab") == "two\nlines\tand tab"
    assert one_line("two\nlines\r") == "two\\x0alines\\x0d"
    assert neutralise("café ✓ ñ") == "café ✓ ñ"  # printable text is left alone
    assert has_control(EVIL_HOST) and not has_control(neutralise(EVIL_HOST).replace("\n", ""))


def test_validate_dry_run_with_hostile_facts_writes_no_raw_escape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = hostile_facts_dir(tmp_path)
    answers = FIXTURES / "answers/preflight-three-node.yaml"
    code = main(["validate", str(answers), "--dry-run", "--facts", str(facts)])
    out, err = capsys.readouterr()
    assert code == 1  # eno2 is renamed: the external NIC is missing
    for stream in (out, err):
        assert "\x1b" not in stream and "\x07" not in stream and "\x9b" not in stream
    assert "eno2\\x1b[2J" in err and "lsblk: \\x1b[2J" in err  # shown, visibly


def test_format_finding_escapes_host_message_and_hint() -> None:
    f = Finding(severity="error", code="x", host=EVIL_HOST, message=f"NIC eno2{CLEAR} is down",
                hint=f"look at {CLEAR}")
    line = format_finding(f)
    assert "\x1b" not in line and "\\x1b[2J" in line
    assert f.message.endswith("is down") and CLEAR in f.message  # the Finding stays faithful


def test_probe_table_escapes_what_the_host_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = HostFacts.model_validate_json(
        (hostile_facts_dir(tmp_path) / "node1.json").read_text())
    monkeypatch.setattr("probes.local.probe_local", lambda: facts)
    assert main(["probe"]) == 0
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "evil\\x1b]0;pwned\\x07" in out and "eno2\\x1b[2J" in out
    # --json stays faithful: JSON escapes the control characters itself.
    assert main(["probe", "--json"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert HostFacts.model_validate_json(out).hostname == EVIL_HOST


def hostile_events() -> list[object]:
    step = "snap.install:juju@node1"
    return [
        PlanStarted(run_id="r1", steps=1, log_path="/state/logs/r1.log"),
        StepStarted(step=step, title=f"Install juju on {EVIL_HOST}", host=EVIL_HOST),
        StepProgress(step=step, message=f"snapd says {CLEAR}[bold]x[/bold]", fraction=0.5),
        StepLog(step=step, line=f"stderr: {CLEAR}\x1b]0;pwned\x07"),
        StepFinished(step=step, outcome="failed", error=f"juju: {CLEAR}[red]no[/red]",
                     hint=f"see {CLEAR}", log_tail=[f"tail {CLEAR}"]),
    ]


def test_plain_renderer_escapes_host_text() -> None:
    out = io.StringIO()
    r = PlainRenderer(out)
    for e in hostile_events():
        r(e)  # type: ignore[arg-type]
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in text


def test_rich_renderer_escapes_host_text_and_reads_no_markup_from_it() -> None:
    out = io.StringIO()
    r = RichRenderer(out)
    for e in hostile_events():
        r(e)  # type: ignore[arg-type]
    r._draw(force=True)
    r.close()
    text = out.getvalue()
    # The display's own escape codes are there; the host's are not.
    assert CLEAR not in text and "\x1b]0;pwned" not in text and "\x07" not in text
    assert "\\x1b[2J" in text
    assert "[red]no[/red]" in text  # shown as written, not taken for markup


def test_report_lines_escape_errors_hints_and_log_tail() -> None:
    res = RunResult(run_id="r1", outcome="failed", failures=[FailedStep(
        step="s", title=f"on {EVIL_HOST}", error=f"boom {CLEAR}", hint=f"hint {CLEAR}",
        log_tail=[f"line {CLEAR}"])])
    lines = report_lines(res, log_path="/l", resume_hint="resume")
    assert not any("\x1b" in line or "\x07" in line for line in lines)
    assert any("\\x1b[2J" in line for line in lines)
