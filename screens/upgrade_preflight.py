"""Upgrade, step 4: the upgrade preflight. Errors block; warnings need an explicit accept."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Static

from installer.session import Notice, SessionError, has_errors
from installer.upgrade_session import UpgradeSummary
from screens.base import UpgradeWizardScreen
from screens.messages import UpgradeChecked
from screens.review import findings_markup


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
            yield Checkbox("I have read the warnings and accept them", False, id="accept",
                           compact=True)

    def on_mount(self) -> None:
        self.query_one("#accept").display = False
        self.run_worker(self._check(), group="preflight", exclusive=True, exit_on_error=False)

    async def _check(self) -> None:
        try:
            notices = await asyncio.to_thread(self.upgrade.preflight)
            summary = None if has_errors(notices) else await asyncio.to_thread(
                self.upgrade.summary)
        except SessionError as e:
            self.post_message(UpgradeChecked([], None, str(e)))
            return
        self.post_message(UpgradeChecked(notices, summary))

    def on_upgrade_checked(self, message: UpgradeChecked) -> None:
        from rich.markup import escape

        self.notices, self.summary, self.checked = message.notices, message.summary, True
        findings = self.query_one("#findings", Static)
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
