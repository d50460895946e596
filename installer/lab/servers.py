"""The lab cloud's servers (status transitions, console log), floating IPs and `ping`: the part
of installer/lab/cloud.py that Nova's instances and their addresses are."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from ipaddress import ip_address, ip_network
from typing import Any

from installer.lab.client import CommandLine, Result, command_line, listed, one_value, shown
from installer.lab.cluster import LabCluster
from installer.lab.state import FloatingIpState, ServerState

# "Real" seconds, before the lab's time scale: a cirros guest is ACTIVE after about 40 s and
# shows its login prompt about 30 s later.
SERVER_BUILD_SECONDS = 40.0
SERVER_BOOT_SECONDS = 30.0


class LabServers:
    """Servers and floating IPs; `compute_hosts` lists the hosts whose nova-compute service is
    enabled (the scheduler's candidates)."""

    COMMON = ("-f", "-c")

    def __init__(self, lab: LabCluster, compute_hosts: Callable[[], list[str]]) -> None:
        self.lab = lab
        self.compute_hosts = compute_hosts

    def _subnets_of(self, network: str) -> list[str]:
        return [s.name for s in self.lab.state.subnets.values() if s.network == network]

    # -- servers ------------------------------------------------------------------------------

    def server_status(self, server: ServerState) -> str:
        if server.error is not None:
            return "ERROR"
        return "ACTIVE" if self.lab.now() >= server.active_at else "BUILD"

    def _server_row(self, server: ServerState) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": server.id, "name": server.name, "status": self.server_status(server),
            "flavor": server.flavor, "image": server.image, "key_name": server.key_name,
            "security_groups": [{"name": g} for g in server.security_groups],
            "OS-EXT-SRV-ATTR:host": server.host,
            "addresses": {server.network: [server.address, *(
                f.address for f in self.lab.state.floating_ips.values()
                if f.server == server.name)]},
        }
        if server.error is not None:
            row["fault"] = {"code": 500, "message": server.error}
        return row

    def server(self, host: str, verb: str, rest: list[str]) -> Result | None:
        st = self.lab.state
        if verb == "add" and rest[:2] == ["floating", "ip"]:
            return self._attach_floating_ip(rest[2:])
        line = command_line(f"server {verb}", rest, ("--wait",),
                            (*self.COMMON, "--flavor", "--image", "--network",
                             "--security-group", "--key-name"), required="<server>")
        if not isinstance(line, CommandLine):
            return line
        opts, name = line.opts, line.name
        if verb == "create":
            return self._server_create(name, opts)
        server = st.servers.get(name)
        if server is None:
            return [f"No Server found for {name}"], 1
        if verb == "show":
            return shown(self._server_row(server), opts), 0
        if verb == "delete":
            del st.servers[name]
            for fip in st.floating_ips.values():
                if fip.server == name:
                    fip.server = None
            self.lab.save()
            return [], 0
        return None

    def _server_create(self, name: str, opts: dict[str, list[str]]) -> Result:
        st = self.lab.state
        flavor, image = one_value(opts, "--flavor"), one_value(opts, "--image")
        network, key = one_value(opts, "--network"), one_value(opts, "--key-name")
        groups = opts.get("--security-group", [])
        if flavor not in st.flavors:
            return [f"No Flavor found for {flavor}"], 1
        if image not in st.images:
            return [f"No Image found for {image}"], 1
        if network not in st.networks:
            return [f"No Network found for {network}"], 1
        subnets = self._subnets_of(network)
        if not subnets:
            return [f"BadRequestException: 400: Network {network} requires a subnet in order "
                    "to boot instances on."], 1
        missing = [g for g in groups if g not in st.security_groups]
        if missing:
            return [f"No SecurityGroup found for {missing[0]}"], 1
        if key is not None and key not in st.keypairs:
            return [f"Invalid key_name provided. (HTTP 400) (key {key})"], 1
        if name in st.servers:
            return [f"Conflict: a server named {name} exists already (the lab keeps names "
                    "unique)"], 1
        cidr = ip_network(st.subnets[subnets[0]].cidr)
        used = {s.address for s in st.servers.values() if s.network == network}
        address = next(str(a) for i, a in enumerate(cidr.hosts()) if i >= 9 and str(a) not in used)
        candidates = self.compute_hosts()
        now = self.lab.now()
        server = ServerState(
            name=name, id=str(uuid.uuid4()), flavor=str(flavor), image=str(image),
            network=str(network), security_groups=list(groups), key_name=key,
            host=candidates[len(st.servers) % len(candidates)] if candidates else "",
            address=address,
            active_at=now + self.lab.scaled(SERVER_BUILD_SECONDS, f"server:{name}"),
            login_at=now + self.lab.scaled(SERVER_BUILD_SECONDS + SERVER_BOOT_SECONDS,
                                           f"boot:{name}"),
            error=None if candidates else "No valid host was found. There are not enough "
            "hosts available.",
        )
        st.servers[name] = server
        self.lab.save()
        return shown(self._server_row(server), opts), 0

    def console_log(self, host: str, verb: str, rest: list[str]) -> Result | None:
        if verb != "show":
            return None
        words = [w for w in rest if not w.startswith("-")]
        server = self.lab.state.servers.get(words[0]) if words else None
        if server is None:
            return [f"No Server found for {words[0] if words else ''}"], 1
        now = self.lab.now()
        if self.server_status(server) != "ACTIVE":
            return [], 0
        lines = ["[    0.000000] Linux version 6.8.0 (lab cirros guest)",
                 "Starting network: udhcpc: lease of "
                 f"{server.address} obtained"]
        if now >= server.login_at:
            lines += ["=== cirros: current=0.6.2 uptime=12.00 ===",
                      "login as 'cirros' user. use 'sudo' for root.",
                      f"{server.name} login: "]
        return lines, 0

    # -- floating IPs -----------------------------------------------------------------------

    def floating_ip(self, host: str, verb: str, rest: list[str]) -> Result | None:
        st = self.lab.state
        line = command_line(f"floating ip {verb}", rest, ("--long",),
                            (*self.COMMON, "--description"))
        if not isinstance(line, CommandLine):
            return line
        opts, words = line.opts, line.words
        if verb == "list":
            rows = [{"ID": f.id, "Floating IP Address": f.address,
                     "Floating Network": f.network, "Description": f.description,
                     "Port": f.server} for f in st.floating_ips.values()]
            return listed(rows, opts), 0
        if not words:
            return [f"openstack floating ip {verb}: error: the following arguments are "
                    "required"], 2
        if verb == "create":
            return self._floating_ip_create(words[0], one_value(opts, "--description", "") or "",
                                            opts)
        if verb == "delete":
            for w in words:
                fip = st.floating_ips.get(w) or next(
                    (f for f in st.floating_ips.values() if f.id == w), None)
                if fip is None:
                    return [f"Failed to delete floating_ip with ID '{w}'"], 1
                del st.floating_ips[fip.address]
            self.lab.save()
            return [], 0
        return None

    def _floating_ip_create(self, network: str, description: str,
                            opts: dict[str, list[str]]) -> Result:
        st = self.lab.state
        net = st.networks.get(network)
        if net is None:
            return [f"No Network found for {network}"], 1
        subnets = [st.subnets[s] for s in self._subnets_of(network)]
        if not net.external or not subnets or not subnets[0].pool:
            return [f"BadRequestException: 400: Network {network} is not a valid external "
                    "network"], 1
        start, end = (ip_address(x) for x in subnets[0].pool.split("-"))
        taken = set(st.floating_ips)
        address = next((str(a) for a in ip_network(subnets[0].cidr).hosts()
                        if int(start) <= int(a) <= int(end) and str(a) not in taken), None)
        if address is None:
            return [f"No more IP addresses available on network {network}."], 1
        fip = FloatingIpState(address=address, id=str(uuid.uuid4()), network=network,
                              description=description)
        st.floating_ips[address] = fip
        self.lab.save()
        return shown({"id": fip.id, "floating_ip_address": address,
                       "floating_network_id": network, "description": description}, opts), 0

    def _attach_floating_ip(self, words: list[str]) -> Result:
        st = self.lab.state
        if len(words) != 2:
            return ["openstack server add floating ip: error: the following arguments are "
                    "required: <server>, <ip-address>"], 2
        server, fip = st.servers.get(words[0]), st.floating_ips.get(words[1])
        if server is None:
            return [f"No Server found for {words[0]}"], 1
        if fip is None:
            return [f"No FloatingIP found for {words[1]}"], 1
        subnets = set(self._subnets_of(server.network))
        if not any(r.external_gateway == fip.network and subnets & set(r.subnets)
                   for r in st.routers.values()):
            return [f"NotFoundException: 404: External network {fip.network} is not reachable "
                    f"from subnet of {server.network}; a router with a gateway on it and an "
                    "interface on the subnet is needed."], 1
        fip.server = server.name
        self.lab.save()
        return [], 0

    def ping(self, target: str) -> Result:
        """`ping -c N ADDRESS` from a host: answered by an ACTIVE server behind that floating
        IP whose security groups let ICMP in."""
        st = self.lab.state
        fip = st.floating_ips.get(target)
        server = st.servers.get(fip.server) if fip is not None and fip.server else None
        icmp = server is not None and any(
            "ingress icmp" in st.security_groups[g].rules
            for g in server.security_groups if g in st.security_groups)
        stats = f"--- {target} ping statistics ---"
        if server is not None and icmp and self.server_status(server) == "ACTIVE":
            return [f"64 bytes from {target}: icmp_seq=1 ttl=63 time=0.9 ms", stats,
                    "3 packets transmitted, 3 received, 0% packet loss"], 0
        return [stats, "3 packets transmitted, 0 received, 100% packet loss"], 1
