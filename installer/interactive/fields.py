"""Field checks as you type, and the role rules: the very models of the answers file, one
field at a time, so a screen or a prompt says what is wrong before the whole file is built.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from manifests.answers import Deployment, ExternalNetwork, Host, Network, Proxy

if TYPE_CHECKING:
    from installer.interactive.draft import Draft
    from probes.facts import HostFacts


def split_list(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,\s]+", text) if p.strip()]


# --------------------------------------------------------------------------------------------
# Field checks as you type: the very models of the answers file, one field at a time.

_FIELDS: dict[str, tuple[type[Any], str, str]] = {
    # key: (model, field, what the operator calls it)
    "deployment.name": (Deployment, "name", "Deployment name"),
    "deployment.region": (Deployment, "region", "Region"),
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


# What to write when a value does not match a field's pattern (the description says what the
# field is, not what it may contain).
_PATTERN_HINTS = {
    "deployment.name": "1-40 lower-case letters, digits and '-', starting with a letter, "
                       "e.g. sunbeam",
    "deployment.region": "letters, digits, '-' and '_', e.g. RegionOne",
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
        if not 1 <= candidate <= 4094:
            from manifests.loader import vlan_out_of_range

            return vlan_out_of_range(candidate) + "."
    try:
        _adapter(key).validate_python(candidate)
    except ValidationError as e:
        err = e.errors()[0]
        if err["type"] == "string_pattern_mismatch":
            desc = _PATTERN_HINTS.get(key) or model.model_fields[name].description or (
                "a valid value")
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
