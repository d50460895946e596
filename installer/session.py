"""The interactive session: the one object the TUI and the plain line mode both drive.

Screens and prompts never talk to Juju, Kubernetes, snapd or SSH. They ask this session to
probe hosts (-> HostFacts), keep the answers being built (a `Draft`), validate them
(-> `Notice`s from the answers-file rules and preflight), summarise the plan, save the answers
file and run the install (-> the runner's Events). Everything heavy is imported lazily so the
first screen appears quickly and `--help` never pays for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import TypeAdapter, ValidationError

from installer.events import Event, PlanFinished, PlanStarted
from manifests.answers import ROLES, Answers, ExternalNetwork, Host, Network, Proxy
from probes.facts import HostFacts

Severity = Literal["error", "warning", "info"]
HostState = Literal["probing", "ready", "failed"]
LOCAL = "local"  # the probe target meaning "this machine"
DEFAULT_RELEASE = "2025.1"


class SessionError(Exception):
    """Something the operator asked for cannot be done; the message says what to do instead."""


# --------------------------------------------------------------------------------------------
# Notices: findings of validation, whatever produced them (answers rules or preflight).


@dataclass(frozen=True)
class Notice:
    """One finding shown to the operator: the answers-file rules and preflight both map to it."""

    severity: Severity
    message: str
    code: str = ""
    host: str | None = None
    hint: str | None = None
    path: str | None = None  # dotted answers path at fault, when known

    def line(self) -> str:
        where = f"{self.host}: " if self.host else ""
        at = f"{self.path}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.severity}: {where}{at}{self.message}{hint}"


def has_errors(notices: Iterable[Notice]) -> bool:
    return any(n.severity == "error" for n in notices)


# --------------------------------------------------------------------------------------------
# The draft: the answers as the operator fills them in, field by field, as text.


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
        problems.append(Notice("error", _sentence(message), code="prefill", path=path))

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
            bad(f"{where}.address", f"Host {name}: address {address!r} is not an IP address; "
                "it is left out (add the host again as user@address).")
            address = None
        roles = h.get("roles") or []
        roles = roles if isinstance(roles, list) else []
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            bad(f"{where}.roles", f"Host {name}: unknown role{'s' * (len(unknown) > 1)} "
                f"{', '.join(map(str, unknown))}; roles are control, compute and storage.")
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


def split_list(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,\s]+", text) if p.strip()]


# --------------------------------------------------------------------------------------------
# Field checks as you type: the very models of the answers file, one field at a time.

_FIELDS: dict[str, tuple[type[Any], str, str]] = {
    # key: (model, field, what the operator calls it)
    "host.name": (Host, "name", "Host name"),
    "host.ssh_user": (Host, "ssh_user", "SSH user"),
    "host.external_nic": (Host, "external_nic", "External NIC"),
    "network.management_cidr": (Network, "management_cidr", "Management CIDR"),
    "network.loadbalancer_range": (Network, "loadbalancer_range", "Load-balancer range"),
    "external.cidr": (ExternalNetwork, "cidr", "External CIDR"),
    "external.gateway": (ExternalNetwork, "gateway", "External gateway"),
    "external.allocation_range": (ExternalNetwork, "allocation_range", "Allocation range"),
    "external.vlan": (ExternalNetwork, "vlan", "VLAN"),
    "proxy.http": (Proxy, "http", "HTTP proxy"),
    "proxy.https": (Proxy, "https", "HTTPS proxy"),
    "proxy.no_proxy": (Proxy, "no_proxy", "No-proxy list"),
}


@cache
def _adapter(key: str) -> TypeAdapter[Any]:
    from typing import Annotated

    model, name, _ = _FIELDS[key]
    info = model.model_fields[name]
    annotated: Any = Annotated[info.annotation, info]
    return TypeAdapter(annotated)


def check_field(key: str, value: str, *, required: bool = True) -> str | None:
    """None when `value` suits answers field `key`, else one sentence saying what to write."""
    model, name, label = _FIELDS[key]
    text = value.strip()
    if not text:
        return f"{label} is required." if required else None
    candidate: Any = text
    if key == "external.vlan":
        if not text.isdigit():
            return f"{label} {text!r} is not a number; write 1-4094 or leave it empty."
        candidate = int(text)
    try:
        _adapter(key).validate_python(candidate)
    except ValidationError as e:
        err = e.errors()[0]
        if err["type"] == "string_pattern_mismatch":
            desc = model.model_fields[name].description or "a valid value"
            return f"{label} {text!r} is not valid; write {desc}."
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        msg = msg[0].upper() + msg[1:] if msg else msg
        if text not in msg and repr(text) not in msg:
            return f"{label} {text!r}: {msg}."
        return msg if msg.endswith(".") else msg + "."
    return None


def check_address_list(label: str, text: str) -> str | None:
    from ipaddress import ip_address

    for part in split_list(text):
        try:
            ip_address(part)
        except ValueError:
            return f"{label}: {part!r} is not an IP address; write addresses such as 10.20.0.1."
    return None


def role_rules(draft: Draft) -> list[tuple[bool, str]]:
    """The role rules with whether each currently holds, for showing live on the Roles screen."""
    control = sum("control" in h.roles for h in draft.hosts)
    compute = sum("compute" in h.roles for h in draft.hosts)
    no_roles = [h.name for h in draft.hosts if not h.roles]
    return [
        (control == 1 or control >= 3, f"Control on 1 host or at least 3 (now {control})"),
        (compute >= 1, f"At least one compute host (now {compute})"),
        (
            not no_roles,
            "Every host has a role"
            + (f" ({', '.join(no_roles)}: none)" if no_roles else ""),
        ),
    ]


def suggest_roles(draft: Draft, facts: dict[str, HostFacts]) -> None:
    """Sunbeam's usual layouts: 1 or 3 hosts converged; more: 3 control, all compute,
    storage where there are eligible disks."""
    n = len(draft.hosts)
    for i, h in enumerate(draft.hosts):
        f = facts.get(h.name)
        has_disk = bool(f and any(d.osd_eligible for d in f.disks))
        if n in (1, 2, 3):
            roles = ["control", "compute"] if n != 2 or i == 0 else ["compute"]
            if has_disk:
                roles.append("storage")
        else:
            roles = (["control"] if i < 3 else []) + ["compute"] + (["storage"] if has_disk else [])
        h.roles = roles


# --------------------------------------------------------------------------------------------
# Probing.


@dataclass
class ProbedHost:
    """A host as the session knows it: the target typed, and its facts once they arrive."""

    target: str  # LOCAL or user@address
    address: str | None = None
    ssh_user: str | None = None
    state: HostState = "probing"
    facts: HostFacts | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        if self.facts is not None:
            return self.facts.hostname
        return self.address or "this host"


_TARGET = re.compile(r"^(?:(?P<user>[a-z_][a-z0-9_.-]{0,31})@)?(?P<address>[^@\s]+)$")


def parse_target(text: str) -> tuple[str, str]:
    """`user@address` -> (user, address); SessionError with what to write when it is not one."""
    from ipaddress import ip_address

    m = _TARGET.match(text.strip())
    if not m or not m.group("user"):
        raise SessionError(
            f"Host {text.strip()!r} is not user@address; write it as e.g. ubuntu@10.20.0.12."
        )
    address = m.group("address")
    try:
        ip_address(address)
    except ValueError:
        raise SessionError(
            f"Address {address!r} is not an IP address; write the management address, "
            "e.g. ubuntu@10.20.0.12."
        ) from None
    return m.group("user"), address


class Prober(Protocol):
    """Where host facts come from: the real probes, recorded facts, or the lab's profile."""

    async def probe_local(self) -> HostFacts: ...
    async def probe_remote(self, user: str, address: str) -> HostFacts: ...


