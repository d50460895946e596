"""Welcome: what will happen, the mode, and whether this is a dry run.

The second mode, "Add hosts to a deployed cloud", is offered (and chosen by default) when the
state dir holds a deployed cloud: it starts the wizard from the deployed answers as a converge
(installer/interactive/converge.py); otherwise it is shown disabled with the reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import RadioSet, Static

from installer.interactive.converge import (
    CONVERGE_LABEL,
    ConvergeSession,
    DeployedCloud,
    find_deployed,
)
from installer.interactive.install import Session
from screens.base import WizardScreen
from screens.toggles import GlyphRadioButton

if TYPE_CHECKING:
    from screens.app import InstallerApp

INTRO = (
    "This guided installer deploys an OpenStack cloud the Sunbeam way: the control plane runs "
    "as Juju charms on Kubernetes; hypervisor and storage run as snaps on the hosts.\n\n"
    "It asks everything first (hosts, roles, network, storage, options), checks it against "
    "what each host really has, shows the plan, and only then changes anything. You can save "
    "the answers as a file and repeat the same install headless with "
    "`sunbeam-install --answers FILE`."
)
NEW, CONVERGE = "mode-new", "mode-converge"


class WelcomeScreen(WizardScreen):
    NAME = "welcome"
    TITLE_TEXT = "Welcome"
    SHOW_BACK = False
    HELP = """\
Choose what to do. "New deployment" builds a new cloud on the hosts you name next.
"Add hosts to a deployed cloud" (offered when this state directory holds a deployed cloud)
starts from the answers the cloud was deployed with: add hosts, change roles and features, then
Review shows only what changes, as `sunbeam-install --answers FILE` on a deployed cloud does.
The release, deployment name and networks stay as deployed. To upgrade a deployed cloud, quit
and run `sunbeam-install upgrade`: it has its own wizard.
With --dry-run nothing is changed: the install runs against a simulated lab."""
    BINDINGS: ClassVar = [("enter", "next", "Start")]
    DEFAULT_CSS = """
    #deployed-cloud { margin-bottom: 1; }
    #converge-why { margin-top: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        session = self.install_session()
        self.cloud = (DeployedCloud(session.deployed, None) if isinstance(session, ConvergeSession)
                      else find_deployed(session.settings))

    def install_session(self) -> Session:
        """The session the app started with (a converge replaces it while chosen)."""
        session = self.session
        if isinstance(session, ConvergeSession) and session.replaced is not None:
            return session.replaced
        return session

    def body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static(INTRO, id="intro")
            if self.session.dry_run:
                yield Static(
                    "[reverse] DRY RUN [/reverse] Nothing will be changed: the install runs "
                    "against the built-in simulated lab.", markup=True, id="dry-run",
                )
            deployed = self.cloud.deployed
            if deployed is not None:
                hosts = len(deployed.answers.hosts)
                yield Static(
                    f"A cloud is deployed from this state directory ({hosts} "
                    f"host{'s' * (hosts != 1)}, OpenStack {escape(deployed.answers.release)}): "
                    f"\"{CONVERGE_LABEL}\" changes only what you change.", id="deployed-cloud")
            elif self.install_session().prefilled:
                missing = len(self.session.prefill_problems)
                yield Static(
                    "Answers loaded from the file you gave fill in every screen."
                    if not missing else
                    "Answers loaded from the file you gave fill in what they have; "
                    f"{missing} part{'s' * (missing != 1)} missing or wrong "
                    f"{'are' if missing != 1 else 'is'} shown on the screen that asks for "
                    f"{'them' if missing != 1 else 'it'}.", id="prefilled")
            converge = self.cloud.available
            with RadioSet(id="mode"):
                yield GlyphRadioButton("New deployment", value=not converge, id=NEW)
                yield GlyphRadioButton(CONVERGE_LABEL if converge
                                       else f"{CONVERGE_LABEL} (none deployed here)",
                                       value=converge, disabled=not converge, id=CONVERGE)
                yield GlyphRadioButton("Upgrade (use `sunbeam-install upgrade`)", disabled=True)
            if not converge and self.cloud.why_not and self.cloud.deployed is None \
                    and "no cloud has been deployed" not in self.cloud.why_not:
                yield Static(f"{CONVERGE_LABEL}: {self.cloud.why_not}.", id="converge-why",
                             markup=False)

    def on_mount(self) -> None:
        self.query_one("#next").focus()

    def chosen(self) -> str:
        button = self.query_one("#mode", RadioSet).pressed_button
        return button.id if button is not None and button.id else NEW

    def store(self) -> None:
        """The chosen mode decides the session the next screens fill: the install's, or a
        converge starting from the deployed answers (kept while going back and forth)."""
        app = self.app
        current = self.session
        if self.chosen() == CONVERGE and self.cloud.deployed is not None:
            if not isinstance(current, ConvergeSession):
                _use(app, ConvergeSession.replacing(current, self.cloud.deployed))
        elif isinstance(current, ConvergeSession):
            _use(app, self.install_session())


def _use(app: object, session: Session) -> None:
    """Make `session` the one the screens fill and the Progress screen runs."""
    wizard = cast("InstallerApp", app)
    wizard.session = session
    wizard.run_session = session
