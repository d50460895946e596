"""Upgrade, step 2: the target release. Every newer shipped release is listed; those that are
not a supported step are greyed with the reason (MicroCloud's rule for rows that can't be
chosen)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from installer.exits import UserError
from screens.base import UpgradeWizardScreen


class UpgradeTargetScreen(UpgradeWizardScreen):
    NAME = "upgrade-target"
    TITLE_TEXT = "Upgrade: target release"
    HELP = """\
Choose the release to move to. Supported: the next release, or a skip-level jump from one
SLURP release to the next (2024.1 -> 2025.1), as OpenStack supports them. Other releases are
greyed with the reason they are refused. Up/Down move; Space or Enter chooses; Ctrl+N shows
what changes."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "choose", "Choose", show=False),
    ]

    def body(self) -> ComposeResult:
        current = self.upgrade.deployed.release if self.upgrade.deployed else None
        yield Static(f"The cloud runs [b]{current or 'unknown'}[/b]. Move it to:", id="current")
        table: DataTable[Text | str] = DataTable(id="targets", cursor_type="row")
        yield table
        yield Static("", id="reason")
        yield Static("[b]Space[/b]/[b]Enter[/b] choose · [b]Ctrl+N[/b] what changes",
                     classes="hints", markup=True)

    def on_mount(self) -> None:
        table = self.query_one("#targets", DataTable)
        table.add_column("", key="use", width=3)
        table.add_column("Release", key="release", width=8)
        table.add_column("Verdict", key="verdict", width=10)
        table.add_column("Why", key="why")
        targets = self.upgrade.targets()
        if self.upgrade.target is None:
            first = next((t for t in targets if t.supported), None)
            if first is not None:
                self.upgrade.choose(first.target)
        for t in targets:
            dim = "" if t.supported else "dim"
            table.add_row(self._use(t.target, t.supported), Text(t.target, style=dim),
                          Text("supported" if t.supported else "refused",
                               style="green" if t.supported else "dim"),
                          Text(t.reason, style=dim), key=t.target)
        table.focus()

    def _use(self, release: str, supported: bool) -> Text:
        if release == self.upgrade.target:
            return Text("(•)", style="bold green")
        return Text("( )" if supported else " - ", style="" if supported else "dim")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        verdict = next((t for t in self.upgrade.targets()
                        if t.target == str(event.row_key.value)), None)
        if verdict is not None:
            self.query_one("#reason", Static).update(verdict.reason)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_choose()

    def action_choose(self) -> None:
        table = self.query_one("#targets", DataTable)
        if table.row_count == 0:
            return
        release = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        try:
            self.upgrade.choose(release)
        except UserError as e:
            self.set_status(str(e))
            self.notify(str(e), severity="warning", timeout=6)
            return
        self.set_status("")
        for t in self.upgrade.targets():
            table.update_cell(t.target, "use", self._use(t.target, t.supported))

    def problem(self) -> str | None:
        if self.upgrade.target is None:
            return "Choose a supported target release first (Space on its row)."
        return None
