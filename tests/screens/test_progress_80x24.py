"""Issue 14, item 11: the Progress screen at 80x24 with a plan longer than the screen. The
running step and then the failed one are in view, the ETA counts down (never up) while a step
runs and stops with the run, and the header and the per-host step column are not cut."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Static

from installer.events import PlanFinished, PlanStarted, StepFinished, StepStarted
from installer.interactive.install import Session
from screens.app import create_app
from screens.messages import RunEnded
from tests.screens.conftest import SIZE

LONG = "snap.install:openstack-hypervisor"  # 33 characters, as in a real plan


class Clock:
    """A clock the test moves by hand: no sleeping, no timing assertions."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def visible_rows(table: DataTable[Any]) -> list[str]:
    first = round(table.scroll_y)
    height = table.scrollable_content_region.height - 1  # the header row
    keys = [str(row.key.value) for row in table.ordered_rows]
    return keys[first:first + height]


def rendered(widget: Static) -> str:
    content = widget.render()
    return content.plain if isinstance(content, Text) else str(content)


async def test_progress_follows_the_running_step_then_shows_the_failure_uncut(
        session: Session) -> None:
    from screens.progress import ProgressScreen

    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        screen = ProgressScreen(autostart=False)
        await app.switch_screen(screen)
        await pilot.pause()
        clock = Clock()
        screen.clock = clock
        screen.wizard.running = True  # a run is under way (autostart is off)
        screen.feed(PlanStarted(run_id="r", steps=40))
        for i in range(30):
            step = f"juju.deploy:app{i}"
            screen.feed(StepStarted(step=step, title=f"Deploy app{i}", host=None))
            clock.now += 10
            screen.feed(StepFinished(step=step, outcome="done"))
        long_step = f"{LONG}@node-with-a-long-name"
        screen.feed(StepStarted(step=long_step, title="Install the hypervisor",
                                host="node-with-a-long-name"))
        screen.flush()
        await pilot.pause()
        table = screen.query_one("#steps", DataTable)
        # The running step (the 31st) is in view although 8 rows fit.
        assert long_step in visible_rows(table)
        # Its id is whole: the host has its own column.
        assert str(table.get_row(long_step)[0]) == LONG
        eta = rendered(screen.query_one("#counts", Static))
        assert "ETA 1:40" in eta  # 10 steps left at 10 s each
        # A long step runs: the ETA counts down, and never grows, at each redraw.
        clock.now += 60
        screen.flush()
        assert "ETA 0:40" in rendered(screen.query_one("#counts", Static))
        clock.now += 600
        screen.flush()
        assert "ETA 0:00" in rendered(screen.query_one("#counts", Static))

        screen.feed(StepFinished(step=long_step, outcome="failed", error="snapd refused",
                                 hint="Check `snap changes`."))
        screen.feed(PlanFinished(outcome="failed", done=30, failed=1, skipped=0))
        screen.wizard.running = False
        screen.post_message(RunEnded("failed"))
        await pilot.pause()
        screen.flush()
        await pilot.pause()
        counts = rendered(screen.query_one("#counts", Static))
        assert "stopped" in counts and "ETA" not in counts
        assert len(counts) <= screen.query_one("#counts").content_region.width
        # The title line, which has the room, says which host failed.
        title = rendered(screen.query_one("#title", Static))
        assert "failed on node-with-a-long-name" in title
        assert len(title) <= 80
        # The failed step is in view above the failure panel.
        assert long_step in visible_rows(table)
        # The per-host table names the failed step whole at 80 columns.
        hosts = screen.query_one("#host-progress", DataTable)
        cells = [str(c) for c in hosts.get_row("node-with-a-long-name")]
        assert cells[2] == f"failed {LONG}"
        column = hosts.ordered_columns[2]
        assert column.get_render_width(hosts) >= len(cells[2])
        right = sum(c.get_render_width(hosts) for c in hosts.ordered_columns)
        assert right <= hosts.scrollable_content_region.width
        # After the stop, time passing changes nothing.
        clock.now += 600
        screen.flush()
        assert rendered(screen.query_one("#counts", Static)) == counts
