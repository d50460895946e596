"""Show the last run from its journal: steps done, failed and pending, and the log path; while
it runs in its own process, its pid and the `attach` command that follows it."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from installer.exits import Exit

PROG = "sunbeam-install"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="the dry-run state dir")
    parser.add_argument("--state-dir", metavar="DIR", help="read the journal in DIR")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")


def status_data(state_dir: Any) -> dict[str, Any] | None:
    """The last run as plain data (what --json prints); None when no run is recorded."""
    from installer.journal import open_journal
    from installer.state import StateDir

    state = StateDir(state_dir).check()  # no journal read through a link or another's file
    if not state.journal_path.exists():
        return None
    with open_journal(state.journal_path) as journal:
        summary = journal.summary()
    if summary is None:
        return None
    run = summary.run
    active = run.outcome is None and state.is_locked()
    counts = {k: summary.count(k) for k in ("done", "skipped", "failed", "pending", "running")}
    outcome = run.outcome or ("running" if active else "interrupted")
    live, pid = run_liveness(state, run.id, active)
    return {
        "run_id": run.id,
        "kind": run.kind,
        "dry_run": run.dry_run,
        "started": run.started,
        "finished": run.finished,
        "outcome": outcome,
        "answers_path": run.answers_path,
        "log_path": run.log_path,
        "state_dir": str(state.path),
        "steps": counts,
        "total": len(summary.steps),
        "failed": [
            {"step": s.step_id, "title": s.title, "host": s.host, "error": s.error,
             "hint": s.hint, "attempts": s.attempts}
            for s in summary.failed
        ],
        "running": [s.step_id for s in summary.steps if s.state == "running"],
        # The run's own process (installer.pipeline.launch): running now, and its pid.
        "live": live,
        "pid": pid,
    }


def run_liveness(state: Any, run_id: str, locked: bool) -> tuple[bool, int | None]:
    """Whether run `run_id` runs now in a process of its own, and that process's pid."""
    from installer.pipeline.launch import pid_alive, run_process

    process = run_process(state.path, run_id)
    if process is None or process.exit is not None:
        return False, None
    live = locked and pid_alive(process.pid)
    return live, process.pid if live else None


def run(args: argparse.Namespace) -> int:
    from installer.pipeline.settings import RunSettings
    from installer.state import resolve_state_dir

    state_dir = resolve_state_dir(args.state_dir, dry_run=bool(args.dry_run))
    data = status_data(state_dir)
    if args.json:
        print(json.dumps({"run": data}, indent=2))
        return int(Exit.OK)
    if data is None:
        hint = "" if args.dry_run or args.state_dir else " (for dry-run installs add --dry-run)"
        print(f"No run is recorded in {str(state_dir)!r}{hint}.")
        return int(Exit.OK)
    from installer.text import neutralise, one_line

    c = data["steps"]
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(data["started"]))
    mode = " (dry-run)" if data["dry_run"] else ""
    print(f"Last run: {data['run_id']}, {data['kind']}{mode}, started {started}: "
          f"{data['outcome']}")
    if data["live"]:
        from installer.interactive.commands import command_line

        settings = RunSettings.build(dry_run=bool(data["dry_run"]), state_dir=args.state_dir)
        print(f"The run is live in its own process (pid {data['pid']}); follow it with "
              f"`{command_line(settings, 'attach')}`.")
    print(f"Steps: {c['done']} done, {c['skipped']} already in place, {c['failed']} failed, "
          f"{c['pending'] + c['running']} to do, of {data['total']}")
    for f in data["failed"]:
        # Errors and hints quote hosts and backends: control characters shown escaped.
        print(neutralise(f"Failed: {f['step']} ({f['title']}): {f['error']}"))
        if f["hint"]:
            print(f"  Hint: {neutralise(f['hint'])}")
    if data["running"] and data["outcome"] != "running":
        print(f"Interrupted while running: {', '.join(data['running'][:10])}")
    if data["log_path"]:
        print(f"Log: {one_line(data['log_path'])}")
    if data["outcome"] in ("failed", "interrupted"):
        print(f"Continue with: {PROG} resume" + (" --dry-run" if data["dry_run"] else ""))
    return int(Exit.OK)
