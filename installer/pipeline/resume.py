"""Resume: continue the last interrupted or failed run (install or upgrade) from its journal.

The run continues with the answers it started with (the journal keeps a snapshot) and in the
mode it started in. Finished steps are not run again; steps that were running are checked with
done() and run again. Time scale, parallelism and facts may be given anew; faults never carry
over, so a resume after a `--faults ...=fail` run tries the operation for real (in the lab).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from installer.exits import Exit, UserError
from installer.pipeline.backends import open_backends, real_mode_gate
from installer.pipeline.runs import RunSetup, continue_run, load_release_for

if TYPE_CHECKING:
    from installer.journal import RunRecord
    from installer.pipeline.settings import RunSettings
    from installer.plan import Plan
    from installer.state import StateDir
    from manifests.answers import Answers
    from manifests.release import Release

PROG = "sunbeam-install"


class NothingToResume(UserError):
    """The last run finished: not an error (exit 0), but there is nothing to run."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"The last run {run_id} finished; there is nothing to resume.", Exit.OK)


@dataclass
class RunInputs:
    """What continuing run `run` needs besides backends: checked before anything is started."""

    settings: RunSettings
    run: RunRecord
    answers: Answers
    release: Release
    plan: Plan

    @property
    def upgrade(self) -> bool:
        return self.run.kind == "upgrade"


def run_inputs(settings: RunSettings, state: StateDir, last: RunRecord) -> RunInputs:
    """The settings (in the run's mode), answers, release and plan of journaled run `last`;
    a UserError when this version cannot continue it."""
    from pydantic import ValidationError

    from manifests.answers import Answers

    run_settings = settings.for_mode(last.dry_run).resumed(last.options)
    run_settings.check()
    if not last.dry_run:
        real_mode_gate(run_settings)
    try:
        answers = Answers.model_validate_json(last.answers_snapshot)
    except ValidationError:
        raise UserError(f"The answers recorded for run {last.id} in {str(state.path)!r} "
                        "cannot be read by this version; start a new install with "
                        "--answers FILE.", Exit.INVALID) from None
    from installer.secrets import restore_proxy

    answers = restore_proxy(answers, state.secrets())  # the snapshot's proxy shows ***@
    release = load_release_for(answers)
    if last.kind == "upgrade":
        from installer.upgrade.record import plan_from_record

        plan = plan_from_record(state.path, last.id, answers)
    elif last.kind == "converge":  # day two: the plan it started with (pipeline/converge.py)
        from installer.pipeline.converge import plan_from_record as converge_plan

        plan = converge_plan(state, last.id, answers, release)
    else:
        from installer.planner import plan as make_plan

        plan = make_plan(answers, release)
    return RunInputs(run_settings, last, answers, release, plan)


async def open_inputs(inputs: RunInputs, state: StateDir,
                      stack: contextlib.AsyncExitStack) -> RunSetup:
    """Open the backends of `inputs` into `stack` and reopen its run (the command that started
    the run marked it in the journal); the caller holds the lock."""
    opened = await stack.enter_async_context(
        open_backends(inputs.settings, state, inputs.answers, place_hosts=not inputs.upgrade))
    if inputs.upgrade and opened.lab is not None:
        from installer.upgrade.steps import scale_waits

        scale_waits(inputs.plan, opened.lab.time_scale)
    return continue_run(run=inputs.run, settings=inputs.settings, state=state,
                        plan=inputs.plan, answers=inputs.answers, release=inputs.release,
                        backends=opened.backends, lab=opened.lab)


def last_unfinished(settings: RunSettings, state: StateDir) -> RunRecord:
    """The state dir's last run, when there is one to resume (else a UserError; exit 0 when it
    finished). The caller holds the lock."""
    from installer.journal import open_journal

    journal = open_journal(state.journal_path)
    try:
        last = journal.last_run()
    finally:
        journal.close()
    if last is None:
        raise UserError(f"There is no run to resume in {str(state.path)!r}.", Exit.INVALID)
    if last.outcome == "done":
        raise NothingToResume(last.id)
    return last


def mark_resumed(inputs: RunInputs, state: StateDir) -> None:
    """Journal that run `inputs.run` runs again (its process takes it over from here)."""
    from installer.journal import open_journal

    journal = open_journal(state.journal_path)
    try:
        journal.run_resumed(inputs.run.id,
                            {**inputs.run.options, **inputs.settings.journal_options()})
    finally:
        journal.close()


def check_resumable(settings: RunSettings, state: StateDir) -> None:
    """Refuse a resume in a state dir without a journal, naming the dry-run one."""
    if not state.journal_path.exists():
        other = "" if settings.dry_run or settings.explicit_state_dir else (
            f"; for a dry-run install, use `{PROG} resume --dry-run`")
        raise UserError(f"There is no run to resume in {str(state.path)!r}{other}.",
                        Exit.INVALID)


@contextlib.contextmanager
def begin_resume(settings: RunSettings) -> Iterator[tuple[StateDir, RunInputs, int]]:
    """Lock the state dir, check that its last run can go on and journal that it does; yields
    the state dir, the run's inputs and the lock's descriptor (for the run's process)."""
    from installer.state import StateDir

    state = StateDir(settings.resolved_state_dir())
    check_resumable(settings, state)
    os.umask(0o077)
    with state.lock("resume") as lock_fd:
        inputs = run_inputs(settings, state, last_unfinished(settings, state))
        mark_resumed(inputs, state)
        yield state, inputs, lock_fd


def journaled_answers(state_dir: Path, run_id: str) -> Answers | None:
    """The answers journaled run `run_id` started with (proxy credentials put back from the
    state dir); None when they cannot be read."""
    from pydantic import ValidationError

    from installer.journal import Journal, JournalError
    from installer.secrets import restore_proxy
    from installer.state import StateDir
    from manifests.answers import Answers

    state = StateDir(state_dir)
    try:
        with Journal.open(state.journal_path) as journal:
            run = journal.get_run(run_id)
        if run is None:
            return None
        return restore_proxy(Answers.model_validate_json(run.answers_snapshot),
                             state.secrets())
    except (JournalError, ValidationError, UserError):
        return None
