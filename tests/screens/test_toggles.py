"""Item 9 of issue 14: toggle state shows in the glyph, and errors stay readable without colour."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Checkbox, Input, RadioButton, SelectionList, Static

from installer.interactive.install import Session
from screens.app import create_app
from screens.toggles import GlyphSelectionList
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import to_hosts, type_into


def shown(widget: Checkbox | RadioButton) -> str:
    return str(widget.render())


async def test_radio_buttons_show_which_is_chosen_by_glyph(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE):
        buttons = list(app.screen.query(RadioButton))
        assert [shown(b)[:3] for b in buttons] == ["(•)", "( )", "( )"]


async def test_checkbox_shows_its_state_by_glyph(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot)
        await pilot.press("ctrl+n", "ctrl+n")
        assert app.current == "network"
        box = app.screen.query_one("#external", Checkbox)
        before = shown(box)
        box.toggle()
        await pilot.pause()
        after = shown(box)
        assert {before[:3], after[:3]} == {"[x]", "[ ]"}
        assert after.startswith("[x]") == box.value


async def test_selection_list_rows_show_their_state_by_glyph() -> None:
    class Features(App[None]):
        def compose(self) -> ComposeResult:
            yield GlyphSelectionList(("dns: DNS", "dns", True), ("vault: Vault", "vault", False),
                                     id="features")

    app = Features()
    async with app.run_test(size=SIZE) as pilot:
        features = app.query_one("#features", SelectionList)
        assert features.render_line(0).text.startswith("[x] dns")
        assert features.render_line(1).text.startswith("[ ] vault")
        features.toggle("vault")
        await pilot.pause()
        assert features.render_line(1).text.startswith("[x] vault")


async def test_errors_are_bold_not_dim_under_no_color(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = create_app(session)
    assert app.no_color
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot)
        await pilot.press("ctrl+n", "ctrl+n")
        await type_into(pilot, "#lb-range", "nonsense")
        error = app.screen.query_one("#lb-range-field .field-error", Static)
        assert error.display and str(error.render())
        style = error.rich_style
        assert style.bold and not style.dim
        label = app.screen.query_one("#lb-range-field Label", Static)
        assert style.color == label.rich_style.color  # not a grey dimmer than the body text
        assert app.screen.query_one("#lb-range", Input).has_focus
