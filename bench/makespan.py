"""Makespan / critical path of a generated 100-host install in the simulated lab (target <= 1.05).

The critical path is computed from the *actual* step durations of the run (Plan.critical_path
over the measured spans), so the ratio measures how well the runner overlaps independent
steps, not how fast the lab is.

    python bench/makespan.py [HOSTS] [TIME_SCALE]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answers_gen import generated_answers

from installer.pipeline import RunSettings
from installer.pipeline.backends import open_lab
from installer.pipeline.runs import new_run
from installer.planner import plan as make_plan
from installer.runner import Runner
from installer.state import StateDir
from manifests.release import load_release


async def measure(hosts: int, time_scale: float, tmp: Path) -> None:
    answers = generated_answers(hosts)
    release = load_release(answers.release)
    state = StateDir(tmp / "state").ensure()
    settings = RunSettings.build(dry_run=True, state_dir=state.path, time_scale=time_scale)
    lab = open_lab(settings, state)
    lab.ensure_hosts(answers)
    t = time.perf_counter()
    plan = make_plan(answers, release)
    planned = time.perf_counter() - t
    setup = new_run(kind="install", settings=settings, state=state, plan=plan, answers=answers,
                    answers_path=None, release=release, backends=lab.backends())
    runner = Runner(plan, answers=answers, release=release, backends=setup.backends,
                    journal=setup.journal, run_id=setup.run_id, emit=lambda e: None,
                    secrets=setup.secrets, logger=setup.logger, options=setup.options)
    res = await runner.run()
    setup.close()
    assert res.outcome == "done", (res.outcome, res.failures[:1])
    durations = {sid: end - start for sid, (start, end) in res.spans.items()}
    critical = plan.critical_path(durations)
    makespan = max(e for _, e in res.spans.values()) - min(s for s, _ in res.spans.values())
    print(f"{hosts} hosts, {len(plan)} steps (planned in {planned * 1000:.0f} ms), "
          f"time scale {time_scale}: makespan {makespan:.2f} s, critical path {critical:.2f} s, "
          f"ratio {makespan / critical:.3f} (target <= 1.05)")


def main() -> None:
    hosts = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01
    with tempfile.TemporaryDirectory() as d:
        asyncio.run(measure(hosts, scale, Path(d)))


if __name__ == "__main__":
    main()
