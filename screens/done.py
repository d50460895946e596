"""Done: where the cloud is, where the admin credentials are, what to do next, the log."""

from __future__ import annotations

from rich.markup import escape

from installer.interactive.commands import command_line
from screens.base import SummaryScreen


class DoneScreen(SummaryScreen):
    NAME = "done"
    TITLE_TEXT = "Done"
    HELP = "The cloud is deployed. Enter or Ctrl+N leaves the installer."

    def summary_lines(self) -> list[str]:
        s = self.session
        url = s.dashboard_url() or "(the first address of the load-balancer range)"
        lines = [
            "[b green]The cloud is deployed.[/b green]" + (" (dry run: in the simulated lab)"
                                                         if s.dry_run else ""),
            "",
            f"Dashboard:          {url}",
            f"Admin password:     {s.credentials_file()} (mode 0600)",
            f"Log of this run:    {s.log_path or s.state_dir / 'logs'}",
        ]
        if s.saved_answers:
            lines.append(f"Answers file:       {s.saved_answers}")
        lines += [
            "",
            "[b]Next steps[/b]",
            "  log in to the dashboard as admin (domain admin_domain) with that password",
            "  what the last run did:",
            f"    {escape(command_line(s.settings, 'status'))}",
            "  move to a newer OpenStack release later:",
            f"    {escape(command_line(s.settings, 'upgrade'))}",
        ]
        return lines
