"""The Hosts screen at scale (issue 17, item 5): a prefilled file of hundreds of hosts fills
every row in place, a bounded number of probes at a time, and the columns keep the width of
their widest cell as rows change, grow and go."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from textual.widgets import DataTable

from installer.interactive.install import Session
from installer.interactive.probing import LabProfileProber
from installer.pipeline import RunSettings
from manifests.loader import load_answers_text
from probes.facts import HostFacts
from screens.app import create_app
from screens.hoststable import HostsTable
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import text_of, to_hosts, type_into, until

HOSTS = 300


def answers_text(n: int) -> str:
    """A valid answers file naming `n` remote hosts (3 control, the rest compute)."""
    lines = ["version: 1", 'release: "2025.1"', "deployment: {name: big, region: RegionOne}",
             "hosts:"]
    for i in range(n):
        roles = "[control]" if i < 3 else "[compute]"
        lines += [f"  - name: host{i:04d}", f"    address: 10.40.{i // 200}.{i % 200 + 10}",
                  "    ssh_user: ubuntu", f"    roles: {roles}"]
    lines += ["network:", "  management_cidr: 10.40.0.0/16",
              "  loadbalancer_range: 10.40.250.1-10.40.250.60"]
    return "\n".join(lines) + "\n"


class CountingProber(LabProfileProber):
    """The lab's profile, each probe taking a few turns of the loop; counts how many run at
    once."""

    def __init__(self, session: Session) -> None:
        super().__init__(lambda: session.draft)
        self.at_once = 6  # the bound the screen must keep, whatever it is for this prober
        self.running = 0
        self.most = 0
        self.probed = 0

    async def probe_remote(self, user: str, address: str) -> HostFacts:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            return await super().probe_remote(user, address)
        finally:
            self.running -= 1
            self.probed += 1


def widths(table: DataTable[object]) -> dict[str, int]:
    return {str(c.label): c.content_width for c in table.ordered_columns}


async def test_a_prefilled_file_of_hundreds_of_hosts_fills_every_row_in_place(
        tmp_path: Path) -> None:
    answers = load_answers_text(answers_text(HOSTS)).answers
    session = Session(RunSettings(dry_run=True, state_dir=tmp_path / "state", time_scale=0),
                      prefill=answers)
    prober = CountingProber(session)
    session.prober = prober
    app = create_app(session, prefill=answers)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: app.current == "hosts"
                    and text_of(app, "#nav-status") == f"{HOSTS} hosts ready", timeout=60)
        table = app.screen.query_one("#hosts", HostsTable)
        assert prober.probed == HOSTS
        # Probes run together, but never more at once than the bound.
        assert 1 < prober.most <= prober.at_once
        # Every row is there, in the file's order, showing its host's facts.
        assert table.row_count == HOSTS and not table.filling
        rows = [table.get_row_at(i) for i in range(HOSTS)]
        assert [str(r[0]) for r in rows] == [h.name for h in answers.hosts]
        assert all(str(r[-1]) == "ready" and str(r[2]).endswith(" kvm") for r in rows)
        # The columns are as wide as their widest cell: Status shrank back from "probing…".
        assert widths(table) == {"Name": 8, "Address": 11, "CPU / KVM": 9, "RAM": 7,
                                 "Disks free": 11, "NICs": 4, "Status": 6}
        # The garbage collector paused for the burst is running again, the burst's objects
        # frozen out of its way while the screen holds them.
        assert gc.isenabled() and gc.get_freeze_count() > 0
        # The table answers keys: Ctrl+End takes the cursor to the last host.
        table.focus()
        await pilot.press("ctrl+end")
        await until(pilot, lambda: table.cursor_row == HOSTS - 1)
        # Leaving the screen gives the collector back what it held.
        await pilot.press("ctrl+n")
        await until(pilot, lambda: app.current == "roles" and gc.get_freeze_count() == 0)


async def test_columns_follow_a_failed_host_and_its_removal(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot)
        table = app.screen.query_one("#hosts", HostsTable)
        before = widths(table)
        assert before["Name"] == len("node1")
        await type_into(pilot, "#target", "ubuntu@10.20.0.199")
        await pilot.press("enter")
        await until(pilot, lambda: session.hosts["ubuntu@10.20.0.199"].state == "failed")
        # The failed host is named by its address: the Name column widens to it, and the
        # row is drawn at the new width (not cut at the old one).
        await until(pilot, lambda: widths(table)["Name"] == len("10.20.0.199"))
        await pilot.pause()
        lines = [table.render_line(y).text for y in range(table.row_count + 1)]
        assert any("10.20.0.199  10.20.0.199" in line for line in lines), lines
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("delete")
        assert table.row_count == 1
        assert widths(table) == before
