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
from installer.plan import (
    DEFAULT_LIMITS,
    JUJU,
    K8S,
    Plan,
    Step,
    StepContext,
    StepFailed,
    host_resource,
)
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
    huge = Plan([Work(f"s{i}", "S", host=f"n{i}") for i in range(1000)])
    assert default_parallel(huge) == 64  # not 4,000: the per-resource limits bind before


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


# -- concurrency per resource ------------------------------------------------------------------


@dataclass
class Holders:
    """How many steps hold each resource (and run at all) right now, and the most seen."""

    now: dict[str, int] = field(default_factory=dict)
    most: dict[str, int] = field(default_factory=dict)

    def enter(self, keys: tuple[str, ...]) -> None:
        for k in (*keys, "total"):
            self.now[k] = self.now.get(k, 0) + 1
            self.most[k] = max(self.most.get(k, 0), self.now[k])

    def leave(self, keys: tuple[str, ...]) -> None:
        for k in (*keys, "total"):
            self.now[k] -= 1

    def most_of(self, prefix: str) -> int:
        return max((v for k, v in self.most.items() if k.startswith(prefix)), default=0)


@dataclass(eq=False)
class Holder(Step):
    """A step that holds `uses` while it runs and yields to the loop a few times (no sleeping),
    so every step the runner lets start runs at the same time as the others."""

    uses: tuple[str, ...] = ()
    holders: Holders | None = None

    @property
    def resources(self) -> tuple[str, ...]:
        return self.uses

    async def done(self, ctx: StepContext) -> bool:
        return False

    async def run(self, ctx: StepContext) -> None:
        assert self.holders is not None
        self.holders.enter(self.uses)
        try:
            for _ in range(5):
                await asyncio.sleep(0)
        finally:
            self.holders.leave(self.uses)


def mixed_plan(holders: Holders, n: int = 1000, hosts: int = 10) -> Plan:
    """`n` steps using the controller, a host, both, the Kubernetes API or nothing; every
    seventh one needs the step before it."""
    kinds = [
        lambda i: (JUJU,),
        lambda i: (host_resource(f"h{i % hosts}"),),
        lambda i: (JUJU, host_resource(f"h{i % hosts}")),
        lambda i: (K8S,),
        lambda i: (),
    ]
    steps: list[Step] = []
    for i in range(n):
        needs = (f"s{i - 1}",) if i % 7 == 0 and i else ()
        steps.append(Holder(f"s{i}", f"S{i}", needs=needs, uses=kinds[i % len(kinds)](i),
                            holders=holders))
    return Plan(steps)


async def test_each_resource_limit_holds_under_a_1000_step_plan(h: Harness) -> None:
    holders = Holders()
    plan = mixed_plan(holders)
    res = await h.run(plan, parallel=25, limits={JUJU: 7, "host": 3, K8S: 2})
    assert res.outcome == "done" and res.done == 1000
    # Each limit held, and was used to the full (the steps did run side by side).
    assert holders.most[JUJU] == 7
    assert holders.most[K8S] == 2
    assert holders.most_of("host:") == 3
    assert holders.most["total"] == 25
    assert all(v == 0 for v in holders.now.values())


async def test_the_default_limits_hold_for_a_thousand_hosts(h: Harness) -> None:
    holders = Holders()
    # Like add-units across 1,000 hosts: each step uses the controller and its own host.
    steps: list[Step] = [
        Holder(f"u{i}", f"U{i}", host=f"n{i}", uses=(JUJU, host_resource(f"n{i}")),
               holders=holders)
        for i in range(1000)
    ]
    plan = Plan(steps)
    res = await h.run(plan)
    assert res.outcome == "done"
    assert holders.most[JUJU] == DEFAULT_LIMITS[JUJU] == 32
    assert holders.most["total"] <= default_parallel(plan) == 64


async def test_a_step_waiting_for_a_busy_host_does_not_hold_up_others(h: Harness) -> None:
    """`busy` holds host a until `free` (the controller only) has run; `queued` (controller and
    host a) waits for host a in between. Were it to block the queue, `free` never runs."""
    ran = asyncio.Event()
    order: list[str] = []

    @dataclass(eq=False)
    class Step2(Holder):
        wait: asyncio.Event | None = None
        sets: asyncio.Event | None = None

        async def run(self, ctx: StepContext) -> None:
            order.append(self.id)
            if self.wait is not None:
                await self.wait.wait()
            if self.sets is not None:
                self.sets.set()

    steps: list[Step] = [
        Step2("busy", "Busy", uses=(host_resource("a"),), wait=ran),
        Step2("queued", "Queued", uses=(JUJU, host_resource("a"))),
        Step2("free", "Free", uses=(JUJU,), sets=ran),
    ]
    res = await asyncio.wait_for(h.run(Plan(steps), limits={JUJU: 1, "host": 1}), 30)
    assert res.outcome == "done"
    assert order == ["busy", "free", "queued"]
