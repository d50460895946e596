"""Local probe wall time on this machine (target <= 150 ms).

    python bench/probe_local.py

Prints the in-process probe time (first call, then the median of repeats), the first call with
its imports in fresh interpreters (median of several: wall, and CPU, which the machine's load
disturbs less), and the wall time of the whole command `sunbeam-install probe --json`
(interpreter start, imports, probe, output).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPEATS = 20
FRESH = 7
FIRST_CALL = (
    "import time\n"
    "t, c = time.perf_counter(), time.process_time()\n"
    "from probes.local import probe_local\n"
    "probe_local()\n"
    "print(time.perf_counter() - t, time.process_time() - c)\n"
)


def main() -> None:
    t0 = time.perf_counter()
    from probes.local import probe_local

    facts = probe_local()
    first = time.perf_counter() - t0
    runs = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        probe_local()
        runs.append(time.perf_counter() - t)
    fresh = []
    for _ in range(FRESH):
        out = subprocess.run([sys.executable, "-c", FIRST_CALL], check=True, capture_output=True,
                             text=True, cwd=Path(__file__).resolve().parent.parent)
        wall, cpu = (float(x) for x in out.stdout.split())
        fresh.append((wall, cpu))
    cli = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "installer", "probe", "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cli.append(time.perf_counter() - t)
    print(f"host {facts.hostname}: {len(facts.nics)} NICs, {len(facts.disks)} disks")
    print(f"probe_local() first call incl. imports: {first * 1000:.1f} ms")
    print(f"probe_local() median of {REPEATS}:       {statistics.median(runs) * 1000:.1f} ms")
    print(f"first call incl. imports, {FRESH} fresh interpreters: median "
          f"{statistics.median(w for w, _ in fresh) * 1000:.1f} ms wall, "
          f"{statistics.median(c for _, c in fresh) * 1000:.1f} ms CPU; target <= 150 ms")
    print(f"`sunbeam-install probe --json` median wall: {statistics.median(cli) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
