"""The upgrade plan: `plan_upgrade(deployed, target, answers) -> Plan` (kind "upgrade").

Order (each arrow a `needs`). Sunbeam itself has no release upgrade; its intended one (commented
out in snap-openstack's steps/upgrades/inter_channel.py:446-501) runs the control plane, then
microceph, cinder-volume, k8s, openstack-hypervisor and sunbeam-machine. This plan keeps that
order for the phases it has:

1. the control plane, one application at a time: database and messaging first (the services
   of every tier rely on them and their charms stay compatible with older clients), then
   OpenStack's own order: identity, image, placement, compute, network, block storage,
   dashboard; then the rest in manifest order. Each refresh waits for its application to
   settle before the next starts;
2. the juju client snap on the hosts that have it;
3. Ceph: the storage hosts' microceph snaps one at a time, each with `noout` set around it
   and Ceph back to HEALTH_OK (OSDs listed, noout unset) before the next; then the microceph
   charm;
4. Kubernetes, one minor version per round (1.30 -> 1.31 -> 1.32): the k8s charm to that
   minor, settled, then every node Ready before the next minor. The k8s charm installs and
   upgrades its own snap (Sunbeam never sets the k8s snap's channel), so no k8s snap is
   refreshed behind it;
5. the hypervisors: compute hosts in rolling batches (`compute_batch` at once; optionally each
   host disabled for scheduling while it is refreshed); then the openstack-hypervisor charm;
6. sunbeam-machine and anything else the target changes.

Phases 3 and 4 run only for a cloud older than what Sunbeam's 2024.1 deploys today: its
2024.1 and 2025.1 both run k8s 1.32 and Ceph squid, but the same 2024.1 line ran k8s
1.30/1.31 and microceph reef until early 2025, and an answers file may pin them (`software`).

The plan depends only on the `Deployed` the upgrade started from, the target and the options,
so a resumed upgrade (which re-plans from the stored `Deployed`) gets the same step ids. Only
what changes gets a step; what is already on the target is not in the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from installer.plan import Plan, Step
from installer.steps.identity import OPENSTACK_CLIENT_SNAP
from installer.steps.k8s import NodesReady
from installer.steps.snaps import SnapInstall, SnapRefresh
from installer.upgrade.steps import CephFlag, CephHealthy, CharmUpgrade, ComputeScheduling
from installer.upgrade.targets import target_snaps

if TYPE_CHECKING:
    from installer.upgrade.detect import Deployed, DeployedApp
    from manifests.answers import Answers
    from manifests.release import Release

# Tiers (Charm.tier) upgraded first, in this order; the other tiers follow in manifest order.
CONTROL_PLANE_TIERS: tuple[str, ...] = (
    "database",
    "messaging",
    "identity",
    "image",
    "placement",
    "compute",
    "network",
    "block-storage",
    "dashboard",
)
# Snaps with a phase of their own (k8s: its charm's phase; the charm moves the snap).
K8S_SNAP, CEPH_SNAP, HYPERVISOR_SNAP, JUJU_SNAP = "k8s", "microceph", "openstack-hypervisor", "juju"
# The machine charm refreshed after the phase of its snap.
PHASE_CHARM = {K8S_SNAP: "k8s", CEPH_SNAP: "microceph", HYPERVISOR_SNAP: "openstack-hypervisor"}


# A Kubernetes channel: `1.30/stable`, `1.32-classic/stable` (major.minor, flavour, risk).
_K8S_CHANNEL = re.compile(r"^(?P<major>\d+)\.(?P<minor>\d+)(?P<flavour>[^/]*)/(?P<risk>.+)$")


def k8s_channel_path(current: str, target: str) -> list[tuple[int | None, str]]:
    """The channels from `current` to `target` one Kubernetes minor at a time, each with the
    minor it reaches: 1.30-classic/stable -> 1.32-classic/stable gives
    [(31, "1.31-classic/stable"), (32, "1.32-classic/stable")]. Intermediate channels take the
    target's flavour and risk. A channel that names no minor, a change of major or a move
    down goes straight to `target` (minor None); the same channel needs no step."""
    if current == target:
        return []
    cur, tgt = _K8S_CHANNEL.match(current), _K8S_CHANNEL.match(target)
    if cur is None or tgt is None or cur["major"] != tgt["major"] \
            or int(cur["minor"]) >= int(tgt["minor"]):
        return [(None, target)]
    major, flavour, risk = tgt["major"], tgt["flavour"], tgt["risk"]
    return [(m, f"{major}.{m}{flavour}/{risk}")
            for m in range(int(cur["minor"]) + 1, int(tgt["minor"]) + 1)]


@dataclass(frozen=True)
class UpgradeOptions:
    """How the machine side rolls. Stored with the run so a resume plans the same."""

    compute_batch: int | None = None  # hosts refreshed at once; None: a quarter, at least 1
    disable_scheduling: bool = False  # disable each compute host for scheduling meanwhile

    def batch_size(self, hosts: int) -> int:
        if self.compute_batch is not None:
            return max(1, self.compute_batch)
        return max(1, hosts // 4)


def control_plane_order(apps: list[DeployedApp], target: Release) -> list[DeployedApp]:
    """The control-plane applications the target knows, in upgrade order."""
    manifest: dict[str, int] = {}
    for i, spec in enumerate(target.charms.values()):
        manifest.setdefault(spec.charm, i)

    def key(a: DeployedApp) -> tuple[int, int, str]:
        tier = target.charm(a.charm).tier
        rank = CONTROL_PLANE_TIERS.index(tier) if tier in CONTROL_PLANE_TIERS else len(
            CONTROL_PLANE_TIERS)
        return rank, manifest[a.charm], a.app

    names = target.control_charm_names()
    known = [a for a in apps if a.side == "control-plane" and a.charm in names]
    return sorted(known, key=key)


class _Builder:
    def __init__(self, deployed: Deployed, target: Release, answers: Answers,
                 options: UpgradeOptions) -> None:
        self.d, self.t, self.a, self.o = deployed, target, answers, options
        self.steps: list[Step] = []
        self.barrier: tuple[str, ...] = ()  # what the next phase needs
        self.snaps_t = target_snaps(target, answers)  # snap -> its target channel
        self.machine_names = target.machine_charm_names()

    def add(self, step: Step) -> str:
        self.steps.append(step)
        return step.id

    def charm(self, app: DeployedApp, needs: tuple[str, ...]) -> str | None:
        """A refresh step for `app` if the target changes it (None when it does not)."""
        want = self.t.charm(app.charm, self.a)
        if app.channel == want.channel and (want.revision is None
                                            or want.revision == app.revision):
            return None
        rev = f", revision {want.revision}" if want.revision else ""
        return self.add(CharmUpgrade(
            id=f"upgrade.charm:{app.app}",
            title=f"Upgrade {app.app} from {app.channel} to {want.channel}{rev}",
            needs=needs, model=app.model, app=app.app, channel=want.channel,
            revision=want.revision, from_channel=app.channel, from_revision=app.revision,
        ))

    def changes(self, name: str, host: str) -> bool:
        """Whether the target moves snap `name` on `host` to another channel."""
        have, spec = self.d.snap(host, name), self.snaps_t.get(name)
        return have is not None and spec is not None and have.channel != spec.channel

    def snap(self, name: str, host: str, needs: tuple[str, ...]) -> str | None:
        have = self.d.snap(host, name)
        spec = self.snaps_t.get(name)
        if have is None or spec is None or have.channel == spec.channel:
            return None
        return self.add(SnapRefresh(
            id=f"upgrade.snap:{name}@{host}", host=host, needs=needs,
            title=f"Refresh the {name} snap on {host} from {have.channel} to {spec.channel}",
            snap=name, channel=spec.channel,
        ))

    def machine_charm(self, charm: str) -> None:
        for app in self.d.apps:
            if app.side == "machine" and app.charm == charm and charm in self.machine_names:
                sid = self.charm(app, self.barrier)
                if sid is not None:
                    self.barrier = (sid,)

    def build(self) -> Plan:
        d = self.d
        # 1. The control plane, one after the other.
        for app in control_plane_order(d.apps, self.t):
            sid = self.charm(app, self.barrier)
            if sid is not None:
                self.barrier = (sid,)

        # 2. The juju client snap: independent per host, all at once.
        after = [s for h in d.hosts_with_snap(JUJU_SNAP)
                 if (s := self.snap(JUJU_SNAP, h, self.barrier)) is not None]
        if after:
            self.barrier = tuple(after)

        # 3. Ceph, one storage host at a time: noout set, the refresh, then the OSDs back,
        #    noout unset and HEALTH_OK before the next host.
        ceph_app = next((a for a in d.apps if a.charm == CEPH_SNAP), None)
        for h in d.hosts_with_snap(CEPH_SNAP):
            if ceph_app is None:  # no Ceph cluster to keep healthy: just the snap
                sid = self.snap(CEPH_SNAP, h, self.barrier)
                self.barrier = (sid,) if sid is not None else self.barrier
                continue
            if not self.changes(CEPH_SNAP, h):
                continue
            noout = self.add(CephFlag(
                id=f"upgrade.ceph-noout@{h}", host=h, needs=self.barrier, flag="noout",
                on=True, title=f"Set Ceph's noout flag while {h}'s OSDs restart",
            ))
            sid = self.snap(CEPH_SNAP, h, (noout,))
            assert sid is not None  # changes() said the channel moves
            osds = tuple(o.path for o in d.ceph_osds or () if o.host == h)
            self.barrier = (self.add(CephHealthy(
                id=f"upgrade.ceph-healthy@{h}", host=h, needs=(sid,), model=ceph_app.model,
                app=ceph_app.app, osds=osds, unset=("noout",),
                title=f"Unset noout and wait for Ceph HEALTH_OK after {h}'s refresh",
            )),)
        self.machine_charm(PHASE_CHARM[CEPH_SNAP])

        # 4. Kubernetes, one minor version at a time.
        self.kubernetes()

        # 5. The hypervisors, in rolling batches.
        self.hypervisors()
        self.machine_charm(PHASE_CHARM[HYPERVISOR_SNAP])

        # 6. The rest: machine charms without a phase, snaps without a phase.
        for app in d.apps:
            if app.side == "machine" and app.charm not in PHASE_CHARM.values() \
                    and app.charm in self.machine_names:
                sid = self.charm(app, self.barrier)
                if sid is not None:
                    self.barrier = (sid,)
        phased = {JUJU_SNAP, K8S_SNAP, CEPH_SNAP, HYPERVISOR_SNAP}
        rest = [s for snap in sorted({s.name for s in d.snaps} - phased)
                for h in d.hosts_with_snap(snap)
                if (s := self.snap(snap, h, self.barrier)) is not None]
        if rest:
            self.barrier = tuple(rest)
        return Plan(self.steps, kind="upgrade")

    def kubernetes(self) -> None:
        """The k8s charm one Kubernetes minor version at a time (1.30 -> 1.31 -> 1.32), each
        hop settled and every node Ready before the next: Kubernetes supports upgrading one
        minor at a time only (its version-skew policy). Sunbeam's `refresh k8s` refuses any
        track change (steps/k8s_upgrade.py), so it never moves such a cloud; this does.

        No k8s snap is refreshed here: the k8s charm installs the snap and moves it with its
        own refresh, and no release names a k8s snap channel (Sunbeam sets none), so `detect`
        never reports one."""
        d = self.d
        app = next((a for a in d.apps if a.side == "machine" and a.charm == PHASE_CHARM[K8S_SNAP]
                    and a.charm in self.machine_names), None)
        if app is None:
            return
        want = self.t.charm(app.charm, self.a)
        hops = k8s_channel_path(app.channel or "", want.channel)
        if not hops and want.revision is not None and want.revision != app.revision:
            hops = [(None, want.channel)]  # same channel, the release pins a new revision
        nodes = len(d.k8s_nodes) or len(app.units)
        at = app.channel
        for minor, channel in hops:
            tag = "" if minor is None else f"/1.{minor}"
            # The release's pinned revision belongs to its own channel, not to a minor between.
            revision = want.revision if channel == want.channel else None
            rev = f", revision {revision}" if revision else ""
            charm = self.add(CharmUpgrade(
                id=f"upgrade.charm:{app.app}{tag}",
                title=f"Upgrade {app.app} from {at} to {channel}{rev}",
                needs=self.barrier, model=app.model, app=app.app, channel=channel,
                revision=revision, from_channel=at,
                from_revision=app.revision if at == app.channel else None,
            ))
            self.barrier = (self.add(NodesReady(
                id=f"upgrade.k8s-ready{tag}", needs=(charm,), count=nodes,
                title=f"Wait for {nodes} Kubernetes node{'s' * (nodes != 1)} to be ready on "
                f"{channel}",
            )),)
            at = channel

    def hypervisors(self) -> None:
        hosts = [h for h in self.d.hosts_with_snap(HYPERVISOR_SNAP)
                 if (s := self.d.snap(h, HYPERVISOR_SNAP)) is not None
                 and HYPERVISOR_SNAP in self.snaps_t
                 and s.channel != self.snaps_t[HYPERVISOR_SNAP].channel]
        size = self.o.batch_size(len(hosts))
        runner = self._openstack_host()
        client: tuple[str, ...] = ()
        if self.o.disable_scheduling and runner is not None and hosts:
            client = self._client(runner)
        for start in range(0, len(hosts), size):
            batch_ends: list[str] = []
            for h in hosts[start:start + size]:
                needs = self.barrier
                if self.o.disable_scheduling and runner is not None:
                    needs = (self.add(self._scheduling(h, runner, enable=False,
                                                       needs=(*needs, *client))),)
                    client = ()  # the later hosts' steps come after this one anyway
                sid = self.snap(HYPERVISOR_SNAP, h, needs)
                assert sid is not None  # hosts were chosen because their channel changes
                if self.o.disable_scheduling and runner is not None:
                    sid = self.add(self._scheduling(h, runner, enable=True, needs=(sid,)))
                batch_ends.append(sid)
            self.barrier = tuple(batch_ends)

    def _client(self, host: str) -> tuple[str, ...]:
        """The openstack client on `host`: a cloud installed before the installer put the
        openstackclients snap there gets it now (the disable/enable steps run it)."""
        spec = self.t.snaps.get(OPENSTACK_CLIENT_SNAP)
        if self.d.snap(host, OPENSTACK_CLIENT_SNAP) is not None or spec is None:
            return ()
        return (self.add(SnapInstall(
            id=f"upgrade.install:{OPENSTACK_CLIENT_SNAP}@{host}", host=host,
            title=f"Install the {OPENSTACK_CLIENT_SNAP} snap ({spec.channel}) on {host}",
            snap=OPENSTACK_CLIENT_SNAP, channel=spec.channel, classic=spec.classic,
        )),)

    def _openstack_host(self) -> str | None:
        control = self.a.hosts_with("control")
        return control[0].name if control else None

    def _scheduling(self, host: str, runner: str, *, enable: bool,
                    needs: tuple[str, ...]) -> ComputeScheduling:
        from installer.planner import auth_url

        verb = "enable" if enable else "disable"
        return ComputeScheduling(
            id=f"upgrade.compute-{verb}@{host}", host=runner, needs=needs,
            title=f"{verb.capitalize()} {host} for scheduling"
            + (" after its refresh" if enable else " while it is refreshed"),
            compute_host=host, enable=enable, auth_url=auth_url(self.a),
        )


def plan_upgrade(
    deployed: Deployed, target: Release, answers: Answers,
    options: UpgradeOptions | None = None,
) -> Plan:
    """The steps that move `deployed` to `target` (an empty plan when nothing changes)."""
    return _Builder(deployed, target, answers, options or UpgradeOptions()).build()
