"""The console renderer: what a person watching `sunbeam-install --answers FILE` sees.

On a TTY: an overall progress bar (done/total, elapsed, ETA), the running steps with their last
progress message and the last log lines, redrawn in place (rich, which Textual already brings);
finished steps scroll above it. Not a TTY (CI logs, pipes, TERM=dumb): plain timestamped lines,
one per step start / finish and per changed progress message, no escape codes.

High event rates must not slow the run: the TTY display redraws at most 10 times a second and
log lines only update an in-memory ring.

Step titles, messages, errors, hints and log lines quote what hosts, snapd and Juju said: their
control characters are shown escaped (installer/text.py) and, on the rich display, their `[`
is not taken for markup.
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import IO, TYPE_CHECKING, Any

from installer.events import (
    Event,
    PlanFinished,
    PlanStarted,
    StepFinished,
    StepLog,
    StepProgress,
    StepStarted,
    run_title,
)
from installer.text import neutralise, one_line

if TYPE_CHECKING:
    from installer.runner import RunResult

_REDRAW_EVERY = 0.1  # seconds


def is_capable_tty(stream: IO[str]) -> bool:
    """A terminal that can redraw in place (not a pipe, not TERM=dumb)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "") not in ("", "dumb")


def terminal_width(stream: IO[str]) -> int | None:
    """The columns of the terminal `stream` writes to; None for a pipe or a file (whose lines
    stay whole, for grep)."""
    try:
        if not stream.isatty():
            return None
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return None


def wrap_line(line: str, width: int | None, *, indent: int = 2) -> list[str]:
    """`line` cut at word boundaries into lines of at most `width` columns; each continuation
    indented `indent` more than the line's own indent. Whole when `width` is None."""
    import textwrap

    if width is None or len(line) <= width:
        return [line]
    lead = len(line) - len(line.lstrip(" "))
    return textwrap.wrap(line, max(20, width), subsequent_indent=" " * (lead + indent),
                         break_on_hyphens=False) or [line]


def fit_to_terminal(lines: list[str], stream: IO[str], width: int | None = None) -> list[str]:
    """Each line wrapped to the terminal's width when `stream` is a terminal."""
    width = width if width is not None else terminal_width(stream)
    return [part for line in lines for part in wrap_line(line, width)]


# The runner logs why a step is tried again as "attempt N failed: REASON; retrying in Xs".
_RETRY_FAILED = " failed: "
_RETRY_WAIT = "; retrying in "


def retry_reason(line: str) -> str | None:
    """REASON from the runner's retry log line, or None for any other line."""
    if not line.startswith("attempt ") or _RETRY_FAILED not in line:
        return None
    return line.split(_RETRY_FAILED, 1)[1].rsplit(_RETRY_WAIT, 1)[0]


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def _fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class PlainRenderer:
    """Timestamped lines, no escape codes."""

    def __init__(self, stream: IO[str], *, width: int | None = None) -> None:
        self.stream = stream
        # On a terminal (TERM=dumb, say) lines wrap at its width, continuations under the text;
        # in a pipe or a file they stay whole.
        self.width = width if width is not None else terminal_width(stream)
        self._last_progress: dict[str, str] = {}
        self._titles: dict[str, str] = {}
        self._total = 0
        self._finished = 0
        self._retry_reasons: dict[str, str] = {}

    def _line(self, t: float, text: str) -> None:
        parts = wrap_line(f"{_clock(t)} {neutralise(text)}", self.width, indent=len("00:00:00 ")
                          + len("start "))
        self.stream.write("".join(f"{part}\n" for part in parts))
        self.stream.flush()

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepLog):
            # Log lines go to the run's log file (the failure report shows the tail); only why a
            # step is retried is kept, for the retry line.
            reason = retry_reason(event.line)
            if reason is not None:
                self._retry_reasons[event.step] = reason
            return
        if isinstance(event, StepProgress):
            label = event.message + (
                f" ({event.fraction:.0%})" if event.fraction is not None else ""
            )
            if self._last_progress.get(event.step) != label:
                self._last_progress[event.step] = label
                self._line(event.time, f"       {event.step}: {label}")
        elif isinstance(event, StepStarted):
            self._titles[event.step] = event.title
            # The title is the whole sentence and names the hosts it concerns; `host` is where
            # the step runs (not always the host it is about: "Disable node4 for scheduling"
            # runs on a control host), so it is not appended to the title.
            verb = "start " if event.attempt == 1 else f"retry#{event.attempt}"
            reason = self._retry_reasons.pop(event.step, None) if event.attempt > 1 else None
            after = f" (attempt {event.attempt - 1} failed: {reason})" if reason else ""
            self._line(event.time, f"{verb} {event.step}: {event.title}{after}")
        elif isinstance(event, StepFinished):
            self._finished += 1
            self._last_progress.pop(event.step, None)
            count = f"[{self._finished}/{self._total}]"
            if event.outcome == "done":
                self._line(event.time, f"done   {event.step} ({_fmt_duration(event.duration)}) "
                                       f"{count}")
            elif event.outcome == "skipped":
                self._line(event.time, f"skip   {event.step} (already in place) {count}")
            else:
                self._line(event.time, f"FAILED {event.step}: {event.error}")
        elif isinstance(event, PlanStarted):
            self._total = event.steps - event.already_done
            resumed = f", {event.already_done} already done" if event.already_done else ""
            self._line(event.time, f"{event.kind} run {event.run_id}: {event.steps} steps"
                                   f"{resumed}")
            if event.log_path:
                self._line(event.time, f"log: {event.log_path}")
        elif isinstance(event, PlanFinished):
            self._line(event.time, f"{event.outcome}: {event.done} done, {event.skipped} skipped,"
                                   f" {event.failed} failed, {event.pending} pending in "
                                   f"{_fmt_duration(event.duration)}")

    def close(self) -> None:
        pass


