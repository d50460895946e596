"""The lab's `juju status` from its index (installer/lab/status_index.py): filtered to the
applications asked about, kept up to date as units change and settle, shared by all waiters."""

from __future__ import annotations

import asyncio
from pathlib import Path

from installer.lab import Lab
from installer.planner import plan
from manifests.release import load_release
from tests.installer.lab.helpers import ctx_for, example, run_sequentially


def _noop(message: str, fraction: float | None = None) -> None:
    pass


async def _k8s_model(tmp_path: Path, time_scale: float) -> Lab:
    lab = Lab.open(tmp_path, time_scale=time_scale)
    lab.state.controller = "c"
    lab.state.clouds["k"] = "k8s"
    await lab.backends().juju.add_model("m", "k")
    return lab


async def test_status_filtered_to_the_applications_asked_about(tmp_path: Path) -> None:
    a = example("single-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    await run_sequentially(plan(a, load_release(a.release)), ctx_for(a, lab.backends()))
    juju = lab.backends().juju
    whole = await juju.status("openstack")
    some = await juju.status("openstack", ["keystone", "nova", "no-such-app"])
    assert set(some.apps) == {"keystone", "nova"}
    assert some.apps["keystone"] == whole.apps["keystone"]
    assert some.relations == whole.relations and some.offers == whole.offers
    assert (await juju.status("openstack", [])).apps == {}


async def test_status_follows_changes_and_earlier_answers_stay_as_they_were(
        tmp_path: Path) -> None:
    lab = await _k8s_model(tmp_path, 0)
    juju = lab.backends().juju
    await juju.deploy("m", "nova", "nova-k8s", channel="2025.1/stable")
    first = await juju.status("m")
    await juju.add_unit("m", "nova", to="")
    await juju.refresh("m", "nova", channel="2025.2/stable")
    second = await juju.status("m")
    assert list(first.apps["nova"].units) == ["nova/0"]
    assert first.apps["nova"].channel == "2025.1/stable"
    assert list(second.apps["nova"].units) == ["nova/0", "nova/1"]
    assert second.apps["nova"].channel == "2025.2/stable"
    # nova-k8s without its mandatory relations: blocked once its hooks are done.
    assert {u.workload for u in second.apps["nova"].units.values()} == {"blocked"}


async def test_units_settle_over_time_without_being_touched(tmp_path: Path) -> None:
    lab = await _k8s_model(tmp_path, 0.002)
    juju = lab.backends().juju
    await juju.deploy("m", "mysql", "mysql-k8s", channel="8.0/stable", num_units=2)
    assert {u.workload for u in (await juju.status("m")).apps["mysql"].units.values()} == {
        "maintenance"}
    seen: set[str] = set()
    while not (await juju.status("m")).apps["mysql"].settled:  # ends: the units settle
        seen |= {u.workload for u in (await juju.status("m")).apps["mysql"].units.values()}
        await asyncio.sleep(0.01)
    assert "waiting" in seen or "maintenance" in seen


async def test_concurrent_waiters_share_one_status_computation(tmp_path: Path) -> None:
    lab = await _k8s_model(tmp_path, 0.002)
    juju = lab.backends().juju
    await juju.deploy("m", "mysql", "mysql-k8s", channel="8.0/stable", num_units=3)
    await juju.deploy("m", "rabbit", "rabbitmq-k8s", channel="3.12/stable", num_units=3)
    before = lab.status_index.unit_computations
    waiters = 40
    progress: list[list[str]] = [[] for _ in range(waiters)]
    await asyncio.gather(*(
        juju.wait_settled("m", ["mysql", "rabbit"],
                          progress=lambda m, f, i=i: progress[i].append(m), timeout=60)
        for i in range(waiters)
    ))
    assert all(p[-1] == "6 units of 2 applications active" for p in progress)
    polls = sum(len(p) for p in progress)
    computed = lab.status_index.unit_computations - before
    # Each unit's status is computed when it is created and when its phase changes
    # (maintenance -> waiting -> active), however many waiters poll it how often.
    assert computed <= 6 * 4, (computed, polls)  # one spare per unit
    assert polls > computed  # the waiters did poll: the bound is not for lack of asking
