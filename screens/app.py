"""The guided installer's Textual app: one factory for the CLI and the tests."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from installer.session import Session

if TYPE_CHECKING:
    from manifests.answers import Answers

# The wizard's order; Back and Next walk it. Progress and Done come after Review's Install.
ORDER: tuple[str, ...] = (
    "welcome", "hosts", "roles", "network", "storage", "options", "review",
)


def _screen_factory(name: str) -> Callable[[], Screen[None]]:
    # Imported on demand: the first screen must appear fast (DESIGN.md start-up cost).
    def make() -> Screen[None]:
        if name == "welcome":
            from screens.welcome import WelcomeScreen

            return WelcomeScreen()
        if name == "hosts":
            from screens.hosts import HostsScreen

            return HostsScreen()
        if name == "roles":
            from screens.roles import RolesScreen

            return RolesScreen()
        if name == "network":
            from screens.network import NetworkScreen

            return NetworkScreen()
        if name == "storage":
            from screens.storage import StorageScreen

            return StorageScreen()
        if name == "options":
            from screens.options import OptionsScreen

            return OptionsScreen()
        if name == "review":
            from screens.review import ReviewScreen

            return ReviewScreen()
        if name == "progress":
            from screens.progress import ProgressScreen

            return ProgressScreen()
        if name == "done":
            from screens.done import DoneScreen

            return DoneScreen()
        raise KeyError(name)

    return make


class InstallerApp(App[int]):
    """The guided install. Returns the exit code (0 done, 3 failed, 130 quit while running)."""

    CSS_PATH = "installer.tcss"
    TITLE = "sunbeam-install"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, session: Session, *, start: str = "welcome", linux_console: bool = False,
                 ansi_color: bool | None = None) -> None:
        super().__init__(ansi_color=ansi_color if ansi_color is not None else linux_console)
        self.session = session
        self.start = start
        self.linux_console = linux_console
        self.running = False  # an install is under way (quitting then means "interrupted")
        self.current = start

    def on_mount(self) -> None:
        if self.linux_console:
            # The Linux console has 8/16 colours only: the ANSI theme keeps text readable.
            self.theme = "ansi-dark"
        self.push_screen(_screen_factory(self.start)())

    def goto(self, name: str) -> None:
        self.current = name
        self.switch_screen(_screen_factory(name)())

    def next_screen(self, current: str) -> None:
        i = ORDER.index(current)
        if i + 1 < len(ORDER):
            self.goto(ORDER[i + 1])

    def previous_screen(self, current: str) -> None:
        i = ORDER.index(current)
        if i > 0:
            self.goto(ORDER[i - 1])

    async def action_quit(self) -> None:
        from screens.dialogs import ConfirmQuit

        if isinstance(self.screen, ConfirmQuit):
            return

        def decided(quit_: bool | None) -> None:
            if quit_:
                if self.running:
                    self.exit(130)
                else:
                    self.exit(3 if self.session.last_outcome == "failed" else 0)

        self.push_screen(ConfirmQuit(self.running), decided)


def create_app(
    session: Session,
    *,
    prefill: Answers | None = None,
    start: str = "welcome",
    linux_console: bool | None = None,
    ansi_color: bool | None = None,
) -> InstallerApp:
    """The app for `session`; `prefill` (from --answers) fills every screen's fields."""
    if prefill is not None:
        from installer.session import Draft

        session.draft = Draft.from_answers(prefill)
        session.prefilled = True
    if linux_console is None:
        linux_console = os.environ.get("TERM", "") == "linux"
    return InstallerApp(session, start=start, linux_console=linux_console, ansi_color=ansi_color)


def run_tui(args: argparse.Namespace) -> int:
    """The CLI's entry to the guided installer (`sunbeam-install` on a capable terminal)."""
    from installer.exits import Exit

    prefill = None
    answers_path = getattr(args, "answers", None)
    if answers_path:
        from manifests.loader import AnswersError, load_answers

        try:
            prefill = load_answers(answers_path)
        except AnswersError as e:
            print(f"sunbeam-install: {e}", file=sys.stderr)
            return int(Exit.INVALID)
    session = Session.from_args(args, prefill=prefill)
    app = create_app(session, prefill=prefill)
    code = app.run()
    if session.saved_answers:
        print(f"Answers saved to {session.saved_answers}")
    if session.log_path:
        print(f"Log: {session.log_path}")
    return int(code if code is not None else 0)
