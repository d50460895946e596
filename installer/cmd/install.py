"""Install: the guided installer, or headless with --answers FILE.

Headless: load the answers -> host facts (--dry-run: the simulated lab's) -> preflight (errors
stop with exit 1) -> a "y" at the prompt, or --yes (without a terminal to ask on, exit 1: pass
--yes) -> plan -> the run starts in its own process, detached from the terminal, and this one
follows it with progress on stdout (`attach` follows it again from anywhere; installer.cmd._view
says what Ctrl-C does). Exit 0 done, 3 a step failed (`sunbeam-install resume` continues), 130
interrupted.

The work is the use cases' (`installer.pipeline`); this module turns options into settings,
prints, asks and maps outcomes to exit codes. `resume` and `upgrade` share its renderers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from installer.cmd._view import renderers, report_stream
from installer.exits import Exit, UserError
from installer.pipeline.settings import RunSettings

__all__ = ["renderers", "report_stream"]  # shared with `resume`, `upgrade` and `attach`

if TYPE_CHECKING:
    from installer.cmd._view import RunInfo
    from installer.pipeline.launch import Launched
    from installer.pipeline.runs import RunSetup
    from installer.runner import RunResult

PROG = "sunbeam-install"


def settings_from_args(args: argparse.Namespace) -> RunSettings:
    """The one settings object of this command, from its options."""
    return RunSettings.build(
        dry_run=bool(getattr(args, "dry_run", False)),
        state_dir=getattr(args, "state_dir", None),
        facts_dir=getattr(args, "facts", None),
        time_scale=getattr(args, "time_scale", None),
        faults=getattr(args, "faults", None),
        parallel=getattr(args, "parallel", None),
        accept_new_host_keys=bool(getattr(args, "accept_new_host_keys", False)),
        ssh_identity=getattr(args, "identity", None),
        known_hosts=getattr(args, "known_hosts", None),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # install takes the top-level options


def run(args: argparse.Namespace) -> int:
    """Headless with --answers alone; guided otherwise (--answers with --tui or --plain: the
    guided installer prefilled from the file). --tui and --plain together are refused."""
    tui, plain = bool(getattr(args, "tui", False)), bool(getattr(args, "plain", False))
    if tui and plain:
        raise UserError("--tui and --plain ask for two different guided installers; give one "
                        "of them.", Exit.USAGE)
    if args.answers and not (tui or plain):
        return headless_install(args)
    return guided_install(args)


def guided_install(args: argparse.Namespace) -> int:
    """The interactive installer: the Textual UI on a capable terminal, line prompts otherwise."""
    from installer.plain import needs_line_prompts

    if args.plain or needs_line_prompts():
        # Plain mode; on a deployed cloud it first offers to add hosts to it (a converge).
        from installer.plain_converge import run_guided_plain

        if getattr(args, "tui", False):
            print(f"{PROG}: --tui: this terminal cannot show the text UI (TERM=dumb, or no "
                  "terminal); asking as plain line prompts instead.", file=sys.stderr)

        return run_guided_plain(settings_from_args(args), answers_path=args.answers,
                                assume_yes=bool(args.yes))
    from screens.app import run_tui

    return run_tui(settings_from_args(args), answers_path=args.answers)


def finish(setup: RunSetup, result: RunResult, report: IO[str]) -> int:
    """Print the closing report of a run executed in this process; its exit code."""
    from installer.cmd._view import RunInfo
    from installer.cmd._view import finish as finish_info

    return finish_info(RunInfo.of_setup(setup), result, report)


async def run_rendered(setup: RunSetup, args: argparse.Namespace) -> int:
    """Execute a prepared run in this process with the command's renderers; the exit code.
    (The commands start their runs in their own process instead: `launch_and_follow`.)"""
    from installer.cmd._view import RunInfo, dry_run_banner
    from installer.pipeline.runs import execute
    from installer.render.console import fit_to_terminal

    if setup.dry_run:
        # First, before the live display starts: the operator must know nothing real happens.
        stream = report_stream(args)
        for line in fit_to_terminal([dry_run_banner(RunInfo.of_setup(setup))], stream):
            print(line, file=stream)
        stream.flush()
    with renderers(args) as (emit, report):
        result = await execute(setup, emit)
    # After the live display has stopped, so the report is not drawn over.
    return finish(setup, result, report)


# --------------------------------------------------------------------------------------------
# Headless install.


def _print_findings(findings: list[Any], loaded: Any, filename: str) -> None:
    from installer.preflight.finding import format_finding

    for f in findings:
        print(format_finding(f, loaded.locate, filename), file=sys.stderr)


def confirm(question: str, *, yes: bool, stdin: IO[str] | None = None) -> None:
    """Go on when --yes or the operator answers y; without a terminal, say to pass --yes."""
    if yes:
        return
    stdin = stdin or sys.stdin
    if not (stdin.isatty() and sys.stdout.isatty()):
        raise UserError(f"{question} needs confirmation and there is no terminal to ask on; "
                        "pass --yes to confirm.", Exit.INVALID)
    try:
        # The question on stderr: with `--events jsonl` stdout carries only JSON lines.
        print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
        answer = input()
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise UserError("Not confirmed; nothing was changed.", Exit.INVALID)


def same_answers(snapshot: str, answers: Any) -> bool:
    """Whether a run's journaled answers are these (proxy credentials compared redacted, as the
    journal keeps them)."""
    import json

    from installer.secrets import PROXY_SECRETS, redact_url_credentials

    proxy = {key: redact_url_credentials(getattr(answers.proxy, key) or "") or None
             for key in PROXY_SECRETS}
    mine = json.loads(answers.model_copy(
        update={"proxy": answers.proxy.model_copy(update=proxy)}).model_dump_json())
    try:
        return bool(json.loads(snapshot) == mine)
    except ValueError:
        return False


def headless_install(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    settings.check()
    if not settings.dry_run:
        from installer.pipeline.backends import real_mode_gate

        real_mode_gate(settings)  # before anything else: without root or snapd nothing works
    from manifests.loader import AnswersError, load_answers_file

    try:
        loaded = load_answers_file(args.answers)
    except AnswersError as e:
        print(str(e), file=sys.stderr)
        return int(Exit.INVALID)
    except OSError as e:
        raise UserError(f"Cannot read the answers file {args.answers!r} ({e.strerror}); "
                        "check the path.", Exit.INVALID) from None
    # Day two (issue 15, installer/cmd/_converge.py): a deployed cloud converges to the file.
    from installer.cmd._converge import converge_if_deployed

    converged = converge_if_deployed(settings, loaded, args, confirm)
    if converged is not None:
        return converged
    return asyncio.run(_install(settings, loaded, args))


async def _install(settings: RunSettings, loaded: Any, args: argparse.Namespace) -> int:
    from installer.pipeline.install import open_install
    from installer.preflight.finding import summarize

    answers = loaded.answers
    async with open_install(settings, answers,
                            answers_path=str(Path(args.answers).resolve())) as job:
        findings = job.preflight()
        errors, warnings, _ = summarize(findings)
        shown = [f for f in findings if f.severity != "info"]
        from installer.interactive.commands import facts_hint

        hint = facts_hint(settings, {f.code for f in shown})
        if errors:
            _print_findings(shown, loaded, args.answers)
            print(f"{PROG}: preflight found {errors} error(s); fix them in {args.answers} and "
                  "run again.", file=sys.stderr)
            if hint:
                print(f"{PROG}: {hint}", file=sys.stderr)
            return int(Exit.INVALID)
        last = job.unfinished_run()
        if last is not None and not same_answers(last.answers_snapshot, answers):
            from installer.interactive.commands import command_line

            # Other answers over a half-done install: what it did stays, the rest changes.
            confirm(f"The last run {last.id} did not finish and had other answers; start a "
                    f"new run with {args.answers} instead of "
                    f"`{command_line(settings, 'resume')}`?", yes=args.yes)
        if warnings:
            _print_findings(shown, loaded, args.answers)
            if hint:
                print(f"{PROG}: {hint}", file=sys.stderr)
            confirm(f"Install despite {warnings} warning(s)?", yes=args.yes)
        elif settings.dry_run:
            # As plain mode asks "Install now?": the install happens only when asked for.
            confirm(f"Run a dry-run install of {len(answers.hosts)} host(s) in the simulated "
                    "lab?", yes=args.yes)
        else:
            # A real install wipes the osd_devices and changes every host: confirm it.
            confirm(f"Install OpenStack on {len(answers.hosts)} host(s), wiping their "
                    "osd_devices?", yes=args.yes)
        if last is not None:
            from installer.interactive.commands import command_line

            print(f"{PROG}: note: the last run {last.id} did not finish; this starts a new run "
                  f"(`{command_line(settings, 'resume')}` would have continued it).",
                  file=sys.stderr)
        launched, info = launch_run(job.start(), job.lock_fd)
    # The state dir's lock and the run are the run's process's now; this one only follows it.
    return await follow_launched(launched, info, args)


def launch_run(setup: RunSetup, lock_fd: int) -> tuple[Launched, RunInfo]:
    """Start the journaled run `setup` in its own process (closing it here)."""
    from installer.cmd._view import RunInfo
    from installer.pipeline.launch import launch_setup

    info = RunInfo.of_setup(setup)
    return launch_setup(setup, lock_fd), info


async def follow_launched(launched: Launched, info: RunInfo, args: argparse.Namespace) -> int:
    """Follow the run this command started through its renderers; its exit code."""
    from installer.cmd._view import follow
    from installer.pipeline.follow import Follower
    from installer.state import StateDir

    return await follow(Follower.of_launched(launched, StateDir(info.state_path)), info, args)


