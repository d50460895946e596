"""Done: where the cloud is, where the admin credentials are, what to do next, the log; and
Verify, which proves the cloud works (`sunbeam-install verify`) without leaving the screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from installer.interactive.commands import command_line
from screens.base import SummaryScreen

if TYPE_CHECKING:
    from installer.events import Event, StepFinished
    from installer.pipeline.verify import VerifySummary

CLEANUP = "verify.cleanup:"
MARKS = {"done": "[green]✓[/green]", "skipped": "[green]✓[/green]", "failed": "[red]✗[/red]"}


class DoneScreen(SummaryScreen):
    NAME = "done"
    TITLE_TEXT = "Done"
    HELP = ("The cloud is deployed. Verify (v) proves it works, as Sunbeam's configure and launch "
            "do: the API endpoints answer, the compute services are up, and a test instance on "
            "a test network boots and is reached; everything it creates is deleted after. "
            "Enter or Ctrl+N leaves the installer.")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("v", "verify", "Verify")]

    DEFAULT_CSS = """
    #verify-status { margin-top: 1; }
    #nav #verify { margin-right: 2; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._openrc: Path | str | None = None
        self._titles: dict[str, str] = {}
        self._cleaned: list[StepFinished] = []
        self.verifying = False

    def openrc(self) -> Path | str:
        """The openrc written in the state dir, or why it could not be (said on the screen)."""
        if self._openrc is None:
            from installer.pipeline.openrc import write_openrc

            try:
                self._openrc = write_openrc(self.session.state_dir, self.session.answers())
            except (OSError, ValueError) as e:
                self._openrc = f"(not written: {e})"
        return self._openrc

    def summary_lines(self) -> list[str]:
        s = self.session
        url = s.dashboard_url() or "(the first address of the load-balancer range)"
        headline = ("The changes are applied: the cloud matches the answers."
                    if s.converging else "The cloud is deployed.")
        lines = [
            f"[b green]{headline}[/b green]" + (" (dry run: in the simulated lab)"
                                                if s.dry_run else ""),
            "",
            f"Dashboard:          {escape(url)}",
            f"Admin password:     {escape(str(s.credentials_file()))} (mode 0600)",
            f"openrc:             {escape(str(self.openrc()))} (reads that password file)",
            f"Log of this run:    {escape(str(s.log_path or s.state_dir / 'logs'))}",
        ]
        if s.saved_answers:
            lines.append(f"Answers file:       {escape(str(s.saved_answers))}")
        lines += [
            "",
            "[b]Next steps[/b]",
            "  log in to the dashboard as admin (domain admin_domain) with that password",
            "  prove the cloud works: Verify (v) here, or later",
            f"    {escape(command_line(s.settings, 'verify'))}",
            "  what the last run did:",
            f"    {escape(command_line(s.settings, 'status'))}",
            "  move to a newer OpenStack release later:",
            f"    {escape(command_line(s.settings, 'upgrade'))}",
        ]
        return lines

    def body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static("\n".join(self.summary_lines()), markup=True, id="summary")
            yield Static("", id="verify-status", markup=True)
            yield Static("", id="verify-results", markup=True)

    def on_mount(self) -> None:
        # Beside Exit, so it is in sight at 80x24 however long the summary's paths are.
        self.query_one("#nav").mount(Button("Verify", id="verify", compact=True),
                                     before="#next")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "verify":
            event.stop()
            self.action_verify()
        # Next and Back: WizardScreen's own handler runs next (Textual calls each
        # class's handler along the MRO, so calling super() here would run it twice).

    def action_verify(self) -> None:
        if self.verifying:
            return
        self.verifying = True
        self.query_one("#verify", Button).disabled = True
        self.query_one("#verify-status", Static).update("verifying…")
        self.query_one("#verify-results", Static).update("")
        self._cleaned.clear()
        self._verify()

    @work(exclusive=True, exit_on_error=False, group="verify")
    async def _verify(self) -> None:
        from installer.pipeline.verify import VerifySummary, verify_events

        rows: dict[str, str] = {}
        try:
            async for item in verify_events(self.session.settings):
                if isinstance(item, VerifySummary):
                    self._summarise(item, rows)
                else:
                    self._show(item, rows)
        finally:
            self.verifying = False
            self.query_one("#verify", Button).disabled = False

    def _show(self, event: Event, rows: dict[str, str]) -> None:
        """One line per check: its mark, title, and its error and hint when it failed; the
        cleanup steps share one line (what they could not delete is said under it)."""
        from installer.events import StepFinished, StepProgress, StepStarted
        from installer.text import neutralise

        if isinstance(event, StepProgress):
            self.query_one("#verify-status", Static).update(
                escape(neutralise(event.message))[:70])
            return
        if not isinstance(event, StepStarted | StepFinished):
            return
        cleanup = event.step.startswith(CLEANUP)
        key = CLEANUP if cleanup else event.step
        if isinstance(event, StepStarted):
            self._titles[event.step] = event.title
            rows.setdefault(key, f"  [dim]…[/dim] {escape(event.title)}")
        else:
            if cleanup:
                self._cleaned.append(event)
                failed = [e for e in self._cleaned if e.outcome == "failed"]
                started = sum(1 for step in self._titles if step.startswith(CLEANUP))
                mark = (MARKS["failed"] if failed else MARKS["done"]
                        if len(self._cleaned) == started else "[dim]…[/dim]")
                line = (f"  {mark} Delete what verify created ({len(self._cleaned)} of "
                        f"{started} steps)")
                for e in failed:
                    line += f"\n      {escape(neutralise(e.error or ''))}"
            else:
                title = escape(self._titles.get(event.step, event.step))
                line = f"  {MARKS.get(event.outcome, '?')} {title}"
                if event.error:
                    line += f"\n      {escape(neutralise(event.error))}"
                if event.hint:
                    line += f"\n      [dim]{escape(neutralise(event.hint))}[/dim]"
            rows[key] = line
        self.query_one("#verify-results", Static).update("\n".join(rows.values()))
        # The newest result in sight at 80x24: the summary above scrolls away.
        self.query_one("#body", VerticalScroll).scroll_end(animate=False)

    def _summarise(self, summary: VerifySummary, rows: dict[str, str]) -> None:
        from installer.text import neutralise

        status = self.query_one("#verify-status", Static)
        if summary.outcome == "done":
            reached = "; ".join(summary.reached)
            status.update(f"[b green]The cloud works:[/b green] {escape(neutralise(reached))}")
        else:
            left = ("; left in the cloud: " + "; ".join(summary.left)) if summary.left else (
                "; what it created was deleted")
            status.update(f"[b red]Verify {summary.outcome}[/b red]{escape(left)}; log: "
                          f"{escape(str(summary.log_path))}")
