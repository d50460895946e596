"""kill -9 a dry-run install at random moments, resume each time: it finishes, and no step that
had finished is ever started again (checked from the JSON-lines events of every attempt)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from installer.events import PlanFinished, StepFinished, StepStarted, parse_event
from installer.journal import Journal

ROOT = Path(__file__).resolve().parents[2]
KILLS = 8


def _events(path: Path) -> list:  # type: ignore[type-arg]
    out = []
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            out.append(parse_event(line))
        except ValueError:
            # Only the very last line can be cut short by the kill.
            assert line is path.read_text().splitlines()[-1]
    return out


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "installer", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_kill_9_at_random_moments_then_resume_finishes_without_redoing_steps(
        tmp_path: Path) -> None:
    from installer.planner import plan as make_plan
    from manifests.loader import load_answers
    from manifests.release import load_release

    answers = load_answers(ROOT / "examples" / "three-node.yaml")
    total = len(make_plan(answers, load_release(answers.release)))
    rng = random.Random(20250611)
    state = tmp_path / "state"
    common = ["--state-dir", str(state), "--time-scale", "0.003"]
    finished_ok: set[str] = set()  # steps some attempt reported done/skipped
    attempts: list[Path] = []
    kills = 0
    for attempt in range(KILLS + 6):
        events = tmp_path / f"events-{attempt}.jsonl"
        attempts.append(events)
        if attempt == 0:
            argv = ["--answers", str(ROOT / "examples" / "three-node.yaml"), "--dry-run",
                    "--yes", *common]
        else:
            argv = ["resume", *common]
        proc = _spawn([*argv, "--events-file", str(events)])
        # Kill after a random share of the steps still to do (or let the last attempt finish).
        remaining = total - len(finished_ok)
        target = rng.randint(1, max(1, remaining * 2 // 3)) if kills < KILLS else None
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if target is not None and events.exists() and \
                    events.read_text().count('"StepFinished"') >= target:
                time.sleep(rng.uniform(0, 0.05))  # not always right after a commit
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        _, err = proc.communicate(timeout=60)
        evs = _events(events)
        started = {e.step for e in evs if isinstance(e, StepStarted)}
        redone = started & finished_ok
        assert not redone, f"attempt {attempt} started finished steps again: {sorted(redone)}"
        finished_ok |= {e.step for e in evs if isinstance(e, StepFinished)
                        and e.outcome in ("done", "skipped")}
        if proc.returncode == -signal.SIGKILL:
            kills += 1
            continue
        assert proc.returncode == 0, err.decode()
        # No events: the last kill landed after the run was journaled as done, and this resume
        # rightly found nothing to do (the journal is checked below).
        assert not evs or (isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "done")
        break
    else:
        raise AssertionError("the install did not finish")
    assert kills >= KILLS - 1, f"only {kills} kills landed mid-run"

    with Journal.open(state / "journal.sqlite") as j:
        run = j.last_run()
        assert run is not None and run.outcome == "done"
        steps = j.steps(run.id)
        assert {s.state for s in steps} <= {"done", "skipped"}
        # One run, resumed: every step finished exactly once across all attempts' events.
        assert {s.step_id for s in steps} == finished_ok
    # And the log of that run kept every attempt (appended, never truncated).
    assert json.dumps(run.id)  # keep the run id printable for failure messages
