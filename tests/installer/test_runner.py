"""The runner with synthetic steps: concurrency, order, retries, failure, interrupt, journal."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from installer.backends.base import BackendError
from installer.events import Event, PlanFinished, PlanStarted, StepFinished, StepStarted
from installer.journal import Journal
from installer.plan import Plan, Step, StepContext, StepFailed
from installer.runner import Runner, RunOptions, RunResult, default_parallel
from installer.secrets import Redactor, Secrets
from installer.state import close_run_log, open_run_log
from manifests.release import load_release

PASSWORD = "s3cret-Pa55word-xyz"


@dataclass(eq=False)
class Work(Step):
    """A step that sleeps `seconds`, and can be told to be done already or to fail."""

    seconds: float = 0.0
    already: bool = False
    transient_failures: int = 0
    fail: str | None = None
    boom: bool = False
    log_lines: tuple[str, ...] = ()
    calls: list[str] = field(default_factory=list)
    tracker: dict[str, int] | None = None
    check_journal: Path | None = None

    async def done(self, ctx: StepContext) -> bool:
        self.calls.append("done")
        if self.check_journal is not None:
            # A second connection sees what is committed: every need must already read "done".
            conn = sqlite3.connect(self.check_journal)
            states = dict(conn.execute("SELECT step_id, state FROM steps").fetchall())
            conn.close()
            assert all(states[n] == "done" for n in self.needs), states
        return self.already

    async def run(self, ctx: StepContext) -> None:
        self.calls.append("run")
        t = self.tracker
        if t is not None:
            t["now"] += 1
            t["max"] = max(t["max"], t["now"])
        try:
            for line in self.log_lines:
                ctx.log(line)
            ctx.progress("working", 0.5)
            if self.seconds:
                await asyncio.sleep(self.seconds)
            if self.boom:
                raise ZeroDivisionError("division by zero")
            if self.transient_failures > 0:
                self.transient_failures -= 1
                raise BackendError("API hiccup", transient=True)
            if self.fail:
                raise StepFailed(self.fail, hint="Fix the thing, then resume.")
        finally:
            if t is not None:
                t["now"] -= 1


@dataclass
class Harness:
    tmp: Path
    events: list[Event] = field(default_factory=list)
    journal: Journal | None = None
    run_id: str = ""

    def open(self, plan: Plan) -> Journal:
        self.journal = Journal.open(self.tmp / "journal.sqlite")
        rec = self.journal.start_run(
            kind="install", answers_snapshot="{}", answers_path=None, dry_run=True,
            steps=[(s.id, s.title, s.host) for s in plan.steps],
        )
        self.run_id = rec.id
        return self.journal

    def runner(self, plan: Plan, **opts: Any) -> Runner:
        journal = self.journal or self.open(plan)
        secrets = Secrets(self.tmp / "secrets", Redactor([PASSWORD]))
        self.log_path = self.tmp / "run.log"
        self.logger = open_run_log(self.log_path, secrets.redactor)
        return Runner(
            plan, answers=cast(Any, None), release=load_release("2025.1"),
            backends=cast(Any, None), journal=journal, run_id=self.run_id,
            emit=self.events.append, secrets=secrets, logger=self.logger,
            options=RunOptions(backoff=0.001, **opts), log_path=str(self.log_path),
        )

    async def run(self, plan: Plan, **opts: Any) -> RunResult:
        try:
            return await self.runner(plan, **opts).run()
        finally:
            close_run_log(self.logger)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def diamond(**kw: Any) -> list[Work]:
    return [
        Work("a", "A", **kw.get("a", {})),
        Work("b", "B", needs=("a",), host="n1", **kw.get("b", {})),
        Work("c", "C", needs=("a",), host="n2", **kw.get("c", {})),
        Work("d", "D", needs=("b", "c"), **kw.get("d", {})),
    ]


async def test_all_steps_run_in_dependency_order_with_ordered_events(h: Harness) -> None:
    steps = diamond()
    res = await h.run(Plan(list(steps)))
    assert res.outcome == "done"
    assert (res.done, res.skipped, res.failed, res.pending) == (4, 0, 0, 0)
    assert isinstance(h.events[0], PlanStarted) and h.events[0].steps == 4
    assert isinstance(h.events[-1], PlanFinished) and h.events[-1].outcome == "done"
    pos = {(type(e).__name__, e.step): i for i, e in enumerate(h.events)}
    for s in steps:
        assert pos[("StepStarted", s.id)] < pos[("StepFinished", s.id)]
        for n in s.needs:
            assert pos[("StepFinished", n)] < pos[("StepStarted", s.id)]
    assert all(e.time > 0 for e in h.events)
    assert all(s.calls == ["done", "run"] for s in steps)
    assert h.journal is not None
    assert {r.state for r in h.journal.steps(h.run_id)} == {"done"}
    assert h.journal.last_run() is not None and h.journal.last_run().outcome == "done"  # type: ignore[union-attr]


async def test_outcome_is_committed_before_a_dependent_starts(h: Harness) -> None:
    path = h.tmp / "journal.sqlite"
    steps = [Work("a", "A"), Work("b", "B"), Work("c", "C", needs=("a", "b"), check_journal=path),
             Work("d", "D", needs=("c",), check_journal=path)]
    res = await h.run(Plan(list(steps)))
    assert res.outcome == "done", res.failures


async def test_independent_steps_run_concurrently_within_the_bound(h: Harness) -> None:
    tracker = {"now": 0, "max": 0}
    steps = [Work(f"s{i}", f"S{i}", seconds=0.02, tracker=tracker) for i in range(12)]
    t = time.monotonic()
    res = await h.run(Plan(list(steps)), parallel=4)
    assert res.outcome == "done"
    assert tracker["max"] == 4
    assert time.monotonic() - t < 12 * 0.02  # not serial


def test_default_parallel_is_sized_for_the_hosts() -> None:
    small = Plan([Work("a", "A", host="n1")])
    big = Plan([Work(f"s{i}", "S", host=f"n{i}") for i in range(10)])
    assert default_parallel(small) == 8
    assert default_parallel(big) == 40


async def test_done_steps_are_skipped_without_running(h: Harness) -> None:
    steps = diamond(b={"already": True})
    res = await h.run(Plan(list(steps)))
    assert (res.done, res.skipped) == (3, 1)
    assert steps[1].calls == ["done"]
    fin = {e.step: e.outcome for e in h.of(StepFinished)}
    assert fin["b"] == "skipped"


async def test_transient_errors_are_retried_and_the_run_succeeds(h: Harness) -> None:
    steps = diamond(c={"transient_failures": 2})
    res = await h.run(Plan(list(steps)))
    assert res.outcome == "done"
    attempts = [e.attempt for e in h.of(StepStarted) if e.step == "c"]
    assert attempts == [1, 2, 3]
    assert h.journal is not None
    rec = {r.step_id: r for r in h.journal.steps(h.run_id)}
    assert rec["c"].attempts == 3 and rec["c"].state == "done"


async def test_transient_errors_give_up_after_max_attempts(h: Harness) -> None:
    steps = diamond(c={"transient_failures": 10})
    res = await h.run(Plan(list(steps)), max_attempts=3)
    assert res.outcome == "failed"
    assert res.failures[0].step == "c"
    assert "still failing after 3 attempts" in res.failures[0].error


async def test_permanent_failure_stops_new_work_but_lets_running_steps_finish(h: Harness) -> None:
    steps = diamond(
        b={"fail": "the disk is gone", "log_lines": ("checking disk", "no disk")},
        c={"seconds": 0.1},
    )
    res = await h.run(Plan(list(steps)))
    assert res.outcome == "failed"
    assert (res.done, res.failed, res.pending) == (2, 1, 1)  # a, c done; b failed; d pending
    f = res.failures[0]
    assert (f.step, f.error, f.hint) == ("b", "the disk is gone", "Fix the thing, then resume.")
    assert f.log_tail[:2] == ["checking disk", "no disk"]
    assert not any(e.step == "d" for e in h.of(StepStarted))
    fin = {e.step: e for e in h.of(StepFinished)}
    assert fin["c"].outcome == "done" and fin["b"].outcome == "failed"
    assert h.journal is not None
    rec = {r.step_id: r for r in h.journal.steps(h.run_id)}
    assert (rec["b"].state, rec["b"].error, rec["d"].state) == ("failed", "the disk is gone",
                                                                  "pending")
    assert h.journal.last_run().outcome == "failed"  # type: ignore[union-attr]


async def test_a_resume_of_a_failed_run_does_not_restart_finished_steps(h: Harness) -> None:
    steps = diamond(b={"fail": "nope"})
    assert (await h.run(Plan(list(steps)))).outcome == "failed"
    h.events.clear()
    fixed = diamond()
    res = await h.run(Plan(list(fixed)))
    assert res.outcome == "done" and res.already_done == 2
    assert [e.step for e in h.of(StepStarted)] == ["b", "d"]
    assert fixed[0].calls == [] and fixed[2].calls == []
    assert h.of(PlanStarted)[0].already_done == 2


async def test_step_timeout_fails_the_step(h: Harness) -> None:
    steps = [Work("slow", "Slow", seconds=5, timeout=0.05)]
    res = await h.run(Plan(list(steps)))
    assert res.outcome == "failed"
    assert "did not finish within 0.05 s" in res.failures[0].error


async def test_unexpected_exception_fails_with_a_bug_hint_and_traceback_in_log(h: Harness) -> None:
    res = await h.run(Plan([Work("x", "X", boom=True)]))
    assert res.outcome == "failed"
    assert res.failures[0].error == "unexpected error: ZeroDivisionError: division by zero"
    assert "report it with the log file" in (res.failures[0].hint or "")
    assert "Traceback" in h.log_path.read_text()


async def test_interrupt_stops_running_steps_and_resume_reruns_them(h: Harness) -> None:
    steps = [Work("a", "A"), Work("long", "Long", needs=("a",), seconds=30),
             Work("after", "After", needs=("long",))]
    runner = h.runner(Plan(list(steps)), interrupt_grace=0.05)
    task = asyncio.create_task(runner.run())
    while not any(isinstance(e, StepStarted) and e.step == "long" for e in h.events):
        await asyncio.sleep(0.005)
    runner.interrupt()
    res = await asyncio.wait_for(task, 5)
    close_run_log(h.logger)
    assert res.outcome == "interrupted" and runner.cancelled.is_set()
    assert h.of(PlanFinished)[0].outcome == "interrupted"
    assert h.journal is not None
    rec = {r.step_id: r.state for r in h.journal.steps(h.run_id)}
    assert rec == {"a": "done", "long": "running", "after": "pending"}
    assert h.journal.last_run().outcome == "interrupted"  # type: ignore[union-attr]

    h.events.clear()
    again = [Work("a", "A"), Work("long", "Long", needs=("a",)), Work("after", "After",
                                                                      needs=("long",))]
    res = await h.run(Plan(list(again)))
    assert res.outcome == "done"
    assert [e.step for e in h.of(StepStarted)] == ["long", "after"]
    assert again[1].calls == ["done", "run"]


async def test_cancelling_the_task_records_interrupted_and_reraises(h: Harness) -> None:
    steps = [Work("long", "Long", seconds=30)]
    task = asyncio.create_task(h.runner(Plan(list(steps))).run())
    while not h.of(StepStarted):
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    close_run_log(h.logger)
    assert h.of(PlanFinished)[0].outcome == "interrupted"
    assert h.journal is not None
    assert h.journal.last_run().outcome == "interrupted"  # type: ignore[union-attr]


async def test_secrets_are_redacted_from_events_log_and_journal(h: Harness) -> None:
    steps = [Work("pw", "Set password", log_lines=(f"password is {PASSWORD}",),
                  fail=f"keystone rejected {PASSWORD}")]
    res = await h.run(Plan(list(steps)))
    assert res.outcome == "failed"
    dumped = "\n".join(e.model_dump_json() for e in h.events)
    assert "password is ********" in dumped
    assert PASSWORD not in dumped
    assert PASSWORD not in res.failures[0].error
    assert h.journal is not None
    h.journal.close()
    for f in h.tmp.rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f


async def test_a_broken_renderer_does_not_break_the_run(h: Harness) -> None:
    def broken(event: Event) -> None:
        raise BrokenPipeError("stdout closed")

    runner = h.runner(Plan(list(diamond())))
    runner._emit = broken
    res = await runner.run()
    close_run_log(h.logger)
    assert res.outcome == "done"
    assert "event renderer failed" in h.log_path.read_text()


async def test_events_serialise_to_json_lines(h: Harness) -> None:
    await h.run(Plan(list(diamond())))
    for e in h.events:
        obj = json.loads(e.model_dump_json())
        assert obj["event"] == type(e).__name__ and "time" in obj and "step" in obj


async def test_a_second_interrupt_stops_at_once(h: Harness) -> None:
    steps = [Work("long", "Long", seconds=30)]
    runner = h.runner(Plan(list(steps)), interrupt_grace=60)
    task = asyncio.create_task(runner.run())
    while not h.of(StepStarted):
        await asyncio.sleep(0.005)
    runner.interrupt()
    await asyncio.sleep(0.02)
    assert not task.done()  # waiting for the step to stop by itself (grace 60 s)
    runner.interrupt()
    res = await asyncio.wait_for(task, 2)
    close_run_log(h.logger)
    assert res.outcome == "interrupted"


async def test_steps_see_cancelled_and_may_stop_themselves(h: Harness) -> None:
    @dataclass(eq=False)
    class Polite(Step):
        stopped: bool = False

        async def done(self, ctx: StepContext) -> bool:
            return False

        async def run(self, ctx: StepContext) -> None:
            await ctx.cancelled.wait()
            self.stopped = True
            raise StepFailed("stopped on request", transient=True)

    step = Polite("polite", "Polite")
    runner = h.runner(Plan([step]), interrupt_grace=5)
    task = asyncio.create_task(runner.run())
    while not h.of(StepStarted):
        await asyncio.sleep(0.005)
    runner.interrupt()
    res = await asyncio.wait_for(task, 2)
    close_run_log(h.logger)
    assert step.stopped
    # A transient error while stopping is no failure: the step is left to resume.
    assert res.outcome == "interrupted" and not res.failures
    assert h.journal is not None
    assert [r.state for r in h.journal.steps(h.run_id)] == ["running"]


async def test_steps_read_the_remaining_time_of_their_current_attempt(h: Harness) -> None:
    @dataclass(eq=False)
    class Timed(Step):
        seen: list[float] = field(default_factory=list)

        async def done(self, ctx: StepContext) -> bool:
            return False

        async def run(self, ctx: StepContext) -> None:
            self.seen.append(ctx.remaining())
            if len(self.seen) == 1:
                await asyncio.sleep(0.2)
                self.seen.append(ctx.remaining())
                raise BackendError("API hiccup", transient=True)

    step = Timed("timed", "Timed", timeout=30)
    res = await h.run(Plan([step]))
    assert res.outcome == "done"
    first, later, retry = step.seen
    assert 25 < first <= 30 and later <= first - 0.2
    assert 25 < retry <= 30  # a retry gets the whole timeout again
