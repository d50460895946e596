"""The frame every wizard screen shares: title, body, Back/Next, F1 help, quit with confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

if TYPE_CHECKING:
    from installer.session import Session
    from screens.app import InstallerApp


class WizardScreen(Screen[None]):
    """One step of the guided install. Subclasses fill `body()`, `store()` and `problem()`."""

    TITLE_TEXT: ClassVar[str] = ""
    HELP: ClassVar[str] = ""
    NAME: ClassVar[str] = ""
    SHOW_BACK: ClassVar[bool] = True
    NEXT_LABEL: ClassVar[str] = "Next"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "next", "Next"),
        Binding("escape", "back", "Back"),
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    @property
    def wizard(self) -> InstallerApp:
        from screens.app import InstallerApp

        assert isinstance(self.app, InstallerApp)
        return self.app

    @property
    def session(self) -> Session:
        return self.wizard.session

    def compose(self) -> ComposeResult:
        badge = "  [reverse] DRY RUN [/reverse]" if self.wizard.session.dry_run else ""
        yield Static(f"[b]{self.TITLE_TEXT}[/b]{badge}", id="title", markup=True)
        yield from self.body()
        with Horizontal(id="nav"):
            if self.SHOW_BACK:
                yield Button("Back", id="back", compact=True)
            yield Static("", id="nav-status")
            yield Button(self.NEXT_LABEL, id="next", variant="primary", compact=True)
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    def store(self) -> None:
        """Write what the screen shows into the session's draft."""

    def problem(self) -> str | None:
        """Why the operator cannot go on yet (one sentence), or None."""
        return None

    def set_status(self, text: str) -> None:
        self.query_one("#nav-status", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "next":
            event.stop()
            self.action_next()
        elif event.button.id == "back":
            event.stop()
            self.action_back()

    def action_next(self) -> None:
        self.store()
        why = self.problem()
        if why:
            self.set_status(f"[b]{why}[/b]")
            self.notify(why, severity="error", timeout=6)
            return
        self.wizard.next_screen(self.NAME)

    def action_back(self) -> None:
        if not self.SHOW_BACK:
            return
        self.store()
        self.wizard.previous_screen(self.NAME)

    def action_help(self) -> None:
        from screens.dialogs import HelpDialog

        self.app.push_screen(HelpDialog(self.TITLE_TEXT, self.HELP))
