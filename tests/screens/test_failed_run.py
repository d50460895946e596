"""A failed install in the TUI (issue 14, items 3, 5 and 12): the quit dialog says what ran and
how to go on, a retry's per-host counts stay within their totals, and every hint names
--dry-run (and the state dir given) so that following it works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from installer.interactive.install import Session
from installer.pipeline import RunSettings
from manifests.loader import load_answers
from screens.app import create_app
from tests.conftest import EXAMPLES
from tests.screens.conftest import SIZE
from tests.screens.test_wizard import until

FAULT = "juju.deploy:nova=fail"


def failing_session(tmp_path: Path) -> Session:
    settings = RunSettings.build(dry_run=True, state_dir=tmp_path / "state", time_scale=0,
                                 faults=[FAULT])
    return Session(settings, prefill=load_answers(EXAMPLES / "single-node.yaml"))


def host_counts(app: Any) -> list[tuple[int, int]]:
    return [(h.done, h.total) for h in app.screen.hosts.values()]


async def test_quit_after_a_failed_install_says_what_ran_and_how_to_continue(
        tmp_path: Path) -> None:
    pytest.importorskip("installer.planner")
    session = failing_session(tmp_path)
    app = create_app(session, start="progress")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: session.last_outcome == "failed", timeout=60)
        await pilot.pause()
        first = {k: r.status for k, r in app.screen.rows.items()}
        assert all(done <= total for done, total in host_counts(app))
        await pilot.press("r")  # retry: the same step fails again
        await until(pilot, lambda: not app.running and session.last_outcome == "failed",
                    timeout=60)
        await pilot.pause()
        app.screen.flush()
        # Item 5: no host passes its total; what the first run did still shows as done.
        assert all(done <= total for done, total in host_counts(app)), host_counts(app)
        again = {k: r.status for k, r in app.screen.rows.items()}
        assert [k for k, v in first.items() if v == "done" and again[k] != "done"] == []
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.screen.query("#dialog Static"))
        text = str(app.screen.query_one("#dialog Static", Static).render())
        assert "Nothing has been changed" not in text
        finished = session.last_finished
        assert finished is not None and finished.failed == 1
        total = finished.done + finished.skipped + finished.failed + finished.pending
        assert f"{finished.done + finished.skipped} of {total} steps done" in text
        state = tmp_path / "state"
        assert f"Continue with: sunbeam-install resume --dry-run --state-dir {state}" in text
        await pilot.press("y")
    assert app.return_value == 3


async def test_done_screen_hints_name_dry_run_and_the_state_dir(tmp_path: Path) -> None:
    pytest.importorskip("installer.planner")
    settings = RunSettings.build(dry_run=True, state_dir=tmp_path / "state", time_scale=0)
    session = Session(settings, prefill=load_answers(EXAMPLES / "single-node.yaml"))
    app = create_app(session, start="progress")
    async with app.run_test(size=SIZE) as pilot:
        # The Done screen is current before its widgets are mounted: wait for the summary.
        await until(pilot, lambda: app.current == "done" and bool(app.screen.query("#summary")),
                    timeout=60)
        summary = str(app.screen.query_one("#summary", Static).render())
        state = tmp_path / "state"
        assert f"sunbeam-install status --dry-run --state-dir {state}" in summary
        assert f"sunbeam-install upgrade --dry-run --state-dir {state}" in summary
        await pilot.press("enter")


def test_no_table_is_needed_for_the_dialog() -> None:
    # The dialog's text is plain text: a host's "[" never reads as markup there.
    from screens.dialogs import ConfirmQuit

    assert ConfirmQuit("a [b]c").text == "a [b]c"
    assert DataTable  # keeps the import used for readers who extend these tests


def test_leaving_the_tui_after_a_failure_prints_how_to_continue(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Item 13: the same "Continue with: ..." line headless mode ends with.
    from installer.events import PlanFinished
    from screens.app import print_leaving

    session = failing_session(tmp_path)
    session.log_path, session.last_outcome = str(tmp_path / "run.log"), "failed"
    session.last_finished = PlanFinished(outcome="failed", done=34, failed=1, pending=76)
    print_leaving(session, 3)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Log: {tmp_path / 'run.log'}"
    assert out[1].startswith("The install stopped with 34 of 111 steps done, 1 failed")
    assert out[2] == (f"Continue with: sunbeam-install resume --dry-run --state-dir "
                      f"{tmp_path / 'state'}")
    # Quit while it ran (exit 130): the outcome is not known, the way on is.
    session.last_outcome, session.last_finished = None, None
    print_leaving(session, 130)
    assert "Continue with: sunbeam-install resume --dry-run" in capsys.readouterr().out
