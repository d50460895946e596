"""Install: the guided installer, or headless with --answers FILE.

Headless: load the answers -> host facts (--dry-run: the simulated lab's) -> preflight (errors
stop with exit 1; warnings need --yes or a "y" at the prompt) -> plan -> run, with progress on
stdout. Exit 0 done, 3 a step failed (`sunbeam-install resume` continues), 130 interrupted.

The work is the use cases' (`installer.pipeline`); this module turns options into settings,
prints, asks and maps outcomes to exit codes. `resume` and `upgrade` share its renderers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from installer.exits import Exit, UserError
from installer.pipeline.settings import RunSettings

if TYPE_CHECKING:
    from installer.events import Event
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
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # install takes the top-level options


def run(args: argparse.Namespace) -> int:
    if args.answers and not getattr(args, "tui", False):
        return headless_install(args)
    return guided_install(args)


def guided_install(args: argparse.Namespace) -> int:
    """The interactive installer: the Textual UI on a capable terminal, line prompts otherwise."""
    from installer.plain import needs_line_prompts

    if args.plain or needs_line_prompts():
        from installer.plain import run_plain

        return run_plain(settings_from_args(args), answers_path=args.answers,
                         assume_yes=bool(args.yes))
    from screens.app import run_tui

    return run_tui(settings_from_args(args), answers_path=args.answers)


@contextlib.contextmanager
def renderers(args: argparse.Namespace) -> Iterator[tuple[Callable[[Event], None], IO[str]]]:
    """The emit function for --events / --events-file, and the stream for the closing report."""
    from installer.render import fan_out
    from installer.render.console import make_console_renderer
    from installer.render.jsonl import JsonlRenderer

    events = getattr(args, "events", "console") or "console"
    events_file = getattr(args, "events_file", None)
    closers: list[Callable[[], None]] = []
    jsonl = console = None
    report: IO[str] = sys.stdout
    try:
        if events_file:
            try:
                fh = open(events_file, "a", encoding="utf-8")  # noqa: SIM115 - closed below
            except OSError as e:
                raise UserError(
                    f"Cannot write the events file {events_file!r} ({e.strerror}); "
                    "choose a writable path for --events-file.",
                    Exit.INVALID,
                ) from None
            closers.append(fh.close)
            jsonl = JsonlRenderer(fh)
        elif events == "jsonl":
            jsonl = JsonlRenderer(sys.stdout)
            report = sys.stderr  # stdout carries only JSON lines
        if events == "console":
            r = make_console_renderer(sys.stdout)
            closers.append(r.close)
            console = r
        yield fan_out(jsonl, console), report
    finally:
        for close in reversed(closers):
            close()


def finish(setup: RunSetup, result: RunResult, report: IO[str]) -> int:
    """Print the closing report; the exit code for the outcome."""
    from installer.render.console import report_lines

    for line in report_lines(result, log_path=str(setup.log_path),
                             resume_hint=f"Continue with: {setup.resume_hint()}"):
        print(line, file=report)
    report.flush()
    if result.outcome == "done":
        return int(Exit.OK)
    if result.outcome == "interrupted":
        return int(Exit.INTERRUPTED)
    return int(Exit.STEP_FAILED)


async def run_rendered(setup: RunSetup, args: argparse.Namespace) -> int:
    """Execute a prepared run with the command's renderers; the exit code."""
    from installer.pipeline.runs import execute

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
        answer = input(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise UserError("Not confirmed; nothing was changed.", Exit.INVALID)


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
        if errors:
            _print_findings(shown, loaded, args.answers)
            print(f"{PROG}: preflight found {errors} error(s); fix them in {args.answers} and "
                  "run again.", file=sys.stderr)
            return int(Exit.INVALID)
        if warnings:
            _print_findings(shown, loaded, args.answers)
            confirm(f"Install despite {warnings} warning(s)?", yes=args.yes)
        elif not settings.dry_run:
            # A real install wipes the osd_devices and changes every host: confirm it.
            confirm(f"Install OpenStack on {len(answers.hosts)} host(s), wiping their "
                    "osd_devices?", yes=args.yes)
        last = job.unfinished_run()
        if last is not None:
            print(f"{PROG}: note: the last run {last.id} did not finish; this starts a new run "
                  f"(`{PROG} resume` would have continued it).", file=sys.stderr)
        setup = job.start()
        try:
            return await run_rendered(setup, args)
        finally:
            setup.close()


