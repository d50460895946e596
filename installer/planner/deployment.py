"""The deployment Sunbeam would build for the answers' hosts and roles: applications per model
with their units and placement, integrations, offers and consumed offers.

The plan (installer/planner/build.py) and `bundle()` (the Juju bundles of the deployment) both
come from this one description, so what `bundle` prints is what the install converges to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from installer.plan import PlanError
from installer.planner.proxy import REGION_CHARMS, machine_proxy
from manifests.answers import Answers, Host
from manifests.release import K8S_MODEL, MACHINE_MODEL, Charm, Release, Topology

CONTROLLER = "sunbeam-controller"  # Sunbeam's controller name (snap-openstack core/juju.py:40)


@dataclass(frozen=True)
class App:
    name: str
    model: str
    spec: Charm
    units: int  # 0 for a subordinate (its units follow its principal's)
    hosts: tuple[str, ...] = ()  # machine model: one unit on each


@dataclass(frozen=True)
class Relation:
    model: str
    a: str  # app:endpoint, the app local or a consumed offer's alias
    b: str


@dataclass(frozen=True)
class Consumed:
    offer: str  # offer name, also its alias where consumed
    offer_model: str
    consumer_model: str


@dataclass
class Deployment:
    topology: Topology
    apps: dict[str, App] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    offers: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (model, app:ep)
    consumed: list[Consumed] = field(default_factory=list)

    def in_model(self, model: str) -> list[App]:
        return [a for a in self.apps.values() if a.model == model]


def topology(answers: Answers) -> Topology:
    """Sunbeam's `auto` topology (steps/openstack.py determine_target_topology) without the
    single node's size: one node is `single` here. With one control host every scale rule gives
    1 unit in `single` and `multi` alike, so the size Sunbeam reads changes nothing we deploy."""
    nodes = {h.name for h in answers.hosts if {"control", "compute"} & set(h.roles)}
    if len(nodes) == 1:
        return "single"
    return "multi" if len(nodes) < 10 else "large"


def scale(rule: str, topo: Topology, control: int, storage: bool) -> int:
    """Units of a control-plane application under Sunbeam's scale rules."""
    ha = 1 if topo == "single" or control < 3 else 3
    if topo == "single":
        api = 1
    elif topo == "multi" or control < 3:
        api = min(control, 3)
    else:
        api = min(control + 2, 7)
    ingress = 1 if topo == "single" else min(control, 3)
    return {
        "one": 1,
        "ha": ha,
        "api": api,
        "ingress": ingress,
        "api-if-storage": api if storage else 1,
    }[rule]


def enabled_features(answers: Answers, release: Release) -> list[str]:
    """The answers' features, each after those it requires. A missing requirement is refused
    (manifests/rules.py says so first, at validation): the installer deploys the features the
    answers list and no others; it does not enable requirements silently as Sunbeam does."""
    unknown = [f for f in answers.features if f not in release.features]
    if unknown:
        known = ", ".join(sorted(release.features)) or "none"
        raise PlanError(
            f"Feature {unknown[0]!r} is not in release {release.release}; choose among {known}."
        )
    missing = release.missing_requirements(list(answers.features))
    if missing:
        f, needs = next(iter(missing.items()))
        raise PlanError(
            f"Feature {f!r} needs {', '.join(needs)}; add {', '.join(needs)} to features."
        )
    out: list[str] = []

    def add(name: str) -> None:
        if name not in out:
            for req in release.features[name].requires:
                add(req)
            out.append(name)

    for f in answers.features:
        add(f)
    return out


def control_plane_apps(answers: Answers, release: Release) -> list[str]:
    """release.core, then the applications of the enabled features, without repeats."""
    storage = bool(answers.hosts_with("storage"))
    apps = list(dict.fromkeys(release.core))
    for f in enabled_features(answers, release):
        apps += [c for c in release.features[f].charms if c not in apps]
    return [a for a in apps if storage or not release.charms[a].storage_only]


def hosts_with_roles(answers: Answers, roles: list[str]) -> list[Host]:
    return [h for h in answers.hosts if set(roles) & set(h.roles)]


