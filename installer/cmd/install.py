"""Install: the guided installer, or headless with --answers FILE.

Headless: load the answers -> host facts (--dry-run: the simulated lab's) -> preflight (errors
stop with exit 1; warnings need --yes or a "y" at the prompt) -> plan -> run, with progress on
stdout. Exit 0 done, 3 a step failed (`sunbeam-install resume` continues), 130 interrupted.

This module also holds the run pipeline that `resume` and the TUI session reuse: `RunSetup`
(everything one run needs) and `execute` (run it with Ctrl+C handling and renderers).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from installer.exits import Exit, UserError

if TYPE_CHECKING:
    import logging

    from installer.backends.base import Backends
    from installer.events import Event
    from installer.journal import Journal
    from installer.plan import Plan
    from installer.runner import RunKind, RunOptions, RunResult
    from installer.secrets import Secrets
    from installer.state import StateDir
    from manifests.answers import Answers
    from manifests.release import Release
    from probes.facts import HostFacts

PROG = "sunbeam-install"
SNAPD_SOCKET = Path("/run/snapd.socket")


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

        return run_plain(args)
    from screens.app import run_tui

    return run_tui(args)


# --------------------------------------------------------------------------------------------
# Real mode: the gate and the hook for the real backends.


def real_mode_gate(*, snapd_socket: Path = SNAPD_SOCKET) -> None:
    """A real run needs root and snapd; say exactly what is missing (exit 4)."""
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append("root (run it with sudo)")
    if not snapd_socket.exists():
        missing.append(f"snapd ({snapd_socket} not found; install snapd)")
    if missing:
        raise UserError(
            f"A real install needs {' and '.join(missing)}; add --dry-run to try it in the "
            "simulated lab instead.",
            Exit.PREREQUISITE,
        )


def open_real_backends(
    answers: Answers, state: StateDir, args: argparse.Namespace
) -> tuple[dict[str, HostFacts], Backends]:
    """HOOK for the real backends: probe the hosts and open snapd / Juju / k8s / SSH backends.

    Expects a module `installer.backends.real` with
    `open_real(answers, state, args) -> (facts_by_host, Backends)`; until it exists a real
    install says plainly that it is not available (exit 2).
    """
    try:
        module = importlib.import_module("installer.backends.real")
    except ModuleNotFoundError as e:
        if e.name != "installer.backends.real":
            raise
        raise UserError(
            "Real (non-dry-run) installs are not available in this build yet; add --dry-run "
            "to run the install in the simulated lab.",
            Exit.USAGE,
        ) from None
    facts, backends = module.open_real(answers, state, args)
    return facts, backends


# --------------------------------------------------------------------------------------------
# The lab (dry-run).


def open_lab(state: StateDir, *, time_scale: float | None, faults: Any, facts_dir: str | None
             ) -> Any:
    from installer.lab import Lab

    return Lab.open(state.path, time_scale=time_scale, faults=faults,
                    facts_dir=Path(facts_dir) if facts_dir else None)


def check_parallel(parallel: int | None) -> None:
    if parallel is not None and parallel < 1:
        raise UserError(f"--parallel {parallel} is too small; give 1 or more (or leave it out "
                        "to size it for the plan).", Exit.USAGE)


def dry_run_options(time_scale: float | None, parallel: int | None) -> RunOptions:
    """Retry backoff and interrupt grace scaled down for the lab (its operations are scaled too)."""
    from installer.runner import RunOptions

    scale = 1.0 if time_scale is None else max(0.0, time_scale)
    return RunOptions(parallel=parallel, backoff=min(1.0, 0.05 * scale), interrupt_grace=0.2)


def real_options(parallel: int | None) -> RunOptions:
    from installer.runner import RunOptions

    return RunOptions(parallel=parallel, backoff=2.0, interrupt_grace=5.0)


# --------------------------------------------------------------------------------------------
# The run pipeline (install, resume, TUI).


@dataclass
class RunSetup:
    """Everything one run (or resumed run) needs; `execute` runs it."""

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
    dry_run: bool
    lab: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        from installer.state import close_run_log

        close_run_log(self.logger)
        self.journal.close()


def load_release_for(answers: Answers) -> Release:
    from manifests.release import load_release, shipped_releases

    try:
        return load_release(answers.release)
    except KeyError:
        raise UserError(
            f"release {answers.release!r} is not one this installer ships; use one of "
            f"{', '.join(shipped_releases())}.",
            Exit.INVALID,
        ) from None


def open_journal(state: StateDir) -> Journal:
    from installer.journal import Journal, JournalError

    try:
        return Journal.open(state.journal_path)
    except JournalError as e:
        raise UserError(str(e), Exit.PREREQUISITE) from None


def new_run(
    *,
    kind: RunKind,
    state: StateDir,
    plan: Plan,
    answers: Answers,
    answers_path: str | None,
    release: Release,
    backends: Backends,
    dry_run: bool,
    options: RunOptions,
    run_options: Mapping[str, Any],
    lab: Any = None,
) -> RunSetup:
    """Record a new run in the journal and open its log."""
    from installer.state import open_run_log

    secrets = state.secrets()
    secrets.load_admin_password(answers.identity.admin_password_file)
    journal = open_journal(state)
    rec = journal.start_run(
        kind=kind,
        answers_snapshot=answers.model_dump_json(),
        answers_path=answers_path,
        dry_run=dry_run,
        steps=[(s.id, s.title, s.host) for s in plan.steps],
        options=dict(run_options),
        log_dir=state.logs_dir,
    )
    log_path = state.log_path(rec.id)
    logger = open_run_log(log_path, secrets.redactor)
    logger.info("%s run %s (%s) from %s", kind, rec.id, "dry-run" if dry_run else "real",
                answers_path or "the interactive installer")
    return RunSetup(kind, state, journal, rec.id, plan, answers, release, backends, secrets,
                    logger, log_path, options, dry_run, lab)


async def execute_async(setup: RunSetup, emit: Callable[[Event], None],
                        *, handle_signals: bool = True) -> RunResult:
    """Run the plan; SIGINT/SIGTERM interrupt it cleanly (a second Ctrl+C stops at once)."""
    import asyncio

    from installer.runner import Runner

    runner = Runner(
        setup.plan, answers=setup.answers, release=setup.release, backends=setup.backends,
        journal=setup.journal, run_id=setup.run_id, emit=emit, secrets=setup.secrets,
        logger=setup.logger, options=setup.options, kind=setup.kind,
        log_path=str(setup.log_path),
    )
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, runner.interrupt)
                installed.append(sig)
    try:
        return await runner.run()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def stream_events(setup: RunSetup) -> AsyncGenerator[Event, None]:
    """Run `setup` and yield its Events as they happen, for the interactive sessions. Closing the
    generator early cancels the run, which the journal records as interrupted (resumable)."""
    import asyncio

    from installer.events import PlanFinished

    queue: asyncio.Queue[Event] = asyncio.Queue()
    task = asyncio.create_task(execute_async(setup, queue.put_nowait, handle_signals=False))
    try:
        while True:
            event = await queue.get()
            yield event
            if isinstance(event, PlanFinished):
                break
        await task
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


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

    resume = f"Continue with: {PROG} resume" + (" --dry-run" if setup.dry_run else "") + (
        f" --state-dir {setup.state.path}" if setup.extras.get("explicit_state_dir") else ""
    )
    for line in report_lines(result, log_path=str(setup.log_path), resume_hint=resume):
        print(line, file=report)
    report.flush()
    if result.outcome == "done":
        return int(Exit.OK)
    if result.outcome == "interrupted":
        return int(Exit.INTERRUPTED)
    return int(Exit.STEP_FAILED)


def run_setup(setup: RunSetup, args: argparse.Namespace) -> int:
    """Render and run a prepared run; the exit code."""
    import asyncio

    try:
        with renderers(args) as (emit, report):
            result = asyncio.run(execute_async(setup, emit))
        # After the live display has stopped, so the report is not drawn over.
        return finish(setup, result, report)
    finally:
        setup.close()


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
    from installer.state import StateDir, resolve_state_dir
    from manifests.loader import AnswersError, load_answers_file

    dry_run = bool(args.dry_run)
    if not dry_run:
        real_mode_gate()  # before anything else: without root or snapd nothing can work
    check_parallel(args.parallel)
    os.umask(0o077)  # everything this run creates (journal, logs, lab state) is owner-only
    try:
        loaded = load_answers_file(args.answers)
    except AnswersError as e:
        print(str(e), file=sys.stderr)
        return int(Exit.INVALID)
    except OSError as e:
        raise UserError(f"Cannot read the answers file {args.answers!r} ({e.strerror}); "
                        "check the path.", Exit.INVALID) from None
    answers = loaded.answers
    release = load_release_for(answers)
    if not dry_run and (args.faults or args.time_scale is not None or args.facts):
        raise UserError("--faults, --time-scale and --facts work only with --dry-run; add "
                        "--dry-run or leave them out.", Exit.USAGE)
    state = StateDir(resolve_state_dir(args.state_dir, dry_run=dry_run)).ensure()
    with state.lock("install"):
        lab = None
        if dry_run:
            lab = open_lab(state, time_scale=args.time_scale, faults=args.faults,
                           facts_dir=args.facts)
            lab.ensure_hosts(answers)
            facts, backends = lab.facts(), lab.backends()
        else:
            facts, backends = open_real_backends(answers, state, args)

        from installer.preflight import check
        from installer.preflight.finding import summarize

        findings = check(answers, facts, release, real_mode=not dry_run)
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
        elif not dry_run:
            # A real install wipes the osd_devices and changes every host: confirm it.
            confirm(f"Install OpenStack on {len(answers.hosts)} host(s), wiping their "
                    "osd_devices?", yes=args.yes)

        from installer.planner import plan as make_plan

        plan = make_plan(answers, release)
        _note_unfinished_run(state)
        options = (dry_run_options(args.time_scale, args.parallel) if dry_run
                   else real_options(args.parallel))
        setup = new_run(
            kind="install", state=state, plan=plan, answers=answers,
            answers_path=str(Path(args.answers).resolve()), release=release,
            backends=backends, dry_run=dry_run, options=options, lab=lab,
            run_options={"time_scale": args.time_scale, "facts": _abs(args.facts),
                         "parallel": args.parallel},
        )
        setup.extras["explicit_state_dir"] = bool(args.state_dir)
        return run_setup(setup, args)


def _abs(path: str | None) -> str | None:
    return str(Path(path).resolve()) if path else None


def _note_unfinished_run(state: StateDir) -> None:
    if not state.journal_path.exists():
        return
    journal = open_journal(state)
    try:
        last = journal.last_run()
    finally:
        journal.close()
    if last is not None and last.outcome != "done":
        print(f"{PROG}: note: the last run {last.id} did not finish; this starts a new run "
              f"(`{PROG} resume` would have continued it).", file=sys.stderr)
