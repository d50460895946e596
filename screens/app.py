"""The guided installer's Textual app: one factory for the CLI and the tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Protocol

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from installer.interactive.install import Session

if TYPE_CHECKING:
    from installer.events import Event, PlanFinished
    from installer.pipeline.settings import RunSettings
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


class RunSession(Protocol):
    """What the Progress and Done screens need of a run, install or upgrade alike."""

    @property
    def dry_run(self) -> bool: ...

    settings: RunSettings
    log_path: str | None
    last_outcome: str | None
    last_finished: PlanFinished | None

    async def run_to(self, on_event: Callable[[Event], None]) -> str: ...

    def steps_per_host(self) -> dict[str, int]: ...


class WizardApp(App[int]):
    """A guided flow of screens (install or upgrade). Returns the exit code (0 done, 3 failed,
    130 quit while running; a failure shown on a screen: its code, e.g. 4 when the state dir is
    locked)."""

    CSS_PATH = "installer.tcss"
    TITLE = "sunbeam-install"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]
    ORDER: ClassVar[tuple[str, ...]] = ORDER
    RUN_NOUN: ClassVar[str] = "install"  # what Progress and the quit dialog call the run

    def __init__(self, run_session: RunSession, *, start: str, linux_console: bool = False,
                 ansi_color: bool | None = None) -> None:
        super().__init__(ansi_color=ansi_color if ansi_color is not None else linux_console)
        self.run_session = run_session  # what the Progress screen runs: install or upgrade
        self.start = start
        self.linux_console = linux_console
        self.running = False  # a run is under way (quitting then means "interrupted")
        # The exit code of the failure a screen shows (a UserError's code, as headless mode
        # would end with): quitting then ends with it. None while no failure is shown.
        self.failure_code: int | None = None
        self.current = start

    @property
    def dry_run(self) -> bool:
        return self.run_session.dry_run

    def make_screen(self, name: str) -> Screen[None]:
        return _screen_factory(name)()

    def on_mount(self) -> None:
        if self.linux_console:
            # The Linux console has 8/16 colours only: the ANSI theme keeps text readable.
            self.theme = "ansi-dark"
        self.push_screen(self.make_screen(self.start))

    def goto(self, name: str) -> None:
        self.current = name
        self.switch_screen(self.make_screen(name))

    def next_screen(self, current: str) -> None:
        i = self.ORDER.index(current)
        if i + 1 < len(self.ORDER):
            self.goto(self.ORDER[i + 1])

    def previous_screen(self, current: str) -> None:
        i = self.ORDER.index(current)
        if i > 0:
            self.goto(self.ORDER[i - 1])

    async def action_quit(self) -> None:
        from screens.dialogs import ConfirmQuit

        if isinstance(self.screen, ConfirmQuit):
            return

        def decided(quit_: bool | None) -> None:
            if quit_:
                if self.running:
                    self.exit(130)
                elif self.failure_code is not None:
                    self.exit(self.failure_code)
                else:
                    self.exit(3 if self.run_session.last_outcome == "failed" else 0)

        self.push_screen(ConfirmQuit(self.quit_question()), decided)

    def quit_question(self) -> str:
        """The quit dialog's text: what quitting now leaves behind, and how to go on."""
        from installer.interactive.commands import command_line
        from installer.interactive.install import stopped_run_text

        noun, run = self.RUN_NOUN, self.run_session
        if self.running:
            return (f"Quit while the {noun} runs? Running steps are stopped; what finished "
                    f"stays on the hosts. Continue later with: "
                    f"{command_line(run.settings, 'resume')}")
        if run.last_outcome in ("failed", "interrupted"):
            return f"Quit? {stopped_run_text(run, noun)}"
        if run.last_outcome == "done":
            return f"Quit? The {noun} is done."
        wizard = "installer" if noun == "install" else f"{noun} wizard"
        return (f"Quit the {wizard}? Nothing has been changed on any host"
                + (" (this is a dry run)." if run.dry_run else "."))


class InstallerApp(WizardApp):
    """The guided install."""

    def __init__(self, session: Session, *, start: str = "welcome", linux_console: bool = False,
                 ansi_color: bool | None = None) -> None:
        super().__init__(session, start=start, linux_console=linux_console,
                         ansi_color=ansi_color)
        self.session = session


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
        from installer.interactive.draft import Draft

        session.draft = Draft.from_answers(prefill)
        session.prefilled = True
    if linux_console is None:
        linux_console = os.environ.get("TERM", "") == "linux"
    return InstallerApp(session, start=start, linux_console=linux_console, ansi_color=ansi_color)


def run_tui(settings: RunSettings, *, answers_path: str | None = None) -> int:
    """The CLI's entry to the guided installer (`sunbeam-install` on a capable terminal)."""
    from installer.exits import Exit

    prefill = None
    partial: object = None
    if answers_path:
        from manifests.loader import AnswersError, load_answers

        try:
            prefill = load_answers(answers_path)
        except AnswersError:
            # A partial file (only hosts and network, say) still prefills what it has; what
            # is missing or wrong is shown on the screen that asks for it.
            partial = _read_yaml(answers_path)
            if partial is None:
                return int(Exit.INVALID)
        except OSError as e:
            print(f"sunbeam-install: cannot read the answers file {answers_path!r} "
                  f"({e.strerror}); check the path.", file=sys.stderr)
            return int(Exit.INVALID)
    session = Session(settings, prefill=prefill)
    if partial is not None:
        session.prefill_partial(partial)
    app = create_app(session, prefill=prefill)
    code = app.run()
    if session.saved_answers:
        print(f"Answers saved to {session.saved_answers}")
    print_leaving(session, code)
    return int(code if code is not None else 0)


def print_leaving(run: RunSession, code: int | None, noun: str = "install") -> None:
    """What headless mode prints at the end, printed when the TUI leaves: the log and, for a
    run that did not finish (failed, or quit while it ran), the command that continues it."""
    from installer.interactive.install import stopped_run_text

    if run.log_path:
        print(f"Log: {run.log_path}")
    if run.log_path and (run.last_outcome in ("failed", "interrupted") or code == 130):
        print(stopped_run_text(run, noun))


def _read_yaml(path: str) -> object:
    """The file's YAML for a partial prefill; None (after saying why) when it is not YAML."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as e:
        print(f"sunbeam-install: cannot read the answers file {path!r} ({e.strerror}); "
              "check the path.", file=sys.stderr)
        return None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        print(f"sunbeam-install: {path}{where}: not valid YAML ({getattr(e, 'problem', e)}); "
              "fix the file or start without --answers.", file=sys.stderr)
        return None
    return {} if data is None else data
