"""Console (plain and rich) and JSON-lines renderers fed a real event sequence."""

from __future__ import annotations

import io
import re

import pytest

from installer.events import (
    Event,
    PlanFinished,
    PlanStarted,
    StepFinished,
    StepLog,
    StepProgress,
    StepStarted,
    parse_event,
)
from installer.planner import plan
from installer.render import fan_out
from installer.render.console import PlainRenderer, RichRenderer, report_lines
from installer.render.jsonl import JsonlRenderer
from installer.runner import FailedStep, RunResult
from manifests.release import load_release
from tests.installer.lab.helpers import example


def events() -> list[Event]:
    return [
        PlanStarted(run_id="r1", steps=3, log_path="/state/logs/r1.log"),
        StepStarted(step="snap.install:juju@node1", title="Install the juju snap on node1",
                    host="node1"),
        StepProgress(step="snap.install:juju@node1", message="downloading", fraction=0.5),
        StepProgress(step="snap.install:juju@node1", message="downloading", fraction=0.5),
        StepLog(step="snap.install:juju@node1", line="fetched 30 MB"),
        StepFinished(step="snap.install:juju@node1", outcome="done", duration=2.0),
        StepStarted(step="juju.bootstrap", title="Bootstrap", attempt=2),
        StepFinished(step="juju.bootstrap", outcome="skipped"),
        StepStarted(step="juju.deploy:nova-k8s", title="Deploy nova"),
        StepFinished(step="juju.deploy:nova-k8s", outcome="failed", error="quota exceeded",
                     hint="raise the quota"),
        PlanFinished(outcome="failed", done=1, skipped=1, failed=1, duration=3.0),
    ]


def test_plain_renderer_prints_timestamped_lines_without_escapes() -> None:
    out = io.StringIO()
    r = PlainRenderer(out)
    for e in events():
        r(e)
    text = out.getvalue()
    assert "\x1b" not in text
    lines = text.splitlines()
    assert all(re.match(r"^\d\d:\d\d:\d\d ", line) for line in lines)
    assert "start  snap.install:juju@node1: Install the juju snap on node1\n" in text
    assert text.count("downloading (50%)") == 1  # unchanged progress is not repeated
    assert "fetched 30 MB" not in text  # log lines live in the log file
    assert "done   snap.install:juju@node1 (2.0s) [1/3]" in text
    assert "retry#2 juju.bootstrap" in text and "skip   juju.bootstrap" in text
    assert "FAILED juju.deploy:nova-k8s: quota exceeded" in text
    assert "log: /state/logs/r1.log" in text
    assert "failed: 1 done, 1 skipped, 1 failed, 0 pending" in lines[-1]


@pytest.mark.parametrize("name", ["single-node", "three-node"])
def test_plain_renderer_shows_each_plan_title_as_it_is(name: str) -> None:
    """Titles name their hosts themselves (the convention for every step title); the renderer
    adds none, so no line reads "... on node1 on node1" and a step that runs on one host but
    is about another ("Disable node4 for scheduling") is not misattributed."""
    a = example(name)
    p = plan(a, load_release(a.release))
    out = io.StringIO()
    r = PlainRenderer(out)
    for s in p.steps:
        r(StepStarted(step=s.id, title=s.title, host=s.host))
    lines = out.getvalue().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [s.title for s in p.steps]
    assert not [line for line in lines if re.search(r" on (\S+) on \1\b", line)]
    assert "Install the juju snap (3.6/stable) on node1" in lines[0]


def test_rich_renderer_draws_progress_and_results_on_a_terminal() -> None:
    out = io.StringIO()
    r = RichRenderer(out)
    for e in events()[:-1]:
        r(e)
    # Mid-run, the live area shows the bar's count (advanced by 3 finished steps).
    assert r.progress.tasks[0].completed == 3 and r.progress.tasks[0].total == 3
    r(events()[-1])
    r.close()
    text = out.getvalue()
    assert "\x1b[" in text  # drawn in place with escape codes
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert "✓ snap.install:juju@node1" in plain
    assert "✗ juju.deploy:nova-k8s: quota exceeded" in plain
    assert "3/3" in plain


def test_jsonl_renderer_writes_one_parseable_event_per_line() -> None:
    out = io.StringIO()
    r = JsonlRenderer(out)
    evs = events()
    for e in evs:
        r(e)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(evs)
    back = [parse_event(line) for line in lines]
    assert back == evs
    assert lines[1].startswith("{") and '"event":"StepStarted"' in lines[1]


def test_fan_out_feeds_every_renderer() -> None:
    a: list[Event] = []
    b: list[Event] = []
    emit = fan_out(a.append, None, b.append)
    emit(events()[0])
    assert len(a) == len(b) == 1


def test_report_lines_of_a_failed_run_name_step_error_hint_log_and_resume() -> None:
    res = RunResult(run_id="r1", outcome="failed", failures=[FailedStep(
        "juju.deploy:nova-k8s", "Deploy nova", "quota exceeded", "raise the quota",
        ["line 1", "error: quota exceeded"])])
    text = "\n".join(report_lines(res, log_path="/s/logs/r1.log",
                                  resume_hint="Continue with: sunbeam-install resume"))
    assert "Step juju.deploy:nova-k8s (Deploy nova) failed: quota exceeded" in text
    assert "Hint: raise the quota" in text and "    line 1" in text
    assert "Log: /s/logs/r1.log" in text and text.endswith("sunbeam-install resume")
    done = report_lines(RunResult(run_id="r1", outcome="done", done=3), log_path=None,
                        resume_hint="")
    assert done[0].startswith("Done: 3 steps done")
