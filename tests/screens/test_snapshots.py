"""How each screen looks at 80x24 (pytest-textual-snapshot). Plain `def` tests (PITFALLS).

Update deliberately with `pytest tests/screens/test_snapshots.py --snapshot-update`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from installer.events import PlanFinished, PlanStarted, StepFinished, StepLog, StepStarted
from installer.interactive.install import Session
from installer.pipeline import RunSettings
from screens.app import create_app
from tests.screens.conftest import FACTS, SIZE

# A fixed state dir: paths shown on screen must not vary between runs.
STATE = Path("/tmp/sunbeam-install-snapshots")


def app_at(start: str = "welcome") -> Any:
    session = Session(RunSettings(dry_run=True, state_dir=STATE, facts_dir=FACTS, time_scale=0))
    return create_app(session, start=start)


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(200):
        await pilot.pause(0.02)
        app: Any = pilot.app
        if all(e.state != "probing" for e in app.session.hosts.values()) and (
            not hasattr(app.screen, "checked") or app.screen.checked
        ):
            break
    for field in app.screen.query(Input):
        field.cursor_blink = False  # a blinking cursor makes snapshots flaky
    await pilot.pause()


def navigate(*keys: str, hosts: tuple[str, ...] = ("ubuntu@10.20.0.12", "ubuntu@10.20.0.13")):
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")
        await settle(pilot)
        for target in hosts:
            field = pilot.app.screen.query_one("#target", Input)
            field.value = target
            await pilot.press("enter")
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_welcome(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)

    assert snap_compare(app_at(), terminal_size=SIZE, run_before=run_before)


def test_hosts(snap_compare: Any) -> None:
    assert snap_compare(app_at(), terminal_size=SIZE, run_before=navigate())


def test_roles(snap_compare: Any) -> None:
    assert snap_compare(app_at(), terminal_size=SIZE, run_before=navigate("ctrl+n"))


def test_network(snap_compare: Any) -> None:
    assert snap_compare(app_at(), terminal_size=SIZE, run_before=navigate("ctrl+n", "ctrl+n"))


def test_storage(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await navigate("ctrl+n", "ctrl+n")(pilot)
        pilot.app.screen.query_one("#lb-range", Input).value = "10.20.0.200-10.20.0.220"
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("space", "down", "down", "down")

    assert snap_compare(app_at(), terminal_size=SIZE, run_before=run_before)


def test_options(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await navigate("ctrl+n", "ctrl+n")(pilot)
        pilot.app.screen.query_one("#lb-range", Input).value = "10.20.0.200-10.20.0.220"
        await pilot.press("ctrl+n")
        await settle(pilot)
        app: Any = pilot.app
        for h in app.session.draft.hosts:
            facts = app.session.facts_by_host()[h.name]
            h.osd_devices = [facts.disks[1].by_id[0]]
        await pilot.press("ctrl+n")
        await settle(pilot)

    assert snap_compare(app_at(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare: Any) -> None:
    assert snap_compare(app_at(), terminal_size=SIZE, run_before=navigate("ctrl+n", "f1"))


def test_quit_confirmation(snap_compare: Any) -> None:
    assert snap_compare(app_at(), terminal_size=SIZE, run_before=navigate("ctrl+q"))


def test_progress_failure(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        from screens.progress import ProgressScreen

        screen = ProgressScreen(autostart=False)
        await pilot.app.switch_screen(screen)
        await pilot.pause()
        t = 1_700_000_000.0
        screen.feed(PlanStarted(run_id="r1", steps=3, time=t))
        for i, host in enumerate(("node1", "node2")):
            screen.feed(StepStarted(step=f"snap.install:openstack-hypervisor@{host}",
                                    title="Install the hypervisor", host=host, time=t + i))
            screen.feed(StepLog(step=f"snap.install:openstack-hypervisor@{host}",
                                line=f"installing on {host}", time=t + i))
        screen.feed(StepFinished(step="snap.install:openstack-hypervisor@node1", outcome="done",
                                 time=t + 3))
        screen.feed(StepFinished(step="snap.install:openstack-hypervisor@node2",
                                 outcome="failed", error="snapd refused the install",
                                 hint="Check `snap changes` on node2.", time=t + 4))
        screen.feed(StepFinished(step="juju.deploy:keystone-k8s", outcome="skipped", time=t + 5))
        screen.feed(PlanFinished(outcome="failed", done=1, failed=1, skipped=1, time=t + 6))
        screen.flush()
        await pilot.pause()

    assert snap_compare(app_at(), terminal_size=SIZE, run_before=run_before)

