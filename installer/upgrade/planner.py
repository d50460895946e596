"""The upgrade plan: `plan_upgrade(deployed, target, answers) -> Plan` (kind "upgrade").

Order (each arrow a `needs`):

1. the control plane, one application at a time: database and messaging first (the services
   of every tier rely on them and their charms stay compatible with older clients), then
   OpenStack's own order: identity, image, placement, compute, network, block storage,
   dashboard; then the rest in manifest order. Each refresh waits for its application to
   settle before the next starts;
2. the juju client snap on the hosts that have it;
3. Kubernetes: the control hosts' k8s snaps one at a time, every node Ready between two;
   then the k8s charm;
4. Ceph: the storage hosts' microceph snaps one at a time, Ceph healthy between two; then the
   microceph charm;
5. the hypervisors: compute hosts in rolling batches (`compute_batch` at once; optionally each
   host disabled for scheduling while it is refreshed); then the openstack-hypervisor charm;
6. sunbeam-machine and anything else the target changes.

The plan depends only on the `Deployed` the upgrade started from, the target and the options,
so a resumed upgrade (which re-plans from the stored `Deployed`) gets the same step ids. Only
what changes gets a step; what is already on the target is not in the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from installer.plan import Plan, Step
from installer.steps.k8s import NodesReady
from installer.steps.snaps import SnapRefresh
from installer.upgrade.steps import CephHealthy, CharmUpgrade, ComputeScheduling

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
# Snaps with a phase of their own, in the order the phases run.
K8S_SNAP, CEPH_SNAP, HYPERVISOR_SNAP, JUJU_SNAP = "k8s", "microceph", "openstack-hypervisor", "juju"
# The machine charm refreshed after the phase of its snap.
PHASE_CHARM = {K8S_SNAP: "k8s", CEPH_SNAP: "microceph", HYPERVISOR_SNAP: "openstack-hypervisor"}


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
    manifest = {name: i for i, name in enumerate(target.charms)}

    def key(a: DeployedApp) -> tuple[int, int, str]:
        tier = target.charms[a.charm].tier
        rank = CONTROL_PLANE_TIERS.index(tier) if tier in CONTROL_PLANE_TIERS else len(
            CONTROL_PLANE_TIERS)
        return rank, manifest[a.charm], a.app

    known = [a for a in apps if a.side == "control-plane" and a.charm in target.charms]
    return sorted(known, key=key)


class _Builder:
    def __init__(self, deployed: Deployed, target: Release, answers: Answers,
                 options: UpgradeOptions) -> None:
        self.d, self.t, self.a, self.o = deployed, target, answers, options
        self.steps: list[Step] = []
        self.barrier: tuple[str, ...] = ()  # what the next phase needs

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

    def snap(self, name: str, host: str, needs: tuple[str, ...]) -> str | None:
        have = self.d.snap(host, name)
        spec = self.t.snaps.get(name)
        if have is None or spec is None or have.channel == spec.channel:
            return None
        return self.add(SnapRefresh(
            id=f"upgrade.snap:{name}@{host}", host=host, needs=needs,
            title=f"Refresh the {name} snap on {host} from {have.channel} to {spec.channel}",
            snap=name, channel=spec.channel,
        ))

    def machine_charm(self, charm: str) -> None:
        for app in self.d.apps:
            if app.side == "machine" and app.charm == charm and charm in self.t.machine_charms:
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

        # 3. Kubernetes, one node at a time.
        nodes = len(d.k8s_nodes) or len(d.hosts_with_snap(K8S_SNAP))
        for h in d.hosts_with_snap(K8S_SNAP):
            sid = self.snap(K8S_SNAP, h, self.barrier)
            if sid is None:
                continue
            self.barrier = (self.add(NodesReady(
                id=f"upgrade.k8s-ready@{h}", host=h, needs=(sid,), count=nodes,
                title=f"Wait for {nodes} Kubernetes node{'s' * (nodes != 1)} to be ready "
                f"after {h}'s refresh",
            )),)
        self.machine_charm(PHASE_CHARM[K8S_SNAP])

        # 4. Ceph, one storage host at a time.
        ceph_app = next((a for a in d.apps if a.charm == CEPH_SNAP), None)
        for h in d.hosts_with_snap(CEPH_SNAP):
            sid = self.snap(CEPH_SNAP, h, self.barrier)
            if sid is None:
                continue
            if ceph_app is None:
                self.barrier = (sid,)
                continue
            osds = tuple(o.path for o in d.ceph_osds or () if o.host == h)
            self.barrier = (self.add(CephHealthy(
                id=f"upgrade.ceph-healthy@{h}", host=h, needs=(sid,), model=ceph_app.model,
                app=ceph_app.app, osds=osds,
                title=f"Wait for Ceph to be healthy after {h}'s refresh",
            )),)
        self.machine_charm(PHASE_CHARM[CEPH_SNAP])

        # 5. The hypervisors, in rolling batches.
        self.hypervisors()
        self.machine_charm(PHASE_CHARM[HYPERVISOR_SNAP])

        # 6. The rest: machine charms without a phase, snaps without a phase.
        for app in d.apps:
            if app.side == "machine" and app.charm not in PHASE_CHARM.values() \
                    and app.charm in self.t.machine_charms:
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

    def hypervisors(self) -> None:
        hosts = [h for h in self.d.hosts_with_snap(HYPERVISOR_SNAP)
                 if (s := self.d.snap(h, HYPERVISOR_SNAP)) is not None
                 and HYPERVISOR_SNAP in self.t.snaps
                 and s.channel != self.t.snaps[HYPERVISOR_SNAP].channel]
        size = self.o.batch_size(len(hosts))
        runner = self._openstack_host()
        for start in range(0, len(hosts), size):
            batch_ends: list[str] = []
            for h in hosts[start:start + size]:
                needs = self.barrier
                if self.o.disable_scheduling and runner is not None:
                    needs = (self.add(self._scheduling(h, runner, enable=False, needs=needs)),)
                sid = self.snap(HYPERVISOR_SNAP, h, needs)
                assert sid is not None  # hosts were chosen because their channel changes
                if self.o.disable_scheduling and runner is not None:
                    sid = self.add(self._scheduling(h, runner, enable=True, needs=(sid,)))
                batch_ends.append(sid)
            self.barrier = tuple(batch_ends)

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
