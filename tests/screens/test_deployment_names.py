"""Issue 14, item 17: the guided installer asks for the deployment name and the region, with
Sunbeam's defaults, checked by the answers file's own model as they are typed."""

from __future__ import annotations

from textual.widgets import Input, Static

from installer.interactive.install import Session
from screens.app import create_app
from screens.fields import Field
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import type_into, until


async def test_options_ask_for_deployment_name_and_region(session: Session) -> None:
    app = create_app(session, start="options")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.current == "options"
                    and bool(app.screen.query("#deployment-name")))
        screen = app.screen
        assert screen.query_one("#deployment-name", Input).value == "sunbeam"
        assert screen.query_one("#region", Input).value == "RegionOne"
        await type_into(pilot, "#deployment-name", "Lab One")
        await pilot.pause()
        error = str(screen.query_one("#deployment-name-field", Field)
                    .query_one(".field-error", Static).render())
        assert "Deployment name 'Lab One' is not valid" in error
        await type_into(pilot, "#region", "Region One")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.current == "options"  # refused: the name is not valid
        await type_into(pilot, "#deployment-name", "lab1")
        await type_into(pilot, "#region", "lab-region")
        await pilot.pause()
        screen.store()
        assert (session.draft.deployment_name, session.draft.region) == ("lab1", "lab-region")
        assert session.draft.to_data()["deployment"] == {"name": "lab1", "region": "lab-region"}
