"""Progress: overall bar and ETA, per-step status, a log pane following the selected step, and a
failure view with the hint and a resume action.

Events arrive far faster than a terminal can redraw, and for hundreds of hosts. They are only
recorded as they come (`feed`, no widget work); a 10 Hz timer then applies what changed: each
changed row once, the bar once, new log lines in one `write_lines` batch (PITFALLS)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Log, ProgressBar, Static

from installer.events import (
    PlanFinished,
    PlanStarted,
    StepFinished,
    StepLog,
    StepProgress,
    StepStarted,
    run_title,
)
from installer.exits import UserError
from screens.base import WizardScreen, failure_of
from screens.hosttext import cell, markup_safe, plain
from screens.messages import RunEnded

if TYPE_CHECKING:
    from installer.events import Event

LOG_LINES_PER_STEP = 400  # enough to read a failure; bounded so 100+ hosts stay small
FLUSH_SECONDS = 0.1
STATUS_STYLE = {"running": "bold", "done": "green", "skipped": "dim green", "failed": "bold red"}


@dataclass
class StepRow:
    id: str
    title: str
    host: str | None
    status: str = "running"
    message: str = ""
    fraction: float | None = None
    error: str | None = None
    hint: str | None = None
    done_here: bool = False  # done by a run on this screen (a retry then finds it in place)
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES_PER_STEP))


@dataclass
class HostRow:
    """One host's share of the run, for the per-host table."""

    name: str
    total: int | None = None  # from the plan; None until known
    done: int = 0
    running: list[str] = field(default_factory=list)
    failed: str | None = None

    def cells(self) -> tuple[Text | str, ...]:
        total = "?" if self.total is None else str(self.total)
        # The host has its own column: the step ids lose their "@host" here. One column says
        # what the host is at (a failure first), wide enough for a whole step id at 80 columns.
        if self.failed:
            now = Text(f"failed {self.failed.split('@')[0]}", style="bold red")
        elif self.running:
            more = f" +{len(self.running) - 1}" if len(self.running) > 1 else ""
            now = Text(f"{self.running[-1].split('@')[0]}{more}")
        else:
            now = Text("-")
        style = "green" if self.total and self.done >= self.total else ""
        return (self.name, Text(f"{self.done}/{total}", style=style), now)


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "ETA --:--"
    minutes, secs = divmod(max(0, round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"ETA {hours}:{minutes:02}:{secs:02}" if hours else f"ETA {minutes}:{secs:02}"


class ProgressScreen(WizardScreen):
    NAME = "progress"
    TITLE_TEXT = "Installing"
    SHOW_BACK = False
    NEXT_LABEL = "Continue"
    HELP = """\
The install runs: the bar shows finished steps out of the plan, the table each step's status
(Up/Down select a step; the log pane then follows it; f follows the latest step again).
Below it, one row per host: steps done of its total, the step running there, the step that
failed there (Tab moves between the two tables; both scroll with 100+ hosts).
If a step fails, its error and a hint appear: fix the cause, then r resumes (finished steps
are not run again). Ctrl+Q stops the install; `sunbeam-install resume` continues it later."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "resume", "Resume"),
        Binding("f", "follow", "Follow latest"),
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    def __init__(self, *, autostart: bool = True) -> None:
        super().__init__()
        self.autostart = autostart
        self.rows: dict[str, StepRow] = {}
        self.order: list[str] = []
        self.dirty: set[str] = set()
        self.new_rows: list[str] = []
        self.total = 0
        self.already_done = 0
        self.finished = 0
        self.failed: list[str] = []
        self.selected: str | None = None  # None: follow the step that logged last
        self.shown_log: str | None = None
        self.pending_log: list[str] = []
        self.latest: str | None = None
        self.outcome: str | None = None
        self.started_at = time.monotonic()
        self.events_seen = 0
        self._user_moved = False
        self._followed: str | None = None  # the step the table's cursor was last moved to
        self.shown_failed_hosts = ""
        self.hosts: dict[str, HostRow] = {}
        self.new_hosts: list[str] = []
        self.dirty_hosts: set[str] = set()
        self.newly_failed_hosts: list[str] = []
        self.clock = time.monotonic  # tests replace it: no timing in tests
        # (when, seconds left then): set only when a step finishes, so the ETA counts down
        # while a step runs and never grows; None until a step has finished in this run.
        self.estimate: tuple[float, float] | None = None
        self.counted = -1  # steps finished when the bar was last updated

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="title", markup=True)
        with Horizontal(id="overall"):
            # The ETA is the screen's own (`_eta`): Textual's grows while a long step runs.
            yield ProgressBar(total=None, show_eta=False, id="bar")
            yield Static("", id="counts")
        steps: DataTable[Text | str] = DataTable(id="steps", cursor_type="row")
        yield steps
        hosts: DataTable[Text | str] = DataTable(id="host-progress", cursor_type="row")
        yield hosts
        yield Static("", id="failure")
        yield Log(id="log", max_lines=LOG_LINES_PER_STEP, auto_scroll=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#steps", DataTable)
        table.add_column("Step", key="step", width=34)
        table.add_column("Host", key="host", width=10)
        table.add_column("Status", key="status", width=8)
        table.add_column("Message", key="message")
        hosts = self.query_one("#host-progress", DataTable)
        hosts.add_column("Host", key="host", width=12)
        hosts.add_column("Done", key="done", width=8)
        hosts.add_column("Running now, or the step that failed", key="current", width=50)
        self.query_one("#failure").display = False
        self.set_interval(FLUSH_SECONDS, self.flush)
        table.focus()
        if self.autostart:
            self.start()

    def _title(self, *, not_started: bool = False) -> str:
        badge = "  [reverse] DRY RUN [/reverse]" if self.wizard.dry_run else ""
        if not_started:
            title = f"{self.wizard.RUN_NOUN.capitalize()} not started"
        else:
            title = "Upgrading" if self.wizard.RUN_NOUN == "upgrade" else self.TITLE_TEXT
        return f"[b]{title}[/b]{badge}"

    # -- the run ------------------------------------------------------------------------------

    def start(self) -> None:
        self.wizard.running = True
        self.wizard.failure_code = None
        self.outcome = None
        self.query_one("#failure").display = False
        self.query_one("#overall").display = True
        self.query_one("#title", Static).update(self._title())
        # exit_on_error=False: a failure shows here (on_run_ended, work_failed), the app stays.
        self.run_worker(self._run(), group="install", exclusive=True, exit_on_error=False)

    async def _run(self) -> None:
        import asyncio

        try:
            totals = await asyncio.to_thread(self.wizard.run_session.steps_per_host)
        except Exception:  # the totals are a nicety ("?" then); the run reports real problems
            totals = {}
        self.set_totals(totals)
        try:
            outcome = await self.wizard.run_session.run_to(self.feed)
        except UserError as e:  # the session's SessionError, or the run's (e.g. state locked)
            self.post_message(RunEnded("failed", str(e), int(e.code)))
            return
        self.post_message(RunEnded(outcome))

    def work_failed(self, error: BaseException) -> None:
        """The run's worker raised something other than a UserError: a bug, shown as such,
        its traceback in the log pane for the report."""
        import traceback

        message, code = failure_of(error)
        self.query_one("#log", Log).write_lines(
            "".join(traceback.format_exception(error)).splitlines())
        self.post_message(RunEnded("failed", message, code))

    def on_run_ended(self, message: RunEnded) -> None:
        self.wizard.running = False
        self.flush()
        self.outcome = message.outcome
        if message.error:
            # Nothing ran: no bar waiting for steps, and the title says so.
            self.wizard.failure_code = message.code
            self.query_one("#overall").display = False
            self.query_one("#title", Static).update(self._title(not_started=True))
            self._show_failure(f"[b red]The {self.wizard.RUN_NOUN} could not start:[/b red] "
                               f"{markup_safe(message.error)}\n[b]r[/b] tries again; "
                               "[b]Ctrl+Q[/b] quits.")
        elif message.outcome == "done":
            self.wizard.goto("done")
        elif not self.failed:
            self._show_failure(f"The {self.wizard.RUN_NOUN} ended: {message.outcome}. "
                               "r resumes it.")

    def action_resume(self) -> None:
        if self.wizard.running:
            return
        self.failed.clear()
        self.start()

    # -- events in ----------------------------------------------------------------------------

    def set_totals(self, totals: dict[str, int]) -> None:
        """Each host's number of steps in the plan, in the plan's order of hosts."""
        for name, total in totals.items():
            self._host(name).total = total

    def _host(self, name: str | None) -> HostRow:
        from installer.interactive.install import CLUSTER

        key = name or CLUSTER
        row = self.hosts.get(key)
        if row is None:
            row = self.hosts[key] = HostRow(key)
            self.new_hosts.append(key)
        self.dirty_hosts.add(key)
        return row

    def feed(self, event: Event) -> None:
        """Record one event; cheap and widget-free so any rate of events is fine."""
        self.events_seen += 1
        if isinstance(event, StepLog):
            row = self.rows.get(event.step)
            if row is not None:
                line = plain(event.line)  # a backend's output: control characters escaped
                row.log.append(line)
                if self._log_target() == event.step:
                    self.pending_log.append(line)
            return
        if isinstance(event, StepProgress):
            row = self.rows.get(event.step)
            if row is not None:
                row.message, row.fraction = event.message, event.fraction
                self.dirty.add(event.step)
            return
        if isinstance(event, StepStarted):
            row = self.rows.get(event.step)
            if row is None:
                row = self.rows[event.step] = StepRow(event.step, event.title, event.host)
                self.order.append(event.step)
                self.new_rows.append(event.step)
            if row.status != "running" or event.step not in self._host(row.host).running:
                self._host(row.host).running.append(event.step)
            row.status, row.message = "running", (
                f"attempt {event.attempt}" if event.attempt > 1 else "")
            self.latest = event.step
            self.dirty.add(event.step)
            return
        if isinstance(event, StepFinished):
            row = self.rows.get(event.step)
            if row is None:
                row = self.rows[event.step] = StepRow(event.step, event.step, None)
                self.order.append(event.step)
                self.new_rows.append(event.step)
            # A retry (r) is a new run: what the earlier one did comes back "skipped" (in
            # place), but on this screen it was done, and stays so.
            kept = row.done_here and event.outcome == "skipped"
            row.status = "done" if kept else event.outcome
            row.done_here = row.done_here or event.outcome == "done"
            row.error, row.hint = event.error, event.hint
            row.message = event.error or ""
            for line in map(plain, event.log_tail):
                if not row.log or row.log[-1] != line:
                    row.log.append(line)
            self.finished += 1
            host = self._host(row.host)
            if event.step in host.running:
                host.running.remove(event.step)
            if event.outcome == "failed":
                self.failed.append(event.step)
                if host.failed is None:
                    self.newly_failed_hosts.append(host.name)
                host.failed = host.failed or event.step
            else:
                host.done += 1
            self.dirty.add(event.step)
            return
        if isinstance(event, PlanStarted):
            # An install, a converge or an upgrade: the title says which.
            self.query_one("#title", Static).update(self.title_markup(run_title(event.kind)))
            self.total, self.already_done, self.finished = event.steps, event.already_done, 0
            self.started_at = self.clock()
            self.estimate, self.counted = None, -1
            # A retry runs the whole plan again (finished steps come back skipped): each
            # host's count starts over, so it never passes the host's total.
            for name, host in self.hosts.items():
                host.done, host.failed = 0, None
                host.running.clear()
                self.dirty_hosts.add(name)
            return
        if isinstance(event, PlanFinished):
            self.outcome = event.outcome

    # -- widgets out --------------------------------------------------------------------------

    def flush(self) -> None:
        """Apply what changed since the last flush, each thing once."""
        table = self.query_one("#steps", DataTable)
        for step in self.new_rows:
            r = self.rows[step]
            table.add_row(*self._cells(r), key=step)
        fresh = set(self.new_rows)
        self.new_rows.clear()
        for step in self.dirty - fresh:
            r = self.rows[step]
            for column, value in zip(("step", "host", "status", "message"), self._cells(r),
                                     strict=True):
                if column in ("status", "message"):
                    table.update_cell(step, column, value)
        self.dirty.clear()
        self._flush_hosts()
        self._flush_log()
        done = min(self.total, self.already_done + self.finished)
        if self.total and self.finished != self.counted:
            # Only when a step finishes: each update is a sample for the bar's own speed.
            self.query_one("#bar", ProgressBar).update(total=self.total, progress=done)
            self._estimate(done)
            self.counted = self.finished
        self.query_one("#counts", Static).update(self._counts())
        failed_hosts = self._failed_hosts()
        if failed_hosts != self.shown_failed_hosts:
            self.query_one("#title", Static).update(self._title() + failed_hosts)
            self.shown_failed_hosts = failed_hosts
        self._follow()
        if self.failed and not self.wizard.running:
            self._show_step_failure(self.failed[0])

    def _estimate(self, done: int) -> None:
        now = self.clock()
        left = self.total - done
        if self.finished and now > self.started_at:
            per_step = (now - self.started_at) / self.finished
            self.estimate = (now, left * per_step)

    def _eta(self) -> str:
        if not self.wizard.running and self.outcome is not None:
            return "stopped" if self.outcome != "done" else "finished"
        if self.estimate is None:
            return eta_text(None)
        at, left = self.estimate
        return eta_text(left - (self.clock() - at))

    def _counts(self) -> str:
        """One line beside the bar: counts and the ETA, short enough for 80 columns."""
        if not self.wizard.running and self.outcome is not None:
            return f"{self.already_done + self.finished}/{self.total or '?'} · {self._eta()}"
        running = sum(r.status == "running" for r in self.rows.values())
        return (f"{self.already_done + self.finished}/{self.total or '?'} · "
                f"{running} running · {self._eta()}")

    def _failed_hosts(self) -> str:
        """For the title line, which has the room: the hosts where a step failed."""
        hosts = sorted({self.rows[s].host or "cluster" for s in self.failed})
        if not hosts:
            return ""
        more = f" and {len(hosts) - 3} more" if len(hosts) > 3 else ""
        return f"  [b red]failed on {markup_safe(', '.join(hosts[:3]))}{more}[/b red]"

    def _follow(self) -> None:
        """Keep the step that matters in view: the first failed one, else (unless the operator
        moved) the latest started one. 100+ steps do not fit at 80x24."""
        target = self.failed[0] if self.failed else None
        if target is None and not self._user_moved:
            target = self.latest
        if target is None or target == self._followed or target not in self.rows:
            return
        table = self.query_one("#steps", DataTable)
        try:
            index = table.get_row_index(target)
        except Exception:  # not added yet: the next flush
            return
        table.move_cursor(row=index, scroll=True)
        self._followed = target

    def _flush_hosts(self) -> None:
        table = self.query_one("#host-progress", DataTable)
        for name in self.new_hosts:
            table.add_row(*self.hosts[name].cells(), key=name)
        fresh = set(self.new_hosts)
        self.new_hosts.clear()
        for name in self.dirty_hosts - fresh:
            for column, value in zip(("host", "done", "current"),
                                     self.hosts[name].cells(), strict=True):
                if column != "host":
                    table.update_cell(name, column, value)
        self.dirty_hosts.clear()
        if self.newly_failed_hosts:
            # With 100+ hosts the failed one must not hide below the fold: show it.
            table.move_cursor(row=table.get_row_index(self.newly_failed_hosts[0]))
            self.newly_failed_hosts.clear()

    def _log_target(self) -> str | None:
        """The step the log pane shows: the one selected, else the first failure, else the
        step that started last."""
        return self.selected or (self.failed[0] if self.failed else self.latest)

    def _flush_log(self) -> None:
        log = self.query_one("#log", Log)
        target = self._log_target()
        if target is None:
            return
        if target != self.shown_log:
            log.clear()
            log.write_lines(list(self.rows[target].log))
            self.shown_log = target
        elif self.pending_log:
            log.write_lines(self.pending_log)
        self.pending_log = []

    @staticmethod
    def _cells(r: StepRow) -> tuple[Text | str, ...]:
        message = r.message
        if r.status == "running" and r.fraction is not None:
            message = f"{r.fraction:4.0%} {message}"
        # The host has its own column: the id loses "@host" so it fits at 80 columns.
        step = r.id.split("@")[0] if r.host else r.id
        return (step, r.host or "", Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                cell(message.splitlines()[0] if message else ""))

    def _show_step_failure(self, step: str) -> None:
        r = self.rows[step]
        hint = f"\n[b]Hint:[/b] {markup_safe(r.hint)}" if r.hint else ""
        self._show_failure(f"[b red]Failed:[/b red] {escape(r.id)}: {markup_safe(r.error)}{hint}"
                           "\n[b]r[/b] resumes after you fix the cause.")

    def _show_failure(self, markup: str) -> None:
        panel = self.query_one("#failure", Static)
        panel.update(markup)
        if not panel.display:
            panel.display = True
            # The panel takes rows from the step table: bring its cursor back into view.
            self.call_after_refresh(self._cursor_into_view)

    def _cursor_into_view(self) -> None:
        table = self.query_one("#steps", DataTable)
        table.move_cursor(row=table.cursor_row, scroll=True)

    # -- selection ----------------------------------------------------------------------------

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key in ("up", "down", "pageup", "pagedown", "home", "end"):
            self._user_moved = True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Only the step table selects what the log follows; the host table's rows are hosts.
        if self._user_moved and event.data_table.id == "steps":
            self.selected = str(event.row_key.value)

    def action_follow(self) -> None:
        self.selected = None
        self._user_moved = False
        self._followed = None

    def action_next(self) -> None:
        if self.outcome == "done":
            self.wizard.goto("done")
