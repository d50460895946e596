"""Review: the answers as YAML, the findings (errors block, warnings need an explicit accept),
the plan summary, and saving the answers file headless mode accepts unchanged."""

from __future__ import annotations

import asyncio
from pathlib import Path

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


class ReviewScreen(WizardScreen):
    NAME = "review"
    TITLE_TEXT = "Review"
    NEXT_LABEL = "Install"
    HELP = """\
Check the answers before anything changes. Errors must be fixed (go Back to the screen named
in the finding). Warnings must be accepted with the checkbox before Install is allowed.
Save writes the answers file: `sunbeam-install --answers FILE` repeats this install headless."""

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[Notice] = []
        self.checked = False

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
        self.notices = message.notices
        self.checked = True
        self.query_one("#findings", Static).update(findings_markup(message.notices))
        warnings = any(n.severity == "warning" for n in message.notices)
        accept = self.query_one("#accept", Checkbox)
        accept.display = warnings
        accept.value = warnings and self.session.accepted_warnings
        if message.summary is not None:
            plan = summary_text(message.summary)
        elif message.summary_error:
            plan = message.summary_error
        else:
            plan = "No plan until the errors are fixed."
        self.query_one("#plan", Static).update(plan)
        self._update_install()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "accept":
            self.session.accepted_warnings = event.value
            self._update_install()

    def _update_install(self) -> None:
        self.query_one("#next", Button).disabled = self.problem() is not None
        why = self.problem()
        self.set_status(why or "Ready to install.")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            event.stop()
            self.action_save()
            return
        super().on_button_pressed(event)

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

    def problem(self) -> str | None:
        if not self.checked:
            return "Checking the answers; wait a moment."
        if has_errors(self.notices):
            return "Fix the errors above before installing (Esc goes back)."
        warnings = any(n.severity == "warning" for n in self.notices)
        if warnings and not self.session.accepted_warnings:
            return "Accept the warnings with the checkbox before installing."
        return None

    def action_next(self) -> None:
        why = self.problem()
        if why:
            self.show_why(why)
            return
        self.wizard.goto("progress")
