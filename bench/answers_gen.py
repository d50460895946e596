"""Generate a large, valid answers file (for benchmarks): N hosts, 3 control, the rest split."""

from __future__ import annotations

import ipaddress
import sys


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
        if i < 3:
            roles = "[control]"
        elif i % 3 == 0:
            roles = "[storage]"
        else:
            roles = "[compute]"
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
    lines += [
        "network:",
        "  management_cidr: 10.40.0.0/16",
        "  loadbalancer_range: 10.40.250.1-10.40.250.60",
        "  external: {cidr: 172.20.0.0/16, gateway: 172.20.0.1, "
        "allocation_range: 172.20.1.0-172.20.200.255, vlan: null}",
        "  dns_servers: [10.40.0.1]",
        "features: [dns]",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
