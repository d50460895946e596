"""Runner overhead per step with zero-time steps (target <= 1 ms per step).

Runs plans of N no-op steps (a wide layer per host plus chains, like a real plan's shape) through
the real runner with a real SQLite journal, run log and JSON-lines renderer writing to a file,
and prints the wall time divided by the number of steps.

    python bench/runner_overhead.py [N]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from installer.journal import Journal
from installer.plan import Plan, Step, StepContext
from installer.render.jsonl import JsonlRenderer
from installer.runner import Runner
from installer.secrets import Redactor, Secrets
from installer.state import close_run_log, open_run_log
from manifests.release import load_release


@dataclass(eq=False)
class Noop(Step):
    async def done(self, ctx: StepContext) -> bool:
        return False

    async def run(self, ctx: StepContext) -> None:
        ctx.progress("working", 0.5)


def make_plan(n: int, hosts: int = 20) -> Plan:
    """A root, then per host a chain of n/hosts steps: long chains and wide layers."""
    steps: list[Step] = [Noop("root", "root")]
    per = max(1, (n - 1) // hosts)
    for h in range(hosts):
        prev = "root"
        for i in range(per):
            sid = f"step{i}@h{h}"
            steps.append(Noop(sid, sid, needs=(prev,), host=f"h{h}"))
            prev = sid
    return Plan(steps)


async def one(n: int, tmp: Path) -> tuple[float, int]:
    plan = make_plan(n)
    journal = Journal.open(tmp / f"j{n}.sqlite")
    rec = journal.start_run(kind="install", answers_snapshot="{}", answers_path=None,
                            dry_run=True, steps=[(s.id, s.title, s.host) for s in plan.steps])
    secrets = Secrets(tmp / "secrets", Redactor(["a-known-secret-value"]))
    logger = open_run_log(tmp / f"{n}.log", secrets.redactor)
    with open(tmp / f"{n}.jsonl", "w") as out:
        runner = Runner(plan, answers=cast(Any, None), release=load_release("2025.1"),
                        backends=cast(Any, None), journal=journal, run_id=rec.id,
                        emit=JsonlRenderer(out), secrets=secrets, logger=logger)
        t = time.perf_counter()
        res = await runner.run()
        elapsed = time.perf_counter() - t
    close_run_log(logger)
    journal.close()
    assert res.outcome == "done", res
    return elapsed, len(plan)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [200, 1000, 3000]
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            elapsed, steps = asyncio.run(one(n, Path(d)))
            print(f"{steps:6d} zero-time steps: {elapsed:7.3f} s total, "
                  f"{elapsed / steps * 1000:6.3f} ms per step (target <= 1 ms)")


if __name__ == "__main__":
    main()
