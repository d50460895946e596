"""What a deployed cloud has, read live through the backends, for a converge
(installer/planner/converge.py): the controller, clouds and models, the Juju status of both
models (applications, units, machines, relations, offers, consumed offers), the snaps of each
host and the ready Kubernetes nodes.

`LiveView` is what the difference engine asks: whether a step's effect is there, and how many
units a Kubernetes application runs. `Live` answers from the backends; `Recorded` answers for a
converge run being resumed, from the step ids its journal recorded (half of the cloud has moved
on then, so reading it again would plan other steps)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from installer.backends.base import BackendError, Backends, ModelStatus
from installer.plan import Step
from installer.planner.deployment import Deployment
from installer.steps import machine_of, unit_on
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
)
from installer.steps.k8s import NodesReady
from installer.steps.snaps import SnapInstall
from manifests.release import K8S_MODEL, MACHINE_MODEL


class LiveView(Protocol):
    def effect(self, step: Step) -> bool:
        """Whether the step's effect is in the cloud now."""
        ...

    def k8s_units(self, app: str) -> int | None:
        """Units of a Kubernetes application (None: not deployed)."""
        ...

    def hosts(self) -> set[str]:
        """The hosts that are machines of the machine model."""
        ...


@dataclass
class Live:
    """A cloud as the backends show it now."""

    controllers: list[str] = field(default_factory=list)
    clouds: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    status: dict[str, ModelStatus] = field(default_factory=dict)
    snaps: dict[str, set[str]] = field(default_factory=dict)  # host -> snap names
    k8s_ready: int = 0

    def model(self, name: str) -> ModelStatus:
        return self.status.get(name) or ModelStatus(name)

    def hosts(self) -> set[str]:
        return set(self.model(MACHINE_MODEL).machines.values())

    def k8s_units(self, app: str) -> int | None:
        a = self.model(K8S_MODEL).apps.get(app)
        return None if a is None else len(a.units)

    def effect(self, step: Step) -> bool:
        if isinstance(step, SnapInstall):
            return step.snap in self.snaps.get(step.host or "", set())
        if isinstance(step, Bootstrap):
            return step.controller in self.controllers
        if isinstance(step, AddModel):
            return step.name in self.models
        if isinstance(step, AddK8sCloud):
            return step.name in self.clouds
        if isinstance(step, AddMachine):
            return machine_of(self.model(step.model), step.host or "") is not None
        if isinstance(step, Deploy):
            return step.app in self.model(step.model).apps
        if isinstance(step, AddUnit):
            return unit_on(self.model(step.model), step.app, step.host or "") is not None
        if isinstance(step, Integrate):
            return frozenset((step.a, step.b)) in self.model(step.model).relations
        if isinstance(step, Offer):
            return step.name in self.model(step.model).offers
        if isinstance(step, Consume):
            return step.alias in self.model(step.model).consumed
        if isinstance(step, NodesReady):
            return self.k8s_ready >= step.count
        # Steps Juju's status cannot show (OSDs, NIC settings, the admin password, the external
        # network): there when their host still is (their own done() checks the rest).
        return step.host is None or machine_of(self.model(MACHINE_MODEL), step.host) is not None


@dataclass
class Recorded:
    """A converge run's plan as its journal recorded it: every step it holds is to do."""

    step_ids: set[str]

    def effect(self, step: Step) -> bool:
        return step.id not in self.step_ids

    def k8s_units(self, app: str) -> int | None:
        return -1 if f"juju.scale:{app}" in self.step_ids else None

    def hosts(self) -> set[str]:
        return set()


async def read_live(backends: Backends, snaps: Iterable[tuple[str, str]],
                    models: Collection[str] = (MACHINE_MODEL, K8S_MODEL)) -> Live:
    """The cloud now: `snaps` are the (host, snap) pairs to look for (a host that cannot be
    asked has none of them)."""
    juju = backends.juju
    live = Live(controllers=await juju.controllers())
    if not live.controllers:
        return live
    live.clouds = await juju.clouds()
    live.models = await juju.models()
    for model in models:
        if model in live.models:
            live.status[model] = await juju.status(model)

    async def snap(host: str, name: str) -> tuple[str, str, bool]:
        try:
            return host, name, await backends.snaps.info(host, name) is not None
        except BackendError:
            return host, name, False

    pairs = sorted(set(snaps))
    for host, name, there in await asyncio.gather(*(snap(h, n) for h, n in pairs)):
        if there:
            live.snaps.setdefault(host, set()).add(name)
    if K8S_MODEL in live.models or live.model(MACHINE_MODEL).apps.get("k8s"):
        try:
            live.k8s_ready = sum(await_ready for await_ready in
                                 (await backends.k8s.nodes_ready()).values())
        except BackendError:
            live.k8s_ready = 0
    return live


