"""Names: the host's own name matches the answers, and its FQDN resolves to its management address.

The hypervisor registers with Nova, and its OVN chassis with OVN, under the host's FQDN; Neutron
binds a port to the chassis whose name matches the Nova host. When those names and the name the
installer and Juju use diverge, or the FQDN resolves to a loopback address (Ubuntu's 127.0.1.1
line in /etc/hosts), instances fail with "Binding failed for port": a frequent Sunbeam failure.
"""

from __future__ import annotations

from ipaddress import ip_address

from installer.preflight._common import Facts, hosts_with_facts, join, management_address
from installer.preflight.finding import Finding
from manifests.answers import Answers, Host
from manifests.release import Release
from probes.facts import HostFacts

OVN_HINT = (
    "Nova and OVN know a hypervisor by its FQDN; when that is not the name the cloud uses for "
    "the host, Neutron cannot bind ports there and instances fail with \"Binding failed for port\""
)


def _names(hf: HostFacts) -> set[str]:
    names = {hf.hostname.lower()}
    if hf.fqdn:
        names |= {hf.fqdn.lower(), hf.fqdn.split(".")[0].lower()}
    return names


def _why(host: Host) -> str:
    if "compute" in host.roles:
        return OVN_HINT
    return "Juju and Kubernetes register the host under its own name"


def hostname(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        if host.name.lower() in _names(hf):
            continue
        registered = hf.fqdn or hf.hostname
        out.append(
            Finding(
                severity="error",
                code="hostname-mismatch",
                host=host.name,
                message=f"Host {host.name} calls itself {registered}; its name in the answers "
                f"must be {hf.hostname}"
                + (f" or {hf.fqdn}" if hf.fqdn and hf.fqdn != hf.hostname else "")
                + ".",
                hint=f"{_why(host)}. Rename the host in the answers, or run "
                f"`hostnamectl set-hostname {host.name}` on it and probe again.",
                path=["hosts", i, "name"],
            )
        )
    return out


def _loopback(addr: str) -> bool:
    try:
        return ip_address(addr).is_loopback
    except ValueError:
        return False


def fqdn(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        at: list[str | int] = ["hosts", i, "address" if host.address is not None else "name"]
        mgmt = management_address(answers, host, hf)
        name = hf.fqdn or hf.hostname
        resolved = hf.fqdn_resolves_to
        aliases = name if name == hf.hostname else f"{name} {hf.hostname}"
        if not resolved:
            out.append(
                Finding(
                    severity="error",
                    code="fqdn-unresolved",
                    host=host.name,
                    message=f"FQDN {name} of host {host.name} does not resolve"
                    + (f"; it must resolve to {mgmt}." if mgmt else "."),
                    hint=f"Add `{mgmt or '<management address>'} {aliases}` to "
                    f"/etc/hosts on every host, or to DNS. {OVN_HINT}.",
                    path=at,
                )
            )
            continue
        if mgmt is None:
            # No management address known (reported by network.py); only a loopback-only
            # answer is certainly wrong.
            if all(_loopback(a) for a in resolved):
                mgmt = "the management address"
            else:
                continue
        elif mgmt in resolved:
            continue
        loop = " (a loopback address, usually the 127.0.1.1 line of /etc/hosts)" if any(
            _loopback(a) for a in resolved
        ) else ""
        out.append(
            Finding(
                severity="error",
                code="fqdn-mismatch",
                host=host.name,
                message=f"FQDN {name} of host {host.name} resolves to {join(resolved)}{loop}; "
                f"it must resolve to {mgmt}.",
                hint=f"Fix /etc/hosts or DNS so that {name} resolves to {mgmt}. {OVN_HINT}.",
                path=at,
            )
        )
    return out
