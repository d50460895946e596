"""The journal: what every run did, step by step, in SQLite (WAL) in the state dir.

The runner commits a step's outcome before it starts anything that needs the step, so after a
crash or `kill -9` the journal never claims less than what dependents relied on. WAL with
synchronous=NORMAL makes each commit durable against the process dying (the kernel has the
pages); only a power loss can roll back the last commits, and those steps are then re-checked
with `done()` on resume (steps are idempotent), which is safe.

Secrets never reach the journal: the runner redacts error and hint text before recording them,
and the answers snapshot holds the password *file* path, never the password.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

StepState = Literal["pending", "running", "done", "skipped", "failed"]
FINISHED: frozenset[str] = frozenset({"done", "skipped"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    answers_path TEXT,
    answers_snapshot TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    log_path TEXT,
    outcome TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs(id),
    step_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    host TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    hint TEXT,
    started REAL,
    finished REAL,
    duration REAL,
    PRIMARY KEY (run_id, step_id)
);
"""


class JournalError(Exception):
    """The journal file cannot be read (corrupt, or from an incompatible version)."""


def open_journal(path: Path | str) -> Journal:
    """The journal at `path`, for a command: when it cannot be opened, the reason as a
    UserError with the missing-prerequisite exit code (4), never a traceback."""
    from installer.exits import Exit, UserError

    try:
        return Journal.open(path)
    except JournalError as e:
        raise UserError(str(e), Exit.PREREQUISITE) from None


@dataclass
class RunRecord:
    id: str
    kind: str
    started: float
    finished: float | None
    answers_path: str | None
    answers_snapshot: str
    dry_run: bool
    options: dict[str, Any]
    log_path: str | None
    outcome: str | None  # None while running or after a kill


@dataclass
class StepRecord:
    step_id: str
    title: str
    host: str | None
    state: StepState
    attempts: int = 0
    error: str | None = None
    hint: str | None = None
    started: float | None = None
    finished: float | None = None
    duration: float | None = None

    @property
    def finished_ok(self) -> bool:
        return self.state in FINISHED


@dataclass
class RunSummary:
    run: RunRecord
    steps: list[StepRecord] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for s in self.steps if s.state == state)

    @property
    def failed(self) -> list[StepRecord]:
        return [s for s in self.steps if s.state == "failed"]


def new_run_id(now: float | None = None) -> str:
    """A fresh run id: the start time (UTC) and a random suffix, e.g. 20250101-120000-1a2b3c."""
    now = time.time() if now is None else now
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + "-" + uuid.uuid4().hex[:6]


