"""The headless viewer: follow a run's own process through the command's renderers.

A headless install, resume or upgrade starts its run in its own process (installer.pipeline.
launch) and follows it here; `attach` follows one from any terminal. The viewer exits with the
run's exit code (DESIGN.md: 0 done, 3 a step failed, 130 interrupted).

Ctrl-C: with a console, the first one asks, and after 2 s without a second one the console
detaches: the run goes on, `sunbeam-install attach` follows it again, and the viewer exits 130
(it did not see the run end; 0 would tell a script the cloud is ready). A second Ctrl-C within
2 s stops the run: its process journals it as interrupted (resumable) and the viewer exits 130
with the resume hint once it has. With `--events jsonl` on stdout (a program reads it, nobody to
ask) Ctrl-C stops the run, as before. A SIGHUP (the terminal closed) ends only the viewer.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from installer.exits import Exit, UserError, exit_for

if TYPE_CHECKING:
    from installer.events import Event
    from installer.pipeline.follow import Follower
    from installer.pipeline.runs import RunSetup
    from installer.pipeline.settings import RunSettings
    from installer.runner import RunResult
    from manifests.answers import Answers

PROG = "sunbeam-install"


@dataclass
class RunInfo:
    """What the closing report of a run says besides its result."""

    kind: str
    settings: RunSettings  # the run's mode and state dir, as the operator named them
    state_path: Path
    log_path: str
    answers: Answers | None = None  # for the dashboard and password lines of an install
    notes: list[str] = field(default_factory=list)

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run

    @classmethod
    def of_setup(cls, setup: RunSetup) -> RunInfo:
        return cls(setup.kind, setup.settings, setup.state.path, str(setup.log_path),
                   setup.answers, setup.notes)

    def command(self, sub: str) -> str:
        """`sunbeam-install SUB` with this run's --dry-run and --state-dir."""
        from installer.interactive.commands import command_line

        return command_line(self.settings, sub)


def dry_run_banner(info: RunInfo, *, ended: bool = False) -> str:
    if ended:
        return (f"Dry run: this {info.kind} ran in the simulated lab; nothing on any host "
                "was changed.")
    return (f"Dry run: this {info.kind} runs in the simulated lab; nothing on any host is "
            "changed.")


def finish(info: RunInfo, result: RunResult, report: IO[str]) -> int:
    """Print the closing report; the exit code for the outcome."""
    from installer.render.console import report_lines

    lines = report_lines(result, log_path=info.log_path,
                         resume_hint=f"Continue with: {info.command('resume')}")
    if result.outcome == "done" and info.kind == "install" and info.answers is not None:
        from installer.interactive.commands import where_the_cloud_is

        answers = info.answers
        lines += where_the_cloud_is(info.settings, answers.network.loadbalancer_range,
                                    answers.identity.admin_password_file)
    if info.dry_run:
        lines.append(dry_run_banner(info, ended=True))
        if result.outcome == "done" and result.done == 0 and result.skipped:
            # The same command again: the lab already has it all. Say how to try it afresh.
            lines.append(f"Everything was already in place in this lab; `rm -rf "
                         f"{info.state_path}` starts it over.")
    lines += info.notes
    print_report(lines, report)
    return int(exit_for(result.outcome))


def print_report(lines: list[str], report: IO[str]) -> None:
    """Print `lines` to `report`, each fitted to the terminal's width, and flush them."""
    from installer.render.console import fit_to_terminal

    for line in fit_to_terminal(lines, report):
        print(line, file=report)
    report.flush()


@contextlib.contextmanager
def renderers(args: argparse.Namespace, *, live: list[Any] | None = None,
              ) -> Iterator[tuple[Callable[[Event], None], IO[str]]]:
    """The emit function for --events / --events-file, and the stream for the closing report;
    `live` gets the console's live display, when there is one (for lines above it)."""
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
            if live is not None and hasattr(r, "say"):
                live.append(r)
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


async def follow(follower: Follower, info: RunInfo, args: argparse.Namespace, *,
                 announce: bool = True) -> int:
    """Render the run `follower` reads through the command's renderers; its exit code, or
    130 when the viewer detached (the run goes on)."""
    from installer.pipeline.follow import CtrlC, ResultOf, RunControl, sigint_calls
    from installer.render import fan_out
    from installer.render.console import fit_to_terminal

    stream = report_stream(args)

    live: list[Any] = []  # the console's live display, while it shows

    def say(text: str) -> None:
        if live:
            live[0].say(text)  # above the display, which would draw over a plain line
            return
        for line in fit_to_terminal([text], sys.stderr):
            print(line, file=sys.stderr)
        sys.stderr.flush()

    if announce and info.dry_run:
        # First, before the live display starts: the operator must know nothing real happens.
        print_report([dry_run_banner(info)], stream)
    jsonl_stdout = (getattr(args, "events", "console") == "jsonl"
                    and not getattr(args, "events_file", None))
    ctrl_c = CtrlC(RunControl(follower), ask=not jsonl_stdout, say=say)
    result_of = ResultOf()
    with renderers(args, live=live) as (emit, report), sigint_calls(ctrl_c):
        sink = fan_out(result_of, emit)
        async for event in follower.events():
            sink(event)
    live.clear()
    if follower.detached:
        pid = f" (pid {follower.pid})" if follower.pid else ""
        say(f"Detached: the run goes on in its own process{pid}. Follow it again with "
            f"`{info.command('attach')}`; `{info.command('status')}` says how it is doing.")
        return int(Exit.INTERRUPTED)
    info.notes = [*info.notes, *follower.notes]
    if follower.died:
        return _ended_early(follower, info, report)
    return finish(info, result_of.result(), report)


def _ended_early(follower: Follower, info: RunInfo, report: IO[str]) -> int:
    """The process ended without its PlanFinished: the error that stopped it before its first
    step (with that error's exit code), or that it is gone (killed: 130, resumable)."""
    code = (follower.record or {}).get("code")
    if follower.error and isinstance(code, int) and code != Exit.INTERRUPTED:
        try:
            exit_code = Exit(code)
        except ValueError:
            exit_code = Exit.INVALID
        raise UserError(follower.error, exit_code)
    lines = [follower.error or ("The run's process ended before the run did (was it killed?); "
                                f"its last words, if any, are in {follower.files.output}."),
             f"Log: {info.log_path}", f"Continue with: {info.command('resume')}"]
    print_report(lines, report)
    return int(Exit.INTERRUPTED)

