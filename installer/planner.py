"""The planner: answers + release manifest -> the DAG of steps that installs the cloud.

The order is Sunbeam's: the juju snap and a controller bootstrapped on the first control host;
the other hosts added as Juju machines; the machine charms (sunbeam-machine everywhere, k8s on
control hosts, microceph on storage hosts, openstack-hypervisor on compute hosts) over their
snaps; Kubernetes nodes ready and its load-balancer pool; the Kubernetes cloud and the
`openstack` model; the control-plane charms with their integrations; cross-model relations
between the two models; OSDs per storage host; the admin password and the external network;
and a final wait for everything to be active.

`needs` holds true dependencies only, so per-host work proceeds in parallel and a runner's
makespan approaches the critical path: node5's hypervisor never waits for node6.
"""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import Plan, PlanError, Step
from installer.steps.ceph import AddOsds
from installer.steps.hypervisor import ExternalNic
from installer.steps.identity import OPENSTACK_CLIENT_SNAP, AdminPassword
from installer.steps.juju import (
    AddK8sCloud,
    AddMachine,
    AddModel,
    AddUnit,
    Bootstrap,
    Consume,
    Deploy,
    Integrate,
    Offer,
    WaitSettled,
)
from installer.steps.k8s import LoadBalancerPool, NodesReady
from installer.steps.network import ExternalNetwork
from installer.steps.snaps import SnapInstall
from manifests.answers import Answers, Host
from manifests.release import Release

MACHINE_MODEL = "controller"  # a manual bootstrap makes the first host machine 0 of it
K8S_MODEL = "openstack"
LB_POOL = "openstack-lb"
# Control-plane applications with LoadBalancer services: they need the address pool first.
LB_APPS = frozenset({"traefik-k8s", "rabbitmq-k8s", "ovn-relay-k8s", "designate-bind-k8s"})
# Machine charms and the snap each runs on its host.
MACHINE_CHARM_SNAPS = {
    "k8s": "k8s",
    "microceph": "microceph",
    "openstack-hypervisor": "openstack-hypervisor",
}


@dataclass(frozen=True)
class CrossModel:
    """An endpoint one model offers and the other consumes, and who integrates with it."""

    offer: str  # offer name, also the local alias where it is consumed
    offer_model: str
    endpoint: str  # app:endpoint in offer_model
    consumer_model: str
    consumers: tuple[str, ...]  # app:endpoint in consumer_model (those deployed are integrated)


CROSS_MODEL = (
    CrossModel(
        "keystone-credentials",
        K8S_MODEL,
        "keystone-k8s:identity-credentials",
        MACHINE_MODEL,
        ("openstack-hypervisor:identity-credentials",),
    ),
    CrossModel(
        "rabbitmq", K8S_MODEL, "rabbitmq-k8s:amqp", MACHINE_MODEL, ("openstack-hypervisor:amqp",)
    ),
    CrossModel(
        "ovn-relay",
        K8S_MODEL,
        "ovn-relay-k8s:ovsdb-cms",
        MACHINE_MODEL,
        ("openstack-hypervisor:ovsdb-cms",),
    ),
    CrossModel(
        "cert-distributor",
        K8S_MODEL,
        "self-signed-certificates:certificates",
        MACHINE_MODEL,
        ("openstack-hypervisor:certificates",),
    ),
    CrossModel(
        "microceph",
        MACHINE_MODEL,
        "microceph:ceph",
        K8S_MODEL,
        ("glance-k8s:ceph", "cinder-volume:ceph", "cinder-ceph-k8s:ceph"),
    ),
)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def controller_name(answers: Answers) -> str:
    return f"{answers.deployment.name}-controller"


def k8s_cloud_name(answers: Answers) -> str:
    return f"{answers.deployment.name}-k8s"


def auth_url(answers: Answers) -> str:
    """Keystone's public endpoint: behind traefik, on the first load-balancer address."""
    return f"https://{answers.network.loadbalancer_range.start}/openstack-keystone/v3"


def enabled_features(answers: Answers, release: Release) -> list[str]:
    """The answers' features and those they require, in a stable order."""
    out: list[str] = []

    def add(name: str, wanted_by: str | None) -> None:
        if name in out:
            return
        feature = release.features.get(name)
        if feature is None:
            known = ", ".join(sorted(release.features)) or "none"
            by = f" (required by {wanted_by})" if wanted_by else ""
            raise PlanError(
                f"Feature {name!r}{by} is not in release {release.release}; choose among {known}."
            )
        for req in feature.requires:
            add(req, name)
        out.append(name)

    for f in answers.features:
        add(f, None)
    return out


