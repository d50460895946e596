"""A hostile host's text in the TUI (issue 13, item 3): shown escaped, never as raw control
characters and never read as markup."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from installer.interactive.probing import ProbedHost
from probes.facts import HostFacts
from screens.hosts import COLUMNS, host_cells

FACTS = Path(__file__).resolve().parent / "facts"
EVIL = "evil\x1b]0;pwned\x07[b]bold[/b]"


class _Table(App[None]):
    def __init__(self, rows: list[ProbedHost]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable(id="hosts")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        for i, entry in enumerate(self.rows):
            table.add_row(*host_cells(entry), key=str(i))


async def test_hosts_table_shows_a_hostile_hostname_escaped() -> None:
    facts = HostFacts.model_validate_json((FACTS / "node1.json").read_text())
    facts = facts.model_copy(update={"hostname": EVIL})
    rows = [ProbedHost(target="ubuntu@10.0.0.1", address="10.0.0.1", state="ready",
                       facts=facts),
            ProbedHost(target="ubuntu@10.0.0.2", address="10.0.0.2", state="failed",
                       error="ssh: \x1b[2J[red]gone[/red]")]
    app = _Table(rows)
    async with app.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(DataTable)
        shown = "\n".join(table.render_line(y).text for y in range(1, 4))
    assert "\x1b" not in shown and "\x07" not in shown
    assert "evil\\x1b]0;pwned\\x07[b]bold[/b]" in shown  # escaped, and no markup read from it
    assert all(not isinstance(c, str) or not c for c in host_cells(rows[1]))  # no markup cells