class RealProber:
    """This machine through probes.local, others over SSH through probes.remote."""

    def __init__(self, *, accept_new_host_keys: bool = False) -> None:
        self.accept_new_host_keys = accept_new_host_keys

    async def probe_local(self) -> HostFacts:
        from probes.local import probe_local

        return await asyncio.to_thread(probe_local, root="/")

    async def probe_remote(self, user: str, address: str) -> HostFacts:
        from probes.remote import probe_hosts

        target = f"{user}@{address}"
        results = await probe_hosts([target], accept_new_host_keys=self.accept_new_host_keys)
        result = results[target]
        if isinstance(result, HostFacts):
            return result
        raise SessionError(result.reason)


class FactsDirProber:
    """Recorded facts (`probe --json` output, one <host>.json each), as `--facts DIR` gives them.

    This host is the file named after this machine's hostname, else the first file by name;
    a remote target is the file whose facts carry its address, else the one named after it.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._facts: dict[str, HostFacts] | None = None

    def _load(self) -> dict[str, HostFacts]:
        if self._facts is None:
            if not self.directory.is_dir():
                raise SessionError(
                    f"Facts directory {str(self.directory)!r} does not exist; give --facts a "
                    "directory of <host>.json files written by `sunbeam-install probe --json`."
                )
            loaded: dict[str, HostFacts] = {}
            for path in sorted(self.directory.glob("*.json")):
                try:
                    loaded[path.stem] = HostFacts.model_validate_json(path.read_bytes())
                except (ValidationError, OSError) as e:
                    first = e.errors()[0]["msg"] if isinstance(e, ValidationError) else str(e)
                    raise SessionError(
                        f"Facts file {str(path)!r} is not valid probe output ({first}); "
                        "write it again with `sunbeam-install probe --json`."
                    ) from None
            if not loaded:
                raise SessionError(
                    f"Facts directory {str(self.directory)!r} holds no .json files; "
                    "add one per host from `sunbeam-install probe --json`."
                )
            self._facts = loaded
        return self._facts

    async def probe_local(self) -> HostFacts:
        facts = self._load()
        return facts.get(socket.gethostname()) or next(iter(facts.values()))

    async def probe_remote(self, user: str, address: str) -> HostFacts:
        facts = self._load()
        for f in facts.values():
            if address in f.addresses():
                return f
        if address in facts:
            return facts[address]
        raise SessionError(
            f"No recorded facts for {address}: add {address}.json to the facts directory."
        )


class LabProfileProber:
    """Dry-run without --facts: every host is the lab's default server profile.

    The lab's own profile (`installer.lab.default_facts`), so the TUI shows the hosts that a
    dry-run install will then deploy to. A host the answers already name (a prefill) gets the
    disks and NICs those answers expect, as the headless dry-run's lab gives it.
    """

    def __init__(self, draft: Callable[[], Draft] | None = None) -> None:
        self._draft = draft

    def _known(self, address: str | None) -> HostDraft | None:
        draft = self._draft() if self._draft else None
        if draft is None:
            return None
        return next((h for h in draft.hosts if h.address == address), None)

    def _make(self, hostname: str, address: str, known: HostDraft | None) -> HostFacts:
        from installer.lab import default_facts

        if known is None:
            return default_facts(hostname, address)
        return default_facts(known.name, address, osd_devices=known.osd_devices,
                             external_nic=known.external_nic)

    async def probe_local(self) -> HostFacts:
        # This machine is the answers' host without an address, if there is one.
        return self._make("node1", "10.20.0.11", self._known(None) or self._known("10.20.0.11"))

    async def probe_remote(self, user: str, address: str) -> HostFacts:
        last = address.rsplit(".", 1)[-1]
        name = f"node{int(last) - 10}" if last.isdigit() and int(last) > 10 else f"host-{last}"
        return self._make(name, address, self._known(address))


# --------------------------------------------------------------------------------------------
# Plan summary.


@dataclass(frozen=True)
class PlanSummary:
    steps: int
    hosts: int
    by_kind: dict[str, int]  # step kind (id before ':') -> count
    titles: list[str]  # first steps' titles, in order


# --------------------------------------------------------------------------------------------
# The session.


def default_state_dir(dry_run: bool) -> Path:
    from installer.state import default_state_dir as state_default

    return state_default(dry_run=dry_run)


class Session:
    """One guided install: hosts and their facts, the draft answers, findings, plan and run."""

    def __init__(
        self,
        *,
        dry_run: bool = True,
        state_dir: Path | None = None,
        prefill: Answers | None = None,
        prober: Prober | None = None,
        facts_dir: Path | None = None,
        time_scale: float | None = None,
        faults: list[str] | None = None,
        parallel: int | None = None,
        accept_new_host_keys: bool = False,
    ) -> None:
        self.dry_run = dry_run
        self.state_dir = Path(state_dir) if state_dir else default_state_dir(dry_run)
        self.facts_dir = facts_dir
        self.time_scale = time_scale
        self.faults = list(faults or [])
        self.parallel = parallel
        if prober is None:
            if facts_dir is not None:
                prober = FactsDirProber(Path(facts_dir))
            elif dry_run:
                prober = LabProfileProber(lambda: self.draft)
            else:
                prober = RealProber(accept_new_host_keys=accept_new_host_keys)
        self.prober = prober
        self.hosts: dict[str, ProbedHost] = {}  # by target, in the order added
        self.draft = Draft.from_answers(prefill) if prefill else Draft()
        self.prefilled = prefill is not None
        # Problems of a partial --answers file, shown on the screen each belongs to.
        self.prefill_problems: list[Notice] = []
        self.accepted_warnings = False
        self.log_path: str | None = None
        self.last_outcome: str | None = None
        self.saved_answers: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, prefill: Answers | None = None) -> Session:
        state = getattr(args, "state_dir", None)
        facts = getattr(args, "facts", None)
        faults: list[str] = []
        for spec in getattr(args, "faults", None) or []:
            faults.extend(s for s in spec.split(",") if s.strip())
        return cls(
            dry_run=bool(getattr(args, "dry_run", False)),
            state_dir=Path(state) if state else None,
            prefill=prefill,
            facts_dir=Path(facts) if facts else None,
            time_scale=getattr(args, "time_scale", None),
            faults=faults,
            parallel=getattr(args, "parallel", None),
            accept_new_host_keys=bool(getattr(args, "accept_new_host_keys", False)),
        )

    def prefill_partial(self, data: Any) -> None:
        """Prefill from a partial answers file (parsed YAML); its problems go to their screens."""
        self.draft, self.prefill_problems = partial_draft(data)
        self.prefilled = True

    def problems_for(self, screen: str) -> list[Notice]:
        return [n for n in self.prefill_problems if screen_of(n.path) == screen]

    # -- hosts -------------------------------------------------------------------------------

    async def probe_local(self) -> ProbedHost:
        entry = self.hosts.setdefault(LOCAL, ProbedHost(target=LOCAL))
        return await self._probe(entry, self.prober.probe_local())

    async def add_host(self, target: str) -> ProbedHost:
        """Probe `user@address` and add it; SessionError when the target is malformed or known."""
        user, address = parse_target(target)
        key = f"{user}@{address}"
        for e in self.hosts.values():
            if e.address == address and e.target != key:
                raise SessionError(f"Address {address} is already in the list as {e.target}.")
        entry = self.hosts.get(key)
        if entry is None:
            entry = self.hosts[key] = ProbedHost(target=key, address=address, ssh_user=user)
        return await self._probe(entry, self.prober.probe_remote(user, address))

    def pending(self, target: str) -> ProbedHost:
        """Register a target as being probed (so a screen can show it before the facts arrive)."""
        if target == LOCAL:
            return self.hosts.setdefault(LOCAL, ProbedHost(target=LOCAL))
        user, address = parse_target(target)
        key = f"{user}@{address}"
        return self.hosts.setdefault(key, ProbedHost(target=key, address=address, ssh_user=user))

    async def retry(self, target: str) -> ProbedHost:
        if target == LOCAL:
            return await self.probe_local()
        return await self.add_host(target)

    def remove_host(self, target: str) -> None:
        entry = self.hosts.pop(target, None)
        if entry and entry.facts:
            self.draft.hosts = [h for h in self.draft.hosts if h.name != entry.facts.hostname]

    async def _probe(self, entry: ProbedHost, work: Any) -> ProbedHost:
        entry.state, entry.error = "probing", None
        try:
            facts: HostFacts = await work
        except SessionError as e:
            entry.state, entry.error = "failed", str(e)
            return entry
        except Exception as e:  # a probe that breaks must show its reason, not end the session
            entry.state, entry.error = "failed", _one_line(e)
            return entry
        entry.facts, entry.state = facts, "ready"
        if entry.target == LOCAL and entry.address is None:
            entry.address = management_address(facts)
        self._sync_draft_host(entry)
        return entry

    def _sync_draft_host(self, entry: ProbedHost) -> None:
        assert entry.facts is not None
        name = entry.facts.hostname
        existing = self.draft.host(name)
        if existing is None:
            # A prefilled host may name this machine by omitting its address, or a remote
            # host by its address: match those before adding a new one.
            if entry.target == LOCAL:
                existing = next((h for h in self.draft.hosts if h.address is None), None)
            else:
                existing = next(
                    (h for h in self.draft.hosts if h.address and h.address == entry.address),
                    None,
                )
        if existing is None:
            existing = HostDraft(name=name)
            self.draft.hosts.append(existing)
        existing.name = name
        if entry.target != LOCAL:
            existing.address, existing.ssh_user = entry.address, entry.ssh_user
        if not self.draft.management_cidr:
            self.draft.management_cidr = management_cidr(entry.facts) or ""

    def ready_hosts(self) -> list[ProbedHost]:
        return [e for e in self.hosts.values() if e.state == "ready"]

    def facts_by_host(self) -> dict[str, HostFacts]:
        return {e.facts.hostname: e.facts for e in self.hosts.values() if e.facts is not None}

    # -- answers ------------------------------------------------------------------------------

    def release_names(self) -> list[str]:
        from manifests.release import shipped_releases

        return shipped_releases()

    def feature_names(self) -> dict[str, str]:
        """Optional features of the draft's release: name -> description."""
        from manifests.release import load_release

        try:
            release = load_release(self.draft.release)
        except KeyError:
            return {}
        return {k: v.description for k, v in release.features.items()}

    def answers(self) -> Answers:
        """The draft as an Answers model; SessionError naming the first field at fault."""
        try:
            return self.draft.to_answers()
        except ValidationError as e:
            raise SessionError(_first_error(e)) from None

    def save_answers(self, path: Path) -> Path:
        """Write the answers file headless mode accepts unchanged (0600: it names secret files)."""
        text = self.draft.to_yaml()
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
        except OSError as e:
            raise SessionError(
                f"Cannot write the answers file {str(path)!r} ({e.strerror}); choose another path."
            ) from None
        self.saved_answers = path
        return path

    def network_problems(self) -> dict[tuple[str | int, ...], str]:
        """The answers-file rules about networks and ranges, by path, for the draft as it is.

        Field checks catch a malformed value; these catch values that are each well formed but
        do not fit together (a range outside its CIDR, reversed, overlapping a host). Empty
        while the draft is not yet a valid model: the field checks speak first then."""
        from manifests import rules

        try:
            answers = self.draft.to_answers()
        except ValidationError:
            return {}
        found: dict[tuple[str | int, ...], str] = {}
        for rule in (rules.addresses_in_management, rules.loadbalancer_range,
                     rules.external_network):
            for path, message in rule(answers):
                found.setdefault(path, _sentence(message))
        return found

    def validate(self) -> list[Notice]:
        """The answers-file rules, then (when they pass) preflight against the probed facts."""
        notices = self._static_notices()
        if has_errors(notices):
            return notices
        answers = self.draft.to_answers()
        return notices + self._preflight(answers)

    def _static_notices(self) -> list[Notice]:
        """The answers-file schema and rules, run on the YAML exactly as headless mode reads it."""
        text = self.draft.to_yaml()
        from manifests.loader import AnswersError, load_answers_text

        try:
            load_answers_text(text, "answers")
        except AnswersError as e:
            return [
                Notice("error", _sentence(p.message), code="answers", path=p.path or None)
                for p in e.problems
            ]
        return []

    def _preflight(self, answers: Answers) -> list[Notice]:
        from installer.preflight import check
        from manifests.release import load_release

        release = load_release(answers.release)
        findings = check(
            answers, self.facts_by_host(), release, real_mode=not self.dry_run
        )
        return [_notice_from_finding(f) for f in findings]

    def plan_summary(self) -> PlanSummary:
        from installer.planner import plan
        from manifests.release import load_release

        answers = self.answers()
        p = plan(answers, load_release(answers.release))
        kinds = Counter(s.id.split(":", 1)[0].split("@", 1)[0] for s in p.steps)
        return PlanSummary(
            steps=len(p.steps),
            hosts=len(answers.hosts),
            by_kind=dict(kinds),
            titles=[s.title for s in p.steps],
        )

    # -- install ------------------------------------------------------------------------------

    def install(self) -> AsyncIterator[Event]:
        """The runner's events for installing the draft (dry-run: in the lab)."""
        return _install_events(self)

    def steps_per_host(self) -> dict[str, int]:
        """How many steps of the install's plan run on each host (None host: "cluster")."""
        from installer.planner import plan
        from manifests.release import load_release

        answers = self.answers()
        return _count_hosts(plan(answers, load_release(answers.release)).steps)

    async def run_to(self, on_event: Callable[[Event], None]) -> str:
        """Run the install, handing each event to `on_event`; returns the plan's outcome."""
        return await follow_run(self, self.install(), on_event)

    def credentials_file(self) -> Path:
        """Where the admin password is: the answers' file, else the one keystone-k8s generated,
        which the installer keeps 0600 in the state dir."""
        if self.draft.admin_password_file:
            return Path(self.draft.admin_password_file)
        from installer.secrets import ADMIN_PASSWORD
        from installer.state import StateDir

        return StateDir(self.state_dir).secrets_dir / ADMIN_PASSWORD

    def dashboard_url(self) -> str | None:
        answers = self.draft
        with contextlib.suppress(ValueError, IndexError):
            from manifests.iprange import IpRange

            # Horizon sits behind traefik at /openstack-horizon, as keystone at /openstack-keystone.
            return f"https://{IpRange.parse(answers.loadbalancer_range).start}/openstack-horizon"
        return None


