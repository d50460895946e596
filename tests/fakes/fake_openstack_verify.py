"""The fake `openstack` client's commands that `sunbeam-install verify` runs (see the docstring
of tests/fakes/fake_openstack.py, which parses the command line and calls `run_verify_command`).

State lives in state["openstack"] (`cloud`): networks, subnets, routers, images, flavors,
security_groups, keypairs, servers, floating_ips, each a table by name (floating IPs by address).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Callable
from ipaddress import ip_address, ip_network
from typing import Any

# charm -> (service name, type, path behind traefik), as the install's catalog has them
CATALOG = {"keystone-k8s": ("keystone", "identity", "openstack-keystone/v3"),
           "glance-k8s": ("glance", "image", "openstack-glance"),
           "nova-k8s": ("nova", "compute", "openstack-nova/v2.1"),
           "neutron-k8s": ("neutron", "network", "openstack-neutron"),
           "placement-k8s": ("placement", "placement", "openstack-placement")}

Show = Callable[[dict[str, Any], dict[str, Any]], None]


class Fail(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _listed(rows: list[dict[str, Any]], opts: dict[str, Any]) -> None:
    if opts.get("-f") == "json":
        sys.stdout.write(json.dumps(rows) + "\n")
    else:
        for r in rows:
            sys.stdout.write(" | ".join(str(v) for v in r.values()) + "\n")


def _one(pos: list[str], what: str) -> str:
    if not pos:
        raise Fail(f"error: the following arguments are required: <{what}>", 2)
    return pos[0]


def run_verify_command(state: dict[str, Any], cloud: dict[str, Any], noun: str, verb: str,
                       opts: dict[str, Any], pos: list[str], show: Show) -> None:
    """One command of the client; raises Fail(message, exit code) as the client fails."""
    _run(state, cloud, noun, verb, opts, pos, show)


def _tables(cloud: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t: cloud.setdefault(t, {}) for t in (
        "networks", "subnets", "routers", "images", "flavors", "security_groups", "keypairs",
        "servers", "floating_ips")}


def _run(state: dict[str, Any], cloud: dict[str, Any], noun: str, verb: str,
         opts: dict[str, Any], pos: list[str], show: Show) -> None:
    t = _tables(cloud)
    if noun == "endpoint":
        _endpoints(state, opts)
        return
    if noun == "compute service":
        rows = [{"ID": i + 1, "Binary": "nova-compute", "Host": h, "Zone": "nova",
                 "Status": "enabled", "State": "up"}
                for i, h in enumerate(cloud.get("compute_hosts", []))]
        _listed(rows, opts)
        return
    if noun == "floating ip" and verb == "list":
        _listed([{"ID": f["id"], "Floating IP Address": a, "Description": f["description"],
                  "Port": f["server"]} for a, f in t["floating_ips"].items()], opts)
        return
    if noun in ("network", "subnet") and verb == "delete":
        _delete_network(t, noun, _one(pos, noun))
        return
    if noun == "router":
        _router(t, verb, opts, pos, show)
        return
    if noun == "server":
        _server(cloud, t, verb, opts, pos, show)
        return
    if noun == "console log":
        server = t["servers"].get(_one(pos, "server"))
        if server is None:
            raise Fail(f"No server with a name or ID of '{pos[0]}' exists.")
        if server["status"] == "ACTIVE":
            sys.stdout.write(f"cirros login: \n{server['name']} login: \n")
        return
    if noun == "floating ip" and verb == "create":
        _floating_ip(t, _one(pos, "network"), opts, show)
        return
    if noun == "floating ip" and verb == "delete":
        fip = next((a for a, f in t["floating_ips"].items() if pos and f["id"] == pos[0]), None)
        if fip is None:
            raise Fail(f"Failed to delete floating_ip with ID '{pos[0] if pos else ''}'")
        del t["floating_ips"][fip]
        return
    _simple(t, noun, verb, opts, pos, show)


def _endpoints(state: dict[str, Any], opts: dict[str, Any]) -> None:
    url = state.get("openstack", {}).get("auth_url", "https://10.0.0.1/openstack-keystone/v3")
    base = url.split("/openstack-keystone")[0]
    rows = []
    for m in state.get("models", {}).values():
        for a in m["applications"].values():
            if a["charm"] in CATALOG:
                name, kind, path = CATALOG[a["charm"]]
                rows.append({"ID": uuid.uuid4().hex, "Region": "RegionOne", "Service Name": name,
                             "Service Type": kind, "Enabled": True, "Interface": "public",
                             "URL": f"{base}/{path}"})
    _listed(rows, opts)


def _simple(t: dict[str, dict[str, Any]], noun: str, verb: str, opts: dict[str, Any],
            pos: list[str], show: Show) -> None:
    """create / show / delete of images, flavors, security groups and keypairs."""
    table = t.get(noun.replace(" ", "_") + "s")
    if table is None or noun == "security group rule":
        if noun == "security group rule" and verb == "create":
            group = t["security_groups"].get(_one(pos, "group"))
            if group is None:
                raise Fail(f"Error while executing command: No SecurityGroup found for {pos[0]}")
            rule = " ".join(str(x) for x in ("egress" if opts.get("--egress") else "ingress",
                                              opts.get("--protocol", "any"),
                                              opts.get("--dst-port", "")) if x)
            group["rules"].append(rule)
            show({"id": str(uuid.uuid4()), "rule": rule}, opts)
            return
        raise Fail(f"openstack: '{noun} {verb}' is not an openstack command.", 2)
    name = _one(pos, "name")
    if verb == "show":
        if name not in table:
            raise Fail(f"Error while executing command: No {noun.title()} found for {name}")
        show(table[name], opts)
        return
    if verb == "delete":
        if name not in table:
            raise Fail(f"Failed to delete {noun} with name or ID '{name}'")
        if noun == "security group" and any(name in s["security_groups"]
                                            for s in t["servers"].values()):
            raise Fail(f"ConflictException: 409: Security Group {name} in use.")
        del table[name]
        return
    if name in table:
        raise Fail(f"ConflictException: 409: {noun} {name} already exists")
    row: dict[str, Any] = {"id": str(uuid.uuid4()), "name": name}
    if noun == "image":
        if not os.path.isfile(str(opts.get("--file"))):
            raise Fail(f"[Errno 2] No such file or directory: '{opts.get('--file')}'")
        row["disk_format"] = opts.get("--disk-format", "raw")
    elif noun == "flavor":
        row.update(ram=int(opts.get("--ram", 256)), vcpus=int(opts.get("--vcpus", 1)),
                   disk=int(opts.get("--disk", 0)))
    elif noun == "security group":
        row["rules"] = []
    elif noun == "keypair":
        row["fingerprint"] = uuid.uuid4().hex
        table[name] = row
        sys.stdout.write("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n"
                         "-----END OPENSSH PRIVATE KEY-----\n")
        return
    table[name] = row
    show(row, opts)


def _subnets_of(t: dict[str, dict[str, Any]], network: str) -> list[str]:
    return [n for n, s in t["subnets"].items() if s["network_id"] == t["networks"][network]["id"]]


def _delete_network(t: dict[str, dict[str, Any]], noun: str, name: str) -> None:
    table = t[noun + "s"]
    if name not in table:
        raise Fail(f"Failed to delete {noun} with name or ID '{name}'")
    subnets = _subnets_of(t, name) if noun == "network" else [name]
    in_use = any(set(r["subnets"]) & set(subnets) for r in t["routers"].values()) or (
        noun == "network" and any(s["network"] == name for s in t["servers"].values()))
    if in_use:
        raise Fail(f"ConflictException: 409: Unable to complete operation on {noun} {name}. "
                   "There are one or more ports still in use.")
    for sub in subnets:
        t["subnets"].pop(sub, None)
    table.pop(name, None)


def _router(t: dict[str, dict[str, Any]], verb: str, opts: dict[str, Any], pos: list[str],
            show: Show) -> None:
    name = _one(pos, "router")
    if verb == "create":
        t["routers"][name] = {"id": str(uuid.uuid4()), "name": name, "gateway": None,
                              "subnets": []}
        show(t["routers"][name], opts)
        return
    router = t["routers"].get(name)
    if router is None:
        raise Fail(f"Error while executing command: No Router found for {name}")
    if verb == "show":
        show(router, opts)
    elif verb == "set":
        gateway = opts.get("--external-gateway")
        net = t["networks"].get(gateway or "")
        if net is None or net.get("router:external") != "External":
            raise Fail(f"BadRequestException: 400: Network {gateway} is not a valid external "
                       "network")
        router["gateway"] = gateway
    elif verb in ("add subnet", "remove subnet"):
        if len(pos) != 2 or pos[1] not in t["subnets"]:
            raise Fail(f"No Subnet found for {pos[1:] or ''}")
        if verb == "add subnet":
            if pos[1] in router["subnets"]:
                raise Fail(f"BadRequestException: 400: Router already has a port on subnet "
                           f"{pos[1]}")
            router["subnets"].append(pos[1])
        elif pos[1] in router["subnets"]:
            router["subnets"].remove(pos[1])
        else:
            raise Fail(f"NotFoundException: 404: Router {name} has no interface on {pos[1]}")
    elif verb == "delete":
        if router["subnets"]:
            raise Fail(f"ConflictException: 409: Router {name} still has ports.")
        del t["routers"][name]


def _server(cloud: dict[str, Any], t: dict[str, dict[str, Any]], verb: str,
            opts: dict[str, Any], pos: list[str], show: Show) -> None:
    name = _one(pos, "server")
    if verb == "create":
        for option, table in (("--flavor", "flavors"), ("--image", "images"),
                              ("--network", "networks")):
            if opts.get(option) not in t[table]:
                raise Fail(f"No {table[:-1].title()} found for {opts.get(option)}")
        if opts.get("--key-name") not in t["keypairs"]:
            raise Fail("Invalid key_name provided. (HTTP 400)")
        if not _subnets_of(t, opts["--network"]):
            raise Fail("BadRequestException: 400: Network requires a subnet.")
        t["servers"][name] = {
            "id": str(uuid.uuid4()), "name": name, "status": "BUILD", "polls": 0,
            "network": opts["--network"], "security_groups": opts.get("--security-group", []),
            "OS-EXT-SRV-ATTR:host": (cloud.get("compute_hosts") or ["?"])[0]}
        show(t["servers"][name], opts)
        return
    server = t["servers"].get(name)
    if server is None:
        raise Fail(f"No server with a name or ID of '{name}' exists.")
    if verb == "show":
        server["polls"] += 1
        if server["polls"] > int(cloud.get("build_polls", 2)):
            server["status"] = "ACTIVE"
        show(server, opts)
    elif verb == "delete":
        del t["servers"][name]
        for f in t["floating_ips"].values():
            if f["server"] == name:
                f["server"] = None
    elif verb == "add floating ip":
        fip = t["floating_ips"].get(pos[1] if len(pos) == 2 else "")
        if fip is None:
            raise Fail(f"No FloatingIP found for {pos[1:]}")
        if not any(r["gateway"] == fip["network"] and set(r["subnets"]) & set(
                _subnets_of(t, server["network"])) for r in t["routers"].values()):
            raise Fail("NotFoundException: 404: External network is not reachable from the "
                       "server's subnet.")
        fip["server"] = name


def _floating_ip(t: dict[str, dict[str, Any]], network: str, opts: dict[str, Any],
                 show: Show) -> None:
    subnets = [t["subnets"][s] for s in _subnets_of(t, network)] if network in t["networks"] \
        else []
    if not subnets or not subnets[0]["allocation_pools"]:
        raise Fail(f"No Network found for {network}")
    start, end = (ip_address(x) for x in subnets[0]["allocation_pools"].split("-"))
    address = next(str(a) for a in ip_network(subnets[0]["cidr"]).hosts()
                   if int(start) <= int(a) <= int(end) and str(a) not in t["floating_ips"])
    t["floating_ips"][address] = {"id": str(uuid.uuid4()), "network": network,
                                  "description": opts.get("--description", ""), "server": None}
    show({"id": t["floating_ips"][address]["id"], "floating_ip_address": address}, opts)
