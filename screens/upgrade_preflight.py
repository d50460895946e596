"""Upgrade, step 4: the upgrade preflight. Errors block; warnings need an explicit accept."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Static

from installer.exits import UserError
from installer.interactive.notices import Notice, has_errors
from installer.interactive.upgrade import UpgradeSummary
from screens.base import UpgradeWizardScreen, failure_of
from screens.messages import UpgradeChecked
from screens.review import findings_markup
from screens.toggles import GlyphCheckbox


class UpgradePreflightScreen(UpgradeWizardScreen):
    NAME = "upgrade-preflight"
    TITLE_TEXT = "Upgrade: preflight"
    HELP = """\
Is the cloud fit to be upgraded now? Every application active and idle, no unit in error,
Kubernetes nodes Ready, Ceph healthy, enough free disk on every host, each host on the Ubuntu
release the target is built for, no install or upgrade left unfinished. Errors block: fix the
cause and run `sunbeam-install upgrade` again. Warnings must be accepted with the checkbox."""

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[Notice] = []
        self.summary: UpgradeSummary | None = None
        self.checked = False

    def body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static("Checking…", id="findings")
            yield GlyphCheckbox("I have read the warnings and accept them", False, id="accept",
                           compact=True)

    def on_mount(self) -> None:
        self.query_one("#accept").display = False
        # exit_on_error=False: a failure shows here (on_upgrade_checked, work_failed).
        self.run_worker(self._check(), group="preflight", exclusive=True, exit_on_error=False)

    async def _check(self) -> None:
        try:
            notices = await asyncio.to_thread(self.upgrade.preflight)
            summary = None if has_errors(notices) else await asyncio.to_thread(
                self.upgrade.summary)
        except UserError as e:
            self.post_message(UpgradeChecked([], None, str(e), int(e.code)))
            return
        self.post_message(UpgradeChecked(notices, summary))

    def work_failed(self, error: BaseException) -> None:
        """The preflight raised something other than a UserError (a bug): shown as findings."""
        self.post_message(UpgradeChecked([], None, *failure_of(error)))

    def on_upgrade_checked(self, message: UpgradeChecked) -> None:
        from rich.markup import escape

        self.notices, self.summary, self.checked = message.notices, message.summary, True
        findings = self.query_one("#findings", Static)
        self.wizard.failure_code = message.code  # None once checked
        if message.error:
            findings.update(f"[b red]The preflight could not run:[/b red] "
                            f"{escape(message.error)}")
            return
        findings.update(findings_markup(self.notices))
        warnings = any(n.severity == "warning" for n in self.notices)
        accept = self.query_one("#accept", Checkbox)
        accept.display = warnings and not has_errors(self.notices)
        self.query_one("#next").disabled = has_errors(self.notices)
        if accept.display:
            accept.focus()
        else:
            self.query_one("#next").focus()

    def problem(self) -> str | None:
        if not self.checked:
            return "Wait until the preflight has run."
        if has_errors(self.notices) or self.summary is None:
            return "The preflight found errors: fix them, then run the upgrade again."
        accept = self.query_one("#accept", Checkbox)
        if accept.display and not accept.value:
            return "Accept the warnings (the checkbox) before going on."
        return None
