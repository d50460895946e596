"""Release manifests: which charm and snap channels make up one OpenStack release."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from manifests.answers import Answers, ConfigValue, Role

RELEASES_PACKAGE = "manifests.releases"


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Charm(_M):
    """A charm as the release deploys it."""

    channel: str
    revision: int | None = None
    base: str | None = None  # e.g. ubuntu@24.04
    trust: bool = False
    config: dict[str, ConfigValue] = Field(default_factory=dict)
    scale: Literal["single", "ha"] = "ha"  # ha: 3 units when there are 3+ control hosts
    tier: str = "other"  # identity, image, placement, compute, network, block-storage, ...


class Snap(_M):
    channel: str
    classic: bool = False


class Minimum(_M):
    """Minimum resources of a host."""

    cores: int
    ram_gib: int
    disk_gib: int


class Requirements(_M):
    single_node: Minimum  # one host with every role
    roles: dict[Role, Minimum]  # multi-node, per role; a host with several roles needs the max


class Feature(_M):
    description: str
    charms: list[str] = Field(default_factory=list)  # keys of `charms` deployed when enabled
    requires: list[str] = Field(default_factory=list)  # other features


class Release(_M):
    """One shipped release manifest (manifests/releases/<name>.yaml)."""

    release: str
    codename: str
    slurp: bool = False  # skip-level upgrade release
    upgrade_from: list[str] = Field(default_factory=list)  # releases that may upgrade to this one
    snaps: dict[str, Snap]
    machine_charms: dict[str, Charm]  # deployed on the hosts (Juju machine model)
    charms: dict[str, Charm]  # control plane, on Kubernetes (openstack model)
    core: list[str]  # keys of `charms` always deployed; the rest come with features
    features: dict[str, Feature] = Field(default_factory=dict)
    integrations: list[tuple[str, str]] = Field(default_factory=list)  # "app:endpoint" pairs
    requirements: Requirements

    def charm(self, name: str, answers: Answers | None = None) -> Charm:
        """The charm as the release gives it, with the answers' `software` override applied."""
        charm = self.charms.get(name) or self.machine_charms[name]
        override = answers.software.get(name) if answers else None
        if override is None:
            return charm
        update: dict[str, object] = {"config": {**charm.config, **override.config}}
        if override.channel:
            update["channel"] = override.channel
            update["revision"] = override.revision
        elif override.revision:
            update["revision"] = override.revision
        return charm.model_copy(update=update)

    def all_charm_names(self) -> set[str]:
        return set(self.charms) | set(self.machine_charms)

    def minimum_for(self, roles: list[Role], single_node: bool) -> Minimum:
        if single_node:
            return self.requirements.single_node
        mins = [self.requirements.roles[r] for r in roles if r in self.requirements.roles]
        return Minimum(
            cores=max((m.cores for m in mins), default=0),
            ram_gib=max((m.ram_gib for m in mins), default=0),
            disk_gib=max((m.disk_gib for m in mins), default=0),
        )


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
