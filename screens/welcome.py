"""Welcome: what will happen, the mode, and whether this is a dry run."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import RadioSet, Static

from screens.base import WizardScreen
from screens.toggles import GlyphRadioButton

INTRO = (
    "This guided installer deploys an OpenStack cloud the Sunbeam way: the control plane runs "
    "as Juju charms on Kubernetes; hypervisor and storage run as snaps on the hosts.\n\n"
    "It asks everything first (hosts, roles, network, storage, options), checks it against "
    "what each host really has, shows the plan, and only then changes anything. You can save "
    "the answers as a file and repeat the same install headless with "
    "`sunbeam-install --answers FILE`."
)


class WelcomeScreen(WizardScreen):
    NAME = "welcome"
    TITLE_TEXT = "Welcome"
    SHOW_BACK = False
    HELP = """\
Choose what to do. "New deployment" builds a new cloud on the hosts you name next.
Adding hosts to a deployed cloud is not in this version. To upgrade a deployed cloud, quit and
run `sunbeam-install upgrade`: it has its own wizard.
With --dry-run nothing is changed: the install runs against a simulated lab."""
    BINDINGS: ClassVar = [("enter", "next", "Start")]

    def body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static(INTRO, id="intro")
            if self.session.dry_run:
                yield Static(
                    "[reverse] DRY RUN [/reverse] Nothing will be changed: the install runs "
                    "against the built-in simulated lab.", markup=True, id="dry-run",
                )
            if self.session.prefilled:
                missing = len(self.session.prefill_problems)
                yield Static(
                    "Answers loaded from the file you gave fill in every screen."
                    if not missing else
                    "Answers loaded from the file you gave fill in what they have; "
                    f"{missing} part{'s' * (missing != 1)} missing or wrong "
                    f"{'are' if missing != 1 else 'is'} shown on the screen that asks for "
                    f"{'them' if missing != 1 else 'it'}.", id="prefilled")
            with RadioSet(id="mode"):
                yield GlyphRadioButton("New deployment", value=True, id="mode-new")
                yield GlyphRadioButton("Add hosts to a deployed cloud (not in this version)",
                                  disabled=True)
                yield GlyphRadioButton("Upgrade (use `sunbeam-install upgrade`)", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#next").focus()
