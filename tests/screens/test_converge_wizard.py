"""The guided installer's "Add hosts to a deployed cloud", at 80x24 through the screens: after
a dry-run install of examples/three-node.yaml, the TUI offers it (by default), starts from the
deployed answers, adds two hosts, reviews the difference and runs it to Done; the lab then has
the new machines. An unchanged draft says "nothing to change" and does not run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Button, Checkbox, DataTable, Input, RadioButton

from installer.interactive.converge import ConvergeSession
from installer.interactive.install import Session
from installer.pipeline import RunSettings
from screens.app import InstallerApp, create_app
from tests.installer.converge.helpers import install_three_node, read_lab_live
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import text_of, type_into, until

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dry-run three-node cloud (each test works on a copy of its state dir)."""
    return install_three_node(tmp_path_factory.mktemp("deployed"))


def app_on(state: Path) -> tuple[InstallerApp, Session]:
    session = Session(RunSettings(dry_run=True, state_dir=state, time_scale=0))
    return create_app(session), session


async def machines(state: Path) -> set[str]:
    """The hosts of the lab's machine model, as the lab's own Juju shows them."""
    return (await read_lab_live(state)).hosts()


async def to_review(pilot: object, app: InstallerApp, add: tuple[str, ...] = ()) -> None:
    await pilot.press("enter")  # type: ignore[attr-defined]
    await until(pilot, lambda: app.current == "hosts" and len(app.session.ready_hosts()) == 3,
                timeout=20)  # type: ignore[arg-type]
    for target in add:
        await type_into(pilot, "#target", target)  # type: ignore[arg-type]
        await pilot.press("enter")  # type: ignore[attr-defined]
    await until(pilot, lambda: len(app.session.ready_hosts()) == 3 + len(add),  # type: ignore[arg-type]
                timeout=20)
    await pilot.press("ctrl+n")  # type: ignore[attr-defined]
    assert app.current == "roles"


async def test_add_two_hosts_to_the_deployed_cloud_shows_the_difference_and_runs_it(
        deployed: Path, tmp_path: Path) -> None:
    state = shutil.copytree(deployed, tmp_path / "state", symlinks=True)
    app, first = app_on(state)
    async with app.run_test(size=SIZE) as pilot:
        # Offered, and chosen by default, since this state dir holds a deployed cloud.
        option = app.screen.query_one("#mode-converge", RadioButton)
        assert not option.disabled and option.value
        assert "A cloud is deployed from this state directory (3 hosts" in text_of(
            app, "#deployed-cloud")
        await to_review(pilot, app, ("ubuntu@10.20.0.14", "ubuntu@10.20.0.15"))
        session = app.session
        assert isinstance(session, ConvergeSession) and session is not first
        # The deployed hosts keep their roles; the new ones get compute (Space on the cell).
        table = app.screen.query_one("#roles", DataTable)
        assert [h.name for h in session.draft.hosts] == ["node1", "node2", "node3", "node4",
                                                         "node5"]
        for row in (3, 4):
            table.move_cursor(row=row, column=2)  # the Compute column
            await pilot.press("space")
        assert [h.roles for h in session.draft.hosts[3:]] == [["compute"], ["compute"]]
        for screen in ("network", "storage", "options", "review"):
            await pilot.press("ctrl+n")
            assert app.current == screen, text_of(app, "#why")
        await until(pilot, lambda: getattr(app.screen, "checked", False), timeout=60)
        shown = text_of(app, "#difference")
        assert "Hosts: 2 added (node4, node5), 0 removed, 3 kept." in shown
        assert "untouched" in shown and "0 removed" in shown
        assert "Add node4 as a machine" in shown and "Add node5 as a machine" in shown
        assert "Stays as deployed" in text_of(app, "#fixed")
        assert not app.screen.query_one("#next", Button).disabled
        await pilot.press("ctrl+n")
        await until(pilot, lambda: app.current == "done" and bool(app.screen.query("#summary")),
                    timeout=120)
        assert session.last_outcome == "done"
        assert "The changes are applied" in text_of(app, "#summary")
        await pilot.press("enter")
    assert app.return_value == 0
    assert await machines(state) == {"node1", "node2", "node3", "node4", "node5"}


async def test_an_unchanged_draft_says_nothing_to_change_and_does_not_run(
        deployed: Path, tmp_path: Path) -> None:
    state = shutil.copytree(deployed, tmp_path / "state", symlinks=True)
    before = sorted(p.name for p in (state / "runs").iterdir()) if (state / "runs").exists() \
        else []
    app, _ = app_on(state)
    async with app.run_test(size=SIZE) as pilot:
        await to_review(pilot, app)
        for screen in ("network", "storage", "options", "review"):
            await pilot.press("ctrl+n")
            assert app.current == screen, text_of(app, "#why")
        await until(pilot, lambda: getattr(app.screen, "checked", False), timeout=60)
        assert "Nothing to change" in text_of(app, "#difference")
        assert app.screen.query_one("#next", Button).disabled
        await pilot.press("ctrl+n")
        assert app.current == "review"
        assert "Nothing to change" in text_of(app, "#why")
    after = sorted(p.name for p in (state / "runs").iterdir()) if (state / "runs").exists() \
        else []
    assert after == before  # no run was started


async def test_without_a_deployed_cloud_the_option_is_disabled(tmp_path: Path) -> None:
    app, session = app_on(tmp_path / "empty")
    async with app.run_test(size=SIZE) as pilot:
        option = app.screen.query_one("#mode-converge", RadioButton)
        assert option.disabled and not option.value
        assert "none deployed here" in str(option.label)
        await pilot.press("enter")
        assert app.current == "hosts"
        assert app.session is session


async def test_what_stays_is_read_only_and_removing_a_role_needs_allow_removal(
        deployed: Path, tmp_path: Path) -> None:
    state = shutil.copytree(deployed, tmp_path / "state", symlinks=True)
    app, _ = app_on(state)
    async with app.run_test(size=SIZE) as pilot:
        await to_review(pilot, app)
        session = app.session
        assert isinstance(session, ConvergeSession)
        table = app.screen.query_one("#roles", DataTable)
        table.move_cursor(row=2, column=3)  # node3, Storage
        await pilot.press("space")
        assert session.draft.hosts[2].roles == ["control", "compute"]
        await pilot.press("ctrl+n")
        assert app.current == "network"
        assert app.screen.query_one("#management-cidr", Input).disabled
        await pilot.press("ctrl+n", "ctrl+n")
        assert app.current == "options"
        for name in ("#release", "#deployment-name", "#region"):
            assert app.screen.query_one(name).disabled, name
        await pilot.press("ctrl+n")
        assert app.current == "review"
        await until(pilot, lambda: getattr(app.screen, "checked", False), timeout=60)
        # Refused until removal is allowed, with the reason; nothing can run.
        assert "Cannot apply" in text_of(app, "#difference")
        assert "microceph on node3 would be removed" in text_of(app, "#difference")
        allow = app.screen.query_one("#allow-removal", Checkbox)
        assert allow.display and "storage from node3" in str(allow.label)
        assert app.screen.query_one("#next", Button).disabled
        allow.focus()
        await pilot.press("space")
        await until(pilot, lambda: getattr(app.screen, "checked", False) and
                    app.screen.difference is not None, timeout=60)  # type: ignore[attr-defined]
        shown = text_of(app, "#difference")
        assert "Roles: storage removed from node3." in shown
        assert "Take the OSDs of node3 out of Ceph once it is safe" in shown
        assert "Remove the microceph unit on node3" in shown
        assert not app.screen.query_one("#next", Button).disabled
