"""Install: the guided installer, or headless with --answers FILE.

Headless: load the answers -> host facts (--dry-run: the simulated lab's) -> preflight (errors
stop with exit 1) -> a "y" at the prompt, or --yes (without a terminal to ask on, exit 1: pass
--yes) -> plan -> run, with progress on
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
        from installer.plain import run_plain

        if getattr(args, "tui", False):
            print(f"{PROG}: --tui: this terminal cannot show the text UI (TERM=dumb, or no "
                  "terminal); asking as plain line prompts instead.", file=sys.stderr)

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


def report_stream(args: argparse.Namespace) -> IO[str]:
    """Where the words for a person go: stdout, unless stdout carries only JSON lines."""
    events = getattr(args, "events", "console") or "console"
    if events == "jsonl" and not getattr(args, "events_file", None):
        return sys.stderr
    return sys.stdout


def dry_run_banner(setup: RunSetup, *, ended: bool = False) -> str:
    if ended:
        return (f"Dry run: this {setup.kind} ran in the simulated lab; nothing on any host "
                "was changed.")
    return (f"Dry run: this {setup.kind} runs in the simulated lab; nothing on any host is "
            "changed.")


def finish(setup: RunSetup, result: RunResult, report: IO[str]) -> int:
    """Print the closing report; the exit code for the outcome."""
    from installer.render.console import fit_to_terminal, report_lines

    lines = report_lines(result, log_path=str(setup.log_path),
                         resume_hint=f"Continue with: {setup.resume_hint()}")
    if result.outcome == "done" and setup.kind == "install":
        from installer.interactive.commands import where_the_cloud_is

        answers = setup.answers
        lines += where_the_cloud_is(setup.settings, answers.network.loadbalancer_range,
                                    answers.identity.admin_password_file)
    if setup.dry_run:
        lines.append(dry_run_banner(setup, ended=True))
        if result.outcome == "done" and result.done == 0 and result.skipped:
            # The same command again: the lab already has it all. Say how to try it afresh.
            lines.append(f"Everything was already in place in this lab; `rm -rf "
                         f"{setup.state.path}` starts it over.")
    lines += setup.notes
    for line in fit_to_terminal(lines, report):
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
    from installer.render.console import fit_to_terminal

    if setup.dry_run:
        # First, before the live display starts: the operator must know nothing real happens.
        stream = report_stream(args)
        for line in fit_to_terminal([dry_run_banner(setup)], stream):
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
        setup = job.start()
        try:
            return await run_rendered(setup, args)
        finally:
            setup.close()


