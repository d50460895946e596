"""A prefilled answers file in the TUI (issue 14, items 1 and 2): the file's hosts and roles
survive intact, "this machine" joins only when the file names it, and one bad address is one
finding on the Hosts screen that adding the host again fixes in place."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from textual.widgets import DataTable

from installer.interactive.install import Session
from installer.interactive.probing import LOCAL
from installer.pipeline import RunSettings
from manifests.loader import load_answers
from screens.app import create_app
from tests.conftest import EXAMPLES
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import text_of, type_into, until


def lab_session(tmp_path: Path, **prefill: object) -> Session:
    """A dry-run session on the lab's hosts (no recorded facts), as `--dry-run` gives."""
    return Session(RunSettings(dry_run=True, state_dir=tmp_path / "state", time_scale=0),
                   **prefill)  # type: ignore[arg-type]


def table_names(app: object) -> list[str]:
    table = app.screen.query_one("#hosts", DataTable)  # type: ignore[attr-defined]
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_twelve_node_file_goes_from_welcome_to_done_intact(tmp_path: Path) -> None:
    pytest.importorskip("installer.planner")
    answers = load_answers(EXAMPLES / "twelve-node.yaml")
    session = lab_session(tmp_path, prefill=answers)
    app = create_app(session, prefill=answers)
    names = [h.name for h in answers.hosts]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: app.current == "hosts" and len(session.ready_hosts()) == 12,
                    timeout=20)
        # Every host of the file has an address: this machine is not one of them.
        assert LOCAL not in session.hosts
        assert table_names(app) == names
        assert text_of(app, "#nav-status") == "12 hosts ready"
        await pilot.press("ctrl+n")
        assert app.current == "roles"
        assert {h.name: h.roles for h in session.draft.hosts} == {
            h.name: list(h.roles) for h in answers.hosts}
        for screen in ("network", "storage", "options", "review"):
            await pilot.press("ctrl+n")
            assert app.current == screen, text_of(app, "#nav-status")
        await until(pilot, lambda: getattr(app.screen, "checked", False), timeout=30)
        assert " error: " not in " " + text_of(app, "#findings")
        got, want = session.answers().model_dump(), answers.model_dump()
        assert set(got.pop("features")) == set(want.pop("features"))  # the Options list's order
        assert got == want
        await pilot.press("ctrl+n")
        # Current before its widgets are mounted: wait for the summary too.
        await until(pilot, lambda: app.current == "done" and bool(app.screen.query("#summary")),
                    timeout=120)
        assert "The cloud is deployed." in text_of(app, "#summary")
        await pilot.press("enter")
    assert app.return_value == 0


async def test_a_file_naming_this_machine_probes_it_under_the_file_s_name(
        tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES / "three-node.yaml").read_text())
    del data["hosts"][0]["address"]  # node1 is this machine
    session = lab_session(tmp_path)
    session.prefill_partial(data)
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: len(session.ready_hosts()) == 3, timeout=20)
        assert LOCAL in session.hosts
        assert table_names(app) == ["node1", "node2", "node3"]
        assert "this machine" in str(app.screen.query_one("#hosts", DataTable).get_row_at(0)[-1])


async def test_one_bad_address_is_one_finding_and_adding_it_again_fills_its_row(
        tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES / "three-node.yaml").read_text())
    data["hosts"][1]["address"] = "10.20.0.300"
    session = lab_session(tmp_path)
    session.prefill_partial(data)
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: len(session.ready_hosts()) == 2, timeout=20)
        # Names kept: node2 is node2 (not this machine), shown failed with the reason.
        assert LOCAL not in session.hosts
        assert table_names(app) == ["node1", "node2", "node3"]
        assert [h.name for h in session.draft.hosts] == ["node1", "node2", "node3"]
        notes = text_of(app, "#prefill-notes")
        assert notes.count("10.20.0.300") == 1 and "add the host again" in notes
        await pilot.press("ctrl+n")
        assert app.current == "hosts"  # not left out silently
        assert "node2: add again above as user@address" in text_of(app, "#why")
        assert "'10.20.0.300' is not an IP address" in text_of(app, "#host-detail")
        await type_into(pilot, "#target", "ubuntu@10.20.0.12")
        await pilot.press("enter")
        await until(pilot, lambda: len(session.ready_hosts()) == 3, timeout=20)
        assert table_names(app) == ["node1", "node2", "node3"]  # in its own row
        assert [(h.name, h.address) for h in session.draft.hosts] == [
            ("node1", "10.20.0.11"), ("node2", "10.20.0.12"), ("node3", "10.20.0.13")]
        assert session.draft.hosts[1].roles == ["control", "compute", "storage"]
        assert session.problems_for("hosts") == []
        await pilot.press("ctrl+n")
        assert app.current == "roles"
