"""Verify: prove the cloud an install left works (endpoints, compute services, a test network,
image and instance reached), then remove what the checks created.

    async with open_verify(settings) as job:
        result = await run_verify(job, emit)

The checks and the cleanup are two plans run one after the other by the same Runner, the cleanup
also when a check failed or the operator pressed Ctrl+C (a second Ctrl+C stops the cleanup).
Viewers see one run: one PlanStarted counting both plans' steps, one PlanFinished.

A verify is journaled in a journal of its own (`verify.sqlite` in the state dir), so the install
journal's last run, which `resume` and `status` read, stays the install's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from installer.exits import Exit, UserError
from installer.pipeline.backends import open_backends, real_mode_gate
from installer.pipeline.deployed import DEPLOYING_KINDS
from installer.pipeline.openrc import write_openrc
from installer.pipeline.runs import RunSetup, interrupted_by, load_release_for, run_options

if TYPE_CHECKING:
    from installer.events import Event, PlanOutcome
    from installer.journal import RunRecord
    from installer.pipeline.settings import RunSettings
    from installer.plan import Plan
    from installer.runner import RunResult
    from installer.state import StateDir
    from installer.steps.verify import VerifyScope
    from manifests.answers import Answers

PROG = "sunbeam-install"
VERIFY_JOURNAL = "verify.sqlite"


@dataclass
class VerifyJob:
    """One verify: the checks' run (journaled, logged, backends open) and the cleanup plan."""

    setup: RunSetup
    cleanup: Plan
    scope: VerifyScope
    installed: RunRecord  # the install (or upgrade) run whose cloud is verified
    openrc: Path


def _installed_run(state: StateDir, settings: RunSettings, *, live_check: bool = True
                   ) -> RunRecord:
    """The last install or upgrade run, when it finished; a clear refusal otherwise.
    `live_check`: say so when it is still running (not while this process holds the lock)."""
    from installer.journal import open_journal

    other = "" if settings.dry_run or settings.explicit_state_dir else (
        f" (for a dry-run install: `{PROG} verify --dry-run`)")
    nothing = UserError(
        f"There is no installed cloud to verify in {str(state.path)!r}{other}: install one "
        f"first with `{PROG} --answers FILE" + (" --dry-run`." if settings.dry_run else "`."),
        Exit.PREREQUISITE)
    if not state.journal_path.exists():
        raise nothing
    with open_journal(state.journal_path) as journal:
        runs = [r for r in journal.runs() if r.kind in DEPLOYING_KINDS]
    if not runs:
        raise nothing
    last = runs[0]
    mode = " --dry-run" if last.dry_run else ""
    if last.outcome is None and live_check and state.is_locked():
        raise UserError(
            f"The {last.kind} run {last.id} is still running; follow it with `{PROG} "
            f"attach{mode}`, then verify.", Exit.PREREQUISITE)
    if last.outcome != "done":
        raise UserError(
            f"The last {last.kind} run {last.id} did not finish ({last.outcome or 'stopped'}); "
            f"finish it with `{PROG} resume{mode}`, then verify.", Exit.PREREQUISITE)
    if last.dry_run != settings.dry_run:
        raise UserError(
            f"The install in {str(state.path)!r} was " + (
                "a dry run: add --dry-run to verify it in the lab." if last.dry_run else
                "a real one: verify it without --dry-run."), Exit.USAGE)
    return last


def _answers_of(state: StateDir, run: RunRecord) -> Answers:
    from pydantic import ValidationError

    from installer.secrets import restore_proxy
    from manifests.answers import Answers

    try:
        answers = Answers.model_validate_json(run.answers_snapshot)
    except ValidationError:
        raise UserError(f"The answers recorded for run {run.id} in {str(state.path)!r} cannot "
                        "be read by this version.", Exit.INVALID) from None
    return restore_proxy(answers, state.secrets())  # the snapshot's proxy shows ***@


def _poll(settings: RunSettings, time_scale: float | None) -> float:
    """Seconds between two looks at a server: the lab's clock runs scaled."""
    if not settings.dry_run:
        return 5.0
    from installer.lab.timing import DEFAULT_TIME_SCALE

    scale = DEFAULT_TIME_SCALE if time_scale is None else time_scale
    return min(5.0, max(0.02, 20.0 * scale))


