"""Review: the answers as YAML, the findings (errors block, warnings need an explicit accept),
the plan summary, and saving the answers file headless mode accepts unchanged."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.markup import escape
from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Static

from installer.exits import UserError
from installer.interactive.install import PlanSummary
from installer.interactive.notices import Notice, has_errors
from screens.base import WizardScreen
from screens.messages import ReviewReady
from screens.toggles import GlyphCheckbox

STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def findings_markup(notices: list[Notice]) -> str:
    from screens.hosttext import markup_safe

    if not notices:
        return "[green]✓ No findings: the answers pass every check.[/green]"
    lines = []
    for n in notices:
        lines.append(f"[{STYLE[n.severity]}]{markup_safe(n.line())}[/]")
    return "\n".join(lines)


def summary_text(s: PlanSummary) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(s.by_kind.items()))
    return f"{s.steps} steps on {s.hosts} host{'s' if s.hosts != 1 else ''}: {kinds}"


class ChecksScreen(WizardScreen):
    """A screen whose checks gate a run: their findings, a checkbox to accept the warnings
    (kept in the session), and Next (to Progress) only once the checks have run, found no
    error, nothing else blocks (`blocked`) and the warnings are accepted. The body has
    #findings and #accept."""

    WAITING = "Checking the answers; wait a moment."
    FIX_ERRORS = "Fix the errors above before installing (Esc goes back)."
    ACCEPT = "Accept the warnings with the checkbox before installing."
    READY = "Ready to install."

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[Notice] = []
        self.checked = False

    def show_findings(self, notices: list[Notice]) -> None:
        """The checks' findings; the accept checkbox shows while there are warnings."""
        self.notices, self.checked = notices, True
        self.query_one("#findings", Static).update(findings_markup(notices))
        warnings = any(n.severity == "warning" for n in notices)
        accept = self.query_one("#accept", Checkbox)
        accept.display = warnings
        accept.value = warnings and self.session.accepted_warnings

    def blocked(self) -> str | None:
        """What else stops the run once there is no error (one sentence), or None."""
        return None

    def problem(self) -> str | None:
        if not self.checked:
            return self.WAITING
        if has_errors(self.notices):
            return self.FIX_ERRORS
        why = self.blocked()
        if why is not None:
            return why
        warnings = any(n.severity == "warning" for n in self.notices)
        if warnings and not self.session.accepted_warnings:
            return self.ACCEPT
        return None

    def update_next(self) -> None:
        """Next enabled or not, and the status line saying why (or that it is ready)."""
        why = self.problem()
        self.query_one("#next", Button).disabled = why is not None
        self.set_status(escape(why) if why else self.READY)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "accept":
            self.session.accepted_warnings = event.value
            self.update_next()

    def action_next(self) -> None:
        why = self.problem()
        if why:
            self.show_why(why)
            return
        self.wizard.goto("progress")


class ReviewScreen(ChecksScreen):
    NAME = "review"
    TITLE_TEXT = "Review"
    NEXT_LABEL = "Install"
    HELP = """\
Check the answers before anything changes. Errors must be fixed (go Back to the screen named
in the finding). Warnings must be accepted with the checkbox before Install is allowed.
Save writes the answers file: `sunbeam-install --answers FILE` repeats this install headless."""

    def body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static("[b]Findings[/b]", markup=True)
            yield Static("Checking…", id="findings")
            yield GlyphCheckbox("I have read the warnings and accept them", False, id="accept",
                           compact=True)
            yield Static("[b]Plan[/b]", markup=True)
            yield Static("Planning…", id="plan")
            with Horizontal(id="save-row"):
                yield Input(value=str(self._default_path()), id="save-path")
                yield Button("Save answers", id="save", compact=True)
            yield Static("", id="save-result")
            yield Static("[b]Answers[/b]", markup=True)
            yield Static(Syntax(self.session.draft.to_yaml(), "yaml", theme="ansi_dark",
                                background_color="default"), id="yaml")

    def _default_path(self) -> Path:
        return self.session.state_dir / "answers.yaml"

    def on_mount(self) -> None:
        self.query_one("#accept").display = False
        self.query_one("#next", Button).disabled = True
        self.run_worker(self._check(), group="review", exclusive=True)

    async def _check(self) -> None:
        # Validation and planning run in a thread: on hundreds of hosts they take a while.
        notices = await asyncio.to_thread(self.session.validate)
        summary, error = None, None
        if not has_errors(notices):
            try:
                summary = await asyncio.to_thread(self.session.plan_summary)
            except UserError as e:
                error = str(e)
        self.post_message(ReviewReady(notices, summary, error))

    def on_review_ready(self, message: ReviewReady) -> None:
        self.show_findings(message.notices)
        if message.summary is not None:
            plan = summary_text(message.summary)
        elif message.summary_error:
            plan = message.summary_error
        else:
            plan = "No plan until the errors are fixed."
        self.query_one("#plan", Static).update(plan)
        self.update_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            event.stop()
            self.action_save()
        # Next and Back: WizardScreen's own handler runs next (Textual calls each
        # class's handler along the MRO, so calling super() here would run it twice).

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "save-path":
            self.action_save()

    def action_save(self) -> None:
        path = Path(self.query_one("#save-path", Input).value.strip() or self._default_path())
        result = self.query_one("#save-result", Static)
        try:
            written = self.session.save_answers(path)
        except UserError as e:
            result.update(f"[red]{e}[/red]")
            return
        result.update(f"[green]Saved to {written}[/green]")
