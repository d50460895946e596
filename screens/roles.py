"""Roles: control / compute / storage per host, with the rules shown live."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from installer.interactive.fields import role_rules, suggest_roles
from manifests.answers import ROLES
from screens.base import WizardScreen


def mark(on: bool) -> Text:
    return Text("[x]", style="bold green") if on else Text("[ ]", style="dim")


class RolesScreen(WizardScreen):
    NAME = "roles"
    TITLE_TEXT = "Roles"
    HELP = """\
Give each host its roles. Control runs the OpenStack control plane (on Kubernetes): 1 host, or
3 or more for high availability. Compute runs virtual machines: at least one host. Storage
gives disks to Ceph: choose the disks on the Storage screen. Network runs OVN's gateway
(MicroOVN and the network agents) on hosts that are not compute hosts.
Move with the arrows; Space toggles the role under the cursor; d applies the suggested
layout (1-3 hosts: every host does everything; more: 3 control, all compute, storage where
there are free disks)."""
    WIDGET_HELP: ClassVar[dict[str, tuple[str, str]]] = {
        "roles": ("Roles table", "One row per host, one column per role. Move with the arrows; "
                  "Space or Enter toggles the role under the cursor; d applies the suggested "
                  "layout. The rules under the table turn green when they hold: control on 1 "
                  "host or at least 3, at least one compute host, every host with a role."),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_cell", "Toggle role"),
        Binding("d", "suggest", "Suggested"),
    ]

    def body(self) -> ComposeResult:
        table: DataTable[Text | str] = DataTable(id="roles", cursor_type="cell")
        yield table
        yield Static("[b]Space[/b] toggle · [b]d[/b] suggested layout · [b]Ctrl+N[/b] next",
                     classes="hints", markup=True)
        yield Static("", id="rules")

    def on_mount(self) -> None:
        table = self.query_one("#roles", DataTable)
        table.add_column("Host", key="host")
        for r in ROLES:
            table.add_column(r.capitalize(), key=r)
        draft = self.session.draft
        self.session.suggest_roles_if_unset()
        for h in draft.hosts:
            table.add_row(h.name, *(mark(r in h.roles) for r in ROLES), key=h.name)
        table.move_cursor(column=1)
        table.focus()
        self._show_rules()

    def _show_rules(self) -> None:
        lines = []
        for ok, text in role_rules(self.session.draft):
            lines.append(f"[green]✓[/green] {text}" if ok else f"[red]✗ {text}[/red]")
        self.query_one("#rules", Static).update("\n".join(lines))

    def action_toggle_cell(self) -> None:
        table = self.query_one("#roles", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate)
        role = str(key.column_key.value)
        if role not in ROLES:
            return
        host = self.session.draft.host(str(key.row_key.value))
        if host is None:
            return
        if role in host.roles:
            host.roles.remove(role)
        else:
            host.roles.append(role)
        table.update_cell(key.row_key, key.column_key, mark(role in host.roles))
        self._show_rules()

    def action_suggest(self) -> None:
        suggest_roles(self.session.draft, self.session.facts_by_host())
        table = self.query_one("#roles", DataTable)
        for h in self.session.draft.hosts:
            for r in ROLES:
                table.update_cell(h.name, r, mark(r in h.roles))
        self._show_rules()

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        # Enter on a cell toggles as well: whichever key a person tries first works.
        self.action_toggle_cell()

    def problem(self) -> str | None:
        for ok, text in role_rules(self.session.draft):
            if not ok:
                return f"Roles are not complete yet: {text[0].lower() + text[1:]}."
        return None
