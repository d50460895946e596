"""The runner: executes a Plan's steps concurrently, journals them, and streams Events.

Entry point::

    outcome = await run_plan(
        plan, answers=..., release=..., backends=..., journal=..., run_id=..., emit=...,
        secrets=..., logger=None, options=RunOptions(), kind="install", log_path=None,
    )

or, to be able to interrupt it (Ctrl+C), build a `Runner` with the same arguments, hook
`runner.interrupt` to SIGINT, and `await runner.run()`.

Rules (DESIGN.md "Runner"):
- each step: `done()` first (True: outcome "skipped"), else `run()`; both inside the step's
  timeout, whose remaining time the step reads with `ctx.remaining()` (backend waits stop a
  little before it, so their detailed message wins over the runner's "did not finish");
- steps whose needs are finished run concurrently, at most `parallel` at once (default: 4 per
  host of the plan, at least 8 and at most 64), longest remaining chain first so the makespan
  approaches the critical path; besides, at most `limits[kind]` steps at once hold each
  resource a step names (`Step.resources`: the Juju controller, the Kubernetes API, each host's
  SSH connection and snapd). A step whose resource is busy waits in that resource's queue,
  without a task, so it holds nothing (no Juju status, no connection) until it starts;
- StepFailed / BackendError with `transient=True` are retried with exponential backoff, at most
  `max_attempts` attempts;
- a permanent failure stops starting new steps; running ones finish; outcome "failed";
- `interrupt()` (or cancelling the task) sets `ctx.cancelled`, starts nothing new, gives running
  steps `interrupt_grace` seconds, cancels the rest; outcome "interrupted";
- a step's outcome is committed to the journal before its StepFinished event is emitted and
  before any step that needs it starts, so `resume` never redoes a finished step;
- steps recorded as done/skipped in the journal for `run_id` (an earlier attempt of the same
  run) are not started again and emit no events.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from installer.backends.base import BackendError
from installer.events import (
    Event,
    Outcome,
    PlanFinished,
    PlanOutcome,
    PlanStarted,
    StepFinished,
    StepLog,
    StepProgress,
    StepStarted,
)
from installer.journal import FINISHED, Journal
from installer.plan import DEFAULT_LIMITS, Plan, ResourceGate, Step, StepFailed
from installer.secrets import Redactor, Secrets

if TYPE_CHECKING:
    from installer.backends.base import Backends
    from manifests.answers import Answers
    from manifests.release import Release

Emit = Callable[[Event], None]
RunKind = Literal["install", "upgrade", "verify", "converge"]


# The total bound with no --parallel: 4 per host (several charms and snaps per host run side by
# side), at least 8, and at most 64: above that the per-resource limits bind first, and each
# running step costs the installer memory (a status, an SSH channel, a `juju` process).
MIN_PARALLEL, PER_HOST_PARALLEL, MAX_PARALLEL = 8, 4, 64


@dataclass
class RunOptions:
    parallel: int | None = None  # None: sized for the plan (default_parallel)
    # resource kind -> steps holding one resource of that kind at once (plan.DEFAULT_LIMITS)
    limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    max_attempts: int = 5  # attempts of a step whose errors are transient
    backoff: float = 1.0  # seconds before the first retry; doubles each retry
    backoff_max: float = 30.0
    interrupt_grace: float = 1.0  # seconds running steps get to stop by themselves
    log_tail: int = 20  # log lines kept per step for the failure report


def default_parallel(plan: Plan) -> int:
    """4 steps per host at once (a host can run several independent charms/snaps), at least 8,
    at most 64 (MAX_PARALLEL); `--parallel` replaces it."""
    hosts = {s.host for s in plan.steps if s.host}
    return min(MAX_PARALLEL, max(MIN_PARALLEL, PER_HOST_PARALLEL * len(hosts)))


@dataclass
class FailedStep:
    step: str
    title: str
    error: str
    hint: str | None
    log_tail: list[str]


@dataclass
class RunResult:
    """What a run came to (the return value of `run_plan`)."""

    run_id: str
    outcome: PlanOutcome
    done: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0
    already_done: int = 0  # finished in an earlier attempt of this run
    duration: float = 0.0
    failures: list[FailedStep] = field(default_factory=list)
    # Per step run in this attempt: start and end, seconds since the plan started.
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    log_path: str | None = None


class _Interrupt:
    """Queue sentinel: wake the scheduler because interrupt() was called."""


_INTERRUPT = _Interrupt()


@dataclass(slots=True)
class _StepResult:
    step: Step
    outcome: Outcome | None  # None: stopped by an interrupt, no outcome to record
    attempts: int
    started: float  # monotonic
    finished: float
    error: str | None = None
    hint: str | None = None
    log_tail: list[str] = field(default_factory=list)


class _StepContext:
    """The StepContext one step sees: progress and log lines become its events."""

    __slots__ = ("_runner", "_tail", "answers", "backends", "cancelled", "deadline", "release",
                 "step_id")

    def __init__(self, runner: Runner, step_id: str, tail: deque[str]) -> None:
        self._runner = runner
        self.step_id = step_id
        self._tail = tail
        self.answers = runner.answers
        self.release = runner.release
        self.backends = runner.backends
        self.cancelled = runner.cancelled
        # The current attempt's timeout, in the event loop's clock; set as each attempt starts.
        self.deadline = asyncio.get_running_loop().time()

    def remaining(self) -> float:
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    def progress(self, message: str, fraction: float | None = None) -> None:
        r = self._runner
        message = r.redactor.redact(message)
        if fraction is not None:
            fraction = min(1.0, max(0.0, fraction))
        r.logger.debug("[%s] progress: %s", self.step_id, message)
        r.emit_safe(StepProgress(step=self.step_id, message=message, fraction=fraction))

    def log(self, line: str) -> None:
        r = self._runner
        line = r.redactor.redact(line.rstrip("\n"))
        self._tail.append(line)
        r.logger.debug("[%s] %s", self.step_id, line)
        r.emit_safe(StepLog(step=self.step_id, line=line))

    def secret(self, name: str) -> str:
        return self._runner.secrets.get(name)

    def keep_secret(self, name: str, value: str) -> None:
        self._runner.secrets.set(name, value)


class Runner:
    """One run (or resumed run) of a plan. Use once."""

    def __init__(
        self,
        plan: Plan,
        *,
        answers: Answers,
        release: Release,
        backends: Backends,
        journal: Journal,
        run_id: str,
        emit: Emit,
        secrets: Secrets,
        logger: logging.Logger | None = None,
        options: RunOptions | None = None,
        kind: RunKind = "install",
        log_path: str | None = None,
    ) -> None:
        self.plan = plan
        self.answers = answers
        self.release = release
        self.backends = backends
        self.journal = journal
        self.run_id = run_id
        self._emit = emit
        self.secrets = secrets
        self.redactor: Redactor = secrets.redactor
        self.logger = logger or logging.getLogger("sunbeam_install.runner")
        self.options = options or RunOptions()
        self.kind = kind
        self.log_path = log_path
        self.cancelled = asyncio.Event()
        self._queue: asyncio.Queue[_StepResult | _Interrupt] | None = None
        self._interrupted = False
        self._emit_broken = False
        # The resources running steps hold, and the ready steps waiting for a busy one.
        self._gate = ResourceGate(self.options.limits)

    # -- events ----------------------------------------------------------------------------

    def emit_safe(self, event: Event) -> None:
        """Emit to the renderers; a broken renderer (closed pipe) must not break the run."""
        try:
            self._emit(event)
        except Exception as e:
            if not self._emit_broken:
                self._emit_broken = True
                self.logger.warning("event renderer failed, events dropped from now on: %r", e)
                self._emit = _drop

    # -- control ---------------------------------------------------------------------------

    def interrupt(self) -> None:
        """Stop: tell running steps (ctx.cancelled), start nothing new. Call on the loop's thread.

        A second call cancels running steps at once instead of waiting for the grace period.
        """
        again = self._interrupted
        self._interrupted = True
        self.cancelled.set()
        if self._queue is not None:
            self._queue.put_nowait(_INTERRUPT)
        if again:
            self.options.interrupt_grace = 0.0

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> RunResult:
        plan, journal, run_id = self.plan, self.journal, self.run_id
        t0 = time.monotonic()
        queue: asyncio.Queue[_StepResult | _Interrupt] = asyncio.Queue()
        self._queue = queue
        if self._interrupted:
            queue.put_nowait(_INTERRUPT)

        recorded = {r.step_id: r for r in journal.steps(run_id)}
        missing = [(s.id, s.title, s.host) for s in plan.steps if s.id not in recorded]
        if missing:
            journal.add_steps(run_id, missing)
        finished: set[str] = {
            sid for sid, r in recorded.items() if r.state in FINISHED and sid in plan
        }
        states: dict[str, str] = {sid: recorded[sid].state for sid in finished}

        dependents: dict[str, list[str]] = {s.id: [] for s in plan.steps}
        waiting: dict[str, int] = {}
        for s in plan.steps:
            needs = set(s.needs)
            for n in needs:
                dependents[n].append(s.id)
            waiting[s.id] = sum(1 for n in needs if n not in finished)
        priority = _chain_lengths(plan)
        order = {s.id: i for i, s in enumerate(plan.steps)}
        ready: list[tuple[int, int, str]] = [
            (-priority[s.id], order[s.id], s.id)
            for s in plan.steps
            if s.id not in finished and waiting[s.id] == 0
        ]
        heapq.heapify(ready)

        bound = self.options.parallel or default_parallel(plan)
        bound = max(1, bound)
        result = RunResult(run_id=run_id, outcome="done", already_done=len(finished),
                           log_path=self.log_path)
        self.logger.info(
            "%s run %s: %d steps, %d already finished, at most %d at once (per resource: %s)",
            self.kind, run_id, len(plan), len(finished), bound,
            ", ".join(f"{k} {v}" for k, v in sorted(self.options.limits.items())),
        )
        self.emit_safe(PlanStarted(run_id=run_id, kind=self.kind,
                                   steps=len(plan), already_done=len(finished),
                                   log_path=self.log_path))

        running: dict[str, asyncio.Task[None]] = {}
        stopping = self._interrupted  # a permanent failure or an interrupt: start nothing new
        grace_deadline: float | None = None
        try:
            while True:
                if not stopping:
                    self._start(ready, running, bound, t0)
                if not running:
                    break
                if grace_deadline is None:
                    item = await queue.get()
                else:
                    remaining = grace_deadline - time.monotonic()
                    try:
                        item = await asyncio.wait_for(queue.get(), max(0.0, remaining))
                    except TimeoutError:
                        await _cancel_all(running)
                        # Steps that finished while the others were being cancelled still count.
                        self._drain(running, states, result, dependents, waiting, ready,
                                    priority, order, t0)
                        break
                batch = [item]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                results = [b for b in batch if isinstance(b, _StepResult)]
                if len(results) != len(batch) and grace_deadline is None:
                    stopping = True
                    grace_deadline = time.monotonic() + self.options.interrupt_grace
                    self.logger.info("interrupted: stopping %d running step(s)", len(running))
                elif len(results) != len(batch):
                    # A second interrupt: interrupt_grace is 0 now, so cancel at once.
                    grace_deadline = time.monotonic() + self.options.interrupt_grace
                if results:
                    stopping = self._record(results, running, states, result, dependents,
                                            waiting, ready, priority, order, t0) or stopping
        except asyncio.CancelledError:
            # Cancelled from outside (e.g. asyncio.run's own Ctrl+C handling): same cleanup.
            self.cancelled.set()
            self._interrupted = True
            await _cancel_all(running)
            self._drain(running, states, result, dependents, waiting, ready, priority, order, t0)
            self._finish(result, states, t0)
            raise
        self._finish(result, states, t0)
        return result

    def _start(self, ready: list[tuple[int, int, str]], running: dict[str, asyncio.Task[None]],
               bound: int, t0: float) -> None:
        """Start what may start within `bound`: first the steps that waited for a resource
        that has room again, then the ready ones, highest priority first."""
        for entry in self._gate.woken(lambda: len(running) < bound):
            self._try_start(entry, running, t0)
        while ready and len(running) < bound:
            self._try_start(heapq.heappop(ready), running, t0)

    def _try_start(self, entry: tuple[int, int, str], running: dict[str, asyncio.Task[None]],
                   t0: float) -> None:
        """Start the step, or queue it behind the first of its resources that is busy."""
        step = self.plan[entry[2]]
        if self._gate.admit(step, entry):
            running[step.id] = asyncio.create_task(self._execute(step, t0), name=step.id)

    def _drain(self, running: dict[str, asyncio.Task[None]], *args: Any) -> None:
        assert self._queue is not None
        results: list[_StepResult] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _StepResult):
                results.append(item)
        if results:
            self._record(results, running, *args)

    def _record(
        self,
        results: list[_StepResult],
        running: dict[str, asyncio.Task[None]],
        states: dict[str, str],
        result: RunResult,
        dependents: dict[str, list[str]],
        waiting: dict[str, int],
        ready: list[tuple[int, int, str]],
        priority: dict[str, int],
        order: dict[str, int],
        t0: float,
    ) -> bool:
        """Journal a batch of step outcomes, emit them, release dependents. True: stop new work."""
        journal, run_id = self.journal, self.run_id
        # One transaction for the batch, committed before any dependent starts.
        for r in results:  # stopped by an interrupt (no outcome) too: their resources are free
            if running.pop(r.step.id, None) is not None:
                self._gate.release(r.step)
        results = [r for r in results if r.outcome is not None]
        journal.begin()
        try:
            for r in results:
                assert r.outcome is not None
                journal.step_finished(
                    run_id, r.step.id, r.outcome, attempts=r.attempts,
                    duration=r.finished - r.started, error=r.error, hint=r.hint,
                )
        finally:
            journal.commit()
        stop = False
        for r in results:
            assert r.outcome is not None
            sid = r.step.id
            states[sid] = r.outcome
            result.spans[sid] = (r.started - t0, r.finished - t0)
            self.emit_safe(StepFinished(
                step=sid, outcome=r.outcome, error=r.error, hint=r.hint,
                duration=r.finished - r.started, log_tail=r.log_tail,
            ))
            if r.outcome == "failed":
                result.failures.append(FailedStep(sid, r.step.title, r.error or "", r.hint,
                                                  r.log_tail))
                stop = True
                continue
            for d in dependents[sid]:
                waiting[d] -= 1
                if waiting[d] == 0:
                    heapq.heappush(ready, (-priority[d], order[d], d))
        return stop

    def _finish(self, result: RunResult, states: dict[str, str], t0: float) -> None:
        for s in self.plan.steps:
            st = states.get(s.id)
            if st == "done":
                result.done += 1
            elif st == "skipped":
                result.skipped += 1
            elif st == "failed":
                result.failed += 1
            else:
                result.pending += 1
        if result.failed:
            result.outcome = "failed"
        elif self._interrupted and result.pending:
            result.outcome = "interrupted"
        elif result.pending:
            # Nothing failed and nothing interrupted, yet steps remain: cannot happen with a DAG,
            # but never report such a run as done.
            result.outcome = "failed"
        else:
            result.outcome = "done"
        result.duration = time.monotonic() - t0
        self.journal.run_finished(self.run_id, result.outcome)
        self.logger.info(
            "run %s %s: %d done, %d skipped, %d failed, %d pending in %.1fs",
            self.run_id, result.outcome, result.done, result.skipped, result.failed,
            result.pending, result.duration,
        )
        self.emit_safe(PlanFinished(
            outcome=result.outcome, done=result.done, skipped=result.skipped,
            failed=result.failed, pending=result.pending, duration=result.duration,
        ))

    async def _execute(self, step: Step, t0: float) -> None:
        """Run one step with its retries; hand the result to the scheduler's queue."""
        assert self._queue is not None
        tail: deque[str] = deque(maxlen=self.options.log_tail)
        ctx = _StepContext(self, step.id, tail)
        started = time.monotonic()
        attempt = 0
        outcome: Outcome = "failed"
        error: str | None = None
        hint: str | None = None
        opts = self.options
        while True:
            attempt += 1
            try:
                self.journal.step_running(self.run_id, step.id, attempt, time.time())
                self.logger.debug("[%s] start (attempt %d): %s", step.id, attempt, step.title)
                self.emit_safe(StepStarted(step=step.id, title=step.title, host=step.host,
                                           attempt=attempt))
                ctx.deadline = asyncio.get_running_loop().time() + step.timeout
                async with asyncio.timeout_at(ctx.deadline):
                    if await step.done(ctx):
                        outcome = "skipped"
                    else:
                        await step.run(ctx)
                        outcome = "done"
                error = hint = None
                break
            except (StepFailed, BackendError) as e:
                error, hint = e.message, e.hint
                if e.transient and attempt < opts.max_attempts and not self.cancelled.is_set():
                    delay = min(opts.backoff * 2 ** (attempt - 1), opts.backoff_max)
                    self.logger.info("[%s] transient error, retry in %.2fs: %s",
                                     step.id, delay, self.redactor.redact(error))
                    ctx.log(f"attempt {attempt} failed: {error}; retrying in {delay:.1f}s")
                    await asyncio.sleep(delay)
                    continue
                if e.transient and self.cancelled.is_set():
                    # It stopped because we asked it to: not a failure. Its journal row stays
                    # "running", so resume checks it with done() and runs it again.
                    self.logger.info("[%s] stopped on interrupt: %s", step.id,
                                     self.redactor.redact(error))
                    self._queue.put_nowait(_StepResult(step, None, attempt, started,
                                                       time.monotonic()))
                    return
                if e.transient:
                    error = f"{error} (still failing after {attempt} attempts)"
                break
            except TimeoutError:
                error = f"did not finish within {step.timeout:g} s"
                hint = "Check the log for what it waited on, then run `sunbeam-install resume`."
                break
            except asyncio.CancelledError:
                self.logger.info("[%s] stopped by interrupt", step.id)
                raise
            except Exception as e:
                # A bug in a step or backend: fail this step, keep the traceback in the log.
                self.logger.error("[%s] unexpected error\n%s", step.id, traceback.format_exc())
                error = f"unexpected error: {type(e).__name__}: {e}"
                hint = "This is a bug in sunbeam-install; report it with the log file" + (
                    f" {self.log_path}." if self.log_path else "."
                )
                break
        red = self.redactor
        error, hint = red.redact_opt(error), red.redact_opt(hint)
        if error is not None:
            tail.append(f"error: {error}")
            self.logger.error("[%s] failed: %s", step.id, error)
        else:
            self.logger.debug("[%s] %s", step.id, outcome)
        self._queue.put_nowait(_StepResult(step, outcome, attempt, started, time.monotonic(),
                                           error, hint, list(tail) if error else []))


