"""Issue 14, item 10: at 80 columns the Storage screen's table cuts a disk's reason, so the line
under the table shows it whole, as the help promises."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input, Static

from tests.screens.conftest import SIZE
from tests.screens.test_snapshots import app_at, navigate, settle


async def test_the_line_under_the_disks_shows_the_whole_reason() -> None:
    app: Any = app_at()
    async with app.run_test(size=SIZE) as pilot:
        await navigate("ctrl+n", "ctrl+n")(pilot)
        app.screen.query_one("#lb-range", Input).value = "10.20.0.200-10.20.0.220"
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.current == "storage"
        table = app.screen.query_one("#disks", DataTable)
        facts = app.session.facts_by_host()
        root = next(i for i, key in enumerate(table.rows)
                    if not next(d for d in facts[str(key.value).split("\t")[0]].disks
                                if d.name == str(key.value).split("\t")[1]).osd_eligible)
        table.focus()
        table.move_cursor(row=root)
        await pilot.pause()
        detail = app.screen.query_one("#disk-detail", Static)
        text = str(detail.render())
        assert "Cannot be used: It holds the root filesystem." in text
        # Both lines are on screen, not cut by a one-line box.
        assert detail.region.height >= 2
        assert detail.region.bottom <= SIZE[1]
