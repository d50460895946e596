"""The answers file, version 1: what to deploy, where. The TUI fills in the same model."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from manifests.iprange import IpRange

# `network`: Sunbeam's network role (MicroOVN, its network agents and token distributor).
Role = Literal["control", "compute", "storage", "network"]
ROLES: tuple[Role, ...] = ("control", "compute", "storage", "network")


def _address(value: Any) -> IPv4Address | IPv6Address:
    if isinstance(value, IPv4Address | IPv6Address):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("ip_address", "must be an IP address such as 10.20.0.11")
    try:
        return ip_address(value.strip())
    except ValueError:
        raise PydanticCustomError(
            "ip_address",
            "{value} is not an IP address; write one such as 10.20.0.11",
            {"value": repr(value)},
        ) from None


def _network(value: Any) -> IPv4Network | IPv6Network:
    if isinstance(value, IPv4Network | IPv6Network):
        return value
    if not isinstance(value, str) or "/" not in value:
        raise PydanticCustomError(
            "ip_network", "must be a network in CIDR notation such as 10.20.0.0/24"
        )
    text = value.strip()
    addr_text, _, prefix_text = text.partition("/")
    try:
        addr = ip_address(addr_text)
    except ValueError:
        raise PydanticCustomError(
            "ip_network",
            "{value} is not a valid network: {addr} is not an IP address",
            {"value": repr(value), "addr": repr(addr_text)},
        ) from None
    limit = 32 if addr.version == 4 else 128
    if not prefix_text.isdigit() or int(prefix_text) > limit:
        raise PydanticCustomError(
            "ip_network",
            "{value} is not a valid network: the prefix length must be a number from 0 to {limit}",
            {"value": repr(value), "limit": limit},
        )
    network = ip_network(text, strict=False)
    if network.network_address != addr:
        raise PydanticCustomError(
            "ip_network",
            "{value} has host bits set; the network is {fixed}",
            {"value": repr(value), "fixed": str(network)},
        )
    return network


IpAddress = Annotated[
    IPv4Address | IPv6Address,
    PlainValidator(_address),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "format": "ipvanyaddress", "examples": ["10.20.0.11"]}),
]
IpNetwork = Annotated[
    IPv4Network | IPv6Network,
    PlainValidator(_network),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "format": "ipvanynetwork", "examples": ["10.20.0.0/24"]}),
]

HOSTNAME_PATTERN = (
    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
NIC_PATTERN = r"^[A-Za-z0-9_.:@-]{1,15}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class Deployment(_Section):
    """Names of this deployment."""

    name: str = Field(
        "sunbeam",
        pattern=r"^[a-z][a-z0-9-]{0,39}$",
        description="Juju model prefix and deployment name",
    )
    region: str = Field(
        "RegionOne",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="OpenStack region name",
    )


class Host(_Section):
    """One machine of the cloud."""

    name: str = Field(
        pattern=HOSTNAME_PATTERN,
        max_length=253,
        description="hostname; must resolve to the management address",
    )
    address: IpAddress | None = Field(
        None, description="management address (SSH target); omit for this machine"
    )
    ssh_user: str | None = Field(
        None, pattern=r"^[a-z_][a-z0-9_.-]{0,31}$", description="SSH user for remote hosts"
    )
    ssh_port: int = Field(22, ge=1, le=65535, description="SSH port for remote hosts")
    roles: list[Role] = Field(min_length=1, description="control, compute and/or storage")
    osd_devices: list[str] = Field(
        default_factory=list,
        description="whole disks for Ceph OSDs (storage role), by-id paths preferred",
    )
    external_nic: str | None = Field(
        None, pattern=NIC_PATTERN, description="NIC for the external network (compute role)"
    )

    @field_validator("roles")
    @classmethod
    def _unique_roles(cls, roles: list[Role]) -> list[Role]:
        dupes = sorted({r for r in roles if roles.count(r) > 1})
        if dupes:
            raise PydanticCustomError(
                "unique_roles",
                "lists {dupes} more than once; name each role once",
                {"dupes": ", ".join(dupes)},
            )
        return roles

    @field_validator("osd_devices")
    @classmethod
    def _device_paths(cls, devices: list[str]) -> list[str]:
        for d in devices:
            if not d.startswith("/dev/"):
                raise PydanticCustomError(
                    "device_path",
                    "{d} is not a device path; write /dev/disk/by-id/... or /dev/sdX",
                    {"d": repr(d)},
                )
        dupes = sorted({d for d in devices if devices.count(d) > 1})
        if dupes:
            raise PydanticCustomError(
                "unique_devices", "lists {dupes} more than once", {"dupes": ", ".join(dupes)}
            )
        return devices


class ExternalNetwork(_Section):
    """Provider network for floating IPs."""

    cidr: IpNetwork
    gateway: IpAddress
    allocation_range: IpRange = Field(description="floating IPs handed out, START-END")
    vlan: int | None = Field(
        None, ge=1, le=4094, description="VLAN id; null for an untagged network"
    )


class Network(_Section):
    management_cidr: IpNetwork = Field(description="network of the hosts' management addresses")
    loadbalancer_range: IpRange = Field(
        description="Kubernetes L2 pool for OpenStack API endpoints, START-END"
    )
    external: ExternalNetwork | None = None
    dns_servers: list[IpAddress] = Field(default_factory=list, description="upstream DNS servers")


class Proxy(_Section):
    http: str | None = Field(None, pattern=r"^https?://\S+$", description="http://host:port")
    https: str | None = Field(None, pattern=r"^https?://\S+$", description="http://host:port")
    no_proxy: str | None = Field(
        None, pattern=r"^[^\s]*$", description="comma-separated hosts, domains and CIDRs"
    )

    @property
    def enabled(self) -> bool:
        return bool(self.http or self.https)


class Identity(_Section):
    admin_password_file: str | None = Field(
        None,
        description="file holding the admin password; generated (0600) in the state dir when null",
    )


ConfigValue = str | int | float | bool


class CharmOverride(_Section):
    """Per-charm override of the release manifest."""

    channel: str | None = Field(None, pattern=r"^[a-z0-9./-]+$", description="e.g. 2025.1/edge")
    revision: int | None = Field(None, ge=1)
    config: dict[str, ConfigValue] = Field(default_factory=dict)


class Answers(_Section):
    """An answers file, version 1."""

    version: Literal[1] = Field(description="answers file format version; 1")
    release: str = Field(
        description='OpenStack release, a string such as "2025.1"', pattern=r"^\S+$"
    )
    deployment: Deployment = Field(default_factory=Deployment)
    hosts: list[Host] = Field(min_length=1)
    network: Network
    proxy: Proxy = Field(default_factory=Proxy)
    identity: Identity = Field(default_factory=Identity)
    features: list[str] = Field(
        default_factory=list, description="optional features, e.g. dns, telemetry"
    )
    software: dict[str, CharmOverride] = Field(
        default_factory=dict, description="per-charm overrides"
    )

    def hosts_with(self, role: Role) -> list[Host]:
        return [h for h in self.hosts if role in h.roles]

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts if h.name == name), None)

    @property
    def single_node(self) -> bool:
        return len(self.hosts) == 1
