"""Item 8 of issue 14: the Network screen at 80x24."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Input, Static

from installer.interactive.install import Session
from screens.app import InstallerApp, create_app
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import to_hosts, type_into


async def to_network(pilot: object, app: InstallerApp) -> None:
    await to_hosts(pilot)  # type: ignore[arg-type]
    await pilot.press("ctrl+n", "ctrl+n")  # type: ignore[attr-defined]
    assert app.current == "network"
    app.screen.query_one("#external", Checkbox).value = True
    await pilot.pause()  # type: ignore[attr-defined]


def error_under(app: InstallerApp, field: str) -> str:
    error = app.screen.query_one(f"#{field}-field .field-error", Static)
    return str(error.render()) if error.display else ""


def fully_visible(app: InstallerApp, widget_id: str) -> bool:
    body = app.screen.query_one("#body", VerticalScroll)
    return body.region.contains_region(app.screen.query_one(f"#{widget_id}", Input).region)


async def test_focused_field_stays_on_screen_when_errors_appear(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_network(pilot, app)
        await type_into(pilot, "#lb-range", "10.20.0.200-10.20.0.220")
        await type_into(pilot, "#external-cidr", "172.16.2.0/24")
        await type_into(pilot, "#external-gateway", "172.16.2.150")
        # The range makes the gateway (above) wrong: a line appears above the focused field.
        await type_into(pilot, "#external-range", "172.16.2.100-172.16.2.200")
        await pilot.pause()
        assert "inside the allocation range" in error_under(app, "external-gateway")
        assert app.screen.query_one("#external-range", Input).has_focus
        assert fully_visible(app, "external-range")
        # An error below the focused field keeps it in view too.
        await type_into(pilot, "#external-vlan", "99999")
        await pilot.pause()
        assert error_under(app, "external-vlan")
        assert fully_visible(app, "external-vlan")


async def test_external_cidr_overlap_shows_before_gateway_and_range(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_network(pilot, app)
        await type_into(pilot, "#lb-range", "10.20.0.200-10.20.0.220")
        await type_into(pilot, "#external-cidr", "10.20.0.0/25")
        await pilot.pause()
        assert "overlaps the management network" in error_under(app, "external-cidr")


async def test_required_external_cidr_is_said_under_the_field(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_network(pilot, app)
        await type_into(pilot, "#lb-range", "10.20.0.200-10.20.0.220")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.current == "network"
        assert error_under(app, "external-cidr") == "External CIDR is required."
        assert app.screen.query_one("#external-cidr", Input).has_focus
        assert fully_visible(app, "external-cidr")
