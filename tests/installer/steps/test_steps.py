"""Steps against the lab: whole plans, idempotence, faults, refresh with revert."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from installer.backends.base import BackendError
from installer.lab import Lab
from installer.plan import StepFailed
from installer.planner import K8S_MODEL, MACHINE_MODEL, auth_url, plan
from installer.steps.identity import AdminPassword
from installer.steps.snaps import SnapRefresh
from installer.upgrade.steps import CephFlag, CephHealthy, CharmUpgrade
from manifests.release import load_release
from tests.installer.lab.helpers import (
    PASSWORD,
    admin_secret,
    ctx_for,
    example,
    run_concurrently,
    run_sequentially,
)


@pytest.mark.parametrize("name", ["single-node", "three-node", "twelve-node"])
async def test_plan_installs_and_a_second_run_skips_everything(tmp_path: Path, name: str) -> None:
    a = example(name)
    p = plan(a, load_release(a.release))
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    first = await run_sequentially(p, ctx_for(a, lab.backends()))
    assert first["juju.bootstrap"] == "done" and first["juju.deploy:keystone"] == "done"
    # A fresh process (reopened lab) finds everything in place: every done() is true.
    again = Lab.open(tmp_path, time_scale=0)
    # It also knows the admin password the first run kept (the runner reads it back from
    # the state dir).
    second = await run_sequentially(p, ctx_for(a, again.backends(), admin_secret(again)))
    assert set(second.values()) == {"skipped"}
    st = again.state
    for h in a.hosts_with("storage"):
        assert st.hosts[h.name].osds == h.osd_devices
    if a.network.external is not None:
        assert st.subnets["external-subnet"].cidr == str(a.network.external.cidr)
    # The load-balancer range is the k8s charm's configuration, as Sunbeam passes it.
    k8s = st.models["openstack-machines"].apps["k8s"]
    assert k8s.config["load-balancer-cidrs"] == str(a.network.loadbalancer_range)


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
    assert len(status.apps["keystone"].units) == 3
    assert all(app.settled for app in status.apps.values())
    # Every step started after all its needs ended.
    for s in p.steps:
        assert all(times[n][1] <= times[s.id][0] for n in s.needs)


async def test_transient_deploy_fault_is_retried(tmp_path: Path) -> None:
    a = example("single-node")
    p = plan(a, load_release(a.release))
    lab = Lab.open(tmp_path, time_scale=0, faults="juju.deploy:nova=transient:2")
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
                assert e.transient and step.id == "juju.deploy:nova"
        assert attempts == (3 if step.id == "juju.deploy:nova" else 1)
    assert "nova" in (await lab.backends().juju.status("openstack")).apps


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
    outcome = await run_sequentially(p, ctx_for(a, fixed.backends(), ctx.secrets))
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


async def test_charm_upgrade_step(tmp_path: Path) -> None:
    lab = await _installed(tmp_path)
    ctx = ctx_for(example("single-node"), lab.backends())
    step = CharmUpgrade(id="upgrade.charm:keystone", title="t", model="openstack",
                        app="keystone", channel="2025.2/stable",
                        from_channel="2025.1/stable")
    assert not await step.done(ctx)
    await step.run(ctx)
    assert await step.done(ctx)
    status = await lab.backends().juju.status("openstack")
    assert status.apps["keystone"].channel == "2025.2/stable"


async def test_openstack_steps_without_the_client_say_how_to_install_it(tmp_path: Path) -> None:
    lab = await _installed(tmp_path)
    del lab.state.hosts["node1"].snaps["openstack"]  # removed by hand after the install
    lab.save()
    a = example("single-node")
    step = AdminPassword(id="keystone.admin-password", title="t", host="node1",
                         model=K8S_MODEL, auth_url=auth_url(a))
    with pytest.raises(StepFailed) as e:
        await step.done(ctx_for(a, lab.backends(), admin_secret(lab)))
    assert e.value.message == "the openstack client is not installed on node1"
    assert e.value.hint is not None and "`sudo snap install openstack`" in e.value.hint


async def test_admin_password_keeps_the_one_keystone_generated(tmp_path: Path) -> None:
    a = example("single-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    p = plan(a, load_release(a.release))
    ctx = ctx_for(a, lab.backends())
    for step in p.steps:
        if step.id == "keystone.admin-password":
            break
        if not await step.done(ctx):
            await step.run(ctx)
    step = p["keystone.admin-password"]
    assert not await step.done(ctx)  # no password known yet: nothing to log in with
    await step.run(ctx)
    generated = await lab.backends().juju.run_action(
        K8S_MODEL, "keystone/leader", "get-admin-password"
    )
    password = generated["password"]
    assert isinstance(password, str)
    assert ctx.secrets == {"admin-password": password}
    assert await step.done(ctx)
    assert "juju run keystone/leader get-admin-password" in ctx.logs
    assert not [line for line in ctx.logs if password in line]


async def test_admin_password_from_a_file_is_set_through_the_identity_api(
    tmp_path: Path,
) -> None:
    a = example("single-node")
    a = a.model_copy(update={"identity": a.identity.model_copy(
        update={"admin_password_file": str(tmp_path / "admin-password")})})
    lab = Lab.open(tmp_path / "lab", time_scale=0)
    lab.ensure_hosts(a)
    # What the runner loads from the operator's file before the run.
    ctx = ctx_for(a, lab.backends(), {"admin-password": PASSWORD})
    outcome = await run_sequentially(plan(a, load_release(a.release)), ctx)
    assert outcome["keystone.admin-password"] == "done"
    assert ctx.secrets == {"admin-password": PASSWORD}  # the file's, not replaced
    hosts, lines = lab.backends().hosts, list[str]()

    async def login(password: str) -> int:
        return (await hosts.run("node1", ["openstack", "token", "issue"], log=lines.append,
                                secret_env={"OS_PASSWORD": password})).returncode

    charm = admin_secret(lab)["admin-password"]
    assert await login(PASSWORD) == 0 and await login(charm) == 1
    # The new password went through the environment: the logged command names the variable.
    assert ("sh -c 'openstack user set --domain admin_domain --password \"$OS_NEW_PASSWORD\" "
            "admin'") in ctx.logs
    for secret in (PASSWORD, charm):
        assert not [line for line in ctx.logs if secret in line]
        for f in (tmp_path / "lab").rglob("*"):
            assert secret not in f.read_text(errors="replace"), f


def _noop(message: str, fraction: float | None = None) -> None:
    del message, fraction


def _health(lines: list[str]) -> tuple[str, set[str]]:
    data = json.loads(lines[-1])
    return data["status"], set(data["checks"])


async def test_lab_ceph_health_follows_noout_and_a_storage_host_restart(tmp_path: Path) -> None:
    await _installed(tmp_path)
    lab = Lab.open(tmp_path, time_scale=0.002)  # OSDs rejoin 60 s x 0.002 after a restart
    hosts, lines = lab.backends().hosts, []

    async def ceph(*args: str) -> int:
        return (await hosts.run("node1", ["microceph.ceph", *args], sudo=True,
                                log=lines.append)).returncode

    assert await ceph("health", "--format", "json") == 0
    assert _health(lines) == ("HEALTH_OK", set())
    assert await ceph("osd", "set", "noout") == 0 and lines[-1] == "noout is set"
    await ceph("osd", "dump", "--format", "json")
    assert "noout" in json.loads(lines[-1])["flags"].split(",")
    await lab.backends().snaps.refresh("node1", "microceph", "tentacle/stable", progress=_noop)
    await ceph("health", "--format", "json")
    assert _health(lines) == ("HEALTH_WARN", {"OSDMAP_FLAGS", "OSD_DOWN"})
    await asyncio.sleep(0.2)  # the OSDs are back; noout still warns until it is unset
    await ceph("health", "--format", "json")
    assert _health(lines) == ("HEALTH_WARN", {"OSDMAP_FLAGS"})
    assert await ceph("osd", "unset", "noout") == 0
    await ceph("health", "--format", "json")
    assert _health(lines) == ("HEALTH_OK", set())
    assert await ceph("osd", "set", "nonsense") == 22
    # No microceph snap, no microceph.ceph.
    del lab.state.hosts["node1"].snaps["microceph"]
    assert await ceph("health") == 127


def _ceph_healthy(**kw: Any) -> CephHealthy:
    return CephHealthy(id="upgrade.ceph-healthy@node1", title="t", host="node1",
                       model=MACHINE_MODEL, osds=tuple(example("single-node").hosts[0].osd_devices),
                       unset=("noout",), **kw)


async def test_ceph_healthy_unsets_noout_and_waits_for_health_ok(tmp_path: Path) -> None:
    # Ceph reports HEALTH_WARN to its first two health queries, then recovers.
    lab = await _installed(tmp_path, faults="ceph.health=transient:2")
    ctx = ctx_for(example("single-node"), lab.backends())
    noout = CephFlag(id="upgrade.ceph-noout@node1", title="t", host="node1")
    await noout.run(ctx)
    assert await noout.done(ctx) and lab.state.ceph_flags == ["noout"]
    step = _ceph_healthy(poll_interval=0.01)
    assert not await step.done(ctx)  # noout set (and the first warning)
    await step.run(ctx)
    assert lab.state.ceph_flags == [] and "sudo microceph.ceph osd unset noout" in ctx.logs
    assert any("PG_DEGRADED" in m for m, _ in ctx.progress_messages)
    assert await step.done(ctx)


async def test_ceph_that_stays_degraded_times_out_with_a_hint(tmp_path: Path) -> None:
    lab = await _installed(tmp_path, faults="ceph.health=fail")
    ctx = ctx_for(example("single-node"), lab.backends())
    step = _ceph_healthy(health_timeout=0.05, poll_interval=0.01)
    with pytest.raises(StepFailed) as e:
        await step.run(ctx)
    assert e.value.message.startswith("Ceph is still HEALTH_WARN 0.05 s after node1's refresh")
    assert "PG_DEGRADED" in e.value.message and not e.value.transient
    assert e.value.hint is not None and "`sudo microceph.ceph health detail`" in e.value.hint
