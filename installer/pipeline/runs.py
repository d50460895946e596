"""One run of a plan: recorded in the journal, logged, executed with Ctrl+C handling, streamed.

Shared by every use case (install, resume, upgrade) and every front end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.exits import Exit, UserError

if TYPE_CHECKING:
    import logging

    from installer.backends.base import Backends
    from installer.events import Event
    from installer.journal import Journal, RunRecord
    from installer.lab import Lab
    from installer.pipeline.settings import RunSettings
    from installer.plan import Plan
    from installer.runner import RunKind, Runner, RunOptions, RunResult
    from installer.secrets import Secrets
    from installer.state import StateDir
    from manifests.answers import Answers
    from manifests.release import Release

PROG = "sunbeam-install"


@dataclass
class RunSetup:
    """Everything one run (or resumed run) needs; `execute` runs it, `close` ends it."""

    kind: RunKind
    state: StateDir
    journal: Journal
    run_id: str
    plan: Plan
    answers: Answers
    release: Release
    backends: Backends
    secrets: Secrets
    logger: logging.Logger
    log_path: Path
    options: RunOptions
    settings: RunSettings
    lab: Lab | None = None  # dry-run: the lab, for what it has to say after the run
    notes: list[str] = field(default_factory=list)  # said to the operator after the run

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run

    def runner(self, emit: Callable[[Event], None], plan: Plan | None = None) -> Runner:
        """A runner of this run's plan (or of `plan`, another part of the same run) that
        journals, logs and emits as this run."""
        from installer.runner import Runner

        return Runner(
            self.plan if plan is None else plan, answers=self.answers, release=self.release,
            backends=self.backends, journal=self.journal, run_id=self.run_id, emit=emit,
            secrets=self.secrets, logger=self.logger, options=self.options, kind=self.kind,
            log_path=str(self.log_path),
        )

    def note_unfired_faults(self, what: str) -> None:
        """Tell the operator (after `what`: "run", "verify") of each fault asked of the lab
        that matched no operation, and so never fired: a typo or the wrong operation."""
        if self.lab is None:
            return
        for fault in self.lab.faults.unmatched():
            note = (f"note: the fault {fault.spec!r} matched no operation of this {what}, so "
                    "it never fired; docs/dry-run.md lists the operations.")
            self.logger.warning(note)
            self.notes.append(note)

    def close(self) -> None:
        from installer.state import close_run_log

        close_run_log(self.logger)
        self.journal.close()


def run_options(settings: RunSettings) -> RunOptions:
    """Retries and interrupt grace for the mode: scaled down in the lab, whose operations are."""
    from installer.runner import RunOptions

    if settings.dry_run:
        scale = 1.0 if settings.time_scale is None else max(0.0, settings.time_scale)
        return RunOptions(parallel=settings.parallel, backoff=min(1.0, 0.05 * scale),
                          interrupt_grace=0.2)
    return RunOptions(parallel=settings.parallel, backoff=2.0, interrupt_grace=5.0)


def load_release_for(answers: Answers) -> Release:
    """The release manifest the answers name; exit 1 when this build does not ship it."""
    from manifests.release import load_release, shipped_releases

    try:
        return load_release(answers.release)
    except KeyError:
        raise UserError(
            f"release {answers.release!r} is not one this installer ships; use one of "
            f"{', '.join(shipped_releases())}.",
            Exit.INVALID,
        ) from None


def new_run(
    *,
    kind: RunKind,
    settings: RunSettings,
    state: StateDir,
    plan: Plan,
    answers: Answers,
    answers_path: str | None,
    release: Release,
    backends: Backends,
    extra_options: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    lab: Lab | None = None,
) -> RunSetup:
    """Record a new run in the journal (as `run_id` when given) and open its log."""
    from installer.journal import open_journal
    from installer.secrets import answers_snapshot
    from installer.state import open_run_log

    secrets = state.secrets()
    secrets.load_admin_password(answers.identity.admin_password_file)
    journal = open_journal(state.journal_path)
    try:
        rec = journal.start_run(
            kind=kind,
            answers_snapshot=answers_snapshot(answers, secrets),  # proxy credentials: ***
            answers_path=answers_path,
            dry_run=settings.dry_run,
            steps=[(s.id, s.title, s.host) for s in plan.steps],
            options={**settings.journal_options(), **(extra_options or {})},
            log_dir=state.logs_dir,
            run_id=run_id,
        )
    except BaseException:
        journal.close()
        raise
    log_path = state.log_path(rec.id)
    logger = open_run_log(log_path, secrets.redactor)
    logger.info("%s run %s (%s) from %s", kind, rec.id,
                "dry-run" if settings.dry_run else "real",
                answers_path or "the interactive installer")
    return RunSetup(kind, state, journal, rec.id, plan, answers, release, backends, secrets,
                    logger, log_path, run_options(settings), settings, lab)


def continue_run(
    *,
    run: RunRecord,
    settings: RunSettings,
    state: StateDir,
    plan: Plan,
    answers: Answers,
    release: Release,
    backends: Backends,
    lab: Lab | None = None,
) -> RunSetup:
    """Reopen run `run` of the journal to continue it (its finished steps stay finished): the
    run's process takes over a run its command journaled already (a new run, or a resume the
    command marked), so the journal is not touched again here."""
    from installer.journal import open_journal
    from installer.state import open_run_log

    secrets = state.secrets()
    secrets.load_admin_password(answers.identity.admin_password_file)
    journal = open_journal(state.journal_path)
    log_path = state.log_path(run.id)
    logger = open_run_log(log_path, secrets.redactor)
    logger.info("%s run %s continues in its own process (pid %d)", run.kind, run.id, os.getpid())
    kind: RunKind = ("upgrade" if run.kind == "upgrade"
                     else "converge" if run.kind == "converge" else "install")
    return RunSetup(kind, state, journal, run.id, plan, answers, release, backends, secrets,
                    logger, log_path, run_options(settings), settings, lab)


async def execute(setup: RunSetup, emit: Callable[[Event], None],
                  *, handle_signals: bool = True) -> RunResult:
    """Run the plan; SIGINT/SIGTERM interrupt it cleanly (the runner's grace, then cancel)."""
    runner = setup.runner(emit)
    try:
        with interrupted_by((signal.SIGINT, signal.SIGTERM) if handle_signals else (),
                            runner.interrupt):
            result = await runner.run()
            from installer.pipeline.deployed import DEPLOYING_KINDS, keep_deployed

            if result.outcome == "done" and setup.kind in DEPLOYING_KINDS:
                # Day two: the answers of the deployed cloud, for `answers` and a converge.
                keep_deployed(setup.state, setup.answers, setup.secrets, setup.run_id,
                              setup.dry_run)
                _write_openrc(setup)
            return result
    finally:
        setup.note_unfired_faults("run")


def _write_openrc(setup: RunSetup) -> None:
    """The admin's openrc for the cloud the run finished; a failure is logged, not fatal (the
    cloud is there; `verify` writes it again)."""
    from installer.pipeline.openrc import write_openrc

    try:
        write_openrc(setup.state.path, setup.answers)
    except OSError as e:
        setup.logger.warning("could not write the openrc in %s: %s", setup.state.path, e)


@contextlib.contextmanager
def interrupted_by(signals: Sequence[signal.Signals], interrupt: Callable[[], None]
                   ) -> Iterator[None]:
    """Within the block, each of `signals` calls `interrupt` (a runner's clean stop) instead
    of its default action; where the loop cannot handle a signal it keeps its default."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, interrupt)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
