"""Generate a large, valid answers file (for benchmarks): N hosts, 3 control, the rest split."""

from __future__ import annotations

import ipaddress
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from manifests.answers import Answers

# The external network, DNS and features of the generated files (also bench/scale.py's).
FOOTER = (
    "network:",
    "  management_cidr: 10.40.0.0/16",
    "  loadbalancer_range: 10.40.250.1-10.40.250.60",
    "  external: {cidr: 172.20.0.0/16, gateway: 172.20.0.1, "
    "allocation_range: 172.20.1.0-172.20.200.255, vlan: null}",
    "  dns_servers: [10.40.0.1]",
    "features: [dns]",
)


def generate(n_hosts: int, release: str = "2025.1") -> str:
    """YAML text of a valid answers file with `n_hosts` hosts on a /16 management network."""
    net = ipaddress.ip_network("10.40.0.0/16")
    lines = [
        "version: 1",
        f'release: "{release}"',
        "deployment: {name: big, region: RegionOne}",
        "hosts:",
    ]
    for i in range(n_hosts):
        addr = net.network_address + 256 + i
        roles = f"[{role_of(i)}]"
        lines += [
            f"  - name: host{i:04d}",
            f"    address: {addr}",
            "    ssh_user: ubuntu",
            f"    roles: {roles}",
        ]
        if roles == "[storage]":
            lines += [
                "    osd_devices:",
                f"      - /dev/disk/by-id/wwn-0x5000c500{i:08x}",
                f"      - /dev/disk/by-id/wwn-0x5000c501{i:08x}",
            ]
        if roles == "[compute]":
            lines.append("    external_nic: eno2")
    lines += FOOTER
    return "\n".join(lines) + "\n"


def role_of(i: int) -> str:
    """The one role of host number `i` in `generate`: 3 control, then storage every third."""
    return "control" if i < 3 else "storage" if i % 3 == 0 else "compute"


def generated_answers(hosts: int) -> Answers:
    """Answers of `hosts` hosts as bench/makespan.py and the Juju scale test run them: 3
    control hosts, every host compute, every other host storage with two OSD disks."""
    from manifests.answers import Answers

    entries = []
    for i in range(hosts):
        roles = ["compute"]
        if i < 3:
            roles.insert(0, "control")
        osd: list[str] = []
        if i % 2 == 0:
            roles.append("storage")
            osd = [f"/dev/disk/by-id/wwn-0x5000c500{i:08x}{d}" for d in (1, 2)]
        entries.append({
            "name": f"node{i + 1}", "address": f"10.20.{i // 250}.{i % 250 + 2}",
            "ssh_user": "ubuntu", "roles": roles, "osd_devices": osd,
        })
    return Answers.model_validate({
        "version": 1, "release": "2025.1", "hosts": entries,
        "network": {"management_cidr": "10.20.0.0/16",
                    "loadbalancer_range": "10.20.255.200-10.20.255.220"},
    })


if __name__ == "__main__":
    sys.stdout.write(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
