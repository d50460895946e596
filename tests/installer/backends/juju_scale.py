"""The Juju part of a generated N-host install plan, run by the real runner through the real
JujuCliBackend against the fake `juju` executable, counting the `juju status` calls it made.

Used by test_juju_status_scale.py and runnable by hand for the figures:

    .venv/bin/python -m tests.installer.backends.juju_scale 100 200
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from installer.backends.base import Backends
from installer.backends.juju import JujuCliBackend
from installer.journal import Journal
from installer.plan import Plan, Step
from installer.planner import plan as make_plan
from installer.runner import RunOptions, RunResult, run_plan
from installer.secrets import Redactor, Secrets
from installer.steps import juju as juju_steps
from manifests.release import load_release
from tests.fakes.fake_juju import install_fake_juju

# The hosts bench/makespan.py measures (3 control, every host compute, every other storage).
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from answers_gen import generated_answers


def juju_part(p: Plan) -> Plan:
    """The steps of `p` that only talk to Juju (installer/steps/juju.py); a need on a step left
    out becomes that step's own needs, so the order between the kept steps stays."""
    keep = {s.id for s in p.steps if type(s).__module__ == juju_steps.__name__}
    resolved: dict[str, tuple[str, ...]] = {}
    for s in p.steps:  # needs come first
        needs: list[str] = []
        for n in s.needs:
            needs.extend([n] if n in keep else resolved[n])
        resolved[s.id] = tuple(dict.fromkeys(needs))
    steps: list[Step] = []
    for s in p.steps:
        if s.id in keep:
            s.needs = resolved[s.id]
            steps.append(s)
    return Plan(steps)


@dataclass
class Measured:
    hosts: int
    steps: int
    result: RunResult
    calls: Counter[str]  # juju command -> how many times it ran
    state: dict[str, Any]

    @property
    def status_calls(self) -> int:
        return self.calls["status"]


async def run_juju_part(hosts: int, tmp: Path, *, parallel: int | None = None) -> Measured:
    """Run the Juju part of the `hosts`-host plan to its end; the fake's call counts."""
    answers = generated_answers(hosts)
    release = load_release(answers.release)
    p = juju_part(make_plan(answers, release))
    state_file = tmp / "juju.json"
    state_file.write_text(json.dumps({
        "settle_after": 2,
        "hostnames": {str(h.address): h.name for h in answers.hosts},
        "kubeconfig": "apiVersion: v1\nkind: Config\nclusters: []\n",
    }))
    exe = install_fake_juju(tmp / "bin", state_file)
    juju = JujuCliBackend(cli_binary=str(exe), controller="sunbeam-controller",
                          poll_interval=0.05)
    # Only the Juju backend is used by these steps.
    backends = Backends(snaps=cast(Any, None), juju=juju, k8s=cast(Any, None),
                        hosts=cast(Any, None))
    journal = Journal.open(tmp / "journal.sqlite")
    rec = journal.start_run(kind="install", answers_snapshot="{}", answers_path=None,
                            dry_run=False, steps=[(s.id, s.title, s.host) for s in p.steps])
    secrets = Secrets(tmp / "secrets", Redactor([]))
    try:
        result = await run_plan(
            p, answers=answers, release=release, backends=backends, journal=journal,
            run_id=rec.id, emit=lambda e: None, secrets=secrets,
            options=RunOptions(parallel=parallel, backoff=0.01),
        )
    finally:
        journal.close()
    state = json.loads(state_file.read_text())
    calls = Counter(c[0] for c in state["calls"] if c)
    return Measured(hosts, len(p), result, calls, state)


def main(argv: list[str]) -> None:
    for n in [int(a) for a in argv] or [100]:
        with tempfile.TemporaryDirectory() as d:
            m = asyncio.run(run_juju_part(n, Path(d)))
        print(f"{n} hosts, {m.steps} Juju steps, outcome {m.result.outcome}: "
              f"{m.status_calls} juju status calls, {sum(m.calls.values())} juju calls "
              f"({dict(m.calls.most_common())})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
