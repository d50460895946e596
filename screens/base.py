"""The frame every wizard screen shares: title, body, Back/Next, F1 help, quit with confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Static
from textual.worker import Worker, WorkerState

from installer.exits import UserError

if TYPE_CHECKING:
    from textual.timer import Timer

    from installer.interactive.install import Session
    from installer.interactive.upgrade import UpgradeSession
    from screens.app import WizardApp


# An error that is not a UserError is a bug: the headless command line ends on it with a
# traceback, which is Python's exit status 1.
UNEXPECTED_ERROR_CODE = 1


def failure_of(error: BaseException) -> tuple[str, int]:
    """What to show for background work that raised `error`, and the exit code it means.

    A UserError (SessionError included) is shown as it is and keeps its own code, as headless
    mode prints it and exits with it; anything else is an unexpected error, named by its type."""
    if isinstance(error, UserError):
        return str(error), int(error.code)
    lines = str(error).strip().splitlines()
    what = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return (f"Unexpected error ({what}). This is a bug in sunbeam-install: please report it "
            "with this message.", UNEXPECTED_ERROR_CODE)


class WizardScreen(Screen[None]):
    """One step of the guided install. Subclasses fill `body()`, `store()` and `problem()`."""

    TITLE_TEXT: ClassVar[str] = ""
    HELP: ClassVar[str] = ""
    NAME: ClassVar[str] = ""
    # F1 on a widget whose id (or an ancestor's) is here explains that widget: (name, text).
    WIDGET_HELP: ClassVar[dict[str, tuple[str, str]]] = {}
    SHOW_BACK: ClassVar[bool] = True
    NEXT_LABEL: ClassVar[str] = "Next"
    _why_timer: Timer | None = None  # rechecks the shown reason Next refused, while shown

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "next", "Next"),
        Binding("escape", "back", "Back"),
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # No "esc Back" in the footer where there is nothing to go back to (Welcome, Done).
        return self.SHOW_BACK or action != "back"

    @property
    def wizard(self) -> WizardApp:
        # The app module imports the screens; asking it here would tie the two in a cycle.
        return cast("WizardApp", self.app)

    @property
    def session(self) -> Session:
        """The install session (install screens only; the upgrade screens have their own)."""
        from installer.interactive.install import Session

        session = getattr(self.app, "session", None)
        assert isinstance(session, Session)
        return session

    def title_markup(self, title: str) -> str:
        """The screen's title line: `title`, and the dry-run badge in a dry run."""
        badge = "  [reverse] DRY RUN [/reverse]" if self.wizard.dry_run else ""
        return f"[b]{title}[/b]{badge}"

    def compose(self) -> ComposeResult:
        yield Static(self.title_markup(self.TITLE_TEXT), id="title", markup=True)
        yield from self.body()
        with Vertical(id="notes-dock"):
            # Why Next cannot go on yet: whole (the status line is too short at 80 columns),
            # in the flow (a toast would cover Next), cleared as soon as it is fixed.
            yield Static("", id="why", markup=False)
            notes = self.prefill_notes()
            if notes:
                from rich.markup import escape

                yield Static("[b]From the answers file:[/b] " + escape(" ".join(notes)),
                             id="prefill-notes", markup=True)
        with Horizontal(id="nav"):
            if self.SHOW_BACK:
                yield Button("Back", id="back", compact=True)
            yield Static("", id="nav-status")
            yield Button(self.NEXT_LABEL, id="next", variant="primary", compact=True)
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    def prefill_notes(self) -> list[str]:
        """What a partial --answers file got wrong or left out that this screen asks for."""
        from installer.interactive.install import Session

        session = getattr(self.app, "session", None)
        if not isinstance(session, Session) or not self.NAME:
            return []
        return [n.message for n in session.problems_for(self.NAME)]

    def store(self) -> None:
        """Write what the screen shows into the session's draft."""

    def problem(self) -> str | None:
        """Why the operator cannot go on yet (one sentence), or None."""
        return None

    def set_status(self, text: str) -> None:
        self.query_one("#nav-status", Static).update(text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker of this screen that raised is shown, never lost.

        Workers started with exit_on_error=False end silently on an exception unless this
        message is handled: the screen would wait forever. (With exit_on_error, the app itself
        stops on the error with its traceback.)"""
        if event.state != WorkerState.ERROR or event.worker.exit_on_error:
            return
        error = event.worker.error
        if error is not None:
            self.log.error(f"worker {event.worker.name!r} failed: {error!r}")
            self.work_failed(error)

    def work_failed(self, error: BaseException) -> None:
        """Show that this screen's background work failed with `error`; quitting then exits
        with its code. Screens with their own place for the message override this."""
        from rich.markup import escape

        message, code = failure_of(error)
        self.wizard.failure_code = code
        for status in self.query("#nav-status").results(Static):  # none on Progress
            status.update(f"[b]{escape(message)}[/b]")
        self.notify(message, severity="error", timeout=10)

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
            self.show_why(why)
            return
        self.wizard.next_screen(self.NAME)

    def show_why(self, why: str | None) -> None:
        """Say why Next cannot go on (None: clear it); while it shows, it is checked again
        twice a second, so it goes (or changes) as the operator fixes the screen."""
        for widget in self.query("#why").results(Static):
            widget.update(why or "")
            widget.display = bool(why)
        if why and self._why_timer is None:
            self._why_timer = self.set_interval(0.5, self._recheck_why)
        elif not why and self._why_timer is not None:
            self._why_timer.stop()
            self._why_timer = None

    def _recheck_why(self) -> None:
        self.store()
        self.show_why(self.problem())

    def action_back(self) -> None:
        if not self.SHOW_BACK:
            return
        self.store()
        self.wizard.previous_screen(self.NAME)

    def focused_help(self) -> tuple[str, str] | None:
        """(name, text) of the help for the focused widget, or None for the screen's help."""
        node = self.focused
        while node is not None and node is not self:
            if node.id and node.id in self.WIDGET_HELP:
                return self.WIDGET_HELP[node.id]
            node = node.parent  # type: ignore[assignment]
        return None

    def action_help(self) -> None:
        from screens.dialogs import HelpDialog

        widget = self.focused_help()
        if widget is None:
            self.app.push_screen(HelpDialog(self.TITLE_TEXT, self.HELP))
            return
        name, text = widget
        self.app.push_screen(HelpDialog(
            f"{self.TITLE_TEXT}: {name}",
            f"{text}\n\n(F1 away from this field shows the help of the whole screen.)"))


class UpgradeWizardScreen(WizardScreen):
    """One step of the guided upgrade: talks to the app's UpgradeSession."""

    @property
    def upgrade(self) -> UpgradeSession:
        from installer.interactive.upgrade import UpgradeSession

        upgrade = getattr(self.app, "upgrade", None)
        assert isinstance(upgrade, UpgradeSession)
        return upgrade


class SummaryScreen(WizardScreen):
    """The last screen of a run: a summary of what was done and what next; Enter leaves."""

    SHOW_BACK = False
    NEXT_LABEL = "Exit"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "next", "Exit")]

    def summary_lines(self) -> list[str]:
        """The summary, one markup line each."""
        return []

    def body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static("\n".join(self.summary_lines()), markup=True, id="summary")

    def on_mount(self) -> None:
        self.query_one("#next").focus()

    def action_next(self) -> None:
        self.app.exit(0)