# -- the deployment as a comparable bundle ------------------------------------------------------

Shape = dict[str, dict[str, object]]


def deployed_bundle(live: Live, models: Collection[str] = (MACHINE_MODEL, K8S_MODEL)) -> Shape:
    """What Juju's status shows of each model, in one shape with `planned_bundle`: per model
    its applications (charm, channel, units, the hosts of machine units), relations, offers
    and consumed offers. (Configuration, base and trust are not in Juju's status.)"""
    out: Shape = {}
    for name in models:
        st = live.model(name)
        apps: dict[str, object] = {}
        for app in st.apps.values():
            hosts = sorted({st.machines.get(u.machine or "", "?") for u in app.units.values()
                            if u.machine is not None})
            apps[app.name] = {"charm": app.charm, "channel": app.channel,
                              "units": len(app.units), "hosts": hosts}
        out[name] = {"applications": apps,
                     "relations": sorted(sorted(r) for r in st.relations),
                     "offers": dict(sorted(st.offers.items())),
                     "saas": sorted(st.consumed)}
    return out


def planned_bundle(dep: Deployment) -> Shape:
    """The planner's deployment (installer/planner/deployment.py) in `deployed_bundle`'s shape:
    a subordinate's units are those of its principals, as Juju counts them."""
    out: Shape = {}
    for name in (MACHINE_MODEL, K8S_MODEL):
        apps: dict[str, object] = {}
        for app in dep.in_model(name):
            hosts = list(app.hosts)
            if app.spec.subordinate_to is not None:
                hosts = list(dep.apps[app.spec.subordinate_to].hosts)
            apps[app.name] = {"charm": app.spec.charm, "channel": app.spec.channel,
                              "units": len(hosts) if name == MACHINE_MODEL else app.units,
                              "hosts": sorted(hosts)}
        out[name] = {"applications": apps,
                     "relations": sorted(sorted((r.a, r.b)) for r in dep.relations
                                         if r.model == name),
                     "offers": {o: ep for o, (m, ep) in sorted(dep.offers.items()) if m == name},
                     "saas": sorted(c.offer for c in dep.consumed if c.consumer_model == name)}
    return out


def bundle_changes(deployed: Shape, planned: Shape) -> list[str]:
    """What differs between two bundles of `deployed_bundle`'s shape, one line each."""
    lines: list[str] = []
    for model in planned:
        old, new = deployed.get(model, {}), planned[model]
        old_apps = old.get("applications", {})
        new_apps = new.get("applications", {})
        assert isinstance(old_apps, dict) and isinstance(new_apps, dict)
        for app in sorted(set(old_apps) | set(new_apps)):
            a, b = old_apps.get(app), new_apps.get(app)
            if a == b:
                continue
            if a is None:
                lines.append(f"+ {model}: {app} {_app_text(b)}")
            elif b is None:
                lines.append(f"- {model}: {app} {_app_text(a)}")
            else:
                lines.append(f"~ {model}: {app} {_app_text(a)} -> {_app_text(b)}")
        for key, mark in (("relations", "relation"), ("saas", "consumed offer")):
            was = {str(x) for x in _listed(old.get(key))}
            now = {str(x) for x in _listed(new.get(key))}
            lines += [f"+ {model}: {mark} {x}" for x in sorted(now - was)]
            lines += [f"- {model}: {mark} {x}" for x in sorted(was - now)]
    return lines


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _app_text(app: object) -> str:
    assert isinstance(app, dict)
    hosts = app.get("hosts") or []
    where = f" on {', '.join(hosts)}" if hosts else ""
    return f"({app['charm']} {app['channel']}, {app['units']} units{where})"
