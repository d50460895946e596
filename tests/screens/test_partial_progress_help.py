"""Partial answers files prefilling the wizard, the Progress screen's per-host table, F1 help
for the focused widget, and no "Back" where there is no back."""

from __future__ import annotations

from typing import Any

import yaml
from textual.widgets import DataTable, Input, Static

from installer.events import PlanStarted, StepFinished, StepStarted
from installer.interactive.draft import partial_draft, screen_of
from installer.interactive.install import Session
from screens.app import create_app
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import to_hosts, type_into, until

PARTIAL = """\
version: 1
hosts:
  - name: node1
    roles: [control, compute, storage, gpu]
  - name: node2
    address: 10.20.0.999
network:
  management_cidr: 10.20.0.0/24
"""


def test_partial_answers_keep_what_is_valid_and_place_each_problem() -> None:
    draft, problems = partial_draft(yaml.safe_load(PARTIAL))
    assert [h.name for h in draft.hosts] == ["node1", "node2"]
    assert draft.hosts[0].roles == ["control", "compute", "storage"]
    # Not an IP address: kept as written (None would make node2 "this machine"), and said so.
    assert draft.hosts[1].address == "10.20.0.999"
    assert draft.management_cidr == "10.20.0.0/24"
    where = {p.path: screen_of(p.path) for p in problems}
    assert where == {
        "hosts[0].roles": "roles",
        "hosts[1].address": "hosts",
        "network.loadbalancer_range": "network",
    }
    assert all(p.message[0].isupper() and p.message.endswith(".") for p in problems)


def test_partial_answers_refuse_what_is_not_a_section() -> None:
    _, problems = partial_draft({"hosts": "node1", "colour": "blue"})
    messages = " ".join(p.message for p in problems)
    assert "Unknown section 'colour'" in messages
    assert "Hosts must be a list" in messages
    assert "No network section" in messages


async def test_partial_answers_prefill_the_screens_and_show_problems_there(
        session: Session) -> None:
    session.prefill_partial(yaml.safe_load(PARTIAL))
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        assert "3 parts missing or wrong" in str(
            app.screen.query_one("#prefilled", Static).render())
        await to_hosts(pilot)
        assert "address '10.20.0.999' is not an IP address" in str(
            app.screen.query_one("#prefill-notes", Static).render())
        # node2 is added again with its right address: it fills node2's row, roles kept.
        await type_into(pilot, "#target", "ubuntu@10.20.0.12")
        await pilot.press("enter")
        await until(pilot, lambda: all(e.state == "ready" for e in session.hosts.values()))
        assert [h.name for h in session.draft.hosts] == ["node1", "node2"]
        await pilot.press("ctrl+n")
        assert app.current == "roles"
        notes = str(app.screen.query_one("#prefill-notes", Static).render())
        assert "unknown role gpu" in notes
        assert "roles are control, compute, storage, network" in notes
        # The file's roles are kept; node2 has none, so the rules say so until it gets one.
        assert session.draft.hosts[0].roles == ["control", "compute", "storage"]
        assert "node2: none" in str(app.screen.query_one("#rules", Static).render())
        await pilot.press("d", "ctrl+n")
        assert app.current == "network"
        assert app.screen.query_one("#management-cidr", Input).value == "10.20.0.0/24"
        assert "loadbalancer_range is not given" in str(
            app.screen.query_one("#prefill-notes", Static).render())


def _progress(app: Any) -> Any:
    from screens.progress import ProgressScreen

    return ProgressScreen(autostart=False)


async def test_progress_per_host_table_counts_and_shows_the_failed_host(
        session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = _progress(app)
        await app.switch_screen(screen)
        await pilot.pause()
        hosts = [f"node{i}" for i in range(120)]
        screen.set_totals({h: 2 for h in hosts})
        screen.feed(PlanStarted(run_id="r", steps=240))
        for h in hosts:
            for k in range(2):
                step = f"snap.install:s{k}@{h}"
                screen.feed(StepStarted(step=step, title="t", host=h))
                if h == "node90" and k == 1:
                    screen.feed(StepFinished(step=step, outcome="failed", error="boom"))
                elif not (h == "node5" and k == 1):
                    screen.feed(StepFinished(step=step, outcome="done"))
        screen.flush()
        await pilot.pause()
        table = screen.query_one("#host-progress", DataTable)
        assert table.row_count == 120
        row = {str(table.get_row_at(0)[0]): [str(c) for c in table.get_row_at(0)]}
        assert row["node0"][1:] == ["2/2", "-"]
        node5 = [str(c) for c in table.get_row("node5")]
        assert node5[1:3] == ["1/2", "snap.install:s1"]
        # The failed host is brought into view: the cursor is on it.
        assert table.cursor_row == table.get_row_index("node90")
        assert [str(c) for c in table.get_row("node90")][2] == "failed snap.install:s1"
        # The bar and its ETA stay on screen above the tables.
        assert screen.query_one("#bar").region.y == 1
        assert "240" in str(screen.query_one("#counts", Static).render())
        # Moving in the host table must not make the log follow a "step" named like a host.
        table.focus()
        await pilot.press("down", "down")
        screen.flush()
        assert screen.selected is None


async def test_f1_explains_the_focused_field_or_table(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot)
        app.screen.query_one("#hosts").focus()
        await pilot.press("f1")
        title = str(app.screen.query("#dialog Static").first().render())
        assert title == "Help: Hosts: Hosts table"
        await pilot.press("escape")
        await pilot.press("ctrl+n", "ctrl+n")
        assert app.current == "network"
        app.screen.query_one("#lb-range").focus()
        await pilot.press("f1")
        dialog = " ".join(str(s.render()) for s in app.screen.query("#dialog Static"))
        assert "Help: Network: Load-balancer range" in dialog
        assert "first one is the dashboard" in dialog
        await pilot.press("escape")
        app.screen.query_one("#next").focus()  # nothing with its own help: the screen's
        await pilot.press("f1")
        assert str(app.screen.query("#dialog Static").first().render()) == "Help: Network"


async def test_no_back_binding_where_there_is_no_back(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        def shown() -> set[str]:
            return {b.binding.action for b in app.screen.active_bindings.values()
                    if b.enabled and b.binding.show}

        assert "back" not in shown()  # Welcome
        await to_hosts(pilot)
        assert "back" in shown()
