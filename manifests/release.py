"""Release manifests: what Sunbeam deploys for one OpenStack release, as data.

A manifest (manifests/releases/<name>.yaml) names the platform (Ubuntu, Juju), the snaps the
installer itself installs, the applications of Sunbeam's two Juju models with their charm,
channel, base, trust and scale rule, the features and the charms they bring, the offers one
model makes to the other and every integration Sunbeam makes. Application names are Juju
application names (`keystone`, `certificate-authority`); `software` overrides in the answers
name charms (`keystone-k8s`) and apply to every application of that charm.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from manifests.answers import Answers, ConfigValue

RELEASES_PACKAGE = "manifests.releases"
MACHINE_MODEL = "openstack-machines"  # Sunbeam's model of the hosts (machine charms)
K8S_MODEL = "openstack"  # Sunbeam's control-plane model, on the Kubernetes cloud

# Sunbeam's scale rules (snap-openstack steps/openstack.py compute_*_scale), by topology:
#   one:     always 1
#   ha:      1 for `single` or fewer than 3 control hosts, else 3
#   api:     1 for `single`; min(control, 3) for `multi` or fewer than 3 control hosts;
#            min(control + 2, 7) for `large`
#   ingress: 1 for `single`, else min(control, 3)
#   api-if-storage: `api` when there are storage hosts, else 1 (glance: local storage)
Scale = Literal["one", "ha", "api", "ingress", "api-if-storage"]
Topology = Literal["single", "multi", "large"]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Charm(_M):
    """One application as the release deploys it."""

    charm: str  # the charm's name on Charmhub
    channel: str
    revision: int | None = None
    base: str  # e.g. ubuntu@24.04
    trust: bool = False
    config: dict[str, ConfigValue] = Field(default_factory=dict)
    # Control plane (model `openstack`): the scale rule, or the application whose unit count
    # this one follows (each service's mysql-router runs as many units as its service).
    scale: Scale | None = None
    scale_of: str | None = None
    # Machine model: hosts with any of these roles get a unit; a subordinate follows its principal.
    roles: list[str] = Field(default_factory=list)
    subordinate_to: str | None = None
    max_units: int | None = None  # e.g. the token distributor: on the first such host only
    storage_only: bool = False  # deployed only when some host has the storage role
    load_balancer: bool = False  # has a LoadBalancer Service: needs the k8s load balancer first
    tier: str = "other"  # upgrade order: database, messaging, ingress, identity, ...


class Snap(_M):
    channel: str
    classic: bool = False


class Platform(_M):
    """What every host runs: Sunbeam's prepare-node-script refuses any other Ubuntu."""

    ubuntu: str  # "24.04"
    series: str  # "noble"
    architectures: list[str]


class Minimum(_M):
    """Sunbeam's per-host check (a warning): logical CPUs and MemTotal in kB."""

    cores: int
    ram_kb: int


class Requirements(_M):
    every_host: Minimum  # Sunbeam's SystemRequirementsCheck, on every node
    # Ours, stricter than Sunbeam (which checks no disk): free space under /var/snap, a warning.
    free_disk_gib: int


class Feature(_M):
    description: str
    charms: list[str] = Field(default_factory=list)  # applications (keys of `charms`)
    # Other features it needs. Sunbeam enables them with it (features/interface/v1/base.py:
    # 724-759); this installer refuses instead and names them (missing_requirements), so the
    # answers file lists everything the install deploys.
    requires: list[str] = Field(default_factory=list)


