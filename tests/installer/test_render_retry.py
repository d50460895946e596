"""Issue 14 item 21: a retry is printed with the reason the attempt before it failed."""

from __future__ import annotations

import io

from installer.events import Event, PlanFinished, PlanStarted, StepFinished, StepLog, StepStarted
from installer.render.console import PlainRenderer, RichRenderer

STEP = "juju.bootstrap"


def events() -> list[Event]:
    return [
        PlanStarted(run_id="r1", steps=1, log_path="/state/logs/r1.log"),
        StepStarted(step=STEP, title="Bootstrap the controller"),
        # The runner's own words (installer/runner.py) when a transient error is retried.
        StepLog(step=STEP, line="attempt 1 failed: snap store unreachable; retrying in 0.5s"),
        StepStarted(step=STEP, title="Bootstrap the controller", attempt=2),
        StepFinished(step=STEP, outcome="done", duration=1.0),
        PlanFinished(outcome="done", done=1, skipped=0, failed=0, duration=1.0),
    ]


def test_plain_retry_line_names_the_reason() -> None:
    out = io.StringIO()
    r = PlainRenderer(out)
    for e in events():
        r(e)
    [line] = [x for x in out.getvalue().splitlines() if "retry#2" in x]
    assert line.endswith("retry#2 juju.bootstrap: Bootstrap the controller "
                         "(attempt 1 failed: snap store unreachable)")


def test_rich_retry_line_names_the_reason() -> None:
    out = io.StringIO()
    r = RichRenderer(out)
    for e in events():
        r(e)
    r.close()
    assert "snap store unreachable" in out.getvalue()
