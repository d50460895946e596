"""The step DAG of an install, in Sunbeam's order (snap-openstack provider/local/commands.py).

The Juju controller on the first control host (Sunbeam bootstraps it in LXD there); the
`openstack-machines` model with every host as a machine; sunbeam-machine (with its
epa-orchestrator subordinate) and k8s, whose charm configuration carries the load-balancer
range; Kubernetes ready, its Juju cloud and the `openstack` model; microceph and cinder-volume
on storage hosts; the control plane with its integrations and offers; the offers consumed across
the two models and the integrations through them; the hypervisors; OSDs; the external NIC
(the hypervisor charm's action), the admin password and the external network; and a final wait.

`needs` holds true dependencies only, so per-host work proceeds in parallel and a runner's
makespan approaches the critical path.
"""

from __future__ import annotations

from installer.plan import Plan, Step
from installer.planner.deployment import CONTROLLER, App, Deployment, deployment
from installer.planner.proxy import SYSTEM_SNAP, model_proxy, snap_proxy
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
from installer.steps.k8s import NodesReady
from installer.steps.network import PHYSNET, ExternalNetwork
from installer.steps.snaps import SnapConfig, SnapInstall
from manifests.answers import Answers, Host
from manifests.release import K8S_MODEL, MACHINE_MODEL, Release

LXD_CLOUD = "localhost"  # Juju's name for the local LXD cloud the controller starts on
# Sunbeam's prepare-node-script --bootstrap installs LXD for the controller (versions.py:39).
LXD_SNAP, LXD_CHANNEL = "lxd", "5.21/stable"
# Machine applications Sunbeam deploys before the control plane (plan1: microovn, microceph,
# cinder-volume); the hypervisor comes after it (plan2).
EARLY_MACHINE_APPS = ("sunbeam-machine", "k8s", "microovn", "microceph", "cinder-volume")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def k8s_cloud_name(answers: Answers) -> str:
    return f"{answers.deployment.name}-k8s"  # Sunbeam: <deployment>-k8s (core/k8s.py:47)


def auth_url(answers: Answers) -> str:
    """Keystone's public endpoint: behind traefik-public, on the first load-balancer address."""
    return f"https://{answers.network.loadbalancer_range.start}/openstack-keystone/v3"


def bridge_mapping(nic: str) -> str:
    """Sunbeam's bridge mapping for one physnet (steps/configure.py _build_bridge_mapping)."""
    return f"br-{PHYSNET}:{PHYSNET}:{nic}"


