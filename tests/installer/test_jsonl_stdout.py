"""`--events jsonl` keeps stdout pure JSON lines on every path (issue 13, item 7): notes,
preflight findings, confirmations, upgrade messages, failures and "nothing to do" go to stderr."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from installer.cli import main
from installer.events import parse_event
from tests.installer.upgrade.test_upgrade_dry_run import Cloud

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def json_lines(out: str) -> list[dict[str, object]]:
    """Every stdout line parsed as one event; fails on any line that is not."""
    docs = []
    for line in out.splitlines():
        doc = json.loads(line)  # raises on human text
        parse_event(line)
        docs.append(doc)
    return docs


Run = Callable[..., tuple[int, list[dict[str, object]], str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    def go(*argv: str) -> tuple[int, list[dict[str, object]], str]:
        capsys.readouterr()
        code = main([*argv, "--events", "jsonl"])
        out, err = capsys.readouterr()
        return code, json_lines(out), err

    yield go


def common(tmp_path: Path) -> list[str]:
    return ["--dry-run", "--state-dir", str(tmp_path / "state"), "--time-scale", "0"]


def test_install_failure_resume_and_nothing_to_resume(run: Run, tmp_path: Path) -> None:
    answers = str(ROOT / "examples" / "single-node.yaml")
    code, events, err = run("--answers", answers, "--yes", *common(tmp_path),
                            "--faults", "juju.deploy:keystone=fail")
    assert code == 3 and events and "juju.deploy:keystone" in err  # the report is on stderr
    code, events, err = run("--answers", answers, "--yes", *common(tmp_path))
    assert code == 0 and events and "did not finish" in err  # the note, on stderr
    code, events, err = run("resume", *common(tmp_path))
    assert code == 0 and events == [] and "nothing to resume" in err


def test_a_failing_run_then_resume(run: Run, tmp_path: Path) -> None:
    answers = str(ROOT / "examples" / "single-node.yaml")
    code, events, _ = run("--answers", answers, "--yes", *common(tmp_path),
                          "--faults", "juju.deploy:keystone=fail")
    assert code == 3 and events[-1]["event"] == "PlanFinished"
    code, events, err = run("resume", *common(tmp_path))
    assert code == 0 and events[-1]["outcome"] == "done" and "Done:" in err


def test_preflight_warnings_confirmed_with_yes(run: Run, tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    shutil.copytree(FIXTURES / "facts", facts)
    doc = json.loads((facts / "node1.json").read_text())
    doc["free_space"] = []  # free disk space unknown: a warning
    (facts / "node1.json").write_text(json.dumps(doc))
    code, events, err = run("--answers", str(FIXTURES / "answers/preflight-three-node.yaml"),
                            "--yes", *common(tmp_path), "--facts", str(facts))
    assert "warning:" in err and code == 0 and events


def test_preflight_errors_and_usage_errors(run: Run, tmp_path: Path) -> None:
    code, events, err = run("--answers", str(FIXTURES / "answers/bad-everything.yaml"),
                            "--yes", *common(tmp_path))
    assert code == 1 and events == [] and err
    code, events, err = run("--answers", str(ROOT / "examples" / "single-node.yaml"), "--yes",
                            *common(tmp_path), "--faults", "nope")
    assert code == 2 and events == [] and "nope" in err


def test_upgrade_to_and_already_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    cloud = Cloud(tmp_path)
    for expect in ("Upgrade 2024.1 -> 2025.1", "runs 2025.1 already"):
        capsys.readouterr()
        code = main(["upgrade", "--to", "2025.1", "--yes", *cloud.common(),
                     "--facts", str(cloud.facts24), "--events", "jsonl"])
        out, err = capsys.readouterr()
        assert code == 0 and expect in err
        json_lines(out)
