"""Resume: continue the last interrupted or failed run (install or upgrade) from its journal.

The run continues with the answers it started with (the journal keeps a snapshot) and in the
mode it started in. Finished steps are not run again; steps that were running are checked with
done() and run again. Time scale, parallelism and facts may be given anew; faults never carry
over, so a resume after a `--faults ...=fail` run tries the operation for real (in the lab).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from installer.exits import Exit, UserError
from installer.pipeline.backends import open_backends, real_mode_gate
from installer.pipeline.runs import RunSetup, continue_run, load_release_for, open_journal

if TYPE_CHECKING:
    from installer.journal import RunRecord
    from installer.pipeline.settings import RunSettings
    from installer.state import StateDir

PROG = "sunbeam-install"


class NothingToResume(UserError):
    """The last run finished: not an error (exit 0), but there is nothing to run."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"The last run {run_id} finished; there is nothing to resume.", Exit.OK)


async def continue_setup(settings: RunSettings, state: StateDir, last: RunRecord,
                         stack: contextlib.AsyncExitStack) -> RunSetup:
    """Reopen run `last` with backends entered into `stack`; the caller holds the lock."""
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
    upgrade = last.kind == "upgrade"
    if upgrade:
        from installer.upgrade.record import plan_from_record

        plan = plan_from_record(state.path, last.id, answers)
    else:
        from installer.planner import plan as make_plan

        plan = make_plan(answers, release)
    opened = await stack.enter_async_context(
        open_backends(run_settings, state, answers, place_hosts=not upgrade))
    if upgrade and opened.lab is not None:
        from installer.upgrade.steps import scale_waits

        scale_waits(plan, opened.lab.time_scale)
    return continue_run(run=last, settings=run_settings, state=state, plan=plan,
                        answers=answers, release=release, backends=opened.backends,
                        lab=opened.lab)


@contextlib.asynccontextmanager
async def open_resume(settings: RunSettings) -> AsyncIterator[RunSetup]:
    """The last run of the settings' state dir, ready to execute; closed after."""
    from installer.state import StateDir

    state = StateDir(settings.resolved_state_dir())
    if not state.journal_path.exists():
        other = "" if settings.dry_run or settings.explicit_state_dir else (
            f"; for a dry-run install, use `{PROG} resume --dry-run`")
        raise UserError(f"There is no run to resume in {str(state.path)!r}{other}.",
                        Exit.INVALID)
    os.umask(0o077)
    with state.lock("resume"):
        journal = open_journal(state)
        try:
            last = journal.last_run()
        finally:
            journal.close()
        if last is None:
            raise UserError(f"There is no run to resume in {str(state.path)!r}.", Exit.INVALID)
        if last.outcome == "done":
            raise NothingToResume(last.id)
        async with contextlib.AsyncExitStack() as stack:
            setup = await continue_setup(settings, state, last, stack)
            try:
                yield setup
            finally:
                setup.close()
