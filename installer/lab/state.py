"""The lab's persisted state: a model of the simulated cluster, stored as JSON in the state dir.

Pydantic models because this is a boundary (a file another process reads after a kill -9).
Saving writes a temporary file and renames it over the old one, so the file on disk is always
one whole state: before or after an operation, never half of one.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from installer.exits import UserError
from probes.facts import HostFacts

STATE_FILE = "lab.json"
FACTS_FILE = "lab-facts.json"


class _S(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SnapState(_S):
    channel: str
    revision: int
    classic: bool = False
    previous: tuple[str, int] | None = None  # channel and revision a revert goes back to
    config: dict[str, object] = Field(default_factory=dict)
    connections: list[str] = Field(default_factory=list)  # "plug slot"


class HostState(_S):
    name: str
    address: str
    snaps: dict[str, SnapState] = Field(default_factory=dict)
    # snapd's system options (`snap set system …`, e.g. proxy.http): the `system` pseudo-snap.
    system_config: dict[str, object] = Field(default_factory=dict)
    osds: list[str] = Field(default_factory=list)  # devices given to Ceph, as added
    osds_up_at: float = 0.0  # wall-clock time this host's OSDs are up again after a restart


class UnitState(_S):
    machine: str | None = None
    started: float  # wall-clock time the current activity began
    settle_at: float  # wall-clock time the unit becomes active/idle
    activity: str = "installing charm software"
    error: str | None = None  # a unit in error stays there


class AppState(_S):
    charm: str
    channel: str
    revision: int
    base: str | None = None
    trust: bool = False
    config: dict[str, object] = Field(default_factory=dict)
    units: dict[str, UnitState] = Field(default_factory=dict)
    next_unit: int = 0
    settle_seconds: float = 0.0  # scaled time a fresh unit of this app takes to settle


class ModelState(_S):
    name: str
    cloud: str
    kind: str  # "machine" or "k8s"
    machines: dict[str, str] = Field(default_factory=dict)  # id -> host name
    next_machine: int = 0
    apps: dict[str, AppState] = Field(default_factory=dict)
    relations: list[tuple[str, str]] = Field(default_factory=list)  # sorted endpoint pairs
    offers: dict[str, str] = Field(default_factory=dict)  # offer name -> app:endpoint
    consumed: dict[str, str] = Field(default_factory=dict)  # alias -> offer URL
    config: dict[str, object] = Field(default_factory=dict)  # model config (e.g. juju-http-proxy)


class NetworkState(_S):
    name: str
    provider_type: str
    physical_network: str | None = None
    segment: int | None = None
    external: bool = True


class SubnetState(_S):
    name: str
    network: str
    cidr: str
    gateway: str | None = None
    pool: str | None = None  # start-end
    dns_servers: list[str] = Field(default_factory=list)  # --dns-nameserver, in order


class ImageState(_S):
    name: str
    id: str
    disk_format: str = "qcow2"
    container_format: str = "bare"
    status: str = "active"


class FlavorState(_S):
    name: str
    id: str
    ram: int  # MiB
    vcpus: int
    disk: int  # GiB


class RouterState(_S):
    name: str
    external_gateway: str | None = None  # the external network's name
    subnets: list[str] = Field(default_factory=list)  # subnets with an interface on it


class SecurityGroupState(_S):
    name: str
    rules: list[str] = Field(default_factory=list)  # "ingress icmp", "ingress tcp 22"


class ServerState(_S):
    name: str
    id: str
    flavor: str
    image: str
    network: str
    security_groups: list[str] = Field(default_factory=list)
    key_name: str | None = None
    host: str  # the hypervisor host it runs on
    address: str  # its fixed address on `network`
    active_at: float  # wall-clock time it turns ACTIVE
    login_at: float  # wall-clock time its console shows the login prompt
    error: str | None = None  # a server that failed to build stays in ERROR with this fault


class FloatingIpState(_S):
    address: str
    id: str
    network: str
    description: str = ""
    server: str | None = None  # the server it is attached to


class LabState(_S):
    version: int = 1
    hosts: dict[str, HostState] = Field(default_factory=dict)
    controller: str | None = None
    controller_host: str | None = None
    clouds: dict[str, str] = Field(default_factory=dict)  # name -> "manual" | "k8s"
    models: dict[str, ModelState] = Field(default_factory=dict)
    model_defaults: dict[str, object] = Field(default_factory=dict)  # bootstrap --model-default
    lb_pools: dict[str, str] = Field(default_factory=dict)  # pool name -> address range
    # The admin password keystone accepts, as a digest only: the password never hits disk.
    admin_password_sha256: str | None = None
    # keystone-k8s's generated admin password is derived from this random seed (see
    # Lab.keystone_admin_password): the charm keeps its copy, as in a Juju secret, while the
    # literal password stays out of the state dir so leak checks there stay meaningful.
    keystone_admin_seed: str | None = None
    networks: dict[str, NetworkState] = Field(default_factory=dict)
    subnets: dict[str, SubnetState] = Field(default_factory=dict)
    ceph_flags: list[str] = Field(default_factory=list)  # cluster-wide OSD flags, e.g. noout
    # Nova's compute services disabled for scheduling: host -> the disabled reason.
    compute_disabled: dict[str, str] = Field(default_factory=dict)
    # The cloud's resources `sunbeam-install verify` creates and removes (installer/lab/cloud.py).
    images: dict[str, ImageState] = Field(default_factory=dict)
    flavors: dict[str, FlavorState] = Field(default_factory=dict)
    routers: dict[str, RouterState] = Field(default_factory=dict)
    security_groups: dict[str, SecurityGroupState] = Field(default_factory=dict)
    keypairs: dict[str, str] = Field(default_factory=dict)  # name -> public key fingerprint
    servers: dict[str, ServerState] = Field(default_factory=dict)
    floating_ips: dict[str, FloatingIpState] = Field(default_factory=dict)  # address -> it
    # Files the lab's hosts hold that commands made (e.g. `curl -o`): host -> paths.
    host_files: dict[str, list[str]] = Field(default_factory=dict)


class LabFacts(_S):
    hosts: dict[str, HostFacts] = Field(default_factory=dict)


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename; files 0600 as all of the state dir's files."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # A new file, never through a symbolic link planted under the temporary name.
    tmp.unlink(missing_ok=True)  # a leftover of a killed process with the same pid (or a link)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_model(path: Path, model: type[_S]) -> _S | None:
    """The model stored in `path`, None when there is no file; UserError when it is unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UserError(
            f"The lab state {path} cannot be read ({e.strerror}); "
            "check its permissions or remove it to start a fresh lab."
        ) from None
    try:
        return model.model_validate_json(text)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise UserError(
            f"The lab state {path} is not valid ({where}: {first['msg']}); "
            "remove it to start a fresh lab."
        ) from None