def control_plane_apps(answers: Answers, release: Release) -> list[str]:
    """release.core, then the charms of the enabled features, without repeats."""
    apps = list(dict.fromkeys(release.core))
    for f in enabled_features(answers, release):
        for charm in release.features[f].charms:
            if charm not in apps:
                apps.append(charm)
    return apps


class _Builder:
    def __init__(self, answers: Answers, release: Release) -> None:
        self.a = answers
        self.r = release
        self.steps: list[Step] = []
        self.control = answers.hosts_with("control")
        if not self.control:
            raise PlanError("No host has the control role; give it to 1 host or to 3 or more.")
        self.first = self.control[0]
        self.machine: dict[str, str] = {}  # host -> step that makes it a Juju machine
        self.units: dict[str, dict[str, str]] = {}  # machine charm -> host -> unit step

    def add(self, step: Step) -> str:
        self.steps.append(step)
        return step.id

    def snap(self, name: str, host: Host) -> str:
        spec = self.r.snaps[name]
        return self.add(
            SnapInstall(
                id=f"snap.install:{name}@{host.name}",
                host=host.name,
                title=f"Install the {name} snap ({spec.channel}) on {host.name}",
                snap=name,
                channel=spec.channel,
                classic=spec.classic,
            )
        )

    def machine_charm(self, charm: str, hosts: list[Host]) -> dict[str, str]:
        """One unit per host: deployed with the first host, added on the others."""
        spec = self.r.charm(charm, self.a)
        out: dict[str, str] = {}
        deploy_id = f"juju.deploy:{charm}"
        for i, h in enumerate(hosts):
            needs = [self.machine[h.name]]
            snap = MACHINE_CHARM_SNAPS.get(charm)
            if snap is not None:
                # The charm drives its snap and needs the host prepared by sunbeam-machine.
                needs += [self.snap(snap, h), self.units["sunbeam-machine"][h.name]]
            if i == 0:
                out[h.name] = self.add(
                    Deploy(
                        id=deploy_id,
                        host=h.name,
                        needs=tuple(needs),
                        title=f"Deploy {charm} ({spec.channel}) on {h.name}",
                        model=MACHINE_MODEL,
                        app=charm,
                        charm=charm,
                        channel=spec.channel,
                        revision=spec.revision,
                        config=dict(spec.config),
                        trust=spec.trust,
                        units=1,
                        hosts=(h.name,),
                        base=spec.base,
                    )
                )
            else:
                out[h.name] = self.add(
                    AddUnit(
                        id=f"juju.add-unit:{charm}@{h.name}",
                        host=h.name,
                        needs=(deploy_id, *needs),
                        title=f"Add a {charm} unit on {h.name}",
                        model=MACHINE_MODEL,
                        app=charm,
                    )
                )
        self.units[charm] = out
        return out

    def build(self) -> Plan:
        a, r = self.a, self.r
        first = self.first
        compute, storage = a.hosts_with("compute"), a.hosts_with("storage")

        # Juju: the controller on the first control host, every other host a machine.
        juju_snap = self.snap("juju", first)
        target = str(first.address) if first.address is not None else first.name
        if first.ssh_user and first.address is not None:
            target = f"{first.ssh_user}@{target}"
        self.machine[first.name] = self.add(
            Bootstrap(
                id="juju.bootstrap",
                host=first.name,
                needs=(juju_snap,),
                title=f"Bootstrap the Juju controller {controller_name(a)} on {first.name}",
                cloud=f"manual/{target}",
                controller=controller_name(a),
            )
        )
        for h in a.hosts:
            if h.name != first.name:
                self.machine[h.name] = self.add(
                    AddMachine(
                        id=f"juju.add-machine@{h.name}",
                        host=h.name,
                        needs=("juju.bootstrap",),
                        title=f"Add {h.name} as a Juju machine",
                        model=MACHINE_MODEL,
                        address=str(h.address) if h.address is not None else h.name,
                        ssh_user=h.ssh_user,
                    )
                )

        # Machine charms.
        machine_apps = ["sunbeam-machine", "k8s"]
        self.machine_charm("sunbeam-machine", a.hosts)
        k8s_units = self.machine_charm("k8s", self.control)
        if storage:
            machine_apps.append("microceph")
            self.machine_charm("microceph", storage)
        if compute:
            machine_apps.append("openstack-hypervisor")
            self.machine_charm("openstack-hypervisor", compute)

        # Kubernetes, its load-balancer pool, the Juju k8s cloud and the openstack model.
        nodes = self.add(
            NodesReady(
                id="k8s.nodes-ready",
                needs=tuple(k8s_units.values()),
                count=len(self.control),
                title=f"Wait for {len(self.control)} Kubernetes node"
                f"{'s' if len(self.control) > 1 else ''} to be ready",
            )
        )
        lb_range = str(a.network.loadbalancer_range)
        lb = self.add(
            LoadBalancerPool(
                id="k8s.lb-pool",
                needs=(nodes,),
                name=LB_POOL,
                address_range=lb_range,
                title=f"Give Kubernetes the load-balancer pool {lb_range}",
            )
        )
        cloud = self.add(
            AddK8sCloud(
                id=f"juju.add-k8s-cloud:{k8s_cloud_name(a)}",
                needs=(nodes,),
                name=k8s_cloud_name(a),
                machine_model=MACHINE_MODEL,
                title=f"Register Kubernetes as the Juju cloud {k8s_cloud_name(a)}",
            )
        )
        model = self.add(
            AddModel(
                id=f"juju.add-model:{K8S_MODEL}",
                needs=(cloud,),
                name=K8S_MODEL,
                cloud=k8s_cloud_name(a),
                title=f"Create the {K8S_MODEL} model",
            )
        )

        # The control plane.
        apps = control_plane_apps(a, r)
        ha = len(self.control) >= 3
        deploy: dict[str, str] = {}
        for app in apps:
            spec = r.charm(app, a)
            units = 3 if spec.scale == "ha" and ha else 1
            needs = (model, lb) if app in LB_APPS else (model,)
            rev = f", revision {spec.revision}" if spec.revision else ""
            deploy[app] = self.add(
                Deploy(
                    id=f"juju.deploy:{app}",
                    needs=needs,
                    title=f"Deploy {app} ({spec.channel}{rev}, {_n(units, 'unit')})",
                    model=K8S_MODEL,
                    app=app,
                    charm=app,
                    channel=spec.channel,
                    revision=spec.revision,
                    config=dict(spec.config),
                    trust=spec.trust,
                    units=units,
                    base=spec.base,
                )
            )
        integrations: dict[str, list[str]] = {app: [] for app in apps}
        for ep_a, ep_b in r.integrations:
            app_a, app_b = ep_a.split(":", 1)[0], ep_b.split(":", 1)[0]
            if app_a in deploy and app_b in deploy:
                sid = self.add(
                    Integrate(
                        id=f"juju.integrate:{ep_a}/{ep_b}",
                        needs=(deploy[app_a], deploy[app_b]),
                        title=f"Integrate {ep_a} with {ep_b}",
                        model=K8S_MODEL,
                        a=ep_a,
                        b=ep_b,
                    )
                )
                integrations[app_a].append(sid)
                integrations[app_b].append(sid)

        # Cross-model relations between the machine model and the openstack model.
        deployed = {MACHINE_MODEL: set(machine_apps), K8S_MODEL: set(apps)}
        all_deploys = {**deploy, **{c: f"juju.deploy:{c}" for c in machine_apps}}
        model_step = {MACHINE_MODEL: "juju.bootstrap", K8S_MODEL: model}
        for cm in CROSS_MODEL:
            offering_app = cm.endpoint.split(":", 1)[0]
            consumers = [
                c for c in cm.consumers if c.split(":", 1)[0] in deployed[cm.consumer_model]
            ]
            if offering_app not in deployed[cm.offer_model] or not consumers:
                continue
            offer = self.add(
                Offer(
                    id=f"juju.offer:{cm.offer}",
                    needs=(all_deploys[offering_app],),
                    title=f"Offer {cm.endpoint} as {cm.offer}",
                    model=cm.offer_model,
                    endpoint=cm.endpoint,
                    name=cm.offer,
                )
            )
            url = f"{controller_name(a)}:admin/{cm.offer_model}.{cm.offer}"
            consume = self.add(
                Consume(
                    id=f"juju.consume:{cm.offer}",
                    needs=(offer, model_step[cm.consumer_model]),
                    title=f"Consume {cm.offer} in the {cm.consumer_model} model",
                    model=cm.consumer_model,
                    url=url,
                    alias=cm.offer,
                )
            )
            remote = f"{cm.offer}:{cm.endpoint.split(':', 1)[1]}"
            for c in consumers:
                app = c.split(":", 1)[0]
                sid = self.add(
                    Integrate(
                        id=f"juju.integrate:{c}/{remote}",
                        needs=(all_deploys[app], consume),
                        title=f"Integrate {c} with {remote} ({cm.offer_model} model)",
                        model=cm.consumer_model,
                        a=c,
                        b=remote,
                    )
                )
                integrations.setdefault(app, []).append(sid)

        # Ceph OSDs, one step per storage host.
        for h in storage:
            if h.osd_devices:
                n = len(h.osd_devices)
                self.add(
                    AddOsds(
                        id=f"ceph.add-osd@{h.name}",
                        host=h.name,
                        needs=(self.units["microceph"][h.name],),
                        title=f"Add {n} Ceph OSD{'s' if n > 1 else ''} on {h.name}",
                        model=MACHINE_MODEL,
                        devices=tuple(h.osd_devices),
                    )
                )

        # Host-local network settings of the hypervisors.
        for h in compute:
            if h.external_nic:
                self.add(
                    ExternalNic(
                        id=f"hypervisor.external-nic@{h.name}",
                        host=h.name,
                        needs=(f"snap.install:openstack-hypervisor@{h.name}",),
                        title=f"Use {h.external_nic} of {h.name} for the external network",
                        nic=h.external_nic,
                    )
                )

        # The admin password, then the external network: both run the `openstack` client on
        # the first control host, which the openstackclients snap provides (as in Sunbeam).
        password: str | None = None
        if "keystone-k8s" in deploy:
            client = self.snap(OPENSTACK_CLIENT_SNAP, first)
            password = self.add(
                AdminPassword(
                    id="keystone.admin-password",
                    host=first.name,
                    needs=(deploy["keystone-k8s"], *integrations["keystone-k8s"], client),
                    title="Set the OpenStack admin password",
                    model=K8S_MODEL,
                    auth_url=auth_url(a),
                )
            )
        ext = a.network.external
        if ext is not None and password is not None and "neutron-k8s" in deploy:
            self.add(
                ExternalNetwork(
                    id="network.external",
                    host=first.name,
                    needs=(
                        password,
                        deploy["neutron-k8s"],
                        *integrations["neutron-k8s"],
                        f"snap.install:{OPENSTACK_CLIENT_SNAP}@{first.name}",
                    ),
                    title=f"Create the external network {ext.cidr}"
                    + (f" (VLAN {ext.vlan})" if ext.vlan else ""),
                    model=K8S_MODEL,
                    auth_url=auth_url(a),
                    cidr=str(ext.cidr),
                    gateway=str(ext.gateway),
                    pool_start=str(ext.allocation_range.start),
                    pool_end=str(ext.allocation_range.end),
                    vlan=ext.vlan,
                )
            )

        # Finally: everything active. It needs the steps nothing else needs (the sinks),
        # which transitively are all of them.
        needed = {n for s in self.steps for n in s.needs}
        sinks = tuple(s.id for s in self.steps if s.id not in needed)
        self.add(
            WaitSettled(
                id="wait.active",
                needs=sinks,
                title="Wait for every application to be active",
                apps={MACHINE_MODEL: tuple(machine_apps), K8S_MODEL: tuple(apps)},
            )
        )
        return _reduced(Plan(self.steps, kind="install"))


