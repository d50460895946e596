"""Benchmark: `validate` and `plan` of a generated 1,000-host answers file (target <= 1 s).

Runs the loader (parse + schema + static rules) and the planner in-process, best of 5, and the
whole `sunbeam-install validate` and `sunbeam-install plan --json` commands in a subprocess
(interpreter start-up included).

`validate_1000.py --scaling` instead times the loader alone (CPU time, best of 3) at 1,000,
2,000, 5,000 and 10,000 hosts: its cost should grow in proportion to the file."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answers_gen import generate

from installer.planner import plan
from manifests.loader import load_answers_file
from manifests.release import load_release


def scaling() -> None:
    from manifests.loader import load_answers_text

    base = None
    for n in (1000, 2000, 5000, 10000):
        text = generate(n)
        times = []
        for _ in range(3):
            t0 = time.process_time()
            load_answers_text(text)
            times.append(time.process_time() - t0)
        per_host = min(times) / n * 1e6
        base = base or per_host
        print(f"load {n:6d} hosts ({len(text) / 1024:5.0f} KiB): best {min(times) * 1000:5.0f} ms "
              f"CPU, {per_host:4.0f} µs per host ({per_host / base:.2f}x the 1,000-host cost)")


def main() -> None:
    if sys.argv[1:] == ["--scaling"]:
        scaling()
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text(generate(n))
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            loaded = load_answers_file(path)
            times.append(time.perf_counter() - t0)
        assert len(loaded.answers.hosts) == n
        release = load_release(loaded.answers.release)
        plans = []
        for _ in range(5):
            t0 = time.perf_counter()
            steps = len(plan(loaded.answers, release))
            plans.append(time.perf_counter() - t0)
        walls = []
        plan_walls = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "installer", "validate", str(path)],
                           check=True, capture_output=True)
            walls.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "installer", "plan", "--json", str(path)],
                           check=True, capture_output=True)
            plan_walls.append(time.perf_counter() - t0)
        size = path.stat().st_size
    best = min(times) * 1000
    print(f"validate {n} hosts ({size / 1024:.0f} KiB): in-process best {best:.0f} ms, "
          f"median {statistics.median(times) * 1000:.0f} ms; whole command "
          f"(with interpreter start) best {min(walls) * 1000:.0f} ms")
    print(f"plan {n} hosts ({steps} steps): in-process best {min(plans) * 1000:.0f} ms; "
          f"validate + plan in-process {(min(times) + min(plans)) * 1000:.0f} ms; "
          f"`plan --json` command best {min(plan_walls) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
