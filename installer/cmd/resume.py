"""Continue the last interrupted or failed run: finished steps are not run again.

The run continues with the answers it started with (the journal keeps a snapshot) and in the
same mode (dry-run or real), in its own process as an install does (`attach` follows it).
Steps that were running when the run stopped are checked and run again. --faults, --time-scale
and --parallel may be given anew; faults are not carried over, so a resume after a
`--faults ...=fail` run tries the operation for real (in the lab)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from installer.cmd._options import add_run_options

if TYPE_CHECKING:
    from installer.pipeline.settings import RunSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser, suppress=True)


def run(args: argparse.Namespace) -> int:
    from installer.cmd.install import settings_from_args

    return asyncio.run(_resume(settings_from_args(args), args))


async def _resume(settings: RunSettings, args: argparse.Namespace) -> int:
    """Check the last run can go on and journal that it does (under the lock), start it in its
    own process and follow it."""
    from installer.cmd._view import RunInfo
    from installer.cmd.install import follow_launched
    from installer.pipeline.launch import launch
    from installer.pipeline.resume import begin_resume

    with begin_resume(settings) as (state, inputs, lock_fd):
        run = inputs.run
        info = RunInfo(run.kind, inputs.settings, state.path, str(state.log_path(run.id)),
                       inputs.answers)
        launched = launch(state.path, run.id, run.kind, inputs.settings, lock_fd)
    return await follow_launched(launched, info, args)