async def run_plan(
    plan: Plan,
    *,
    answers: Answers,
    release: Release,
    backends: Backends,
    journal: Journal,
    run_id: str,
    emit: Emit,
    secrets: Secrets,
    logger: logging.Logger | None = None,
    options: RunOptions | None = None,
    kind: RunKind = "install",
    log_path: str | None = None,
) -> RunResult:
    """Run (or resume) `plan` as run `run_id` of `journal`; see the module docstring."""
    runner = Runner(plan, answers=answers, release=release, backends=backends, journal=journal,
                    run_id=run_id, emit=emit, secrets=secrets, logger=logger, options=options,
                    kind=kind, log_path=log_path)
    return await runner.run()


def _drop(event: Event) -> None:
    del event


async def _cancel_all(running: dict[str, asyncio.Task[Any]]) -> None:
    """Cancel running steps and wait for them.

    Their journal rows stay 'running': resume checks them with done() and runs them again.
    """
    tasks = list(running.values())
    for t in tasks:
        t.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    running.clear()


def _chain_lengths(plan: Plan) -> dict[str, int]:
    """For each step, the number of steps on its longest chain of dependents (itself included)."""
    dependents: dict[str, list[str]] = {s.id: [] for s in plan.steps}
    for s in plan.steps:
        for n in set(s.needs):
            dependents[n].append(s.id)
    length: dict[str, int] = {}
    for s in reversed(plan.steps):  # topological order reversed: dependents first
        length[s.id] = 1 + max((length[d] for d in dependents[s.id]), default=0)
    return length