class Journal:
    """One SQLite journal. Not thread-safe: the runner uses it from its event loop only."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._batch_depth = 0

    @classmethod
    def open(cls, path: Path | str) -> Journal:
        path = Path(path)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Create the file owner-only first: SQLite gives its -wal and -shm files the same mode.
        # Never through a symbolic link (a root run would create or change its target).
        link = JournalError(f"The journal {str(path)!r} is a symbolic link; it is not "
                            "followed. Remove the link (or pass --state-dir DIR) and run again.")
        if path.is_symlink():
            raise link
        if not path.exists():
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                                 0o600))
            except OSError as e:
                if e.errno == errno.ELOOP:
                    raise link from None
                raise JournalError(f"The journal {str(path)!r} cannot be created ({e.strerror}); "
                                   "check the state dir's permissions or pass --state-dir DIR."
                                   ) from None
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise JournalError(
                f"The journal {str(path)!r} cannot be read ({e}); move it away to start afresh."
            ) from None
        return cls(conn, path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def _write(
        self, sql: str, params: tuple[Any, ...] | list[tuple[Any, ...]], many: bool = False
    ) -> None:
        if self._batch_depth == 0:
            self._conn.execute("BEGIN")
        try:
            if many:
                self._conn.executemany(sql, params)
            else:
                self._conn.execute(sql, params)
        except BaseException:
            if self._batch_depth == 0:
                self._conn.execute("ROLLBACK")
            raise
        if self._batch_depth == 0:
            self._conn.execute("COMMIT")

    def begin(self) -> None:
        """Group the following writes into one transaction (committed by `commit`)."""
        if self._batch_depth == 0:
            self._conn.execute("BEGIN")
        self._batch_depth += 1

    def commit(self) -> None:
        self._batch_depth -= 1
        if self._batch_depth == 0:
            self._conn.execute("COMMIT")

    def start_run(
        self,
        *,
        kind: str,
        answers_snapshot: str,
        answers_path: str | None,
        dry_run: bool,
        steps: Iterable[tuple[str, str, str | None]],
        options: dict[str, Any] | None = None,
        log_dir: Path | None = None,
        run_id: str | None = None,
    ) -> RunRecord:
        """Record a new run and its steps (id, title, host), all pending, in one transaction."""
        now = time.time()
        if run_id is None:
            run_id = new_run_id(now)
        log_path = str(log_dir / f"{run_id}.log") if log_dir else None
        opts = options or {}
        self.begin()
        try:
            seq = self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
            self._conn.execute(
                "INSERT INTO runs (id, seq, kind, started, answers_path, answers_snapshot, dry_run,"
                " options, log_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, seq, kind, now, answers_path, answers_snapshot, int(dry_run),
                 json.dumps(opts), log_path),
            )
            self._conn.executemany(
                "INSERT INTO steps (run_id, step_id, seq, title, host) VALUES (?, ?, ?, ?, ?)",
                [(run_id, sid, i, title, host) for i, (sid, title, host) in enumerate(steps)],
            )
        finally:
            self.commit()
        return RunRecord(run_id, kind, now, None, answers_path, answers_snapshot, dry_run, opts,
                         log_path, None)

    def add_steps(self, run_id: str, steps: Iterable[tuple[str, str, str | None]]) -> None:
        """Steps of a resumed plan that the first attempt did not have (a changed planner)."""
        base = self._conn.execute(
            "SELECT COALESCE(MAX(seq), -1) + 1 FROM steps WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
        self._write(
            "INSERT OR IGNORE INTO steps (run_id, step_id, seq, title, host)"
            " VALUES (?, ?, ?, ?, ?)",
            [(run_id, sid, base + i, title, host) for i, (sid, title, host) in enumerate(steps)],
            many=True,
        )

    def step_running(self, run_id: str, step_id: str, attempt: int, started: float) -> None:
        self._write(
            "UPDATE steps SET state = 'running', attempts = ?, started = COALESCE(started, ?),"
            " error = NULL, hint = NULL WHERE run_id = ? AND step_id = ?",
            (attempt, started, run_id, step_id),
        )

    def step_finished(
        self,
        run_id: str,
        step_id: str,
        state: StepState,
        *,
        attempts: int,
        duration: float,
        error: str | None = None,
        hint: str | None = None,
    ) -> None:
        self._write(
            "UPDATE steps SET state = ?, attempts = ?, finished = ?, duration = ?, error = ?,"
            " hint = ? WHERE run_id = ? AND step_id = ?",
            (state, attempts, time.time(), duration, error, hint, run_id, step_id),
        )

    def run_finished(self, run_id: str, outcome: str) -> None:
        self._write(
            "UPDATE runs SET outcome = ?, finished = ? WHERE id = ?", (outcome, time.time(), run_id)
        )

    def run_resumed(self, run_id: str, options: dict[str, Any]) -> None:
        """A resume of `run_id` starts: it is running again (no outcome yet)."""
        self._write(
            "UPDATE runs SET outcome = NULL, finished = NULL, options = ? WHERE id = ?",
            (json.dumps(options), run_id),
        )

    # -- reading ---------------------------------------------------------------------------

    def _run(self, row: tuple[Any, ...]) -> RunRecord:
        (rid, kind, started, finished, apath, snap, dry, opts, log_path, outcome) = row
        return RunRecord(rid, kind, started, finished, apath, snap, bool(dry), json.loads(opts),
                         log_path, outcome)

    _RUN_COLS = ("id, kind, started, finished, answers_path, answers_snapshot, dry_run, options,"
                 " log_path, outcome")

    def last_run(self, kind: str | None = None) -> RunRecord | None:
        sql = f"SELECT {self._RUN_COLS} FROM runs"
        params: tuple[Any, ...] = ()
        if kind:
            sql += " WHERE kind = ?"
            params = (kind,)
        row = self._conn.execute(sql + " ORDER BY seq DESC LIMIT 1", params).fetchone()
        return self._run(row) if row else None

    def runs(self, kind: str | None = None, outcome: str | None = None) -> list[RunRecord]:
        """Runs, newest first, optionally of one kind and/or one outcome ("done", ...)."""
        sql = f"SELECT {self._RUN_COLS} FROM runs"
        where: list[str] = []
        params: list[Any] = []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if outcome:
            where.append("outcome = ?")
            params.append(outcome)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._conn.execute(sql + " ORDER BY seq DESC", params).fetchall()
        return [self._run(r) for r in rows]

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._conn.execute(
            f"SELECT {self._RUN_COLS} FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        return self._run(row) if row else None

    def steps(self, run_id: str) -> list[StepRecord]:
        rows = self._conn.execute(
            "SELECT step_id, title, host, state, attempts, error, hint, started, finished, duration"
            " FROM steps WHERE run_id = ? ORDER BY seq",
            (run_id,),
        ).fetchall()
        return [StepRecord(*r) for r in rows]

    def summary(self, run_id: str | None = None) -> RunSummary | None:
        run = self.get_run(run_id) if run_id else self.last_run()
        if run is None:
            return None
        return RunSummary(run, self.steps(run.id))
