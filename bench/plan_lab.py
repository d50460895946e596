"""Planner and lab figures: plan time for 1,000 hosts; lab cost per step (scale 0, 100 hosts,
including the journal append after each change); makespan vs critical path of a 3-node install at
the default time scale with every ready step started at once.

    python bench/plan_lab.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from installer.lab import Lab
from installer.planner import plan
from manifests.answers import Answers
from manifests.release import load_release
from tests.installer.lab.helpers import (
    ctx_for,
    example,
    run_concurrently,
    run_sequentially,
)


def answers_for(n: int) -> Answers:
    hosts = []
    for i in range(n):
        roles = ["control"] if i < 3 else (["storage"] if i % 4 == 0 else ["compute"])
        host: dict[str, object] = {
            "name": f"h{i}", "address": f"10.{i // 250}.{i % 250}.10", "roles": roles,
        }
        if roles == ["storage"]:
            host["osd_devices"] = [f"/dev/disk/by-id/wwn-0x5000c500{i:08x}"]
        hosts.append(host)
    return Answers.model_validate({
        "version": 1, "release": "2025.1", "hosts": hosts,
        "network": {"management_cidr": "10.0.0.0/8",
                    "loadbalancer_range": "10.250.0.1-10.250.0.50"},
    })


async def main() -> None:
    release = load_release("2025.1")
    big = answers_for(1000)
    t = time.perf_counter()
    p = plan(big, release)
    print(f"plan of 1,000 hosts: {len(p)} steps in {time.perf_counter() - t:.3f} s")

    a = answers_for(100)
    p = plan(a, release)
    with tempfile.TemporaryDirectory() as d:
        lab = Lab.open(Path(d), time_scale=0)
        lab.ensure_hosts(a)
        t = time.perf_counter()
        await run_sequentially(p, ctx_for(a, lab.backends()))
        took = time.perf_counter() - t
    print(f"lab, 100 hosts, scale 0: {len(p)} steps (done + run + done) in {took:.2f} s, "
          f"{took / len(p) * 1000:.2f} ms per step")

    three = example("three-node")
    p = plan(three, release)
    with tempfile.TemporaryDirectory() as d:
        lab = Lab.open(Path(d))
        lab.ensure_hosts(three)
        t = time.perf_counter()
        times = await run_concurrently(p, ctx_for(three, lab.backends()))
        wall = time.perf_counter() - t
    critical = p.critical_path({k: end - start for k, (start, end) in times.items()})
    print(f"3-node install, default scale, unbounded: {wall:.2f} s; critical path "
          f"{critical:.2f} s; ratio {wall / critical:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
