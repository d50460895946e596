"""The upgrade wizard driven through Pilot at 80x24: install 2024.1 in the lab (dry run, time
scale 0), upgrade it to 2025.1 through the screens, and read the lab back."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
import yaml
from textual.widgets import Button, DataTable, Static

from installer.cli import main
from installer.interactive.upgrade import UpgradeSession
from installer.pipeline import RunSettings
from manifests.answers import Answers
from screens.upgrade_app import UpgradeApp, create_upgrade_app
from tests.installer.upgrade.test_upgrade_dry_run import write_facts
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import until

ROOT = Path(__file__).resolve().parents[2]



@pytest.fixture
def cloud(tmp_path: Path) -> tuple[Path, Path]:
    """(state dir, facts dir with the hosts on Ubuntu 24.04) of a 2024.1 cloud in the lab."""
    data = yaml.safe_load((ROOT / "examples" / "three-node.yaml").read_text())
    data["release"] = "2024.1"
    answers_file = tmp_path / "answers.yaml"
    answers_file.write_text(yaml.safe_dump(data))
    answers = Answers.model_validate(data)
    # 2024.1 runs on Ubuntu 24.04 as 2025.1 does (sunbeam-deployment.md, platform); the
    # 22.04 facts are for the test whose upgrade preflight must refuse.
    write_facts(answers, tmp_path / "facts-22.04", "22.04")
    facts24 = write_facts(answers, tmp_path / "facts-24.04", "24.04")
    state = tmp_path / "state"
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(["--answers", str(answers_file), "--dry-run", "--yes", "--state-dir",
                   str(state), "--time-scale", "0", "--facts", str(facts24)])
    assert rc == 0
    return state, facts24


def text_of(app: UpgradeApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_upgrade_wizard_moves_the_lab_from_2024_1_to_2025_1(
        cloud: tuple[Path, Path]) -> None:
    state, facts24 = cloud
    upgrade = UpgradeSession(RunSettings(dry_run=True, state_dir=state,
                                         facts_dir=facts24, time_scale=0))
    app = create_upgrade_app(upgrade)
    async with app.run_test(size=SIZE) as pilot:
        assert app.current == "upgrade-detect"
        await until(pilot, lambda: upgrade.deployed is not None, timeout=20)
        await pilot.pause()
        assert "Release 2024.1 (from the journal)" in text_of(app, "#deployed")
        inventory = app.screen.query_one("#inventory", DataTable)
        rows = [[str(c) for c in inventory.get_row_at(i)] for i in range(inventory.row_count)]
        keystone = next(r for r in rows if r[1] == "keystone")  # the application's name
        assert keystone[3] == "2024.1/stable" and keystone[4].isdigit()
        assert keystone[5] == "3/3"  # units active and idle
        assert any(r[0] == "snap" and r[1] == "openstack-hypervisor" for r in rows)

        await pilot.press("ctrl+n")
        assert app.current == "upgrade-target"
        assert upgrade.target == "2025.1"  # the only supported target, chosen for you
        targets = app.screen.query_one("#targets", DataTable)
        verdicts = {str(targets.get_row_at(i)[1]): str(targets.get_row_at(i)[2])
                    for i in range(targets.row_count)}
        assert verdicts["2025.1"] == "supported"
        assert all(v == "refused" for r, v in verdicts.items() if r != "2025.1")

        await pilot.press("ctrl+n")
        assert app.current == "upgrade-changes"
        changes = app.screen.query_one("#changes", DataTable)
        keystone_change = next(
            [str(c) for c in changes.get_row_at(i)] for i in range(changes.row_count)
            if str(changes.get_row_at(i)[1]) == "keystone")
        assert keystone_change[2].startswith("2024.1/stable ")  # and its revision
        assert keystone_change[3] == "2025.1/stable"
        # Charms and snaps counted alike here and on the Confirm screen (issue 14, item 21).
        counted = re.search(r"\d+ charm refreshes and \d+ snap refreshes",
                            text_of(app, "#change-summary"))
        assert counted, text_of(app, "#change-summary")

        await pilot.press("ctrl+n")
        assert app.current == "upgrade-preflight"
        await until(pilot, lambda: getattr(app.screen, "checked", False), timeout=20)
        findings = text_of(app, "#findings")
        assert "error:" not in findings, findings
        # 2024.1 already ran cinder-volume (reference sunbeam-deployment.md §3), so nothing of
        # the lab's cloud is left behind: no warning to accept (the warning path is
        # test_upgrade_preflight_errors_block's).
        assert "warning:" not in findings, findings
        await pilot.press("ctrl+n")
        assert app.current == "upgrade-confirm"
        assert "from 2024.1 to 2025.1" in text_of(app, "#confirm-text")
        assert f"({counted.group(0)})" in text_of(app, "#confirm-text")
        assert str(app.screen.query_one("#next", Button).label) == "Upgrade"

        await pilot.press("ctrl+n")
        # Current before its widgets are mounted: wait for the summary too.
        await until(pilot, lambda: app.current == "done" and bool(app.screen.query("#summary")),
                    timeout=60)
        assert "The cloud runs 2025.1 now." in text_of(app, "#summary")
        await pilot.press("enter")
    assert app.return_value == 0
    assert upgrade.last_outcome == "done"

    # The lab, read afresh, runs 2025.1 on every charm and snap.
    after = UpgradeSession(RunSettings(dry_run=True, state_dir=state,
                                       facts_dir=facts24, time_scale=0))
    deployed = await after.detect()
    assert deployed.release == "2025.1"
    assert deployed.channels_release == "2025.1"


async def test_upgrade_preflight_errors_block(cloud: tuple[Path, Path]) -> None:
    # Hosts that report Ubuntu 22.04, which 2025.1 is not built for.
    state, facts24 = cloud
    facts22 = facts24.parent / "facts-22.04"
    upgrade = UpgradeSession(RunSettings(dry_run=True, state_dir=state, facts_dir=facts22,
                                         time_scale=0))
    app = create_upgrade_app(upgrade)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: upgrade.deployed is not None, timeout=20)
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        assert app.current == "upgrade-preflight"
        await until(pilot, lambda: getattr(app.screen, "checked", False), timeout=20)
        assert "error:" in text_of(app, "#findings")
        assert app.screen.query_one("#next", Button).disabled
        await pilot.press("ctrl+n")
        assert app.current == "upgrade-preflight"


async def test_refused_targets_are_greyed_with_the_reason(cloud: tuple[Path, Path]) -> None:
    state, facts24 = cloud
    upgrade = UpgradeSession(RunSettings(dry_run=True, state_dir=state,
                                         facts_dir=facts24, time_scale=0))
    app = create_upgrade_app(upgrade)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: upgrade.deployed is not None, timeout=20)
        assert upgrade.deployed is not None
        # A cloud on a release this installer does not ship: no step from it is supported.
        upgrade.deployed = upgrade.deployed.model_copy(update={"release": "2023.1"})
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.current == "upgrade-detect"
        assert "No shipped release is a supported upgrade from 2023.1" in text_of(app, "#why")
        app.goto("upgrade-target")
        await pilot.pause()
        table = app.screen.query_one("#targets", DataTable)
        row = table.get_row("2025.1")
        assert str(row[2]) == "refused" and "allows upgrades only from" in str(row[3])
        assert "dim" in str(row[1].style)
        await pilot.press("space")
        assert upgrade.target is None
        assert "Cannot upgrade to 2024.1" in text_of(app, "#nav-status")  # the first row
        await pilot.press("ctrl+n")
        assert app.current == "upgrade-target"


async def test_upgrade_without_an_install_says_what_to_pass(tmp_path: Path) -> None:
    upgrade = UpgradeSession(RunSettings(dry_run=True, state_dir=tmp_path / "empty", time_scale=0))
    app = create_upgrade_app(upgrade)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "cannot be read" in text_of(app, "#deployed"), timeout=10)
        assert "pass --answers FILE" in text_of(app, "#deployed")
        await pilot.press("ctrl+n")
        assert app.current == "upgrade-detect"


def test_upgrade_without_to_and_no_terminal_lists_targets(
        cloud: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    state, facts24 = cloud
    capsys.readouterr()
    rc = main(["upgrade", "--dry-run", "--state-dir", str(state), "--time-scale", "0",
               "--facts", str(facts24)])  # pytest's stdin is not a terminal
    out, err = capsys.readouterr()
    assert rc == 2
    assert "The cloud runs 2024.1." in out
    assert "2025.1: supported." in out
    assert "upgrade --to 2025.1 --dry-run --yes" in err
