"""Steps against the lab: whole plans, idempotence, faults, refresh with revert."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.backends.base import BackendError
from installer.lab import Lab
from installer.plan import StepFailed
from installer.planner import plan
from installer.steps.juju import CharmRefresh
from installer.steps.snaps import SnapRefresh
from manifests.release import load_release
from tests.installer.lab.helpers import ctx_for, example, run_concurrently, run_sequentially


@pytest.mark.parametrize("name", ["single-node", "three-node", "twelve-node"])
async def test_plan_installs_and_a_second_run_skips_everything(tmp_path: Path, name: str) -> None:
    a = example(name)
    p = plan(a, load_release(a.release))
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    first = await run_sequentially(p, ctx_for(a, lab.backends()))
    assert first["juju.bootstrap"] == "done" and first["juju.deploy:keystone-k8s"] == "done"
    # A fresh process (reopened lab) finds everything in place: every done() is true.
    again = Lab.open(tmp_path, time_scale=0)
    second = await run_sequentially(p, ctx_for(a, again.backends()))
    assert set(second.values()) == {"skipped"}
    st = again.state
    for h in a.hosts_with("storage"):
        assert st.hosts[h.name].osds == h.osd_devices
    if a.network.external is not None:
        assert st.subnets["external-subnet"].cidr == str(a.network.external.cidr)
    assert st.lb_pools["openstack-lb"] == str(a.network.loadbalancer_range)


async def test_concurrent_run_at_a_small_time_scale(tmp_path: Path) -> None:
    """Steps run as soon as their needs are done: the lab accepts that order (needs suffice)."""
    a = example("three-node")
    p = plan(a, load_release(a.release))
    lab = Lab.open(tmp_path, time_scale=0.0002)
    lab.ensure_hosts(a)
    ctx = ctx_for(a, lab.backends())
    times = await run_concurrently(p, ctx)
    assert len(times) == len(p)
    status = await lab.backends().juju.status("openstack")
    assert len(status.apps["keystone-k8s"].units) == 3
    assert all(app.settled for app in status.apps.values())
    # Every step started after all its needs ended.
    for s in p.steps:
        assert all(times[n][1] <= times[s.id][0] for n in s.needs)


async def test_transient_deploy_fault_is_retried(tmp_path: Path) -> None:
    a = example("single-node")
    p = plan(a, load_release(a.release))
    lab = Lab.open(tmp_path, time_scale=0, faults="juju.deploy:nova-k8s=transient:2")
    lab.ensure_hosts(a)
    ctx = ctx_for(a, lab.backends())
    for step in p.steps:
        if await step.done(ctx):
            continue
        attempts = 0
        while True:  # what the runner does for transient errors, minus the backoff
            attempts += 1
            try:
                await step.run(ctx)
                break
            except BackendError as e:
                assert e.transient and step.id == "juju.deploy:nova-k8s"
        assert attempts == (3 if step.id == "juju.deploy:nova-k8s" else 1)
    assert "nova-k8s" in (await lab.backends().juju.status("openstack")).apps


async def test_permanent_osd_fault_stops_only_that_host(tmp_path: Path) -> None:
    a = example("three-node")
    p = plan(a, load_release(a.release))
    lab = Lab.open(tmp_path, time_scale=0, faults="ceph.add-osd@node2=fail")
    lab.ensure_hosts(a)
    ctx = ctx_for(a, lab.backends())
    failed: dict[str, BackendError] = {}
    for step in p.steps:
        if any(n in failed for n in step.needs) or await step.done(ctx):
            continue
        try:
            await step.run(ctx)
        except BackendError as e:
            failed[step.id] = e
            failed.update({s.id: e for s in p.steps if step.id in s.needs})
    assert "ceph.add-osd@node2" in failed
    err = failed["ceph.add-osd@node2"]
    assert not err.transient and "Remove 'ceph.add-osd@node2=fail'" in (err.hint or "")
    assert lab.state.hosts["node1"].osds and lab.state.hosts["node3"].osds
    assert lab.state.hosts["node2"].osds == []
    # Fault removed: a resume finishes the host.
    fixed = Lab.open(tmp_path, time_scale=0)
    outcome = await run_sequentially(p, ctx_for(a, fixed.backends()))
    assert outcome["ceph.add-osd@node2"] == "done" and outcome["wait.active"] != "failed"
    assert fixed.state.hosts["node2"].osds == a.hosts[1].osd_devices


async def _installed(tmp_path: Path, faults: str | None = None) -> Lab:
    a = example("single-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    await run_sequentially(plan(a, load_release(a.release)), ctx_for(a, lab.backends()))
    return Lab.open(tmp_path, time_scale=0, faults=faults)


async def test_snap_refresh_step(tmp_path: Path) -> None:
    lab = await _installed(tmp_path)
    ctx = ctx_for(example("single-node"), lab.backends())
    step = SnapRefresh(id="snap.refresh:microceph@node1", title="t", host="node1",
                       snap="microceph", channel="tentacle/stable")
    assert not await step.done(ctx)
    await step.run(ctx)
    assert await step.done(ctx)


async def test_failed_snap_refresh_reverts_that_host(tmp_path: Path) -> None:
    lab = await _installed(tmp_path, faults="snap.refresh:openstack-hypervisor@node1=fail")
    snaps = lab.backends().snaps
    before = await snaps.info("node1", "openstack-hypervisor")
    ctx = ctx_for(example("single-node"), lab.backends())
    step = SnapRefresh(id="snap.refresh:openstack-hypervisor@node1", title="t", host="node1",
                       snap="openstack-hypervisor", channel="2025.2/stable")
    with pytest.raises(StepFailed) as e:
        await step.run(ctx)
    assert "node1 is reverted to 2025.1/stable" in e.value.message
    assert any(line.startswith("snap revert openstack-hypervisor") for line in ctx.logs)
    assert await snaps.info("node1", "openstack-hypervisor") == before


async def test_charm_refresh_step(tmp_path: Path) -> None:
    lab = await _installed(tmp_path)
    ctx = ctx_for(example("single-node"), lab.backends())
    step = CharmRefresh(id="juju.refresh:keystone-k8s", title="t", model="openstack",
                        app="keystone-k8s", channel="2025.2/stable")
    assert not await step.done(ctx)
    await step.run(ctx)
    assert await step.done(ctx)
    status = await lab.backends().juju.status("openstack")
    assert status.apps["keystone-k8s"].channel == "2025.2/stable"