def deployment(answers: Answers, release: Release) -> Deployment:
    """What Sunbeam deploys for `answers` with `release`."""
    control = answers.hosts_with("control")
    if not control:
        raise PlanError("No host has the control role; give it to 1 host or to 3 or more.")
    storage = bool(answers.hosts_with("storage"))
    topo = topology(answers)
    dep = Deployment(topology=topo)

    # The machine model: a unit on each host with one of the charm's roles; subordinates follow.
    for name in release.machine_charms:
        spec = release.app(name, answers)
        if spec.subordinate_to is not None:
            continue
        hosts = hosts_with_roles(answers, spec.roles)[: spec.max_units]
        if hosts:
            config = dict(spec.config)
            if spec.charm == "k8s":
                # Sunbeam hands the k8s charm the API address range (steps/k8s.py:248-284).
                config["load-balancer-cidrs"] = str(answers.network.loadbalancer_range)
            if spec.charm == "sunbeam-machine":
                # It prepares each host, its proxy included (reference §2.2, §5.1
                # PromptForProxyStep): installer/planner/proxy.py.
                config.update(machine_proxy(answers))
            spec = spec.model_copy(update={"config": config})
            placed = tuple(h.name for h in hosts)
            dep.apps[name] = App(name, MACHINE_MODEL, spec, len(hosts), placed)
    for name in release.machine_charms:
        spec = release.app(name, answers)
        if spec.subordinate_to is not None and spec.subordinate_to in dep.apps:
            dep.apps[name] = App(name, MACHINE_MODEL, spec, 0)

    # The openstack model.
    units: dict[str, int] = {}
    apps = control_plane_apps(answers, release)
    for name in apps:
        spec = release.app(name, answers)
        if spec.scale is not None:
            units[name] = scale(spec.scale, topo, len(control), storage)
    for name in apps:
        spec = release.app(name, answers)
        n = units.get(name)
        if n is None:
            if spec.scale_of is None or spec.scale_of not in units:
                raise PlanError(f"application {name} of release {release.release} has no scale")
            n = units[spec.scale_of]
        if spec.charm in REGION_CHARMS:
            # The answers' region (reference §5.1 PromptRegionStep): installer/planner/proxy.py.
            spec = spec.model_copy(
                update={"config": {**spec.config, "region": answers.deployment.region}}
            )
        dep.apps[name] = App(name, K8S_MODEL, spec, n)

    # Offers: Sunbeam's plans make them whenever the offering application is deployed.
    for offer, endpoint in release.offers.items():
        app = endpoint.split(":", 1)[0]
        if app in dep.apps:
            dep.offers[offer] = (dep.apps[app].model, endpoint)

    # Integrations: those whose two applications are deployed; across models through the
    # offered end, consumed under the offer's name in the other model.
    consumed: dict[tuple[str, str], Consumed] = {}
    for a, b in release.integrations:
        app_a, app_b = a.split(":", 1)[0], b.split(":", 1)[0]
        if app_a not in dep.apps or app_b not in dep.apps:
            continue
        model_a, model_b = dep.apps[app_a].model, dep.apps[app_b].model
        if model_a == model_b:
            dep.relations.append(Relation(model_a, a, b))
            continue
        local, remote = (a, b) if release.offer_of(b) else (b, a)
        via = release.offer_of(remote)
        assert via is not None  # the manifest's validator guarantees one end is offered
        model = dep.apps[local.split(":", 1)[0]].model
        key = (model, via)
        if key not in consumed:
            consumed[key] = Consumed(via, dep.apps[remote.split(":", 1)[0]].model, model)
        dep.relations.append(Relation(model, local, f"{via}:{remote.split(':', 1)[1]}"))
    dep.consumed = list(consumed.values())
    return dep


def bundle(answers: Answers, release: Release) -> dict[str, dict[str, object]]:
    """The deployment as one Juju bundle per model (`juju export-bundle`'s format)."""
    dep = deployment(answers, release)
    machines = {h.name: str(i) for i, h in enumerate(answers.hosts)}
    out: dict[str, dict[str, object]] = {}
    for model in (MACHINE_MODEL, K8S_MODEL):
        applications: dict[str, object] = {}
        for app in dep.in_model(model):
            entry: dict[str, object] = {
                "charm": app.spec.charm,
                "channel": app.spec.channel,
                "base": app.spec.base,
            }
            if app.spec.revision is not None:
                entry["revision"] = app.spec.revision
            if app.spec.subordinate_to is None:
                entry["num_units"] = app.units
            if app.hosts:
                entry["to"] = [machines[h] for h in app.hosts]
            if app.spec.trust:
                entry["trust"] = True
            if app.spec.config:
                entry["options"] = dict(app.spec.config)
            applications[app.name] = entry
        b: dict[str, object] = {"applications": applications}
        if model == MACHINE_MODEL:
            b["machines"] = {i: {"base": release.machine_charms["sunbeam-machine"].base}
                             for i in machines.values()}
        b["relations"] = [[r.a, r.b] for r in dep.relations if r.model == model]
        for name, (m, ep) in dep.offers.items():
            if m == model:  # Juju's bundle format: offers under their application
                app_name, endpoint = ep.split(":", 1)
                offering = applications[app_name]
                assert isinstance(offering, dict)
                offering.setdefault("offers", {})[name] = {"endpoints": [endpoint]}
        saas = {
            c.offer: {"url": f"{CONTROLLER}:admin/{c.offer_model}.{c.offer}"}
            for c in dep.consumed
            if c.consumer_model == model
        }
        if saas:
            b["saas"] = saas
        out[model] = b
    return out
