"""Clicking Next with the mouse moves one screen on, as Ctrl+N does: a screen that handles its
own buttons must not make WizardScreen's Next run twice (Textual calls each class's handler
along the MRO, so a subclass that also called super() ran it twice)."""

from __future__ import annotations

from pathlib import Path

from installer.interactive.install import Session
from installer.pipeline import RunSettings
from manifests.loader import load_answers
from screens.app import create_app
from tests.conftest import EXAMPLES
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import until


async def test_a_click_on_next_moves_one_screen_from_hosts_and_from_review(tmp_path: Path) -> None:
    answers = load_answers(EXAMPLES / "single-node.yaml")
    session = Session(RunSettings(dry_run=True, state_dir=tmp_path / "state", time_scale=0),
                      prefill=answers)
    app = create_app(session, prefill=answers)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: app.current == "hosts" and len(session.ready_hosts()) == 1,
                    timeout=20)
        await pilot.click("#next")
        await until(pilot, lambda: app.current != "hosts", timeout=10)
        await pilot.pause()
        assert app.current == "roles"  # not Network: Next ran once
        for _ in ("network", "storage", "options", "review"):
            await pilot.press("ctrl+n")
        assert app.current == "review"
        await until(pilot, lambda: getattr(app.screen, "checked", False), timeout=30)
        await pilot.click("#next")
        await until(pilot, lambda: app.current == "done", timeout=120)
        await pilot.pause()
    runs = sorted((tmp_path / "state" / "runs").glob("*.events.jsonl"))
    assert len(runs) == 1, runs  # one install started, not two
