"""Follow the running (or last) run of the state dir from any terminal.

A headless install, resume or upgrade runs in its own process, detached from the terminal that
started it; `attach` replays what that run has done so far, then streams the rest, and exits
with the run's exit code (0 done, 3 a step failed, 130 interrupted). Several terminals may
attach at once. Ctrl-C detaches (a second within 2 s stops the run); with `--events jsonl` it
stops the run."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from installer.exits import Exit, UserError

if TYPE_CHECKING:
    from installer.cmd._view import RunInfo
    from installer.journal import RunRecord
    from installer.pipeline.settings import RunSettings
    from installer.state import StateDir

PROG = "sunbeam-install"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", default=argparse.SUPPRESS,
                        help="follow the run of the dry-run state dir")
    parser.add_argument("--state-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="follow the run of the state dir DIR")
    parser.add_argument("--events", choices=["console", "jsonl"], default=argparse.SUPPRESS,
                        help="how progress is shown: a console display, or one JSON event "
                        "per line")
    parser.add_argument("--events-file", metavar="FILE", default=argparse.SUPPRESS,
                        help="also write the JSON-lines events to FILE")


def run(args: argparse.Namespace) -> int:
    from installer.cmd.install import settings_from_args

    return asyncio.run(attach(settings_from_args(args), args))


def last_run(state: StateDir) -> RunRecord | None:
    from installer.journal import open_journal

    if not state.journal_path.exists():
        return None
    journal = open_journal(state.journal_path)
    try:
        return journal.last_run()
    finally:
        journal.close()


def run_info(settings: RunSettings, state: StateDir, run: RunRecord) -> RunInfo:
    """The closing report's inputs for journaled run `run`."""
    from pydantic import ValidationError

    from installer.cmd._view import RunInfo
    from manifests.answers import Answers

    try:
        answers: Answers | None = Answers.model_validate_json(run.answers_snapshot)
    except ValidationError:
        answers = None  # an older version's: the report leaves the dashboard out
    return RunInfo(run.kind, settings.for_mode(run.dry_run), state.path,
                   run.log_path or str(state.log_path(run.id)), answers)


async def attach(settings: RunSettings, args: argparse.Namespace) -> int:
    from installer.cmd._view import follow
    from installer.pipeline.follow import Follower
    from installer.pipeline.launch import run_process
    from installer.state import StateDir

    state = StateDir(settings.resolved_state_dir()).check()
    run = last_run(state)
    if run is None:
        hint = "" if settings.dry_run or settings.explicit_state_dir else (
            " (for dry-run installs add --dry-run)")
        raise UserError(f"No run is recorded in {str(state.path)!r}{hint}; there is nothing "
                        "to attach to.", Exit.INVALID)
    process = run_process(state.path, run.id)
    if process is None:
        how = "is running" if run.outcome is None and state.is_locked() else "ran"
        raise UserError(f"The run {run.id} {how} inside the command that started it (the "
                        "guided installer, or an older version), not in a process of its own: "
                        f"there is nothing to attach to; `{PROG} status` shows its journal.",
                        Exit.INVALID)
    return await follow(Follower.of_process(process, state), run_info(settings, state, run),
                        args, announce=False)
