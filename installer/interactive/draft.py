"""The draft: the answers as the operator fills them in, field by field, as text.

`Draft` is plain data with no I/O: the screens and the line prompts write into it, and it
gives the answers file (`to_data`, `to_yaml`) or the validated `Answers` model. A partial
answers file (`--answers FILE --tui`) becomes a Draft plus the problems found in it, each with
the screen that asks for the value at fault (`partial_draft`, `screen_of`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from installer.interactive.fields import check_address_list, check_field, split_list
from installer.interactive.notices import Notice, sentence
from manifests.answers import ROLES, Answers

DEFAULT_RELEASE = "2025.1"


@dataclass
class HostDraft:
    name: str
    address: str | None = None  # None: this machine
    ssh_user: str | None = None
    roles: list[str] = field(default_factory=list)
    osd_devices: list[str] = field(default_factory=list)
    external_nic: str | None = None


@dataclass
class Draft:
    """The answers being built. Text fields hold what was typed; `to_data` gives the file's dict."""

    release: str = DEFAULT_RELEASE
    deployment_name: str = "sunbeam"
    region: str = "RegionOne"
    hosts: list[HostDraft] = field(default_factory=list)
    management_cidr: str = ""
    loadbalancer_range: str = ""
    external_enabled: bool = False
    external_cidr: str = ""
    external_gateway: str = ""
    external_range: str = ""
    external_vlan: str = ""
    dns_servers: str = ""  # comma-separated
    proxy_http: str = ""
    proxy_https: str = ""
    no_proxy: str = ""
    features: list[str] = field(default_factory=list)
    admin_password_file: str | None = None
    software: dict[str, Any] = field(default_factory=dict)  # kept from a prefill, not edited

    def host(self, name: str) -> HostDraft | None:
        return next((h for h in self.hosts if h.name == name), None)

    def to_data(self) -> dict[str, Any]:
        """The answers file as a dict, keys in the order of DESIGN.md; empty optionals omitted."""
        hosts: list[dict[str, Any]] = []
        for h in self.hosts:
            d: dict[str, Any] = {"name": h.name}
            if h.address:
                d["address"] = h.address
            if h.ssh_user:
                d["ssh_user"] = h.ssh_user
            d["roles"] = [r for r in ROLES if r in h.roles]
            if "storage" in h.roles and h.osd_devices:
                d["osd_devices"] = list(h.osd_devices)
            if "compute" in h.roles and h.external_nic and self.external_enabled:
                d["external_nic"] = h.external_nic
            hosts.append(d)
        network: dict[str, Any] = {
            "management_cidr": self.management_cidr.strip(),
            "loadbalancer_range": self.loadbalancer_range.strip(),
        }
        if self.external_enabled:
            ext: dict[str, Any] = {
                "cidr": self.external_cidr.strip(),
                "gateway": self.external_gateway.strip(),
                "allocation_range": self.external_range.strip(),
            }
            vlan = self.external_vlan.strip()
            ext["vlan"] = int(vlan) if vlan.isdigit() else (vlan or None)
            network["external"] = ext
        dns = split_list(self.dns_servers)
        if dns:
            network["dns_servers"] = dns
        data: dict[str, Any] = {
            "version": 1,
            "release": self.release,
            "deployment": {"name": self.deployment_name, "region": self.region},
            "hosts": hosts,
            "network": network,
        }
        proxy = {
            k: v.strip()
            for k, v in (
                ("http", self.proxy_http),
                ("https", self.proxy_https),
                ("no_proxy", self.no_proxy),
            )
            if v.strip()
        }
        if proxy:
            data["proxy"] = proxy
        if self.admin_password_file:
            data["identity"] = {"admin_password_file": self.admin_password_file}
        if self.features:
            data["features"] = list(self.features)
        if self.software:
            data["software"] = self.software
        return data

    def to_yaml(self) -> str:
        header = (
            "# Written by the sunbeam-install guided installer. Install it headless with:\n"
            "#   sunbeam-install --answers THIS_FILE\n"
        )
        return header + yaml.safe_dump(self.to_data(), sort_keys=False, default_flow_style=False)

    def to_answers(self) -> Answers:
        """The validated Answers model; raises pydantic's ValidationError when a field is wrong."""
        return Answers.model_validate(self.to_data())

    @classmethod
    def from_answers(cls, answers: Answers) -> Draft:
        n = answers.network
        ext = n.external
        return cls(
            release=answers.release,
            deployment_name=answers.deployment.name,
            region=answers.deployment.region,
            hosts=[
                HostDraft(
                    name=h.name,
                    address=str(h.address) if h.address else None,
                    ssh_user=h.ssh_user,
                    roles=list(h.roles),
                    osd_devices=list(h.osd_devices),
                    external_nic=h.external_nic,
                )
                for h in answers.hosts
            ],
            management_cidr=str(n.management_cidr),
            loadbalancer_range=str(n.loadbalancer_range),
            external_enabled=ext is not None,
            external_cidr=str(ext.cidr) if ext else "",
            external_gateway=str(ext.gateway) if ext else "",
            external_range=str(ext.allocation_range) if ext else "",
            external_vlan=str(ext.vlan) if ext and ext.vlan is not None else "",
            dns_servers=", ".join(str(a) for a in n.dns_servers),
            proxy_http=answers.proxy.http or "",
            proxy_https=answers.proxy.https or "",
            no_proxy=answers.proxy.no_proxy or "",
            features=list(answers.features),
            admin_password_file=answers.identity.admin_password_file,
            software={k: v.model_dump(exclude_defaults=True) for k, v in answers.software.items()},
        )


