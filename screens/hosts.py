"""Hosts: this host is probed at once; others are added as user@address and probed in the
background; each row fills in as its facts arrive."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Static

from installer.exits import UserError
from installer.interactive.probing import LOCAL, UNADDRESSED, ProbedHost, parse_target
from manifests.gcpause import GcPause
from screens.base import WizardScreen
from screens.hoststable import HostsTable
from screens.hosttext import cell, markup_safe
from screens.messages import HostProbed

GIB = 1024**3

COLUMNS = ("Name", "Address", "CPU / KVM", "RAM", "Disks free", "NICs", "Status")
# The garbage collector waits while the first probes' facts arrive (walking a heap that grows
# by a thousand hosts' facts cost pauses of 0.1 s each, keys included), at most this long: a
# slow burst (real SSH probes) runs with it as usual after that.
GC_PAUSE_MAX = 2.0
SETTLE_EVERY = 0.2  # seconds: the count and the columns' widths follow a burst this often


def host_cells(entry: ProbedHost) -> tuple[Text, ...]:
    """One table row for a host: facts when they are in, the state or failure otherwise.

    Every cell is a Text (never markup), one line: the table measures it by its length."""
    address = entry.address or ""
    # What a host reports (its hostname, a probe's error) is shown escaped, never as markup.
    if entry.state == "probing":
        return (cell(entry.name), cell(address), *_no_facts(), Text("probing…", style="italic"))
    if entry.state == "failed" or entry.facts is None:
        # The reason can be longer than the row: the line under the table shows it whole.
        return (cell(entry.name), cell(address), *_no_facts(),
                cell("failed (why: below)", style="bold red"))
    f = entry.facts
    virt = f.cpu.virtualization
    cpu = Text(f"{f.cpu.threads} {virt}", style="" if virt == "kvm" else "yellow")
    ram = Text(f"{f.memory.total_bytes / GIB:.0f} GiB")
    free = sum(d.size_bytes for d in f.disks if d.osd_eligible)
    disks = Text(f"{sum(d.osd_eligible for d in f.disks)} ({free / GIB / 1024:.1f} TiB)")
    nics = Text(str(sum(n.kind in ("physical", "bond") for n in f.nics)))
    warnings = []
    if virt != "kvm":
        warnings.append("no KVM")
    if f.probe_errors:
        warnings.append(f"{len(f.probe_errors)} probe errors")
    if entry.target == LOCAL:
        warnings.insert(0, "this machine")
    status = Text("ready" + (": " + ", ".join(warnings) if warnings else ""),
                  style="yellow" if set(warnings) - {"this machine"} else "green")
    return (cell(f.hostname), cell(address), cpu, ram, disks, nics, status)


def _no_facts() -> tuple[Text, ...]:
    """The CPU, RAM, disks and NICs cells before a host's facts are in."""
    return (Text(), Text(), Text(), Text())


