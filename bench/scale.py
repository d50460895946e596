"""Scale: dry-run installs of 1,000, 2,000 and 5,000 hosts at time-scale 0 (the installer's own
cost, no simulated waiting), each in its own `sunbeam-install` process exactly as a user runs it:

    sunbeam-install --answers F --dry-run --yes --time-scale 0 --events jsonl --events-file E

Reports wall time, peak RSS (the largest of the command's, from wait4, and of the run process
it launches, its VmHWM sampled from /proc while it runs), steps and steps per second, and the
ratio of the 2,000-host time to the 1,000-host time (linear is 2.0). Targets: ratio <= 2.3,
5,000 hosts <= 60 s and <= 1 GB.

    python bench/scale.py [--sizes 1000,2000,5000] [--repeat N] [--timeout 3600] [--parallel N]

With --repeat N each size runs N times and the fastest run is reported (the machine is shared:
the fastest run is the one least disturbed by others).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

import ipaddress  # noqa: E402

from answers_gen import FOOTER, role_of  # noqa: E402

CLI = Path(sys.executable).parent / "sunbeam-install"  # the venv's entry point
TARGET_RATIO = 2.3
TARGET_5000_SECONDS = 60.0
TARGET_5000_RSS_MB = 1024.0


def generate(n_hosts: int) -> str:
    """An answers file of `n_hosts` hosts: the hosts of bench/answers_gen.py (3 control, then
    storage with two OSD disks and compute with an external NIC, alternating), one flow-style
    line each, so 10,000 hosts stay under the loader's size cap."""
    net = ipaddress.ip_network("10.40.0.0/16")
    lines = ["version: 1", 'release: "2025.1"', "deployment: {name: big, region: RegionOne}",
             "hosts:"]
    for i in range(n_hosts):
        addr = net.network_address + 256 + i
        role = role_of(i)
        extra = {"storage": ", osd_devices: [/dev/sdb, /dev/sdc]",
                 "compute": ", external_nic: eno2"}.get(role, "")
        lines.append(f"  - {{name: h{i:05d}, address: {addr}, roles: [{role}]{extra}}}")
    lines += FOOTER
    return "\n".join(lines) + "\n"


@dataclass
class Result:
    hosts: int
    rc: int
    wall: float
    rss_mb: float
    steps: int
    finished: int
    outcome: str


def run_one(hosts: int, timeout: float, parallel: int | None, source: Path | None) -> Result:
    """One dry-run install of `hosts` hosts in a fresh state dir, in a child process (the
    installer of `source`, another checkout, when given: for before/after figures)."""
    with tempfile.TemporaryDirectory(prefix=f"scale{hosts}-") as tmp:
        d = Path(tmp)
        answers, events = d / "answers.yaml", d / "events.jsonl"
        answers.write_text(generate(hosts))
        env = dict(os.environ)
        cli = [str(CLI)]
        if source is not None:
            env["PYTHONPATH"] = str(source)
            cli = [sys.executable, "-c",
                   "import sys; from installer.cli import main; sys.exit(main())"]
        argv = [*cli, "--answers", str(answers), "--dry-run", "--yes", "--time-scale", "0",
                "--events", "jsonl", "--events-file", str(events), "--state-dir", str(d / "st")]
        if parallel is not None:
            argv += ["--parallel", str(parallel)]
        t = time.perf_counter()
        with (d / "stderr.txt").open("wb") as err:
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True, env=env, cwd=tmp)
        deadline = t + timeout
        run_peak_kb = 0
        while True:
            run_peak_kb = max(run_peak_kb, _run_peak_kb(d / "st"))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, 9)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t
        rc = os.waitstatus_to_exitcode(status)
        steps = finished = 0
        outcome = "no events"
        if events.exists():
            with events.open(encoding="utf-8") as f:
                for line in f:
                    if '"PlanStarted"' in line:
                        steps = int(json.loads(line)["steps"])
                    elif '"StepFinished"' in line:
                        finished += 1
                    elif '"PlanFinished"' in line:
                        outcome = str(json.loads(line)["outcome"])
        if rc != 0:
            sys.stderr.write((d / "stderr.txt").read_text(errors="replace")[-2000:])
        peak_mb = max(usage.ru_maxrss, run_peak_kb) / 1024
        return Result(hosts, rc, wall, peak_mb, steps, finished, outcome)


def _run_peak_kb(state: Path) -> int:
    """The peak RSS (VmHWM, KiB) of the run processes the command launched, while they run
    (a detached run is not the command's child once it exits, so wait4 does not see it)."""
    peak = 0
    for f in (state / "runs").glob("*.process.json"):
        try:
            pid = int(json.loads(f.read_text())["pid"])
            text = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError, KeyError):
            continue
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,2000,5000",
                        help="comma-separated host counts (default 1000,2000,5000; 10000 works)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds before a run is killed (default 3600)")
    parser.add_argument("--parallel", type=int, default=None,
                        help="pass --parallel N to the installer (default: its own sizing)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per size; the fastest is reported (default 1)")
    parser.add_argument("--source", type=Path, default=None,
                        help="run the installer of another checkout (before/after figures)")
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes {args.sizes!r}: give host counts such as 1000,2000")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes: give at least one host count of 1 or more")
    results: dict[int, Result] = {}
    print(f"{'hosts':>7} {'steps':>7} {'wall s':>8} {'steps/s':>8} {'peak RSS MB':>12}  outcome")
    for n in sizes:
        runs = [run_one(n, args.timeout, args.parallel, args.source)
                for _ in range(max(1, args.repeat))]
        r = min(runs, key=lambda x: (x.rc != 0, x.wall))
        results[n] = r
        rate = r.finished / r.wall if r.wall else 0.0
        print(f"{n:>7} {r.steps:>7} {r.wall:>8.1f} {rate:>8.0f} {r.rss_mb:>12.0f}  "
              f"{r.outcome} (exit {r.rc}, {r.finished} steps finished)", flush=True)
    ok = all(r.rc == 0 and r.outcome == "done" for r in results.values())
    if 1000 in results and 2000 in results:
        ratio = results[2000].wall / results[1000].wall
        ok &= ratio <= TARGET_RATIO
        print(f"2,000/1,000 wall-time ratio: {ratio:.2f} (target <= {TARGET_RATIO}, linear 2.0)")
    if 5000 in results:
        r = results[5000]
        ok &= r.wall <= TARGET_5000_SECONDS and r.rss_mb <= TARGET_5000_RSS_MB
        print(f"5,000 hosts: {r.wall:.1f} s (target <= {TARGET_5000_SECONDS:.0f} s), "
              f"{r.rss_mb:.0f} MB (target <= {TARGET_5000_RSS_MB:.0f} MB)")
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