# --------------------------------------------------------------------------------------------
# Partial answers files: `--answers FILE --tui` prefills what is there and says what is not.

# The wizard screen each part of the answers file is asked on (by its first path elements).
_SCREEN_OF: tuple[tuple[tuple[str, ...], str], ...] = (
    (("hosts", "*", "roles"), "roles"),
    (("hosts", "*", "osd_devices"), "storage"),
    (("hosts", "*", "external_nic"), "network"),
    (("hosts",), "hosts"),
    (("network",), "network"),
    (("release",), "options"),
    (("proxy",), "options"),
    (("features",), "options"),
)


def screen_of(path: str | None) -> str:
    """The screen where a problem at answers path `path` (e.g. hosts[1].roles) belongs."""
    parts = tuple(p for p in re.split(r"[.\[\]]+", path or "") if p)
    for prefix, screen in _SCREEN_OF:
        if len(parts) >= len(prefix) and all(
            want == "*" or want == got for want, got in zip(prefix, parts, strict=False)
        ):
            return screen
    return "review"


def partial_draft(data: Any) -> tuple[Draft, list[Notice]]:
    """A Draft from an answers file that may be partial or partly wrong, and its problems.

    Every value that passes its own field's check goes into the draft; every one that does
    not (and every missing required section) becomes an error Notice whose `path` says where
    it belongs, so the screen that asks for it can show it. Nothing is silently dropped."""
    draft = Draft()
    problems: list[Notice] = []

    def bad(path: str, message: str) -> None:
        problems.append(Notice("error", sentence(message), code="prefill", path=path))

    if not isinstance(data, dict):
        bad("", "The answers file is not a mapping of sections (version, hosts, network, ...).")
        return draft, problems
    known = {"version", "release", "deployment", "hosts", "network", "proxy", "identity",
             "features", "software"}
    for key in data:
        if key not in known:
            bad(str(key), f"Unknown section {key!r}; the sections are {', '.join(sorted(known))}.")
    if data.get("version", 1) != 1:
        bad("version", f"Version {data.get('version')!r} is not supported; write version: 1.")
    release = data.get("release")
    if release is not None:
        if isinstance(release, str):
            draft.release = release
        else:
            bad("release", f"Release {release!r} must be quoted text such as \"2025.1\".")
    deployment = data.get("deployment") or {}
    if isinstance(deployment, dict):
        draft.deployment_name = str(deployment.get("name", draft.deployment_name))
        draft.region = str(deployment.get("region", draft.region))
    _partial_hosts(data.get("hosts"), draft, bad)
    _partial_network(data.get("network"), draft, bad)
    proxy = data.get("proxy") or {}
    if isinstance(proxy, dict):
        for key, attr in (("http", "proxy_http"), ("https", "proxy_https"),
                          ("no_proxy", "no_proxy")):
            value = proxy.get(key)
            if value is None:
                continue
            message = check_field(f"proxy.{key}", str(value), required=False)
            if message:
                bad(f"proxy.{key}", message)
            setattr(draft, attr, str(value))  # kept, so the operator edits it, not retypes it
    features = data.get("features") or []
    if isinstance(features, list):
        draft.features = [str(f) for f in features]
    identity = data.get("identity") or {}
    if isinstance(identity, dict) and isinstance(identity.get("admin_password_file"), str):
        draft.admin_password_file = identity["admin_password_file"]
    software = data.get("software") or {}
    if isinstance(software, dict):
        draft.software = software
    return draft, problems