async def follow_run(run: Any, events: AsyncIterator[Event],
                     on_event: Callable[[Event], None]) -> str:
    """Hand each event of a run to `on_event`; note the log path and outcome on `run`."""
    outcome = "failed"
    async for event in events:
        on_event(event)
        if isinstance(event, PlanStarted):
            run.log_path = event.log_path
        elif isinstance(event, PlanFinished):
            outcome = event.outcome
    run.last_outcome = outcome
    return outcome


async def _install_events(session: Session) -> AsyncIterator[Event]:
    from installer.runner import install_events

    answers = session.answers()
    async for event in install_events(
        answers,
        dry_run=session.dry_run,
        state_dir=session.state_dir,
        facts_dir=session.facts_dir,
        time_scale=session.time_scale,
        faults=session.faults,
        parallel=session.parallel,
    ):
        yield event


# --------------------------------------------------------------------------------------------
# Helpers.


CLUSTER = "cluster"  # the Progress screen's row for steps that run on no single host


def _count_hosts(steps: Iterable[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for step in steps:
        host = step.host or CLUSTER
        counts[host] = counts.get(host, 0) + 1
    return counts


def management_address(facts: HostFacts) -> str | None:
    """The IPv4 address on the default route's NIC, else the first global IPv4 address."""
    if facts.default_route and facts.default_route.nic:
        nic = facts.nic(facts.default_route.nic)
        if nic and nic.ipv4:
            return str(nic.ipv4[0].ip)
    for n in facts.nics:
        for i in n.ipv4:
            if not i.ip.is_loopback and not i.ip.is_link_local:
                return str(i.ip)
    return None


def management_cidr(facts: HostFacts) -> str | None:
    address = management_address(facts)
    for n in facts.nics:
        for i in n.ipv4:
            if str(i.ip) == address:
                return str(i.network)
    return None


def management_nic(facts: HostFacts) -> str | None:
    address = management_address(facts)
    nic = facts.nic_with_address(address) if address else None
    return nic.name if nic else None


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _first_error(e: ValidationError) -> str:
    return _notice_from_pydantic(e.errors()[0]).line().removeprefix("error: ")


def _notice_from_pydantic(err: Any) -> Notice:
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "is not valid"))
    if err.get("type") == "string_pattern_mismatch":
        msg = f"{err.get('input')!r} does not have the expected form"
    elif err.get("type") == "missing":
        msg = "is required"
    return Notice("error", msg, code=str(err.get("type", "")), path=loc or None)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def _notice_from_finding(f: Any) -> Notice:
    raw = getattr(f, "severity", "error")
    raw = str(getattr(raw, "value", raw))
    severity: Severity = raw if raw in ("error", "warning", "info") else "error"  # type: ignore[assignment]
    path = getattr(f, "path", None)
    if isinstance(path, list | tuple):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return Notice(
        severity=severity,
        message=str(getattr(f, "message", f)),
        code=str(getattr(f, "code", "")),
        host=getattr(f, "host", None),
        hint=getattr(f, "hint", None) or None,
        path=path or None,
    )
