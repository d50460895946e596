"""The shared `juju status` source at scale: the Juju part of a generated 100-host install plan
runs through the real runner and JujuCliBackend against the fake `juju`, which counts the calls.

Each step asking on its own made about 9 whole-model `juju status` calls per host (940 for 100
hosts, 1,740 for 200), and one `juju add-unit` per unit (298 for 100 hosts). Shared, filtered
and invalidated only by our own changes, status stays far below one call per host (about 60 for
100 hosts, 90 for 200 here), and the add-units of one application go out together. The bounds
checked here grow linearly with the hosts and leave room for a loaded machine (more load means
more callers per shared command, not fewer).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.planner import plan
from installer.steps.juju import AddUnit
from manifests.release import load_release
from tests.installer.backends.juju_scale import Measured, generated_answers, run_juju_part


def bound(hosts: int) -> int:
    """At most one `juju status` per host, plus the plan's fixed part (waits, offers)."""
    return hosts + 50


@pytest.mark.timeout(900)
async def test_status_calls_of_a_100_host_plan_stay_linear_and_few(tmp_path: Path) -> None:
    runs: dict[int, Measured] = {}
    for hosts in (50, 100):
        d = tmp_path / str(hosts)
        d.mkdir()
        runs[hosts] = m = await run_juju_part(hosts, d)
        assert m.result.outcome == "done", m.result.failures[:1]
        # Every machine, unit and relation the plan asked for is there (the waits passed).
        assert m.calls["add-machine"] == hosts
        assert m.status_calls <= bound(hosts), (hosts, m.status_calls)
    # Twice the hosts, at most about twice the calls.
    assert runs[100].status_calls <= 2 * runs[50].status_calls + 10
    # Units were added many to a command.
    answers = generated_answers(100)
    add_units = sum(isinstance(s, AddUnit) for s in plan(answers, load_release("2025.1")).steps)
    assert add_units >= 250 and runs[100].calls["add-unit"] <= add_units // 2
    # The steps asked for their applications, not for the whole model each time.
    status = [c for c in runs[100].state["calls"] if c[:1] == ["status"]]
    assert any(len(c) > len(["status", "--model", "M", "--format", "json"]) for c in status)
