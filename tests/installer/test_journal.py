"""The journal (SQLite WAL) and the state dir's run lock."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from installer.exits import Exit
from installer.journal import Journal, JournalError
from installer.state import StateDir, StateLocked


def _start(j: Journal, run_id: str | None = None) -> str:
    return j.start_run(kind="install", answers_snapshot='{"version": 1}', answers_path="/a.yaml",
                       dry_run=True, steps=[("a", "A", None), ("b", "B", "n1")],
                       options={"time_scale": 0}, log_dir=Path("/logs"), run_id=run_id).id


def test_runs_and_steps_round_trip(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as j:
        rid = _start(j)
        j.step_running(rid, "a", 1, 100.0)
        j.step_finished(rid, "a", "done", attempts=1, duration=1.5)
        j.step_running(rid, "b", 2, 101.0)
        j.step_finished(rid, "b", "failed", attempts=2, duration=0.2, error="boom", hint="fix")
        j.run_finished(rid, "failed")
    with Journal.open(tmp_path / "j.sqlite") as j:
        s = j.summary()
        assert s is not None
        assert s.run.id == rid and s.run.outcome == "failed" and s.run.dry_run
        assert s.run.options == {"time_scale": 0} and s.run.log_path == f"/logs/{rid}.log"
        assert [(r.step_id, r.state, r.attempts) for r in s.steps] == [("a", "done", 1),
                                                                       ("b", "failed", 2)]
        assert (s.failed[0].error, s.failed[0].hint, s.failed[0].host) == ("boom", "fix", "n1")
        assert s.count("done") == 1


def test_last_run_is_the_latest_started(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as j:
        _start(j, "zzz-first")
        second = _start(j, "aaa-second")
        assert j.last_run().id == second  # type: ignore[union-attr]
        j.run_finished(second, "done")
        assert [r.id for r in j.runs()] == [second, "zzz-first"]
        assert [r.id for r in j.runs(kind="install", outcome="done")] == [second]
        assert j.runs(kind="upgrade") == []
        j.run_resumed(second, {"parallel": 3})
        assert j.last_run().options == {"parallel": 3}  # type: ignore[union-attr]


def test_add_steps_keeps_existing_rows(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as j:
        rid = _start(j)
        j.step_finished(rid, "a", "done", attempts=1, duration=0)
        j.add_steps(rid, [("a", "A", None), ("c", "C", None)])
        assert [(r.step_id, r.state) for r in j.steps(rid)] == [
            ("a", "done"), ("b", "pending"), ("c", "pending")]


def test_wal_mode_and_owner_only_files(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal.open(path) as j:
        _start(j)
        mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        for f in tmp_path.iterdir():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_a_batch_is_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal.open(path) as j:
        rid = _start(j)
        j.begin()
        j.step_finished(rid, "a", "done", attempts=1, duration=0)
        other = sqlite3.connect(path)
        # Not visible to another reader until the batch commits.
        assert other.execute("SELECT state FROM steps WHERE step_id='a'").fetchone()[0] == "pending"
        j.commit()
        assert other.execute("SELECT state FROM steps WHERE step_id='a'").fetchone()[0] == "done"


def test_a_commit_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    code = (
        "import os, sys; from pathlib import Path; from installer.journal import Journal;"
        f"j = Journal.open(Path({str(path)!r}));"
        "r = j.start_run(kind='install', answers_snapshot='{}', answers_path=None, dry_run=True,"
        " steps=[('a', 'A', None)]);"
        "j.step_finished(r.id, 'a', 'done', attempts=1, duration=0);"
        "os.kill(os.getpid(), 9)"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    with Journal.open(path) as j:
        run = j.last_run()
        assert run is not None
        assert [s.state for s in j.steps(run.id)] == ["done"]


def test_a_corrupt_journal_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match="move it away"):
        Journal.open(path)


def test_second_run_is_refused_while_one_holds_the_lock(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state").ensure()
    with state.lock("install"):
        assert state.is_locked()
        with pytest.raises(StateLocked) as e, state.lock("resume"):
            pass
        assert e.value.code == Exit.PREREQUISITE
        assert f"pid {os.getpid()}" in str(e.value) and "wait for it to finish" in str(e.value)
    assert not state.is_locked()
    with state.lock("resume"):  # released: the next run may go
        pass


def test_the_lock_of_a_killed_process_is_released(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state").ensure()
    code = (
        "import os; from pathlib import Path; from installer.state import StateDir;"
        f"s = StateDir(Path({str(state.path)!r}));"
        "cm = s.lock('install'); cm.__enter__(); os.kill(os.getpid(), 9)"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    assert state.lock_path.exists() and not state.is_locked()
    with state.lock("resume"):
        pass


def test_last_finished_run_skips_unfinished_and_other_kinds(tmp_path: Path) -> None:
    from installer.upgrade.detect import last_finished_run

    with Journal.open(tmp_path / "j.sqlite") as j:
        def run(kind: str, outcome: str | None) -> str:
            rec = j.start_run(kind=kind, answers_snapshot="{}", answers_path=None,
                              dry_run=True, steps=[])
            if outcome is not None:
                j.run_finished(rec.id, outcome)
            return rec.id

        assert last_finished_run(j) is None
        install = run("install", "done")
        run("upgrade", "failed")  # a newer, unfinished upgrade does not hide the install
        run("upgrade", None)
        run("probe", "done")  # not something that puts a release in place
        found = last_finished_run(j)
        assert found is not None and found.id == install
        upgrade = run("upgrade", "done")
        found = last_finished_run(j)
        assert found is not None and found.id == upgrade
