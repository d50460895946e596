"""Upgrade, done: the release the cloud runs now, the log, what to do next."""

from __future__ import annotations

from rich.markup import escape

from installer.interactive.commands import command_line
from screens.base import SummaryScreen, UpgradeWizardScreen


class UpgradeDoneScreen(UpgradeWizardScreen, SummaryScreen):
    NAME = "done"
    TITLE_TEXT = "Upgraded"
    HELP = "The upgrade finished. Enter or Ctrl+N leaves the installer."

    def summary_lines(self) -> list[str]:
        u = self.upgrade
        lines = [
            f"[b green]The cloud runs {u.target} now.[/b green]"
            + (" (dry run: in the simulated lab)" if u.dry_run else ""),
            "",
            f"Log of this run:    {u.log_path or u.state_dir / 'logs'}",
            "",
            "[b]Next steps[/b]",
            "  every charm and snap, and later targets:",
            f"    {escape(command_line(u.settings, 'upgrade', '--show'))}",
            "  what the upgrade run did, step by step:",
            f"    {escape(command_line(u.settings, 'status'))}",
            "  check the services answer:",
            "    openstack endpoint list",
        ]
        return lines
