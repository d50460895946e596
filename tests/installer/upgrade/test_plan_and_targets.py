"""Pure functions of the upgrade: targets, diff, control-plane order, plan shape, preflight."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from installer.journal import RunRecord
from installer.steps.k8s import NodesReady
from installer.steps.snaps import SnapInstall, SnapRefresh
from installer.upgrade.detect import (
    CephOsd,
    Deployed,
    DeployedApp,
    DeployedSnap,
    DeployedUnit,
    matching_release,
)
from installer.upgrade.planner import (
    UpgradeOptions,
    control_plane_order,
    k8s_channel_path,
    plan_upgrade,
)
from installer.upgrade.preflight import check_runs, check_upgrade
from installer.upgrade.steps import CephFlag, CephHealthy, CharmUpgrade, ComputeScheduling
from installer.upgrade.targets import check_target, diff, format_diff, next_version
from manifests.answers import Answers
from manifests.release import Release, load_release

R2024, R2025 = load_release("2024.1"), load_release("2025.1")
HOSTS = ("node1", "node2", "node3", "node4", "node5")


def synthetic(name: str, *, slurp: bool = False, upgrade_from: list[str] | None = None) -> Release:
    # Sunbeam's manifests have no SLURP notion (no 2024.2 was ever released); `slurp` is kept
    # in the signature for the cases below and ignored.
    del slurp
    return R2025.model_copy(update={"release": name, "upgrade_from": upgrade_from or []})


def answers(release: str = "2024.1", software: dict[str, Any] | None = None) -> Answers:
    roles: dict[str, list[str]] = {
        "node1": ["control", "compute", "storage"], "node2": ["control", "storage"],
        "node3": ["control", "compute"], "node4": ["compute"], "node5": ["compute", "storage"],
    }
    return Answers.model_validate({
        "version": 1, "release": release,
        "hosts": [{"name": h, "address": f"10.20.0.{11 + i}", "roles": roles[h],
                   "osd_devices": [f"/dev/sd{h[-1]}"] if "storage" in roles[h] else []}
                  for i, h in enumerate(HOSTS)],
        "network": {"management_cidr": "10.20.0.0/24",
                    "loadbalancer_range": "10.20.0.200-10.20.0.220"},
        "software": software or {},
    })


def unit(name: str, host: str | None = None, workload: str = "active",
         agent: str = "idle") -> DeployedUnit:
    return DeployedUnit(name=name, workload=workload, agent=agent, host=host)


def deployed_2024(**changes: Any) -> Deployed:
    """A five-host 2024.1 cloud as detect would describe it."""
    a = answers()
    apps = [DeployedApp(model="openstack", app=c, charm=R2024.charms[c].charm,
                        side="control-plane", channel=R2024.charms[c].channel, revision=100,
                        units=[unit(f"{c}/0")])
            for c in [*R2024.core, "designate", "heat"]]
    placement = {"sunbeam-machine": HOSTS, "k8s": ("node1", "node2", "node3"),
                 "microceph": ("node1", "node2", "node5"),
                 "openstack-hypervisor": ("node1", "node3", "node4", "node5")}
    for c, hosts in placement.items():
        apps.append(DeployedApp(model="openstack-machines", app=c, charm=c, side="machine",
                                channel=R2024.machine_charms[c].channel, revision=10,
                                units=[unit(f"{c}/{i}", h) for i, h in enumerate(hosts)]))
    snaps = [DeployedSnap(host="node1", name="juju", channel="3.6/stable", revision="1")]
    # The charms' snaps (the k8s charm's snap channel is not in Sunbeam's manifests).
    for snap, charm in (("microceph", "microceph"),
                        ("openstack-hypervisor", "openstack-hypervisor")):
        snaps += [DeployedSnap(host=h, name=snap, channel=R2024.all_snaps()[snap].channel,
                               revision="1") for h in placement[charm]]
    osds = [CephOsd(host=h.name, path=d) for h in a.hosts for d in h.osd_devices]
    base: dict[str, Any] = dict(
        release="2024.1", release_source="journal", channels_release="2024.1",
        openstack_model="openstack", machine_model="openstack-machines", hosts=list(HOSTS),
        apps=apps,
        snaps=snaps, k8s_nodes={"node1": True, "node2": True, "node3": True}, ceph_osds=osds)
    base.update(changes)
    return Deployed(**base)


# -- targets ---------------------------------------------------------------------------------


def test_next_version_follows_openstacks_two_releases_a_year() -> None:
    assert next_version("2024.1") == "2024.2"
    assert next_version("2024.2") == "2025.1"
    assert next_version("caracal") is None


def test_2024_1_to_2025_1_is_supported_as_the_manifest_says() -> None:
    # Sunbeam shipped no 2024.2 (R §6): 2025.1's manifest names 2024.1 as its predecessor.
    v = check_target("2024.1", "2025.1")
    assert v.supported and not v.skip_level
    assert "predecessor" in v.reason


def test_one_release_forward_is_supported() -> None:
    releases = {"2024.1": R2024, "2024.2": synthetic("2024.2", slurp=False)}
    v = check_target("2024.1", "2024.2", releases)
    assert v.supported and not v.skip_level


@pytest.mark.parametrize(
    ("current", "target", "releases", "words"),
    [
        ("2025.1", "2024.1", None, "downgrade"),
        ("2024.1", "2026.1", None, "not one this installer ships"),
        ("2024.1", "2024.1", None, "nothing to upgrade"),
        # Skipping from a non-SLURP release is refused.
        ("2024.2", "2025.2", {"2024.2": synthetic("2024.2", slurp=False),
                              "2025.2": synthetic("2025.2", slurp=False)}, "SLURP"),
        # Two cycles at once is refused even between SLURP releases.
        ("2024.1", "2026.1", {"2024.1": R2024, "2026.1": synthetic("2026.1", slurp=True)},
         "more than one"),
        # The target's upgrade_from has the last word.
        ("2024.1", "2025.1", {"2024.1": R2024, "2025.1": synthetic(
            "2025.1", slurp=True, upgrade_from=["2024.2"])}, "only from 2024.2"),
    ],
)
def test_unsupported_targets_are_refused_with_the_reason(
        current: str, target: str, releases: dict[str, Release] | None, words: str) -> None:
    v = check_target(current, target, releases)
    assert not v.supported
    assert words in v.reason


# -- detect's release matching and the diff --------------------------------------------------


def test_matching_release_names_the_release_every_channel_is_on() -> None:
    d = deployed_2024()
    releases = {"2024.1": R2024, "2025.1": R2025}
    assert matching_release(d.apps, d.snaps, releases) == "2024.1"
    half = [a.model_copy(update={"channel": "2025.1/stable"}) if a.app == "keystone"
            else a for a in d.apps]
    assert matching_release(half, d.snaps, releases) is None


def test_diff_lists_channel_changes_and_what_the_target_drops_or_adds() -> None:
    rows = diff(deployed_2024(), R2025, answers())
    by = {(r.kind, r.name, r.where): r for r in rows}
    ks = by[("charm", "keystone", "openstack")]
    assert (ks.current_channel, ks.target_channel, ks.action) == (
        "2024.1/stable", "2025.1/stable", "refresh")
    assert by[("charm", "mysql", "openstack")].action == "unchanged"
    # 2024.1 already had cinder-volume as a machine charm (no cinder-ceph-k8s, R §2.1): no
    # application is dropped or added between the two (the truth changed this test).
    assert not [r for r in rows if r.action in ("not-in-target", "new-in-target")]
    assert by[("snap", "microceph", "node5")].target_channel == "squid/stable"
    assert by[("snap", "microceph", "node5")].action == "unchanged"
    table = format_diff(rows)
    assert any(line.split()[:2] == ["charm", "keystone"]
               and "2024.1/stable (100) -> 2025.1/stable" in line for line in table)
    assert not any(line.split()[:2] == ["charm", "mysql"] for line in table)  # unchanged
    # Snaps with the same change on several hosts make one row.
    hyper = [line for line in table if line.split()[:2] == ["snap", "openstack-hypervisor"]]
    assert len(hyper) == 1 and "+2 hosts" in hyper[0]


# -- the plan --------------------------------------------------------------------------------


def test_control_plane_follows_openstacks_upgrade_order() -> None:
    order = [a.app for a in control_plane_order(deployed_2024().apps, R2025)]
    expected = ["mysql", "rabbitmq", "keystone", "glance", "placement", "nova", "neutron",
                "ovn-central", "ovn-relay", "cinder", "horizon"]
    assert [a for a in order if a in expected] == expected
    # Every mysql-router with the database, before rabbitmq.
    assert max(order.index(a) for a in order if a.endswith("mysql-router")) \
        < order.index("rabbitmq")
    # The rest (ingress, certificates, dns, orchestration) after the dashboard.
    assert order.index("horizon") < min(order.index(a) for a in (
        "traefik", "certificate-authority", "designate", "heat"))


# A hand-made cloud OLDER than what Sunbeam's 2024.1 deploys today: the same hosts and
# Sunbeam's application names as deployed_2024(), but the k8s charm on 1.30 and Ceph (the
# microceph charm and snap) on reef. Sunbeam's own 2024.1 line ran such channels until early
# 2025 (k8s 1.30/beta -> 1.31 -> 1.32/stable on 2025-02-11, microceph reef until 2024-12-09:
# reference sunbeam-deployment.md §9), and an answers file may pin them (`software`). Only such
# a cloud reaches the upgrade's Ceph and Kubernetes phases: Sunbeam's 2024.1 and 2025.1 both
# run k8s 1.32 and Ceph squid (§1). The channels are the ones Sunbeam's versions.py named then
# (§9: k8s 1.30/beta, never 1.30/stable; microceph reef/candidate).
OLD_K8S, OLD_CEPH = "1.30/beta", "reef/candidate"


def deployed_older(k8s: str = OLD_K8S, ceph: str = OLD_CEPH) -> Deployed:
    d = deployed_2024()
    old = {"k8s": k8s, "microceph": ceph}
    apps = [a.model_copy(update={"channel": old[a.charm]}) if a.charm in old else a
            for a in d.apps]
    snaps = [s.model_copy(update={"channel": ceph}) if s.name == "microceph" else s
             for s in d.snaps]
    return d.model_copy(update={"apps": apps, "snaps": snaps, "channels_release": None})


def pinned_answers() -> Answers:
    """The answers that built the older cloud: k8s and Ceph pinned in `software`."""
    return answers(software={
        "k8s": {"channel": OLD_K8S},
        "microceph": {"channel": OLD_CEPH, "config": {"snap-channel": OLD_CEPH}},
    })


def test_sunbeams_own_2024_1_cloud_reaches_no_kubernetes_or_ceph_phase() -> None:
    ids = plan_upgrade(deployed_2024(), R2025, answers()).ids()
    assert ids, "the OpenStack charms move, so the plan is not empty"
    assert not [i for i in ids if "k8s" in i or "microceph" in i or ".ceph-" in i]


def test_plan_chains_the_control_plane_then_the_hosts_phase_by_phase() -> None:
    plan = plan_upgrade(deployed_older(), R2025, answers())
    assert plan.kind == "upgrade"
    ids = plan.ids()
    charms = [s for s in plan.steps if isinstance(s, CharmUpgrade) and s.model == "openstack"]
    # Unchanged applications get no step; each control-plane step needs the one before.
    assert "upgrade.charm:mysql" not in plan
    for before, after in itertools.pairwise(charms):
        assert after.needs == (before.id,)
    assert charms[0].app == "keystone"
    ks = plan["upgrade.charm:keystone"]
    assert isinstance(ks, CharmUpgrade) and ks.from_channel == "2024.1/stable"
    # Machine side after the control plane, in Sunbeam's intended order (inter_channel.py,
    # reference §6): Ceph, then Kubernetes, then the hypervisors, then sunbeam-machine. (The
    # juju client snap is 3.6/stable in both releases: no step.)
    last_cp = charms[-1].id
    assert not [i for i in ids if i.startswith("upgrade.snap:juju")]
    assert ids.index(last_cp) < ids.index("upgrade.ceph-noout@node1")
    # Storage one host at a time: noout set, refresh, Ceph healthy (noout unset) before the next.
    for prev, h in ((last_cp, "node1"), ("upgrade.ceph-healthy@node1", "node2"),
                    ("upgrade.ceph-healthy@node2", "node5")):
        noout = plan[f"upgrade.ceph-noout@{h}"]
        assert isinstance(noout, CephFlag)
        assert (noout.flag, noout.on, noout.host) == ("noout", True, h)
        assert noout.needs == (prev,)
        refresh = plan[f"upgrade.snap:microceph@{h}"]
        assert isinstance(refresh, SnapRefresh) and refresh.channel == "squid/stable"
        assert refresh.needs == (noout.id,)
        assert plan[f"upgrade.ceph-healthy@{h}"].needs == (f"upgrade.snap:microceph@{h}",)
    ceph = plan["upgrade.ceph-healthy@node5"]
    assert isinstance(ceph, CephHealthy) and ceph.osds == ("/dev/sd5",)
    assert ceph.unset == ("noout",) and ceph.host == "node5"
    assert ceph.model == "openstack-machines" and ceph.app == "microceph"
    assert plan["upgrade.charm:microceph"].needs == ("upgrade.ceph-healthy@node5",)
    # Kubernetes after Ceph, then the hypervisors after Kubernetes' last hop.
    assert plan["upgrade.charm:k8s/1.31"].needs == ("upgrade.charm:microceph",)
    assert plan["upgrade.snap:openstack-hypervisor@node1"].needs == ("upgrade.k8s-ready/1.32",)
    # Four compute hosts, default batch a quarter = 1 at a time.
    assert plan["upgrade.snap:openstack-hypervisor@node3"].needs == (
        "upgrade.snap:openstack-hypervisor@node1",)
    assert plan["upgrade.charm:openstack-hypervisor"].needs == (
        "upgrade.snap:openstack-hypervisor@node5",)
    assert ids[-1] == "upgrade.charm:sunbeam-machine"


def test_kubernetes_moves_one_minor_version_at_a_time() -> None:
    plan = plan_upgrade(deployed_older(), R2025, answers())
    k8s = [s for s in plan.steps if "k8s" in s.id]
    # The k8s charm to 1.31, every node Ready, then to 1.32, every node Ready: never two
    # minors in one refresh. The charm moves its own snap: no k8s snap step.
    assert [s.id for s in k8s] == ["upgrade.charm:k8s/1.31", "upgrade.k8s-ready/1.31",
                                   "upgrade.charm:k8s/1.32", "upgrade.k8s-ready/1.32"]
    for before, after in itertools.pairwise(k8s):
        assert after.needs == (before.id,)
    first, second = k8s[0], k8s[2]
    assert isinstance(first, CharmUpgrade) and isinstance(second, CharmUpgrade)
    assert (first.model, first.app) == ("openstack-machines", "k8s")
    assert (first.from_channel, first.channel, first.from_revision) == (
        "1.30/beta", "1.31/stable", 10)
    # The way back from the second hop is the first hop's channel, not the starting one.
    assert (second.from_channel, second.channel, second.from_revision) == (
        "1.31/stable", "1.32/stable", None)
    ready = plan["upgrade.k8s-ready/1.32"]
    assert isinstance(ready, NodesReady) and ready.count == 3


@pytest.mark.parametrize(
    ("k8s", "hops"),
    [
        # Sunbeam's 2024.1 line had 1.30/beta, then 1.31/beta and 1.31/candidate (R §9).
        ("1.30/beta", [("upgrade.charm:k8s/1.31", "1.31/stable"),
                       ("upgrade.charm:k8s/1.32", "1.32/stable")]),
        ("1.31/candidate", [("upgrade.charm:k8s/1.32", "1.32/stable")]),
        # Same minor, another risk: one refresh, no minor to step through.
        ("1.32/beta", [("upgrade.charm:k8s", "1.32/stable")]),
        ("1.32/stable", []),
    ],
)
def test_a_k8s_charm_already_past_a_minor_skips_that_hop(
        k8s: str, hops: list[tuple[str, str]]) -> None:
    plan = plan_upgrade(deployed_older(k8s=k8s), R2025, answers())
    got = [(s.id, s.channel) for s in plan.steps
           if isinstance(s, CharmUpgrade) and s.app == "k8s"]
    assert got == hops
    ready = [s.id for s in plan.steps if isinstance(s, NodesReady)]
    assert len(ready) == len(hops)


def test_pinned_k8s_and_ceph_stay_where_the_answers_pin_them() -> None:
    # The answers that built the older cloud pin the k8s charm and microceph (charm and its
    # snap-channel): the upgrade moves the rest and leaves both, the snap with its charm.
    pinned = pinned_answers()
    plan = plan_upgrade(deployed_older(), R2025, pinned)
    assert "upgrade.charm:keystone" in plan
    assert not [i for i in plan.ids() if "k8s" in i or "microceph" in i or ".ceph-" in i]
    rows = {(r.kind, r.name, r.where): r for r in diff(deployed_older(), R2025, pinned)}
    assert rows[("snap", "microceph", "node1")].action == "unchanged"
    assert rows[("charm", "microceph", "openstack-machines")].action == "unchanged"
    # Without the pins (the answers the operator upgrades with), both move.
    rows = {(r.kind, r.name, r.where): r for r in diff(deployed_older(), R2025, answers())}
    assert rows[("snap", "microceph", "node1")].target_channel == "squid/stable"
    assert rows[("charm", "k8s", "openstack-machines")].action == "refresh"


@pytest.mark.parametrize(
    ("current", "target", "path"),
    [
        ("1.30-classic/stable", "1.32-classic/stable",
         [(31, "1.31-classic/stable"), (32, "1.32-classic/stable")]),
        ("1.31/stable", "1.32/stable", [(32, "1.32/stable")]),
        ("1.30/stable", "1.31/candidate", [(31, "1.31/candidate")]),
        ("1.32/stable", "1.32/stable", []),
        ("latest/edge", "1.32/stable", [(None, "1.32/stable")]),  # no minor to step from
        ("1.33/stable", "1.32/stable", [(None, "1.32/stable")]),  # down: not stepped
    ],
)
def test_k8s_channel_path(current: str, target: str, path: list[tuple[int | None, str]]) -> None:
    assert k8s_channel_path(current, target) == path


def test_compute_hosts_roll_in_batches() -> None:
    plan = plan_upgrade(deployed_2024(), R2025, answers(), UpgradeOptions(compute_batch=2))
    first = ("upgrade.snap:openstack-hypervisor@node1", "upgrade.snap:openstack-hypervisor@node3")
    assert plan["upgrade.snap:openstack-hypervisor@node1"].needs == \
        plan["upgrade.snap:openstack-hypervisor@node3"].needs
    assert plan["upgrade.snap:openstack-hypervisor@node4"].needs == first
    assert plan["upgrade.snap:openstack-hypervisor@node5"].needs == first


def test_one_at_a_time_disables_each_compute_host_around_its_refresh() -> None:
    plan = plan_upgrade(deployed_2024(), R2025, answers(),
                        UpgradeOptions(compute_batch=1, disable_scheduling=True))
    off, on = plan["upgrade.compute-disable@node4"], plan["upgrade.compute-enable@node4"]
    assert isinstance(off, ComputeScheduling) and not off.enable and off.host == "node1"
    assert plan["upgrade.snap:openstack-hypervisor@node4"].needs == (off.id,)
    assert on.needs == ("upgrade.snap:openstack-hypervisor@node4",)
    assert plan["upgrade.compute-disable@node5"].needs == (on.id,)
    # This cloud has no openstack client snap yet: the first disable installs it first.
    client = plan["upgrade.install:openstack@node1"]
    assert isinstance(client, SnapInstall) and client.channel == "2025.1/stable"
    assert client.id in plan["upgrade.compute-disable@node1"].needs


def test_one_at_a_time_uses_the_openstack_client_already_there() -> None:
    d = deployed_2024()
    d = d.model_copy(update={"snaps": [*d.snaps, DeployedSnap(
        host="node1", name="openstack", channel="2024.1/stable", revision="7")]})
    plan = plan_upgrade(d, R2025, answers(),
                        UpgradeOptions(compute_batch=1, disable_scheduling=True))
    assert not [s for s in plan.ids() if s.startswith("upgrade.install:")]
    # ...and refreshes it with the other snaps at the end, after the last enable.
    refresh = plan["upgrade.snap:openstack@node1"]
    assert plan.ids().index(refresh.id) > plan.ids().index("upgrade.compute-enable@node5")


def test_a_cloud_already_on_the_target_gets_an_empty_plan() -> None:
    d = deployed_2024()
    apps = [a.model_copy(update={"channel": R2025.charm(a.charm).channel})
            for a in d.apps if a.charm in R2025.all_charm_names()]
    snaps = [s.model_copy(update={"channel": R2025.all_snaps()[s.name].channel}) for s in d.snaps]
    assert plan_upgrade(d.model_copy(update={"apps": apps, "snaps": snaps}), R2025,
                        answers()).steps == []


# -- preflight -------------------------------------------------------------------------------


def _codes(d: Deployed) -> dict[str, str]:
    return {f.code: f.severity for f in check_upgrade(d, R2025, answers=answers())}


def test_a_healthy_cloud_has_no_preflight_errors() -> None:
    codes = _codes(deployed_2024())
    assert "error" not in codes.values()
    assert "charm-not-in-target" not in codes  # 2024.1 had no cinder-ceph-k8s already
    # The older cloud matches no shipped release: a warning, not an error.
    older = _codes(deployed_older())
    assert "error" not in older.values() and older["mixed-channels"] == "warning"


def test_preflight_blocks_unsettled_errored_units_unready_nodes_and_lost_osds() -> None:
    d = deployed_2024()
    apps = []
    for a in d.apps:
        if a.app == "glance":
            a = a.model_copy(update={"units": [unit("glance/0", None, "maintenance",
                                                    "executing")]})
        if a.app == "nova":
            a = a.model_copy(update={"units": [unit("nova/0", None, "error")]})
        apps.append(a)
    bad = d.model_copy(update={
        "apps": apps, "k8s_nodes": {"node1": True, "node2": False, "node3": True},
        "ceph_osds": [o for o in d.ceph_osds or [] if o.host != "node2"]})
    findings = check_upgrade(bad, R2025, answers=answers())
    errors = {(f.code, f.host) for f in findings if f.severity == "error"}
    assert ("app-not-settled", None) in errors
    assert ("unit-in-error", None) in errors
    assert ("k8s-node-not-ready", "node2") in errors
    assert ("ceph-osd-missing", "node2") in errors
    assert findings[0].severity == "error"  # errors are listed first
    assert _codes(d.model_copy(update={"ceph_osds": None}))["ceph-unknown"] == "error"
    assert _codes(d.model_copy(update={"apps": []}))["nothing-deployed"] == "error"


def test_an_unfinished_install_blocks_the_upgrade() -> None:
    def run(kind: str, outcome: str | None) -> RunRecord:
        return RunRecord("r1", kind, 0.0, None, None, "{}", True, {}, None, outcome)

    assert [f.code for f in check_runs(run("install", "failed"))] == ["install-unfinished"]
    assert "resume --dry-run" in check_runs(run("install", None))[0].hint
    assert check_runs(run("install", "done")) == []
    assert [f.code for f in check_runs(None, locked_by_other=True)] == ["run-in-progress"]