def _partial_hosts(raw: Any, draft: Draft, bad: Callable[[str, str], None]) -> None:
    if raw is None:
        bad("hosts", "No hosts are given; add them on the Hosts screen.")
        return
    if not isinstance(raw, list):
        bad("hosts", "Hosts must be a list of hosts, each with a name and roles.")
        return
    for i, h in enumerate(raw):
        where = f"hosts[{i}]"
        if not isinstance(h, dict) or not isinstance(h.get("name"), str):
            bad(where, f"Host {i + 1} has no name; it is left out.")
            continue
        name = h["name"]
        address = h.get("address")
        if address is not None and check_address_list("Address", str(address)):
            # Kept as written (never None, which would mean "this machine"): the Hosts screen
            # shows the host failed until it is added again as user@address.
            bad(f"{where}.address", f"Host {name}: address {str(address)!r} is not an IP "
                "address; add the host again on the Hosts screen as user@address.")
        roles = h.get("roles") or []
        roles = roles if isinstance(roles, list) else []
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            bad(f"{where}.roles", f"Host {name}: unknown role{'s' * (len(unknown) > 1)} "
                f"{', '.join(map(str, unknown))}; roles are {', '.join(ROLES)}.")
        devices = h.get("osd_devices") or []
        draft.hosts.append(HostDraft(
            name=name,
            address=str(address) if address is not None else None,
            ssh_user=str(h["ssh_user"]) if h.get("ssh_user") else None,
            roles=[r for r in ROLES if r in roles],
            osd_devices=[str(d) for d in devices] if isinstance(devices, list) else [],
            external_nic=str(h["external_nic"]) if h.get("external_nic") else None,
        ))


def _partial_network(raw: Any, draft: Draft, bad: Callable[[str, str], None]) -> None:
    if raw is None:
        bad("network", "No network section is given; fill it in on the Network screen.")
        return
    if not isinstance(raw, dict):
        bad("network", "Network must be a section with management_cidr and loadbalancer_range.")
        return
    for key, attr in (("management_cidr", "management_cidr"),
                      ("loadbalancer_range", "loadbalancer_range")):
        value = raw.get(key)
        if value is None:
            bad(f"network.{key}", f"network.{key} is not given; fill it in.")
            continue
        message = check_field(f"network.{key}", str(value))
        if message:
            bad(f"network.{key}", message)
        setattr(draft, attr, str(value))
    dns = raw.get("dns_servers") or []
    if isinstance(dns, list):
        draft.dns_servers = ", ".join(str(a) for a in dns)
        message = check_address_list("DNS servers", draft.dns_servers)
        if message:
            bad("network.dns_servers", message)
    ext = raw.get("external")
    if isinstance(ext, dict):
        draft.external_enabled = True
        for key, attr in (("cidr", "external_cidr"), ("gateway", "external_gateway"),
                          ("allocation_range", "external_range"), ("vlan", "external_vlan")):
            value = ext.get(key)
            if value is None:
                if key != "vlan":
                    bad(f"network.external.{key}", f"network.external.{key} is not given.")
                continue
            message = check_field(f"external.{key}", str(value), required=key != "vlan")
            if message:
                bad(f"network.external.{key}", message)
            setattr(draft, attr, str(value))
