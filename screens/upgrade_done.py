"""Upgrade, done: the release the cloud runs now, the log, what to do next."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.base import UpgradeWizardScreen


class UpgradeDoneScreen(UpgradeWizardScreen):
    NAME = "done"
    TITLE_TEXT = "Upgraded"
    SHOW_BACK = False
    NEXT_LABEL = "Exit"
    HELP = "The upgrade finished. Enter or Ctrl+N leaves the installer."
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "next", "Exit")]

    def body(self) -> ComposeResult:
        u = self.upgrade
        lines = [
            f"[b green]The cloud runs {u.target} now.[/b green]"
            + (" (dry run: in the simulated lab)" if u.dry_run else ""),
            "",
            f"Log of this run:    {u.log_path or u.state_dir / 'logs'}",
            "",
            "[b]Next steps[/b]",
            "  sunbeam-install upgrade --show   every charm and snap, and later targets",
            "  sunbeam-install status           what the upgrade run did, step by step",
            "  openstack endpoint list          check the services answer",
        ]
        with VerticalScroll(id="body"):
            yield Static("\n".join(lines), markup=True, id="summary")

    def on_mount(self) -> None:
        self.query_one("#next").focus()

    def action_next(self) -> None:
        self.app.exit(0)