class HostsScreen(WizardScreen):
    NAME = "hosts"
    TITLE_TEXT = "Hosts"
    HELP = """\
This machine is probed at once (with an answers file: only when the file names it, as a host
without an address). Add each other host as user@address (an SSH user with passwordless sudo,
and the host's management address), then Enter or Add. Hosts are probed in the background and
fill their row when their facts arrive; a failed probe's reason is shown under the table.
In the table: r retries the selected host's probe, Delete removes it."""
    WIDGET_HELP: ClassVar[dict[str, tuple[str, str]]] = {
        "target": ("Add a host", "Type user@address (e.g. ubuntu@10.20.0.12): an SSH user with "
                   "passwordless sudo and the host's management address. Enter probes it in "
                   "the background; its row fills in when its facts arrive."),
        "hosts": ("Hosts table", "One row per host: CPU threads and whether KVM works, RAM, the "
                  "disks Ceph could take, physical NICs, and the probe's status. Up/Down move; "
                  "r retries a failed probe; Delete removes the host from the cloud."),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry", show=False),
        Binding("delete", "remove", "Remove", show=False),
    ]

    def body(self) -> ComposeResult:
        with Horizontal(id="add-row"):
            yield Input(placeholder="user@address, e.g. ubuntu@10.20.0.12", id="target")
            yield Button("Add", id="add", compact=True)
        yield Static("", id="target-error", classes="error")
        yield HostsTable(COLUMNS, self._cells_of, id="hosts")
        yield Static("", id="host-detail")
        yield Static("[b]r[/b] retry · [b]Delete[/b] remove · [b]Ctrl+N[/b] next",
                     classes="hints", markup=True)

    _settle_pending = False  # a _settle is queued: probe results since then are batched
    _froze = False  # the first probes' facts were frozen out of the garbage collector's way
    _unmounted = False
    _settled_at = 0.0  # when _settle last ran (time.monotonic)

    def on_mount(self) -> None:
        first = [] if self.session.hosts else self.session.first_targets()
        self._table().set_rows(self.session.hosts)
        if first:
            # Once the screen is up: the app takes no key until the screen has mounted, and
            # the probes' results would otherwise keep it from getting there.
            self.call_after_refresh(self._start_first_probes, first)
        self._show_count()
        self.query_one("#target", Input).focus()

    def on_unmount(self) -> None:
        self._unmounted = True
        if self._froze:
            # What this screen held may be garbage now: the collector may see it again.
            gc.unfreeze()

    def _table(self) -> HostsTable:
        return self.query_one("#hosts", HostsTable)

    def _cells_of(self, target: str) -> tuple[Text, ...] | None:
        entry = self.session.hosts.get(target)
        return host_cells(entry) if entry is not None else None

    def _start_first_probes(self, targets: list[str]) -> None:
        self.run_worker(self._first_probes(targets), group="probe")

    async def _first_probes(self, targets: list[str]) -> None:
        # This machine first: a prefilled host with its address is this machine, not remote.
        if targets[0] == LOCAL:
            await self._probe(targets.pop(0))
        # One worker, a bounded number of probes at a time (a few probers taking the next
        # target in turn, not a task per host): the results arrive in batches the screen
        # takes between frames, however many hosts the file names.
        waiting = iter(targets)
        at_once = self.session.prober.at_once  # SSH probes many at once; instant ones few

        async def prober() -> None:
            for target in waiting:
                await self._probe(target)
                await asyncio.sleep(0)  # let the screen handle keys between results

        self._froze = True
        try:
            with GcPause(freeze=True) as pause:
                timer = self.set_timer(GC_PAUSE_MAX, pause.resume)
                try:
                    await asyncio.gather(*(prober() for _ in range(at_once)))
                finally:
                    timer.stop()
        finally:
            if self._unmounted:  # left while probing: the freeze came after on_unmount
                gc.unfreeze()

    def _add_row(self, target: str) -> ProbedHost:
        entry = self.session.pending(target)
        table = self._table()
        if table.knows(entry.target):
            table.update_host_row(entry.target)
            table.apply_widths()
        else:
            table.add_host_row(entry.target)
        return entry

    def _start(self, target: str) -> None:
        entry = self._add_row(target)
        self.run_worker(self._probe(entry.target), group="probe")

    async def _probe(self, target: str) -> None:
        try:
            entry = await self.session.retry(target)
        except UserError as e:  # a malformed or duplicate target: say so on its row
            entry = self.session.hosts[target]
            entry.state, entry.error = "failed", str(e)
        self.post_message(HostProbed(entry))

    def on_host_probed(self, message: HostProbed) -> None:
        # The row changes at once, in place; what reads every host (the count, the failure
        # shown, the columns' widths) once per batch of results, in _settle.
        target = message.host.target
        if target in self.session.hosts:
            self._table().update_host_row(target)
        if time.monotonic() - self._settled_at > SETTLE_EVERY:
            self._settle()  # a long burst still shows its count as it goes
        elif not self._settle_pending:
            self._settle_pending = True
            self.call_later(self._settle)

    def _settle(self) -> None:
        """After a batch of probe results: the rows in the session's order, the columns'
        widths, the count and the failure shown."""
        self._settle_pending, self._settled_at = False, time.monotonic()
        table = self._table()
        if table.targets() != list(self.session.hosts):
            # A host added again in place of a prefilled one whose address was wrong.
            table.set_rows(self.session.hosts)
        table.apply_widths()
        self._show_count()
        self._show_detail()

    def _show_count(self, before: str = "") -> None:
        from rich.markup import escape

        ready = len(self.session.ready_hosts())
        self.set_status(escape(before) + f"{ready} host{'s' if ready != 1 else ''} ready")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        """The selected host's failure in full (the table's cell is too narrow for it)."""

        target = self._selected()
        entry = self.session.hosts.get(target) if target else None
        if entry is None or entry.state != "failed":  # else the first failed host's
            entry = next((e for e in self.session.hosts.values() if e.state == "failed"), None)
        text = ""
        if entry is not None:
            why = (entry.error or "the probe failed").rstrip(".")
            retry = "" if entry.target.startswith(UNADDRESSED) else " r retries."
            text = f"[b red]{markup_safe(entry.name)}:[/b red] {markup_safe(why)}.{retry}"
        self.query_one("#host-detail", Static).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "target":
            return
        text = event.value.strip()
        message = ""
        if text and "@" in text:
            try:
                parse_target(text)
            except UserError as e:
                message = str(e)
        self.query_one("#target-error", Static).update(message)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "target":
            self._add()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            event.stop()
            self._add()
        # Next and Back: WizardScreen's own handler runs next (Textual calls each
        # class's handler along the MRO, so calling super() here would run it twice).

    def _add(self) -> None:
        field = self.query_one("#target", Input)
        text = field.value.strip()
        if not text:
            return
        error = self.query_one("#target-error", Static)
        try:
            user, address = parse_target(text)
        except UserError as e:
            error.update(str(e))
            return
        for known in self.session.hosts.values():
            if known.address == address:
                error.update(f"Address {address} is already in the list as {known.target}.")
                return
        error.update("")
        field.value = ""
        self._start(f"{user}@{address}")

    def _selected(self) -> str | None:
        table = self._table()
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value)

    def action_retry(self) -> None:
        target = self._selected()
        if target and target.startswith(UNADDRESSED):
            self.show_why("Add this host again above as user@address.")
        elif target and self.session.hosts[target].state == "failed":
            self._start(target)

    def action_remove(self) -> None:
        target = self._selected()
        if not target:
            return
        entry = self.session.hosts[target]
        self.session.remove_host(target)
        self._table().remove_host_row(target)
        what = "this machine" if target == LOCAL else entry.target.removeprefix(UNADDRESSED)
        self._show_count(f"Removed {entry.name} ({what}). ")
        self._show_detail()

    def problem(self) -> str | None:
        if any(e.state == "probing" for e in self.session.hosts.values()):
            return "Wait until every host has been probed (or remove the ones still probing)."
        unaddressed = [e.name for e in self.session.hosts.values()
                       if e.target.startswith(UNADDRESSED)]
        if unaddressed:
            return (f"{', '.join(unaddressed)}: add again above as user@address with the "
                    "right address, or Delete to leave out.")
        failed = [e.name for e in self.session.hosts.values() if e.state == "failed"]
        if failed:
            return (f"{', '.join(failed)} failed: r retries, Delete removes "
                    f"{'it' if len(failed) == 1 else 'them'}.")
        if not self.session.ready_hosts():
            return "No host is ready yet: add at least one host whose probe succeeds."
        return None