class _Builder:
    def __init__(self, answers: Answers, release: Release) -> None:
        self.answers = answers
        self.release = release
        self.dep: Deployment = deployment(answers, release)
        self.steps: list[Step] = []
        self.first: Host = answers.hosts_with("control")[0]
        self.machine: dict[str, str] = {}  # host -> step that makes it a Juju machine
        self.unit: dict[tuple[str, str], str] = {}  # (app, host) -> step that places the unit
        self.deployed: dict[str, str] = {}  # app -> its deploy step
        self.proxy: dict[str, str] = {}  # host -> the step setting snapd's proxy there

    def snap_proxy(self) -> None:
        """snapd's system proxy on every host before anything installs a snap there (reference
        §5.0 step 5 and §5.1 PromptForProxyStep; installer/planner/proxy.py)."""
        values = snap_proxy(self.answers)
        if not values:
            return
        for h in self.answers.hosts:
            self.proxy[h.name] = self.add(
                SnapConfig(
                    id=f"snap.proxy@{h.name}",
                    host=h.name,
                    title=f"Set snapd's proxy on {h.name}",
                    snap=SYSTEM_SNAP,
                    values=values,
                )
            )

    def host_proxy(self, host: str) -> tuple[str, ...]:
        return (self.proxy[host],) if host in self.proxy else ()

    def add(self, step: Step) -> str:
        self.steps.append(step)
        return step.id

    def snap(self, name: str, channel: str, host: Host) -> str:
        return self.add(
            SnapInstall(
                id=f"snap.install:{name}@{host.name}",
                host=host.name,
                title=f"Install the {name} snap ({channel}) on {host.name}",
                snap=name,
                channel=channel,
                needs=self.host_proxy(host.name),
            )
        )

    def deploy(self, app: App, needs: tuple[str, ...]) -> None:
        spec = app.spec
        rev = f", revision {spec.revision}" if spec.revision else ""
        if app.model == K8S_MODEL:
            what = _n(app.units, "unit")
        elif spec.subordinate_to:
            what = f"subordinate of {spec.subordinate_to}"
        else:
            what = f"on {app.hosts[0]}"
        first = app.hosts[:1]
        self.deployed[app.name] = self.add(
            Deploy(
                id=f"juju.deploy:{app.name}",
                host=first[0] if first else None,
                needs=needs + tuple(self.machine[h] for h in first),
                title=f"Deploy {app.name} ({spec.charm} {spec.channel}{rev}, {what})",
                model=app.model,
                app=app.name,
                charm=spec.charm,
                channel=spec.channel,
                revision=spec.revision,
                config=dict(spec.config),
                trust=spec.trust,
                # A machine application starts with its first unit; add-unit places the rest.
                units=app.units if app.model == K8S_MODEL else len(first),
                hosts=first,
                base=spec.base,
            )
        )
        if first:
            self.unit[(app.name, first[0])] = self.deployed[app.name]
        for h in app.hosts[1:]:
            self.unit[(app.name, h)] = self.add(
                AddUnit(
                    id=f"juju.add-unit:{app.name}@{h}",
                    host=h,
                    needs=(self.deployed[app.name], self.machine[h], *needs),
                    title=f"Add {app.name} to {h}",
                    model=app.model,
                    app=app.name,
                )
            )

    def machine_app(self, name: str, *extra: str) -> None:
        app = self.dep.apps.get(name)
        if app is None:
            return
        # Units go onto hosts sunbeam-machine has prepared (sysctl, proxy), as in Sunbeam.
        prepared = (
            () if name == "sunbeam-machine" or not app.hosts
            else (self.deployed["sunbeam-machine"],)
        )
        self.deploy(app, (*prepared, *extra))
        for sub in self.dep.in_model(MACHINE_MODEL):
            if sub.spec.subordinate_to == name:
                self.deploy(sub, (self.deployed[name],))

    def build(self) -> Plan:
        a, first = self.answers, self.first
        self.snap_proxy()
        juju = self.snap("juju", self.release.snaps["juju"].channel, first)
        lxd = self.snap(LXD_SNAP, LXD_CHANNEL, first)
        boot = self.add(
            Bootstrap(
                id="juju.bootstrap",
                host=first.name,
                needs=(juju, lxd),
                title=f"Bootstrap the Juju controller {CONTROLLER} in LXD on {first.name}",
                cloud=LXD_CLOUD,
                controller=CONTROLLER,
                model_defaults=model_proxy(a),
            )
        )
        machines = self.add(
            AddModel(
                id=f"juju.add-model:{MACHINE_MODEL}",
                needs=(boot,),
                name=MACHINE_MODEL,
                cloud=LXD_CLOUD,
                config=model_proxy(a),
                title=f"Create the {MACHINE_MODEL} model",
            )
        )
        for h in a.hosts:
            self.machine[h.name] = self.add(
                AddMachine(
                    id=f"juju.add-machine@{h.name}",
                    host=h.name,
                    needs=(machines, *self.host_proxy(h.name)),
                    title=f"Add {h.name} as a machine of {MACHINE_MODEL}",
                    model=MACHINE_MODEL,
                    address=str(h.address) if h.address is not None else h.name,
                    ssh_user=h.ssh_user,
                )
            )
        for name in EARLY_MACHINE_APPS:
            self.machine_app(name)

        control = self.dep.apps["k8s"].hosts
        nodes = self.add(
            NodesReady(
                id="k8s.nodes-ready",
                needs=tuple(self.unit[("k8s", h)] for h in control),
                count=len(control),
                title=f"Wait for {_n(len(control), 'Kubernetes node')} to be ready",
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
                config=model_proxy(a),
                title=f"Create the {K8S_MODEL} model",
            )
        )
        for app in self.dep.in_model(K8S_MODEL):
            self.deploy(app, (model,))
        # The rest of the machine model (the hypervisors) follows the control plane.
        for app in self.dep.in_model(MACHINE_MODEL):
            if app.name not in self.deployed and app.spec.subordinate_to is None:
                self.machine_app(app.name)

        # Offers, consumed offers, integrations.
        offer_step: dict[str, str] = {}
        for name, (m, endpoint) in self.dep.offers.items():
            offer_step[name] = self.add(
                Offer(
                    id=f"juju.offer:{name}",
                    needs=(self.deployed[endpoint.split(":", 1)[0]],),
                    title=f"Offer {endpoint} as {name} ({m} model)",
                    model=m,
                    endpoint=endpoint,
                    name=name,
                )
            )
        model_step = {MACHINE_MODEL: machines, K8S_MODEL: model}
        consume_step: dict[tuple[str, str], str] = {}
        for c in self.dep.consumed:
            consume_step[(c.consumer_model, c.offer)] = self.add(
                Consume(
                    id=f"juju.consume:{c.offer}@{c.consumer_model}",
                    needs=(offer_step[c.offer], model_step[c.consumer_model]),
                    title=f"Consume {c.offer} in the {c.consumer_model} model",
                    model=c.consumer_model,
                    url=f"{CONTROLLER}:admin/{c.offer_model}.{c.offer}",
                    alias=c.offer,
                )
            )
        self.integrations: dict[str, list[str]] = {}
        for r in self.dep.relations:
            needs: list[str] = []
            for ep in (r.a, r.b):
                name = ep.split(":", 1)[0]
                if name in self.dep.apps and self.dep.apps[name].model == r.model:
                    needs.append(self.deployed[name])
                else:  # a consumed offer's alias
                    needs.append(consume_step[(r.model, name)])
            sid = self.add(
                Integrate(
                    id=f"juju.integrate:{r.a}/{r.b}",
                    needs=tuple(needs),
                    title=f"Integrate {r.a} with {r.b} ({r.model} model)",
                    model=r.model,
                    a=r.a,
                    b=r.b,
                )
            )
            for ep in (r.a, r.b):
                name = ep.split(":", 1)[0]
                if name in self.dep.apps and self.dep.apps[name].model == r.model:
                    self.integrations.setdefault(name, []).append(sid)

        self.host_steps()
        self.wait()
        return _reduced(Plan(self.steps, kind="install"))

    def host_steps(self) -> None:
        a, first = self.answers, self.first
        for h in a.hosts_with("storage"):
            if h.osd_devices and ("microceph", h.name) in self.unit:
                n = len(h.osd_devices)
                self.add(
                    AddOsds(
                        id=f"ceph.add-osd@{h.name}",
                        host=h.name,
                        needs=(self.unit[("microceph", h.name)],),
                        title=f"Add {_n(n, 'Ceph OSD')} on {h.name}",
                        model=MACHINE_MODEL,
                        devices=tuple(h.osd_devices),
                    )
                )
        for h in a.hosts_with("compute"):
            if h.external_nic and ("openstack-hypervisor", h.name) in self.unit:
                self.add(
                    ExternalNic(
                        id=f"hypervisor.external-nic@{h.name}",
                        host=h.name,
                        needs=(self.unit[("openstack-hypervisor", h.name)],),
                        title=f"Use {h.external_nic} of {h.name} for the external network",
                        model=MACHINE_MODEL,
                        bridge_mapping=bridge_mapping(h.external_nic),
                    )
                )
        # The admin password, then the external network, with the `openstack` client of
        # Sunbeam's own snap on the first control host.
        if "keystone" not in self.deployed:
            return
        client = self.snap(OPENSTACK_CLIENT_SNAP, self.release.snaps[OPENSTACK_CLIENT_SNAP].channel,
                           first)
        password = self.add(
            AdminPassword(
                id="keystone.admin-password",
                host=first.name,
                needs=(self.deployed["keystone"], *self.integrations.get("keystone", []), client),
                title="Set the OpenStack admin password",
                model=K8S_MODEL,
                auth_url=auth_url(a),
            )
        )
        ext = a.network.external
        if ext is not None and "neutron" in self.deployed:
            self.add(
                ExternalNetwork(
                    id="network.external",
                    host=first.name,
                    needs=(password, self.deployed["neutron"],
                           *self.integrations.get("neutron", []), client),
                    title=f"Create the external network {ext.cidr}"
                    + (f" (VLAN {ext.vlan})" if ext.vlan else ""),
                    model=K8S_MODEL,
                    auth_url=auth_url(a),
                    cidr=str(ext.cidr),
                    gateway=str(ext.gateway),
                    pool_start=str(ext.allocation_range.start),
                    pool_end=str(ext.allocation_range.end),
                    vlan=ext.vlan,
                    dns_servers=tuple(str(d) for d in a.network.dns_servers),
                )
            )

    def wait(self) -> None:
        # Everything active: it needs the steps nothing else needs (the sinks). Like Sunbeam
        # (steps/openstack.py:843-846), cinder is not waited for without storage hosts: it stays
        # blocked on its storage-backend relation there.
        needed = {n for s in self.steps for n in s.needs}
        sinks = tuple(s.id for s in self.steps if s.id not in needed)
        storage = bool(self.answers.hosts_with("storage"))
        apps = {
            m: tuple(x.name for x in self.dep.in_model(m) if storage or x.name != "cinder")
            for m in (MACHINE_MODEL, K8S_MODEL)
        }
        self.add(
            WaitSettled(
                id="wait.active",
                needs=sinks,
                title="Wait for every application to be active",
                apps=apps,
            )
        )


def _reduced(p: Plan) -> Plan:
    """Drop each need another need already implies: the builder states needs per concern and
    some imply others; the runner wants the bare DAG."""
    ancestors: dict[str, set[str]] = {}
    for step in p.steps:  # needs come before their dependents
        implied = set().union(*(ancestors[n] for n in step.needs))
        step.needs = tuple(n for n in dict.fromkeys(step.needs) if n not in implied)
        ancestors[step.id] = implied | set(step.needs)
    return p


def build(answers: Answers, release: Release) -> Plan:
    return _Builder(answers, release).build()