class RichRenderer:
    """Progress bar, running steps and last log lines, redrawn in place on a terminal."""

    def __init__(self, stream: IO[str], *, log_lines: int = 6) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(file=stream, force_terminal=True, highlight=False)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            auto_refresh=False,
        )
        self.task = self.progress.add_task("Installing", total=None)
        self.running: dict[str, list[str]] = {}  # step -> [host, last progress message]
        self.logs: deque[str] = deque(maxlen=log_lines)
        self.retry_reasons: dict[str, str] = {}  # step -> why its last attempt failed
        self._last_draw = 0.0
        # No refresh thread: we redraw from the event callback, so nothing reads our dicts
        # from another thread while the runner changes them.
        self.live = Live(self._render(), console=self.console, auto_refresh=False,
                         transient=True, redirect_stdout=False, redirect_stderr=False)
        self.live.start()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 1))
        table.add_column(style="cyan", no_wrap=True)
        table.add_column(style="dim", no_wrap=True)
        table.add_column(overflow="ellipsis", no_wrap=True)
        for sid, (host, message) in list(self.running.items())[:8]:
            # Text cells: no markup is read from what hosts and backends said.
            table.add_row(Text(one_line(sid)), Text(one_line(host)), Text(one_line(message)))
        if len(self.running) > 8:
            table.add_row(f"... and {len(self.running) - 8} more", "", "")
        parts: list[Any] = [self.progress.get_renderable(), table]
        if self.logs:
            parts.append(Text("\n".join(one_line(line) for line in self.logs), style="dim",
                              overflow="ellipsis", no_wrap=True))
        return Group(*parts)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_draw >= _REDRAW_EVERY:
            self._last_draw = now
            self.live.update(self._render(), refresh=True)

    def __call__(self, event: Event) -> None:
        from rich.markup import escape

        if isinstance(event, StepLog):
            self.logs.append(f"{event.step}: {event.line}")
            reason = retry_reason(event.line)
            if reason is not None:
                self.retry_reasons[event.step] = reason
        elif isinstance(event, StepProgress):
            if event.step in self.running:
                pct = f" {event.fraction:.0%}" if event.fraction is not None else ""
                self.running[event.step][1] = event.message + pct
        elif isinstance(event, StepStarted):
            note = "" if event.attempt == 1 else f"retry {event.attempt}"
            reason = self.retry_reasons.pop(event.step, None) if event.attempt > 1 else None
            if reason:
                note += f" after: {reason}"
                self.console.print(f"[yellow]↻[/] {escape(one_line(event.step))} retried "
                                   f"(attempt {event.attempt}): {escape(one_line(reason))}")
            self.running[event.step] = [event.host or "", note]
        elif isinstance(event, StepFinished):
            self.running.pop(event.step, None)
            self.progress.advance(self.task)
            if event.outcome == "done":
                self.console.print(f"[green]✓[/] {escape(one_line(event.step))} [dim]"
                                   f"({_fmt_duration(event.duration)})[/]")
            elif event.outcome == "skipped":
                self.console.print(f"[dim]- {escape(one_line(event.step))} (already in place)[/]")
            else:
                self.console.print(f"[red]✗ {escape(one_line(event.step))}[/]: "
                                   f"{escape(neutralise(event.error or ''))}", markup=True)
        elif isinstance(event, PlanStarted):
            self.progress.update(self.task, total=event.steps, completed=event.already_done,
                                 description=run_title(event.kind))
            if event.log_path:
                self.console.print(f"[dim]log: {escape(one_line(event.log_path))}[/]")
        elif isinstance(event, PlanFinished):
            self._draw(force=True)
            return
        self._draw()

    def say(self, text: str) -> None:
        """A line for the operator above the live display (which a plain print would be
        overdrawn by)."""
        from rich.markup import escape

        self.console.print(f"[bold]{escape(text)}[/]")
        self._draw(force=True)

    def close(self) -> None:
        self.live.stop()


def make_console_renderer(
    stream: IO[str], *, tty: bool | None = None
) -> PlainRenderer | RichRenderer:
    """A RichRenderer on a capable terminal, else plain lines."""
    if tty is None:
        tty = is_capable_tty(stream)
    return RichRenderer(stream) if tty else PlainRenderer(stream)


def report_lines(result: RunResult, *, log_path: str | None, resume_hint: str) -> list[str]:
    """The closing message of a run: success, or each failed step with error, hint, log tail."""
    if result.outcome == "done":
        return [f"Done: {result.done} steps done, {result.skipped} already in place "
                f"({_fmt_duration(result.duration)})."]
    lines: list[str] = []
    if result.outcome == "interrupted":
        lines.append(f"Interrupted with {result.pending} steps still to do.")
    for f in result.failures:
        lines.append(neutralise(f"Step {f.step} ({f.title}) failed: {f.error}"))
        if f.hint:
            lines.append(f"  Hint: {neutralise(f.hint)}")
        if f.log_tail:
            lines.append("  Last log lines:")
            lines.extend(f"    {one_line(line)}" for line in f.log_tail[-10:])
    if log_path:
        lines.append(f"Log: {one_line(log_path)}")
    lines.append(resume_hint)
    return lines
