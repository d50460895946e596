"""The Done screen: where the cloud and its admin credentials are, and Verify, at 80x24."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from installer.interactive.install import Session
from installer.pipeline import RunSettings
from manifests.loader import load_answers_file
from screens.app import InstallerApp, create_app
from tests.installer.lab.helpers import install_example
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import text_of, until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VERIFY_TIMEOUT = 60.0  # a safety net only: the lab runs at time scale 0 here


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A three-node dry-run install (external network: verify pings a floating IP)."""
    return install_example(tmp_path_factory.mktemp("done") / "state")


def done_app(state: Path, *faults: str) -> InstallerApp:
    """The app on its Done screen for the install in `state` (its answers prefilled)."""
    session = Session(RunSettings(dry_run=True, state_dir=state, time_scale=0,
                                  faults=tuple(faults)))
    answers = load_answers_file(str(EXAMPLES / "three-node.yaml")).answers
    return create_app(session, prefill=answers, start="done")


async def test_done_shows_dashboard_password_and_openrc(installed: Path) -> None:
    app = done_app(installed)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.screen.query("#summary")))
        summary = text_of(app, "#summary")
        assert "Dashboard:          https://10.20.0.200/openstack-horizon" in summary
        assert f"Admin password:     {installed / 'secrets' / 'admin-password'}" in summary
        assert f"openrc:             {installed / 'openrc'}" in summary
        assert "sunbeam-install verify --dry-run --state-dir" in summary
        await pilot.press("enter")
    assert app.return_value == 0
    openrc = installed / "openrc"
    assert stat.S_IMODE(openrc.stat().st_mode) == 0o600
    password = (installed / "secrets" / "admin-password").read_text().strip()
    assert password not in openrc.read_text()


async def test_verify_from_the_done_screen_shows_each_check(installed: Path) -> None:
    app = done_app(installed)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.screen.query("#verify")))
        await pilot.press("v")
        await until(pilot, lambda: "works" in text_of(app, "#verify-status"),
                    timeout=VERIFY_TIMEOUT)
        results = text_of(app, "#verify-results")
        for title in ("The API endpoints answer", "The compute services are up",
                      "Launch a test instance and wait for ACTIVE", "Reach the instance",
                      "Delete what verify created (5 of 5 steps)"):
            assert f"✓ {title}" in results, results
        assert "✗" not in results
        assert "answers ping from node1" in text_of(app, "#verify-status")
        # At 80x24 the newest result is in sight: the summary scrolled away above it.
        region = app.screen.query_one("#verify-results").region
        assert region.bottom <= SIZE[1] - 2 and region.height > 0
    lab = json.loads(_lab(installed))
    assert not lab["servers"] and not lab["images"] and not lab["routers"]


async def test_a_failing_check_shows_its_error_and_hint(installed: Path) -> None:
    app = done_app(installed, "host.run:openstack-console-log@node1=fail")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.screen.query("#verify")))
        await pilot.click("#verify")
        await until(pilot, lambda: "failed" in text_of(app, "#verify-status"),
                    timeout=VERIFY_TIMEOUT)
        results = text_of(app, "#verify-results")
        assert "✗ Reach the instance" in results
        assert "simulated fault" in results and "sunbeam-install verify" in results
        assert "what it created was deleted" in text_of(app, "#verify-status")
        assert not app.screen.query_one("#verify").disabled  # it may be tried again
    lab = json.loads(_lab(installed))
    assert not lab["servers"] and not lab["networks"].get("sunbeam-install-verify-network")


def _lab(state: Path) -> str:
    from installer.lab import Lab

    return Lab.open(state).state.model_dump_json()
