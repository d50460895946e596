"""Upgrade, step 3: what changes, charm by charm and snap by snap (channel and revision)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from installer.interactive.upgrade import ChangeRow
from screens.base import UpgradeWizardScreen


class UpgradeChangesScreen(UpgradeWizardScreen):
    NAME = "upgrade-changes"
    TITLE_TEXT = "Upgrade: what changes"
    HELP = """\
Every charm and snap the upgrade refreshes, with its channel and revision now and after
("newest" = the newest revision in the target channel). Snaps with the same change on several
hosts share a row. Rows marked "left as it is" are not part of the target release; "not
deployed" ones are new in it and can be added after the upgrade. u shows the unchanged ones
too. Nothing changes before the Confirm screen."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "toggle_unchanged", "Unchanged too"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_unchanged = False
        self.rows: list[ChangeRow] = []

    def body(self) -> ComposeResult:
        yield Static("", id="change-summary")
        table: DataTable[Text | str] = DataTable(id="changes", cursor_type="row",
                                                 zebra_stripes=True)
        yield table
        yield Static("", id="change-detail")

    def on_mount(self) -> None:
        table = self.query_one("#changes", DataTable)
        # Sized for 80 columns; the line under the table spells out the highlighted row.
        for c, width in (("What", 9), ("Name", 20), ("Now", 22), ("After", 17)):
            table.add_column(c, key=c, width=width)
        self._fill()
        table.focus()

    def _fill(self) -> None:
        table = self.query_one("#changes", DataTable)
        table.clear()
        self.rows = self.upgrade.change_rows(show_unchanged=self.show_unchanged)
        for i, r in enumerate(self.rows):
            what = "charm" if r.kind == "charm" else (
                f"snap {r.where[0]}" if len(r.where) == 1 else f"snap ×{len(r.where)}")
            now = " ".join(p for p in (r.current_channel or "-", r.current_revision) if p)
            if r.action == "not-in-target":
                after = Text("left as it is", style="yellow")
            elif r.action == "new-in-target":
                after = Text("not deployed", style="yellow")
            else:
                after = Text(" ".join(p for p in (r.target_channel or "-", r.target_revision)
                                      if p), style="dim" if r.action == "unchanged" else "bold")
            table.add_row(what, r.name, now, after, key=str(i))
        refresh = [c for c in self.upgrade.changes() if c.action == "refresh"]
        charms = sum(c.kind == "charm" for c in refresh)
        snaps = sum(c.kind == "snap" for c in refresh)
        self.query_one("#change-summary", Static).update(
            f"{self.upgrade.deployed.release if self.upgrade.deployed else '?'} -> "
            f"[b]{self.upgrade.target}[/b]: {refreshes(charms, snaps)}"
            + (" (unchanged shown)" if self.show_unchanged else " (u: show unchanged)"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        r = self.rows[int(str(event.row_key.value))]
        where = r.where[0] if r.kind == "charm" else ", ".join(r.where)
        where = where if len(where) <= 40 else f"{', '.join(r.where[:3])} +{len(r.where) - 3}"
        now = _chan(r.current_channel, r.current_revision)
        after = _chan(r.target_channel, r.target_revision)
        note = {"not-in-target": " (not in the target: left as it is)",
                "new-in-target": " (new in the target: not deployed by the upgrade)",
                "unchanged": " (unchanged)"}.get(r.action, "")
        self.query_one("#change-detail", Static).update(
            f"{r.name} on {where}: {now} -> {after}{note}")

    def action_toggle_unchanged(self) -> None:
        self.show_unchanged = not self.show_unchanged
        self._fill()


def refreshes(charms: int, snaps: int) -> str:
    """The upgrade's refreshes counted alike on every screen: a charm refresh per application,
    a snap refresh per snap and host (the plan's steps)."""
    return (f"{charms} charm refresh{'es' * (charms != 1)} and "
            f"{snaps} snap refresh{'es' * (snaps != 1)}")


def _chan(channel: str | None, revision: str | None) -> str:
    if channel is None:
        return "-"
    return f"{channel} (rev {revision})" if revision else f"{channel} (newest revision)"
