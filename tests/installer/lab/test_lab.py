"""The simulated lab: facts profile, faults, persistence, unit status over time, preconditions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from installer.backends.base import BackendError
from installer.exits import Exit, UserError
from installer.lab import FaultSpecError, Lab, default_facts, parse_faults
from installer.lab.persist import read_state
from installer.planner import plan
from manifests.release import load_release
from tests.installer.lab.helpers import (
    PASSWORD,
    admin_secret,
    ctx_for,
    example,
    run_sequentially,
)


def _noop(message: str, fraction: float | None = None) -> None:
    del message, fraction


# -- host facts -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["single-node", "three-node", "twelve-node"])
def test_default_profile_matches_the_answers(tmp_path: Path, name: str) -> None:
    a = example(name)
    lab = Lab.open(tmp_path)
    lab.ensure_hosts(a)
    facts = lab.facts()
    assert set(facts) == {h.name for h in a.hosts}
    for h in a.hosts:
        f = facts[h.name]
        for device in h.osd_devices:
            disk = f.disk(device)
            assert disk is not None and disk.osd_eligible and not disk.holds_root
        assert any(d.holds_root for d in f.disks)
        if h.address is not None:
            nic = f.nic_with_address(str(h.address))
            assert nic is not None and nic.name != "lo"
        else:  # the installer's own host: the lab gives it an address in the management CIDR
            assert any(
                ip in a.network.management_cidr
                for n in f.nics for ip in (i.ip for i in n.ipv4) if n.name != "lo"
            )
        if h.external_nic:
            assert f.nic(h.external_nic) is not None
        assert f.cpu.virtualization == "kvm" and f.cpu.cores == 32
        assert f.memory.total_bytes == 128 * 1024**3


@pytest.mark.parametrize("name", ["single-node", "three-node", "twelve-node"])
def test_default_profile_passes_preflight(tmp_path: Path, name: str) -> None:
    from installer.preflight import check

    a = example(name)
    lab = Lab.open(tmp_path)
    lab.ensure_hosts(a)
    findings = check(a, lab.facts(), load_release(a.release), real_mode=False)
    assert [f for f in findings if f.severity == "error"] == []


def test_default_facts_round_trip_and_name_disks_by_path() -> None:
    f = default_facts("node9", "10.1.0.9", osd_devices=["/dev/sdc", "/dev/disk/by-id/wwn-0x5"])
    names = [d.name for d in f.disks]
    assert names[0] == "nvme0n1" and "sdc" in names and len(set(names)) == len(names)
    assert f.disk("/dev/disk/by-id/wwn-0x5").wwn == "0x5"  # type: ignore[union-attr]
    assert type(f).model_validate_json(f.model_dump_json()) == f


def test_facts_dir(tmp_path: Path) -> None:
    a = example("single-node")
    facts_dir = tmp_path / "facts"
    facts_dir.mkdir()
    recorded = default_facts("node1", "10.20.0.50", osd_devices=a.hosts[0].osd_devices)
    recorded.memory.total_bytes = 17 * 1024**3
    (facts_dir / "node1.json").write_text(recorded.model_dump_json())
    lab = Lab.open(tmp_path / "state", facts_dir=facts_dir)
    lab.ensure_hosts(a)
    assert lab.facts()["node1"].memory.total_bytes == 17 * 1024**3

    three = example("three-node")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"has no facts for host node1: add .*node1.json"):
        Lab.open(tmp_path / "s2", facts_dir=tmp_path / "empty").ensure_hosts(three)
    (facts_dir / "node1.json").write_text('{"hostname": 3}')
    with pytest.raises(UserError, match=r"node1.json is not `probe --json` output"):
        Lab.open(tmp_path / "s3", facts_dir=facts_dir).ensure_hosts(a)


def test_facts_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is not a directory"):
        Lab.open(tmp_path, facts_dir=tmp_path / "nope")


# -- faults -----------------------------------------------------------------------------------


def test_parse_faults() -> None:
    faults = parse_faults(["juju.deploy:nova-k8s=transient:2,ceph.add-osd@node2=fail",
                           "snap.install:*@node3=transient"])
    assert [(f.pattern, f.mode, f.times) for f in faults] == [
        ("juju.deploy:nova-k8s", "transient", 2),
        ("ceph.add-osd@node2", "fail", 0),
        ("snap.install:*@node3", "transient", 1),
    ]
    assert faults[2].matches("snap.install:k8s@node3")
    assert not faults[2].matches("snap.install:k8s@node4")
    assert parse_faults(None) == [] and parse_faults(" , ") == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("juju.deploy:nova-k8s", "is not OPERATION=MODE"),
        ("juju.deploy:nova-k8s=explode",
         "has mode 'explode'; write `fail`, `transient:N` or `hang`"),
        ("juju.deploy:nova-k8s=transient:x", "transient count 'x'"),
        ("juju.deploy:nova-k8s=transient:0", "transient count '0'"),
        ("deploy nova=fail", r"is not of the form AREA\.OP\[:TARGET\]\[@HOST\]"),
    ],
)
def test_malformed_fault_spec(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message) as e:
        Lab.open(tmp_path, faults=spec)
    assert e.value.code == Exit.USAGE


async def test_transient_fault_then_success(tmp_path: Path) -> None:
    lab = Lab.open(tmp_path, time_scale=0, faults="snap.install:juju@node1=transient:2")
    lab.ensure_hosts(example("single-node"))
    snaps = lab.backends().snaps
    for attempt in (1, 2):
        with pytest.raises(BackendError) as e:
            await snaps.install("node1", "juju", "3.6/stable", classic=False, progress=_noop)
        assert e.value.transient and f"attempt {attempt} of 2" in e.value.message
        assert await snaps.info("node1", "juju") is None
    info = await snaps.install("node1", "juju", "3.6/stable", classic=False, progress=_noop)
    assert info.channel == "3.6/stable"


async def test_permanent_fault_has_a_hint(tmp_path: Path) -> None:
    lab = Lab.open(tmp_path, time_scale=0, faults=["snap.install:*=fail"])
    lab.ensure_hosts(example("single-node"))
    for _ in range(3):
        with pytest.raises(BackendError) as e:
            await lab.backends().snaps.install(
                "node1", "k8s", "1.32/stable", classic=True, progress=_noop
            )
        assert not e.value.transient
        assert "snap.install:k8s@node1 failed" in e.value.message
        assert "resume --dry-run" in (e.value.hint or "")


async def test_hang_fault_holds_the_operation_until_cancelled(tmp_path: Path) -> None:
    lab = Lab.open(tmp_path, time_scale=0, faults="snap.install:juju@node1=hang")
    lab.ensure_hosts(example("single-node"))
    snaps = lab.backends().snaps
    held = asyncio.ensure_future(
        snaps.install("node1", "juju", "3.6/stable", classic=False, progress=_noop))
    # Another operation runs to its end while the held one waits.
    await snaps.install("node1", "k8s", "1.32/stable", classic=True, progress=_noop)
    for _ in range(20):
        await asyncio.sleep(0)
    assert not held.done()
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held
    assert await snaps.info("node1", "juju") is None


# -- persistence ------------------------------------------------------------------------------


async def test_state_persists_across_reopen(tmp_path: Path) -> None:
    a = example("single-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    p = plan(a, load_release(a.release))
    await run_sequentially(p, ctx_for(a, lab.backends()))
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]
    kept = read_state(tmp_path)  # the snapshot with the journal's changes since
    assert kept is not None and kept.controller == "sunbeam-controller"

    again = Lab.open(tmp_path, time_scale=0)  # a later `upgrade --dry-run` sees the cloud
    juju = again.backends().juju
    assert await juju.controllers() == ["sunbeam-controller"]
    status = await juju.status("openstack")
    assert status.apps["keystone"].channel == "2025.1/stable"
    assert all(app.settled for app in status.apps.values())
    info = await again.backends().snaps.info("node1", "openstack-hypervisor")
    assert info is not None and info.channel == "2025.1/stable"
    assert again.facts()["node1"].hostname == "node1"
    for name in ("lab.json", "lab.journal"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name


def test_corrupt_state_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "lab.json").write_text('{"models": 3}')
    with pytest.raises(UserError, match=r"lab.json is not valid .*remove it to start a fresh"):
        Lab.open(tmp_path)


async def test_password_never_reaches_the_state_dir(tmp_path: Path) -> None:
    a = example("twelve-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    ctx = ctx_for(a, lab.backends())
    await run_sequentially(plan(a, load_release(a.release)), ctx)
    assert "admin-password" in ctx.secrets_asked
    # No password file: the step kept the password keystone-k8s generated.
    password = ctx.secrets["admin-password"]
    assert password == lab.keystone_admin_password()
    for f in tmp_path.rglob("*"):
        assert password not in f.read_text(errors="replace"), f
    assert not [line for line in ctx.logs if password in line]
    assert not [m for m, _ in ctx.progress_messages if password in m]


async def test_keystone_generates_its_admin_password_when_active(tmp_path: Path) -> None:
    a = example("single-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    await run_sequentially(plan(a, load_release(a.release)), ctx_for(a, lab.backends()))
    juju, hosts, lines = lab.backends().juju, lab.backends().hosts, list[str]()
    generated = await juju.run_action("openstack", "keystone/leader", "get-admin-password")
    password = generated["password"]
    assert isinstance(password, str) and len(password) >= 16
    with pytest.raises(BackendError, match="'set-admin-password' is not defined"):
        await juju.run_action("openstack", "keystone/leader", "set-admin-password",
                              {"password": PASSWORD})

    async def login(password: str) -> int:
        return (await hosts.run("node1", ["openstack", "token", "issue"], log=lines.append,
                                secret_env={"OS_PASSWORD": password})).returncode

    assert await login(password) == 0
    # The Identity API changes the admin's password through `sh -c` with the new one in the
    # environment; keystone-k8s's own copy (the action's answer) stays as it was.
    script = 'openstack user set --domain admin_domain --password "$OS_NEW_PASSWORD" admin'
    changed = await hosts.run("node1", ["sh", "-c", script], log=lines.append,
                              secret_env={"OS_PASSWORD": password,
                                          "OS_NEW_PASSWORD": PASSWORD})
    assert changed.returncode == 0
    assert await login(PASSWORD) == 0 and await login(password) == 1
    again = await juju.run_action("openstack", "keystone/leader", "get-admin-password")
    assert again == generated
    for f in tmp_path.iterdir():
        assert PASSWORD not in f.read_text(errors="replace"), f
        assert password not in f.read_text(errors="replace"), f


async def test_no_admin_password_before_keystone_is_active(tmp_path: Path) -> None:
    a = example("single-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    ctx = ctx_for(a, lab.backends())
    for step in plan(a, load_release(a.release)).steps:  # up to keystone's deployment
        if not await step.done(ctx):
            await step.run(ctx)
        if step.id == "juju.deploy:keystone":
            break
    (unit,) = lab.app("openstack", "keystone").units.values()
    unit.settle_at = lab.now() + 1000  # still installing
    assert lab.keystone_admin_password() is None
    juju = lab.backends().juju
    with pytest.raises(BackendError, match="not bootstrapped"):
        await juju.run_action("openstack", "keystone/leader", "get-admin-password")
    unit.settle_at = lab.now()  # its hooks are done, but it is blocked: no database yet
    # (keystone-k8s's mandatory relations are database and ingress-internal; the truth changed
    # this test: a settled keystone without them is blocked, not active.)
    with pytest.raises(BackendError, match="not bootstrapped"):
        await juju.run_action("openstack", "keystone/leader", "get-admin-password")
    for step in plan(a, load_release(a.release)).steps:  # its integrations, and all before them
        if step.id == "keystone.admin-password":
            break
        if not await step.done(ctx):
            await step.run(ctx)
    for u in lab.app("openstack", "keystone").units.values():
        u.settle_at = lab.now()
    result = await juju.run_action("openstack", "keystone/leader", "get-admin-password")
    assert result == {"password": lab.keystone_admin_password()}


# -- time and status --------------------------------------------------------------------------


async def test_units_go_maintenance_waiting_active(tmp_path: Path) -> None:
    lab = Lab.open(tmp_path, time_scale=0.002)
    lab.ensure_hosts(example("single-node"))
    lab.state.controller = "c"
    lab.state.clouds["k"] = "k8s"
    juju = lab.backends().juju
    await juju.add_model("m", "k")
    await juju.deploy("m", "mysql-k8s", "mysql-k8s", channel="8.0/stable", num_units=3)
    status = await juju.status("m")
    assert {u.workload for u in status.apps["mysql-k8s"].units.values()} == {"maintenance"}
    seen: list[tuple[str, float | None]] = []
    await juju.wait_settled("m", ["mysql-k8s"], progress=lambda m, f: seen.append((m, f)),
                            timeout=30)
    fractions = [f for _, f in seen if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("waiting" in m for m, _ in seen) and any("maintenance" in m for m, _ in seen)
    assert (await juju.status("m")).apps["mysql-k8s"].settled


async def test_wait_settled_times_out(tmp_path: Path) -> None:
    lab = Lab.open(tmp_path, time_scale=0)
    lab.state.controller = "c"
    lab.state.clouds["k"] = "k8s"
    juju = lab.backends().juju
    await juju.add_model("m", "k")
    await juju.deploy("m", "nova-k8s", "nova-k8s", channel="x")
    lab.state.models["m"].apps["nova-k8s"].units["nova-k8s/0"].settle_at += 3600
    lab.touch_unit("m", "nova-k8s", "nova-k8s/0")  # changed around the backends: say so
    with pytest.raises(BackendError, match=r"1 units of nova-k8s not active after 0 s"):
        await juju.wait_settled("m", ["nova-k8s"], progress=_noop, timeout=0.05)


async def test_operations_check_what_they_need(tmp_path: Path) -> None:
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(example("three-node"))
    b = lab.backends()
    with pytest.raises(BackendError, match="juju is not installed on node1"):
        await b.juju.bootstrap("manual/ubuntu@10.20.0.11", "c", log=lambda line: None)
    with pytest.raises(BackendError, match="model 'openstack' not found"):
        await b.juju.deploy("openstack", "keystone-k8s", "keystone-k8s", channel="x")
    with pytest.raises(BackendError, match="no Juju controller"):
        await b.juju.add_k8s_cloud("k", "server: x")
    with pytest.raises(BackendError, match=r"no lab host has the address 10\.9\.9\.9"):
        await b.juju.bootstrap("manual/10.9.9.9", "c", log=lambda line: None)
    with pytest.raises(BackendError, match="host node7 is not in the lab"):
        await b.snaps.info("node7", "juju")
    with pytest.raises(BackendError, match="not reachable"):
        await b.k8s.set_lb_pool("p", "10.0.0.1-10.0.0.2")
    await b.snaps.install("node1", "juju", "3.6/stable", classic=False, progress=_noop)
    with pytest.raises(BackendError, match="already installed"):
        await b.snaps.install("node1", "juju", "3.6/stable", classic=False, progress=_noop)


async def test_snap_refresh_and_revert(tmp_path: Path) -> None:
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(example("single-node"))
    snaps = lab.backends().snaps
    old = await snaps.install("node1", "microceph", "reef/stable", classic=False, progress=_noop)
    with pytest.raises(BackendError, match="no previous revision"):
        await snaps.revert("node1", "microceph", progress=_noop)
    new = await snaps.refresh("node1", "microceph", "squid/stable", progress=_noop)
    assert new.channel == "squid/stable" and new.revision != old.revision
    back = await Lab.open(tmp_path, time_scale=0).backends().snaps.revert(
        "node1", "microceph", progress=_noop
    )
    assert (back.channel, back.revision) == (old.channel, old.revision)


async def test_openstack_client_needs_the_password(tmp_path: Path) -> None:
    a = example("three-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    await run_sequentially(plan(a, load_release(a.release)), ctx_for(a, lab.backends()))
    password = admin_secret(lab)["admin-password"]  # the one keystone generated
    lines: list[str] = []
    hosts = lab.backends().hosts
    wrong = await hosts.run("node1", ["openstack", "token", "issue"], log=lines.append,
                            secret_env={"OS_PASSWORD": "nope"})
    assert wrong.returncode == 1 and "HTTP 401" in lines[-1]
    ok = await hosts.run("node1", ["openstack", "network", "show", "external-network"],
                         log=lines.append, secret_env={"OS_PASSWORD": password})
    assert ok.returncode == 0 and '"provider_type":"flat"' in lines[-1]
    missing = await hosts.run("node1", ["ip", "link"], log=lines.append)
    assert missing.returncode == 127
    # node2 never got the openstack snap: its shell has no `openstack`.
    assert "openstack" in lab.state.hosts["node1"].snaps
    assert "openstack" not in lab.state.hosts["node2"].snaps
    elsewhere = await hosts.run("node2", ["openstack", "token", "issue"], log=lines.append,
                                secret_env={"OS_PASSWORD": password})
    assert elsewhere.returncode == 127 and lines[-1] == "sh: 1: openstack: not found"

    # Nova's compute services: disabling one shows it disabled, enabling restores it.
    async def nova(*args: str) -> int:
        result = await hosts.run("node1", ["openstack", "compute", "service", *args],
                                 log=lines.append, secret_env={"OS_PASSWORD": password})
        return result.returncode

    status = ("list", "--host", "node3", "--service", "nova-compute", "-f", "value",
              "-c", "Status")
    assert await nova(*status) == 0 and lines[-1] == "enabled"
    assert await nova("set", "--disable", "--disable-reason", "maintenance", "node3",
                      "nova-compute") == 0
    assert await nova(*status) == 0 and lines[-1] == "disabled"
    assert Lab.open(tmp_path).state.compute_disabled == {"node3": "maintenance"}  # persisted
    assert await nova("set", "--enable", "node3", "nova-compute") == 0
    assert await nova(*status) == 0 and lines[-1] == "enabled"
    assert await nova("set", "--disable", "node9", "nova-compute") == 1
    assert lines[-1] == "Compute service nova-compute of host node9 failed to set."
    assert await nova("set", "--disable-reason", "x", "node3", "nova-compute") == 1
