"""The guided installer's Textual app: one factory for the CLI and the tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Protocol

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

from installer.interactive.install import Session

if TYPE_CHECKING:
    from installer.events import Event, PlanFinished
    from installer.pipeline.follow import RunControl
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
    control: RunControl | None  # the run in its own process: detach from it or stop it

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
        # Ctrl+C as in headless mode: asks (while a run runs: stop it, or leave it running).
        Binding("ctrl+c", "quit", "Quit", priority=True, show=False),
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
        self.detached_pid: int | None = None  # left running in its own process (pid)

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

        if isinstance(self.screen, ConfirmQuit | StopOrDetach):
            return
        if self.running and self.run_session.control is not None:
            self.push_screen(StopOrDetach(self.RUN_NOUN, self.run_session), self._stop_or_detach)
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

    def _stop_or_detach(self, choice: str | None) -> None:
        control = self.run_session.control
        if choice == "detach" and control is not None:
            self.detached_pid = control.live_pid
            control.detach()  # the run goes on; quitting no longer stops it
            self.exit(130)
        elif choice == "stop":
            self.exit(130)  # the run's worker is cancelled: its process is stopped

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

    def make_screen(self, name: str) -> Screen[None]:
        # A converge ("Add hosts to a deployed cloud") reviews the difference, not the plan.
        if name == "review" and self.session.converging:
            from screens.difference import DifferenceScreen

            return DifferenceScreen()
        return super().make_screen(name)


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
    app = create_app(session, prefill=prefill, start=first_screen(session))
    code = app.run()
    chosen = app.session  # Welcome's "Add hosts to a deployed cloud" replaces the session
    if chosen.saved_answers:
        print(f"Answers saved to {chosen.saved_answers}")
    print_leaving(chosen, code, detached_pid=app.detached_pid)
    return int(code if code is not None else 0)


def first_screen(session: Session) -> str:
    """Where the guided installer opens: on the Progress screen of a run in progress in the
    state dir (started headless, or left running by a TUI), following it; else Welcome."""
    return "progress" if session.find_live_run() else "welcome"


def print_leaving(run: RunSession, code: int | None, noun: str = "install", *,
                  detached_pid: int | None = None) -> None:
    """What headless mode prints at the end, printed when the TUI leaves: the log and, for a
    run that did not finish (failed, or quit while it ran), the command that continues it;
    for a run left running, how to follow it again."""
    from installer.interactive.commands import command_line
    from installer.interactive.install import stopped_run_text

    if run.log_path:
        print(f"Log: {run.log_path}")
    if run.control is not None and run.control.detach_requested:
        pid = f" (pid {detached_pid})" if detached_pid else ""
        print(f"The {noun} goes on in its own process{pid}; follow it with "
              f"`{command_line(run.settings, 'attach')}`.")
        return
    if run.log_path and (run.last_outcome in ("failed", "interrupted") or code == 130):
        print(stopped_run_text(run, noun))


class StopOrDetach(ModalScreen[str]):
    """Quit while a run runs: stop it (resumable), or leave it running in its own process."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('stop')", "Stop it"),
        Binding("d", "answer('detach')", "Leave it running"),
        Binding("n,escape", "answer('stay')", "Stay"),
    ]

    def __init__(self, noun: str, run: RunSession) -> None:
        super().__init__()
        from installer.interactive.commands import command_line

        self.text = (f"Quit while the {noun} runs? It runs in its own process: leave it "
                     f"running and follow it later with `{command_line(run.settings, 'attach')}`"
                     f" (or by starting the installer again), or stop it: running steps are "
                     f"stopped, what finished stays on the hosts, and "
                     f"`{command_line(run.settings, 'resume')}` continues it.")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.text, markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Leave it running (d)", id="detach", variant="primary",
                             compact=True)
                yield Button("Stop it (s)", id="stop", variant="error", compact=True)
                yield Button("Stay (n)", id="stay", compact=True)

    def on_mount(self) -> None:
        self.query_one("#stay", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "stay")

    def action_answer(self, choice: str) -> None:
        self.dismiss(choice)


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