def _reduced(p: Plan) -> Plan:
    """Drop each need another need already implies: the builder states needs per concern (the
    machine, the snap, sunbeam-machine) and some imply others; the runner wants the bare DAG."""
    ancestors: dict[str, set[str]] = {}
    for step in p.steps:  # needs come before their dependents
        implied = set().union(*(ancestors[n] for n in step.needs))
        step.needs = tuple(n for n in dict.fromkeys(step.needs) if n not in implied)
        ancestors[step.id] = implied | set(step.needs)
    return p


def plan(answers: Answers, release: Release) -> Plan:
    """The install plan of `answers` with `release`; PlanError when it cannot be planned."""
    if answers.release != release.release:
        raise PlanError(
            f"The answers ask for release {answers.release} but the manifest is "
            f"{release.release}; load the manifest the answers name."
        )
    return _Builder(answers, release).build()


def plan_to_json(p: Plan) -> dict[str, object]:
    """`{"steps": [{"id", "title", "host", "needs": [...]}, ...]}` in run order."""
    return {
        "steps": [
            {"id": s.id, "title": s.title, "host": s.host, "needs": list(s.needs)} for s in p.steps
        ]
    }


def plan_summary(p: Plan, answers: Answers | None = None) -> str:
    """The plan as a person reads it: numbered steps in run order, each with what it waits for."""
    number = {s.id: i for i, s in enumerate(p.steps, 1)}
    hosts = sorted({s.host for s in p.steps if s.host})
    depth = p.critical_path({s.id: 1.0 for s in p.steps})
    head = f"{len(p)} steps on {len(hosts)} host{'s' if len(hosts) != 1 else ''}"
    if answers is not None:
        head += f", OpenStack {answers.release}"
    lines = [f"Plan: {head}; the longest chain is {depth:.0f} steps.", ""]
    width = len(str(len(p)))
    for i, s in enumerate(p.steps, 1):
        lines.append(f"{i:>{width}}. {s.title}  [{s.id}]")
        if s.needs:
            after = ", ".join(str(number[n]) for n in sorted(s.needs, key=number.__getitem__))
            lines.append(f"{'':>{width}}  after {after}")
    return "\n".join(lines)