@contextlib.asynccontextmanager
async def open_verify(settings: RunSettings, *, ping: bool = True) -> AsyncIterator[VerifyJob]:
    """Lock the state dir, find the installed cloud, open the backends and journal a verify
    run; all closed after."""
    from installer.journal import open_journal
    from installer.planner.verify import verify_plans
    from installer.state import StateDir, open_run_log
    from installer.steps.verify import VerifyStep

    settings.check()
    state = StateDir(settings.resolved_state_dir()).check()
    _installed_run(state, settings)  # nothing installed, or in the other mode: say so first
    if not settings.dry_run:
        real_mode_gate(settings)
    os.umask(0o077)
    with state.lock("verify"):
        # Again: a run may have ended (or a new one started and stopped) meanwhile.
        installed = _installed_run(state, settings, live_check=False)
        answers = _answers_of(state, installed)
        release = load_release_for(answers)
        run_settings = settings.resumed(installed.options)  # the install's facts and scale
        checks, cleanup = verify_plans(answers, poll=_poll(settings, run_settings.time_scale),
                                       ping=ping)
        first = checks.steps[0]
        assert isinstance(first, VerifyStep)
        openrc = write_openrc(state.path, answers)
        async with open_backends(run_settings, state, answers, place_hosts=False) as opened:
            secrets = state.secrets()
            secrets.load_admin_password(answers.identity.admin_password_file)
            journal = open_journal(state.path / VERIFY_JOURNAL)
            try:
                from installer.secrets import answers_snapshot

                rec = journal.start_run(
                    kind="verify", answers_snapshot=answers_snapshot(answers, secrets),
                    answers_path=installed.answers_path, dry_run=settings.dry_run,
                    steps=[(s.id, s.title, s.host) for s in (*checks.steps, *cleanup.steps)],
                    options={**run_settings.journal_options(), "install_run": installed.id},
                    log_dir=state.logs_dir)
            except BaseException:
                journal.close()
                raise
            log_path = state.log_path(rec.id)
            logger = open_run_log(log_path, secrets.redactor)
            logger.info("verify run %s of the cloud of %s run %s", rec.id, installed.kind,
                        installed.id)
            setup = RunSetup("verify", state, journal, rec.id, checks, answers, release,
                             opened.backends, secrets, logger, log_path,
                             run_options(run_settings), run_settings, opened.lab)
            try:
                yield VerifyJob(setup, cleanup, first.scope, installed, openrc)
            finally:
                setup.close()


class _OneRun:
    """Shows the checks and the cleanup to the viewers as one run."""

    def __init__(self, emit: Callable[[Event], None], total: int) -> None:
        self.emit, self.total = emit, total
        self.started = False
        self.finished: list[Event] = []

    def __call__(self, event: Event) -> None:
        from installer.events import PlanFinished, PlanStarted

        if isinstance(event, PlanStarted):
            if not self.started:
                self.started = True
                self.emit(event.model_copy(update={"steps": self.total}))
            return
        if isinstance(event, PlanFinished):
            self.finished.append(event)  # told once both plans ran
            return
        self.emit(event)


def _merged(first: RunResult, second: RunResult) -> RunResult:
    from installer.runner import RunResult

    outcomes = (first.outcome, second.outcome)
    outcome: PlanOutcome = ("failed" if "failed" in outcomes
                            else "interrupted" if "interrupted" in outcomes else "done")
    return RunResult(
        run_id=first.run_id, outcome=outcome, done=first.done + second.done,
        skipped=first.skipped + second.skipped, failed=first.failed + second.failed,
        pending=first.pending + second.pending, duration=first.duration + second.duration,
        failures=[*first.failures, *second.failures], spans={**first.spans, **second.spans},
        log_path=first.log_path)


async def _run_plan(job: VerifyJob, plan: Plan, emit: Callable[[Event], None],
                    handle_signals: bool) -> RunResult:
    import signal

    runner = job.setup.runner(emit, plan)
    # A verify runs in the command's own process: a closed terminal (SIGHUP) stops the
    # checks like Ctrl+C, so the cleanup still runs before the process ends.
    with interrupted_by((signal.SIGINT, signal.SIGTERM, signal.SIGHUP) if handle_signals
                        else (), runner.interrupt):
        return await runner.run()


async def run_verify(job: VerifyJob, emit: Callable[[Event], None], *,
                     handle_signals: bool = True) -> RunResult:
    """Run the checks, then the cleanup whatever the checks came to; one merged result."""
    from installer.events import PlanFinished

    s = job.setup
    one = _OneRun(emit, len(s.plan) + len(job.cleanup))
    checks = await _run_plan(job, s.plan, one, handle_signals)
    if checks.outcome != "done":
        s.logger.info("the checks %s; cleaning up what they created", checks.outcome)
    cleanup = await _run_plan(job, job.cleanup, one, handle_signals)
    result = _merged(checks, cleanup)
    s.journal.run_finished(s.run_id, result.outcome)
    with contextlib.suppress(Exception):  # a viewer gone (closed terminal) ends no verify
        emit(PlanFinished(outcome=result.outcome, done=result.done, skipped=result.skipped,
                          failed=result.failed, pending=result.pending,
                          duration=result.duration))
    s.note_unfired_faults("verify")
    return result


def leftovers(result: RunResult) -> list[str]:
    """The cleanup steps that did not finish: what may be left in the cloud."""
    return [f.title for f in result.failures if f.step.startswith("verify.cleanup:")]


async def verify_events(settings: RunSettings, *, ping: bool = True
                        ) -> AsyncIterator[Event | VerifySummary]:
    """Verify and yield its Events as they happen, then one VerifySummary (the interactive
    front ends' path). Closing the generator early interrupts the checks; the cleanup of
    what they created still runs before the state dir is unlocked."""
    import asyncio

    queue: asyncio.Queue[Event] = asyncio.Queue()
    async with open_verify(settings, ping=ping) as job:
        task = asyncio.create_task(run_verify(job, queue.put_nowait, handle_signals=False))
        try:
            while not (task.done() and queue.empty()):
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, task},
                                             return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield getter.result()
                else:
                    getter.cancel()
            result = task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        yield VerifySummary(outcome=result.outcome, reached=list(job.scope.reached),
                            left=leftovers(result), openrc=job.openrc,
                            log_path=job.setup.log_path)


@dataclass(frozen=True)
class VerifySummary:
    """What a verify came to, for a front end's closing words."""

    outcome: str
    reached: list[str]
    left: list[str]  # cleanup steps that failed: what may be left in the cloud
    openrc: Path
    log_path: Path