class Release(_M):
    """One shipped release manifest (manifests/releases/<name>.yaml)."""

    release: str
    codename: str
    # Releases this installer upgrades from (Sunbeam itself has no release upgrade).
    upgrade_from: list[str] = Field(default_factory=list)
    platform: Platform
    snaps: dict[str, Snap]  # snaps the installer installs itself (the charms install theirs)
    machine_charms: dict[str, Charm]  # model openstack-machines, by application name
    charms: dict[str, Charm]  # model openstack (Kubernetes), by application name
    core: list[str]  # applications of `charms` always deployed; the rest come with features
    features: dict[str, Feature] = Field(default_factory=dict)
    offers: dict[str, str] = Field(default_factory=dict)  # offer name -> app:endpoint
    integrations: list[tuple[str, str]] = Field(default_factory=list)  # app:endpoint pairs
    requirements: Requirements

    @model_validator(mode="after")
    def _consistent(self) -> Release:
        both = set(self.charms) & set(self.machine_charms)
        if both:
            raise ValueError(f"applications in both models: {sorted(both)}")
        apps = set(self.charms) | set(self.machine_charms)
        for name in self.core:
            if name not in self.charms:
                raise ValueError(f"core application {name!r} is not in charms")
        for fname, f in self.features.items():
            for name in f.charms:
                if name not in self.charms:
                    raise ValueError(f"feature {fname!r}: application {name!r} not in charms")
            for req in f.requires:
                if req not in self.features:
                    raise ValueError(f"feature {fname!r} requires unknown feature {req!r}")
        for offer, endpoint in self.offers.items():
            if endpoint.split(":", 1)[0] not in apps:
                raise ValueError(f"offer {offer!r}: application of {endpoint!r} unknown")
        for a, b in self.integrations:
            for ep in (a, b):
                if ep.split(":", 1)[0] not in apps:
                    raise ValueError(f"integration {a} {b}: application of {ep!r} unknown")
            if self.model_of(a) != self.model_of(b) and not (
                self.offer_of(a) or self.offer_of(b)
            ):
                raise ValueError(f"integration {a} {b} crosses models but neither end is offered")
        return self

    def model_of(self, endpoint: str) -> str:
        """The model of an application (or of `app:endpoint`)."""
        app = endpoint.split(":", 1)[0]
        return K8S_MODEL if app in self.charms else MACHINE_MODEL

    def offer_of(self, endpoint: str) -> str | None:
        """The name of the offer of `app:endpoint`, if the release offers it."""
        return next((name for name, ep in self.offers.items() if ep == endpoint), None)

    def app(self, name: str, answers: Answers | None = None) -> Charm:
        """The application as the release gives it, with the answers' `software` override (by
        charm name) applied."""
        spec = self.charms.get(name) or self.machine_charms[name]
        override = answers.software.get(spec.charm) if answers else None
        if override is None:
            return spec
        update: dict[str, object] = {"config": {**spec.config, **override.config}}
        if override.channel:
            update["channel"] = override.channel
            update["revision"] = override.revision
        elif override.revision:
            update["revision"] = override.revision
        return spec.model_copy(update=update)

    # The upgrade code looks applications up by the charm they run.
    def by_charm(self, charm: str) -> list[tuple[str, Charm]]:
        """(application, spec) of every application running `charm`, both models."""
        return [
            (name, spec)
            for name, spec in (*self.charms.items(), *self.machine_charms.items())
            if spec.charm == charm
        ]

    def charm(self, charm: str, answers: Answers | None = None) -> Charm:
        """The first application running `charm` (channels agree between its applications)."""
        apps = self.by_charm(charm)
        if not apps:
            raise KeyError(charm)
        return self.app(apps[0][0], answers)

    def all_snaps(self) -> dict[str, Snap]:
        """Every snap of the release and its channel: those the installer installs and those a
        machine charm installs from its `snap-channel` config (the snap has the charm's name:
        openstack-hypervisor, microceph, cinder-volume, epa-orchestrator, ...)."""
        out = dict(self.snaps)
        for spec in self.machine_charms.values():
            channel = spec.config.get("snap-channel")
            if isinstance(channel, str):
                out.setdefault(spec.charm, Snap(channel=channel))
        return out

    def feature_needs(self, feature: str) -> list[str]:
        """Every feature `feature` needs, directly or through another, nearest first."""
        out: list[str] = []
        todo = list(self.features[feature].requires) if feature in self.features else []
        while todo:
            name = todo.pop(0)
            if name not in out and name != feature:
                out.append(name)
                todo += self.features[name].requires if name in self.features else []
        return out

    def missing_requirements(self, enabled: list[str]) -> dict[str, list[str]]:
        """For each enabled feature, the features it needs that `enabled` lacks."""
        have = set(enabled)
        out: dict[str, list[str]] = {}
        for f in dict.fromkeys(enabled):
            missing = [r for r in self.feature_needs(f) if r not in have]
            if missing:
                out[f] = missing
        return out

    def all_charm_names(self) -> set[str]:
        return {c.charm for c in (*self.charms.values(), *self.machine_charms.values())}

    def control_charm_names(self) -> set[str]:
        return {c.charm for c in self.charms.values()}

    def machine_charm_names(self) -> set[str]:
        return {c.charm for c in self.machine_charms.values()}


def shipped_releases() -> list[str]:
    """Names of the shipped release manifests, oldest first."""
    files = resources.files(RELEASES_PACKAGE).iterdir()
    names = [f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml")]
    return sorted(names, key=lambda n: tuple(int(p) if p.isdigit() else 0 for p in n.split(".")))


@cache
def load_release(name: str) -> Release:
    """Load a shipped release manifest; KeyError when there is none of that name."""
    if name not in shipped_releases():
        raise KeyError(name)
    text = resources.files(RELEASES_PACKAGE).joinpath(f"{name}.yaml").read_text()
    return Release.model_validate(
        yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    )
