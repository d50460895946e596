"""Upgrade, step 1: what is deployed (release, charms and snaps with channel and revision,
unit status), read in the background."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from installer.exits import UserError
from screens.base import UpgradeWizardScreen, failure_of
from screens.hosttext import cell, markup_safe
from screens.messages import UpgradeDetected


class UpgradeDetectScreen(UpgradeWizardScreen):
    """The inventory; `details` holds the full text of each row for the line under it."""

    NAME = "upgrade-detect"
    TITLE_TEXT = "Upgrade: the deployed cloud"
    SHOW_BACK = False
    HELP = """\
What runs now, read from Juju, the hosts and the journal (dry run: from the simulated lab):
the release, every charm with its channel and revision and how many of its units are active
and idle, and every snap with its channel and revision (hosts with the same one share a row).
Units that are not settled are named here and block the upgrade at the preflight.
Up/Down scroll the table; Ctrl+N chooses the target release."""

    def __init__(self) -> None:
        super().__init__()
        self.details: dict[str, str] = {}

    def body(self) -> ComposeResult:
        yield Static("Reading what is deployed…", id="deployed")
        table: DataTable[Text | str] = DataTable(id="inventory", cursor_type="row",
                                                 zebra_stripes=True)
        yield table
        yield Static("", id="inventory-detail")
        yield Static("", id="notes", classes="error")

    def on_mount(self) -> None:
        table = self.query_one("#inventory", DataTable)
        # Sized for 80 columns; the line under the table spells out the highlighted row.
        for c, width in (("Kind", 5), ("Name", 20), ("Where", 10), ("Channel", 19),
                         ("Rev", 5), ("Units", 5)):
            table.add_column(c, key=c, width=width)
        table.focus()
        # exit_on_error=False: a failure shows here (on_upgrade_detected, work_failed).
        self.run_worker(self._detect(), group="detect", exclusive=True, exit_on_error=False)

    async def _detect(self) -> None:
        try:
            await self.upgrade.detect()
        except UserError as e:
            self.post_message(UpgradeDetected(str(e), int(e.code)))
            return
        self.post_message(UpgradeDetected())

    def work_failed(self, error: BaseException) -> None:
        """Detection raised something other than a UserError (a bug): shown in the header."""
        self.post_message(UpgradeDetected(*failure_of(error)))

    def on_upgrade_detected(self, message: UpgradeDetected) -> None:
        self.wizard.failure_code = message.code  # None once read
        header = self.query_one("#deployed", Static)
        if message.error:
            header.update(f"[b red]The deployed cloud cannot be read:[/b red] "
                          f"{markup_safe(message.error)}")
            return
        d = self.upgrade.deployed
        assert d is not None
        source = {"journal": "from the journal", "channels": "from the channels",
                  "unknown": "unknown"}[d.release_source]
        matches = d.channels_release or "no single shipped release"
        header.update(f"Release [b]{escape(d.release or 'unknown')}[/b] ({source}) on "
                      f"{len(d.hosts)} host{'s' * (len(d.hosts) != 1)}; channels match "
                      f"{escape(matches)}.")
        table = self.query_one("#inventory", DataTable)
        for a in d.apps:
            settled = sum(u.settled for u in a.units)
            ok = bool(a.units) and settled == len(a.units)
            bad = next((u for u in a.units if not u.settled), None)
            self.details[f"charm/{a.model}/{a.app}"] = (
                f"{a.app} in model {a.model}: {a.channel or '-'} rev {a.revision or '-'}; "
                + ("every unit active and idle" if ok else
                   f"{bad.name} is {bad.workload}/{bad.agent} {bad.message}".rstrip()
                   if bad else "no units"))
            # Names and channels as Juju and snapd report them: shown escaped, never as markup.
            table.add_row("charm", cell(a.app), cell(a.model), cell(a.channel or "-"),
                          cell(str(a.revision or "-")),
                          Text(f"{settled}/{len(a.units)}", style="green" if ok else "bold red"),
                          key=f"charm/{a.model}/{a.app}")
        groups: dict[tuple[str, str, str], list[str]] = {}
        for s in d.snaps:
            groups.setdefault((s.name, s.channel, s.revision), []).append(s.host)
        for (name, channel, revision), hosts in groups.items():
            key = f"snap/{name}/{channel}/{revision}"
            shown = ", ".join(hosts[:6]) + (f" +{len(hosts) - 6}" if len(hosts) > 6 else "")
            self.details[key] = f"snap {name} {channel} rev {revision} on {shown}"
            where = hosts[0] if len(hosts) == 1 else f"{len(hosts)} hosts"
            table.add_row("snap", cell(name), cell(where), cell(channel), cell(revision), "-",
                          key=key)
        blocking = [n.line() for n in self.upgrade.run_notices] + [
            f"note: {n}" for n in d.notes]
        self.query_one("#notes", Static).update(markup_safe("\n".join(blocking)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        text = self.details.get(str(event.row_key.value), "")
        self.query_one("#inventory-detail", Static).update(markup_safe(text))

    def problem(self) -> str | None:
        d = self.upgrade.deployed
        if d is None:
            return "Wait until the deployed cloud has been read (or quit with Ctrl+Q)."
        if d.release is None:
            return ("Which release the cloud runs cannot be told; run it again with "
                    "--answers FILE (the answers it was installed with).")
        if not any(t.supported for t in self.upgrade.targets()):
            return f"No shipped release is a supported upgrade from {d.release}."
        return None
