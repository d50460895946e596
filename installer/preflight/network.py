"""Addresses and NICs: the management address is really on the host, the external NIC is usable.

The external NIC is handed to Open vSwitch (br-ex) by the hypervisor: whatever address it carried
stops working. On the NIC that carries the default route that cuts the host off from everything
beyond its subnet (error); on the NIC that carries the management address it cuts the installer
and the control plane off from the host unless the address moves to the bridge (warning).
"""

from __future__ import annotations

from installer.preflight._common import (
    Facts,
    hosts_with_facts,
    join,
    lower_nics,
    management_address,
    nic_label,
)
from installer.preflight.finding import Finding
from manifests.answers import Answers
from manifests.release import Release


def address_on_host(
    answers: Answers, facts: Facts, release: Release
) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        if host.address is None:
            # The local single-node case: no address to verify; its management address
            # is looked up in the management CIDR instead (management_address below).
            continue
        addr = str(host.address)
        if addr in hf.addresses():
            continue
        out.append(
            Finding(
                severity="error",
                code="address-not-on-host",
                host=host.name,
                message=f"Address {addr} of host {host.name} is not on any of its NICs; it has "
                f"{join([a for a in hf.addresses() if not a.startswith(('127.', '::1'))])}.",
                hint=f"Set the address of {host.name} to one of its own management "
                "addresses (an SSH target behind NAT will not do: the other hosts must reach it).",
                path=["hosts", i, "address"],
            )
        )
    return out


def management_address_present(
    answers: Answers, facts: Facts, release: Release
) -> list[Finding]:
    """A host given without an address (this machine) still needs one in the management CIDR."""
    out = []
    cidr = answers.network.management_cidr
    for _i, host, hf in hosts_with_facts(answers, facts):
        if host.address is not None or management_address(answers, host, hf) is not None:
            continue
        out.append(
            Finding(
                severity="error",
                code="no-management-address",
                host=host.name,
                message=f"Host {host.name} has no address in the management network {cidr}.",
                hint="Set network.management_cidr to the network of this host's main address, "
                "or give the host an address in it.",
                path=["network", "management_cidr"],
            )
        )
    return out


def external_nic(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        if host.external_nic is None:
            continue
        name = host.external_nic
        path: list[str | int] = ["hosts", i, "external_nic"]
        nic = hf.nic(name)
        if nic is None:
            candidates = [
                n.name
                for n in hf.nics
                if n.kind in ("physical", "bond") and not n.master and not n.ipv4 and not n.ipv6
            ]
            out.append(
                Finding(
                    severity="error",
                    code="external-nic-not-found",
                    host=host.name,
                    message=f"External NIC {name} does not exist on host {host.name}.",
                    hint=f"Name a NIC of {host.name} without addresses; free: {join(candidates)}.",
                    path=path,
                )
            )
            continue
        route_nic = hf.default_route.nic if hf.default_route else None
        if route_nic and name in lower_nics(hf, route_nic):
            via = "" if route_nic == name else f" through {route_nic}"
            out.append(
                Finding(
                    severity="error",
                    code="external-nic-is-default-route",
                    host=host.name,
                    message=f"External NIC {name} of host {host.name} carries its default "
                    f"route{via}; Open vSwitch takes the NIC over and the host would lose it.",
                    hint="Use a second NIC or a VLAN for the external network.",
                    path=path,
                )
            )
            continue
        mgmt = management_address(answers, host, hf)
        mgmt_nic = hf.nic_with_address(mgmt) if mgmt else None
        if mgmt_nic is not None and name in lower_nics(hf, mgmt_nic.name):
            via = "" if mgmt_nic.name == name else f" through {nic_label(mgmt_nic)}"
            out.append(
                Finding(
                    severity="warning",
                    code="external-nic-is-management",
                    host=host.name,
                    message=f"External NIC {name} of host {host.name} carries its management "
                    f"address {mgmt}{via}; Open vSwitch takes the NIC over and the address "
                    "stops working unless it moves to the bridge.",
                    hint="Use a second NIC for the external network, or confirm if you have "
                    "planned for the management address to move to br-ex.",
                    path=path,
                )
            )
            continue
        if nic.carrier is False or nic.state in ("down", "lowerlayerdown"):
            out.append(
                Finding(
                    severity="warning",
                    code="external-nic-no-link",
                    host=host.name,
                    message=f"External NIC {name} of host {host.name} has no link "
                    f"(state {nic.state}); floating IPs through it will not be reachable.",
                    hint=f"Cable {name} to the external network and bring it up, then confirm.",
                    path=path,
                )
            )
    return out
