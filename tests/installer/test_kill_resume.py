"""kill -9 a dry-run install at random journal milestones, resume each time: it finishes, and no
step that had finished is ever started again
(checked from the JSON-lines events of every attempt). What is killed is the run's own process
(its pid is in the state dir); the command following it then exits 130."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from installer.events import PlanFinished, StepFinished, StepStarted, parse_event
from installer.exits import Exit
from installer.journal import Journal
from tests.installer.pipeline.runproc import run_pid

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


def _after(steps: list, held: set[str]) -> set[str]:  # type: ignore[type-arg]
    """The held steps and every step after them: none of them can finish while one hangs."""
    out = set(held)
    for s in steps:  # the plan is in dependency order
        if out & set(s.needs):
            out.add(s.id)
    return out


# Steps that wait for a model to settle also stay pending while a held unit is not active, and
# the plan does not name them; a margin keeps each kill's target below what can really finish.
MARGIN = 10


def test_kill_9_at_journal_milestones_then_resume_finishes_without_redoing_steps(
        tmp_path: Path) -> None:
    """Each killed attempt holds the late integrations (`--faults ID=hang`), so the run cannot end
    before the kill: the kill lands after a random number of steps finished, never on a timer."""
    from installer.planner import plan as make_plan
    from manifests.loader import load_answers
    from manifests.release import load_release

    answers = load_answers(ROOT / "examples" / "three-node.yaml")
    steps = make_plan(answers, load_release(answers.release)).steps
    total = len(steps)
    last = steps[-1].id
    # Integrations only the last step waits for: holding them leaves the others free to run.
    held = {s.id for s in steps if s.id.startswith("juju.integrate:")
            and all(last == d.id for d in steps if s.id in d.needs)}
    assert held, "no late integration to hold in the three-node plan"
    blocked = _after(steps, held)
    hang = ",".join(f"{step}=hang" for step in sorted(held))
    rng = random.Random(20250611)
    state = tmp_path / "state"
    common = ["--state-dir", str(state), "--time-scale", "0.003"]
    finished_ok: set[str] = set()  # steps some attempt reported done/skipped
    kills = 0
    for attempt in range(KILLS + 1):
        events = tmp_path / f"events-{attempt}.jsonl"
        if attempt == 0:
            argv = ["--answers", str(ROOT / "examples" / "three-node.yaml"), "--dry-run",
                    "--yes", *common]
        else:
            argv = ["resume", *common]
        target = None
        if attempt < KILLS:
            # Steps finish while the kill is on its way, so late attempts may find only the held
            # ones left: those are killed with the held steps running (target 0).
            budget = total - len(finished_ok) - len(blocked) - MARGIN
            target = rng.randint(1, max(1, budget // 2)) if budget > 0 else 0
            argv += ["--faults", hang]
        proc = _spawn([*argv, "--events-file", str(events)])
        if target is not None:
            deadline = time.monotonic() + 120  # a guard against a hung test, not a timing check
            while events.read_text().count('"StepFinished"') < target if events.exists() \
                    else True:
                assert proc.poll() is None, \
                    f"attempt {attempt} ended before its kill: {proc.communicate()[1].decode()}"
                assert time.monotonic() < deadline, f"attempt {attempt} made no progress"
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.05))  # not always right after a commit
            assert proc.poll() is None, f"attempt {attempt} ended although a step was held"
            # The run executes in its own process (the command only follows it): kill that.
            os.kill(run_pid(state, proc), signal.SIGKILL)
        _, err = proc.communicate(timeout=120)
        evs = _events(events)
        started = {e.step for e in evs if isinstance(e, StepStarted)}
        redone = started & finished_ok
        assert not redone, f"attempt {attempt} started finished steps again: {sorted(redone)}"
        finished_ok |= {e.step for e in evs if isinstance(e, StepFinished)
                        and e.outcome in ("done", "skipped")}
        if target is not None:
            # The viewer saw its run's process die without finishing: interrupted, resumable.
            assert proc.returncode == Exit.INTERRUPTED, err.decode()
            kills += 1
            continue
        assert proc.returncode == 0, err.decode()
        assert evs and isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "done", \
            err.decode()
    assert kills == KILLS

    with Journal.open(state / "journal.sqlite") as j:
        run = j.last_run()
        assert run is not None and run.outcome == "done", run
        steps_done = j.steps(run.id)
        assert {s.state for s in steps_done} <= {"done", "skipped"}
        # One run, resumed: every step finished exactly once across all attempts' events.
        assert {s.step_id for s in steps_done} == finished_ok
