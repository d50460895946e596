"""Item 21 of issue 14 (the cosmetic list), for the screens."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from installer.interactive.install import Session
from screens.app import create_app
from screens.dialogs import HelpDialog
from screens.welcome import WelcomeScreen
from tests.screens.conftest import SIZE


async def test_help_text_is_not_broken_mid_sentence(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        text = ("Load-balancer range: free addresses in that network, for the OpenStack API\n"
                "endpoints. DNS servers: optional.\n\nA second paragraph.")
        await app.push_screen(HelpDialog("Network", text))
        await pilot.pause()
        shown = str(app.screen.query_one(".help-text", Static).render())
        assert "OpenStack API endpoints." in shown
        assert "optional.\n\nA second paragraph." in shown


def test_welcome_help_says_how_to_upgrade_now() -> None:
    assert "later version" not in WelcomeScreen.HELP
    assert "sunbeam-install upgrade" in WelcomeScreen.HELP


def test_upgrade_wizard_quit_dialog_names_the_upgrade(tmp_path: Path) -> None:
    from installer.interactive.upgrade import UpgradeSession
    from installer.pipeline import RunSettings
    from screens.upgrade_app import create_upgrade_app

    upgrade = UpgradeSession(RunSettings(dry_run=True, state_dir=tmp_path, time_scale=0))
    question = create_upgrade_app(upgrade).quit_question()
    assert question.startswith("Quit the upgrade wizard?"), question
    assert "installer" not in question
