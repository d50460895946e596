"""Storage: per storage host, the whole disks Ceph may take; ineligible ones greyed with the
probe's reason."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from probes.facts import Disk
from screens.base import WizardScreen
from screens.hosttext import cell, markup_safe, plain

GIB = 1024**3


def disk_id(d: Disk) -> str:
    """The name the answers file uses: the first by-id link (wwn-* first), else the /dev path."""
    return d.by_id[0] if d.by_id else d.path


DISK_ID_WIDTH = 26


def shorten(text: str, width: int) -> str:
    """Cut the middle out of a long id: both ends are what tell disks apart."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return f"{text[:head]}…{text[-(width - 1 - head):]}"


def size_text(n: int) -> str:
    return f"{n / GIB / 1024:.1f} TiB" if n >= 1024 * GIB else f"{n / GIB:.0f} GiB"


class StorageScreen(WizardScreen):
    NAME = "storage"
    TITLE_TEXT = "Storage"
    HELP = """\
Pick the whole disks Ceph may use on each storage host (they are wiped). Disks that cannot
be used (the root disk, mounted, partitioned, held by LVM or RAID) are shown greyed with the
reason. Space selects or clears the disk under the cursor; a selects every eligible disk of
that host; n clears that host; Enter or Ctrl+N confirms and goes on."""
    WIDGET_HELP: ClassVar[dict[str, tuple[str, str]]] = {
        "disks": ("Disks table", "One row per disk of each storage host. Space selects or clears "
                  "the disk under the cursor (it will be wiped and given to Ceph); a selects "
                  "every eligible disk of that host, n clears that host; Enter confirms. Greyed "
                  "rows cannot be used; the line under the table says why (root disk, "
                  "mounted, partitioned, held by LVM or RAID)."),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_disk", "Select"),
        Binding("a", "all", "All of host"),
        Binding("n", "none", "None of host"),
        Binding("enter", "next", "Confirm", show=False),
    ]

    def body(self) -> ComposeResult:
        table: DataTable[Text | str] = DataTable(id="disks", cursor_type="row")
        yield table
        yield Static(
            "[b]Space[/b] select · [b]a[/b] all of host · [b]n[/b] none · [b]Enter[/b] confirm",
            classes="hints", markup=True,
        )
        yield Static("", id="disk-detail")

    def on_mount(self) -> None:
        table = self.query_one("#disks", DataTable)
        # Size and type first and a shortened id: at 80 columns everything that decides fits.
        for c in ("", "Host", "Size", "Type", "Disk", "Model, or why not"):
            table.add_column(c, key=c or "sel")
        facts = self.session.facts_by_host()
        for h in self.session.draft.hosts:
            f = facts.get(h.name)
            if "storage" not in h.roles or f is None:
                continue
            for d in f.disks:
                table.add_row(*self._cells(h.name, d), key=f"{h.name}\t{d.name}")
        if table.row_count == 0:
            self.query_one("#disk-detail", Static).update(
                "No host has the storage role: there is nothing to choose here.")
        table.focus()

    def _disk(self, key: str) -> tuple[str, Disk] | None:
        host, name = key.split("\t", 1)
        f = self.session.facts_by_host().get(host)
        disk = next((d for d in f.disks if d.name == name), None) if f else None
        return (host, disk) if disk else None

    def _selected(self, host: str, d: Disk) -> bool:
        h = self.session.draft.host(host)
        return bool(h and any(d.matches(dev) for dev in h.osd_devices))

    def _cells(self, host: str, d: Disk) -> tuple[Text | str, ...]:
        dim = "" if d.osd_eligible else "dim"
        sel = Text("[x]", style="bold green") if self._selected(host, d) else Text(
            "[ ]" if d.osd_eligible else " - ", style=dim)
        short = shorten(disk_id(d).removeprefix("/dev/disk/by-id/"), DISK_ID_WIDTH)
        note = (d.model or "") if d.osd_eligible else (d.ineligible_reason or "Not eligible.")
        # The disk's transport, id and model are the host's words: shown escaped.
        return (sel, cell(host, style=dim), Text(size_text(d.size_bytes), style=dim),
                cell(d.transport, style=dim), cell(short, style=dim), cell(note, style=dim))

    def _current(self) -> tuple[str, Disk] | None:
        table = self.query_one("#disks", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self._disk(str(key.value))

    def _set(self, host: str, d: Disk, on: bool) -> None:
        h = self.session.draft.host(host)
        if h is None or not d.osd_eligible:
            return
        h.osd_devices = [dev for dev in h.osd_devices if not d.matches(dev)]
        if on:
            h.osd_devices.append(disk_id(d))
        table = self.query_one("#disks", DataTable)
        table.update_cell(f"{host}\t{d.name}", "sel", self._cells(host, d)[0])

    def action_toggle_disk(self) -> None:
        cur = self._current()
        if cur is None:
            return
        host, d = cur
        if not d.osd_eligible:
            self.notify(markup_safe(f"{d.path} on {host} cannot be used: {d.ineligible_reason}"),
                        severity="warning")
            return
        self._set(host, d, not self._selected(host, d))

    def _host_all(self, on: bool) -> None:
        cur = self._current()
        if cur is None:
            return
        host = cur[0]
        f = self.session.facts_by_host().get(host)
        for d in f.disks if f else []:
            self._set(host, d, on)

    def action_all(self) -> None:
        self._host_all(True)

    def action_none(self) -> None:
        self._host_all(False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        cur = self._disk(str(event.row_key.value))
        if cur:
            host, d = cur
            ids = ", ".join(d.by_id[:1]) or d.path
            why = "" if d.osd_eligible else f"\nCannot be used: {plain(d.ineligible_reason)}"
            self.query_one("#disk-detail", Static).update(
                markup_safe(f"{plain(host)}: {plain(d.path)}  {plain(ids)}{why}"))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # Enter in the table confirms the selection (MicroCloud's key hints).
        event.stop()
        self.action_next()

    def problem(self) -> str | None:
        for h in self.session.draft.hosts:
            if "storage" in h.roles and not h.osd_devices:
                return f"Storage host {h.name} has no disk selected: select at least one."
        return None
