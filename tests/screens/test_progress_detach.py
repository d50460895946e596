"""Issue 16 in the TUI: it opens on the Progress screen when a run is in progress in its state
dir (started headless, in its own process), and Ctrl+C there asks: leave the run running, or
stop it. The run is held at a known step by the lab's `hang` fault."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from installer.interactive.install import Session
from installer.journal import Journal
from installer.pipeline import RunSettings
from screens.app import StopOrDetach, create_app, first_screen
from tests.installer.pipeline.runproc import GUARD, held_milestone, run_pid, wait_for
from tests.procs import alive
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import until

ROOT = Path(__file__).resolve().parents[2]
HELD = "ceph.add-osd@node1"


def start_held_install(state: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A headless dry-run install in another process, held at HELD; its viewer and run pid."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="dumb")
    viewer = subprocess.Popen(
        [sys.executable, "-m", "installer", "--answers", str(ROOT / "examples/single-node.yaml"),
         "--dry-run", "--yes", "--state-dir", str(state), "--time-scale", "0",
         "--faults", f"{HELD}=hang"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pid = run_pid(state, viewer)
    from installer.pipeline.launch import last_run_process

    process = last_run_process(state)
    assert process is not None
    wait_for(process.files.events, f'"{HELD}","event":"StepStarted"', 1, viewer)
    # Every other step it can finish finished: a stop then cancels the held step only.
    single = ROOT / "examples/single-node.yaml"
    wait_for(process.files.events, '"StepFinished"', held_milestone(single, HELD), viewer)
    return viewer, pid


def outcome(state: Path) -> str | None:
    with Journal.open(state / "journal.sqlite") as j:
        run = j.last_run()
        assert run is not None
        return run.outcome


def wait_dead(pid: int) -> None:
    deadline = time.monotonic() + GUARD
    while alive(pid):
        assert time.monotonic() < deadline, "the run's process did not stop"
        time.sleep(0.01)


async def test_the_tui_follows_a_run_in_progress_and_can_leave_it_running(
        tmp_path: Path) -> None:
    state = tmp_path / "state"
    viewer, pid = start_held_install(state)
    try:
        session = Session(RunSettings(dry_run=True, state_dir=state))
        assert first_screen(session) == "progress"  # as `sunbeam-install` would open
        assert session.draft.hosts and session.draft.hosts[0].name == "node1"  # its answers
        app = create_app(session, start="progress")
        async with app.run_test(size=SIZE) as pilot:
            assert app.current == "progress"
            await until(pilot, lambda: HELD in getattr(app.screen, "rows", {}), timeout=GUARD)
            assert app.running
            await pilot.press("ctrl+c")
            await until(pilot, lambda: isinstance(app.screen, StopOrDetach))
            await pilot.press("d")
        assert app.return_value == 130
        assert app.detached_pid == pid
        assert alive(pid) and outcome(state) is None  # it goes on
    finally:
        os.kill(pid, signal.SIGINT)
        viewer.communicate(timeout=GUARD)
    wait_dead(pid)
    assert outcome(state) == "interrupted"


async def test_ctrl_c_in_the_tui_can_stop_the_run(tmp_path: Path) -> None:
    state = tmp_path / "state"
    viewer, pid = start_held_install(state)
    try:
        session = Session(RunSettings(dry_run=True, state_dir=state))
        assert session.find_live_run()
        app = create_app(session, start="progress")
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: HELD in getattr(app.screen, "rows", {}), timeout=GUARD)
            await pilot.press("ctrl+c")
            await until(pilot, lambda: isinstance(app.screen, StopOrDetach))
            await pilot.press("s")
        assert app.return_value == 130
        wait_dead(pid)
        assert outcome(state) == "interrupted"
        viewer.communicate(timeout=GUARD)
        assert viewer.returncode == 130
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
        if viewer.poll() is None:
            viewer.kill()
            viewer.communicate()


def test_the_tui_opens_on_welcome_without_a_run_in_progress(tmp_path: Path) -> None:
    assert first_screen(Session(RunSettings(dry_run=True, state_dir=tmp_path / "s"))) == "welcome"
