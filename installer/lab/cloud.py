"""The lab cloud's OpenStack resources, as the `openstack` client and the hosts' `curl`, `ping`
and `rm` see them: endpoints, images, flavors, routers, security groups, keypairs, servers with
their status transitions and console log, floating IPs, and deleting each of them.

`sunbeam-install verify` is what drives these (installer/steps/verify.py); the refusals (a
router with interfaces, a network with servers) are Neutron's and Nova's own, so a cleanup in the
wrong order fails in the lab as it would on a cloud.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from ipaddress import ip_address
from typing import Any

from installer.lab.client import (
    CommandLine,
    Result,
    command_line,
    listed,
    one_value,
    parse_args,
    shown,
)
from installer.lab.cluster import LabCluster
from installer.lab.servers import LabServers
from installer.lab.state import (
    FlavorState,
    ImageState,
    RouterState,
    SecurityGroupState,
)

# The catalog: charm -> (service name, service type, ingress path), as Sunbeam's traefik routes.
CATALOG = {
    "keystone-k8s": ("keystone", "identity", "openstack-keystone/v3"),
    "glance-k8s": ("glance", "image", "openstack-glance"),
    "nova-k8s": ("nova", "compute", "openstack-nova/v2.1"),
    "neutron-k8s": ("neutron", "network", "openstack-neutron"),
    "placement-k8s": ("placement", "placement", "openstack-placement"),
    "cinder-k8s": ("cinderv3", "volumev3", "openstack-cinder/v3"),
}
ENDPOINT_COLUMNS = ("ID", "Region", "Service Name", "Service Type", "Enabled", "Interface", "URL")
FAKE_PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA (lab)",
                    "-----END OPENSSH PRIVATE KEY-----")


class LabCloud:
    """The OpenStack resources of the lab's cloud; `compute_hosts` lists the hosts whose
    nova-compute service is enabled (the scheduler's candidates)."""

    COMMON = ("-f", "-c")

    def __init__(self, lab: LabCluster, compute_hosts: Callable[[], list[str]]) -> None:
        self.lab = lab
        self.servers = LabServers(lab, compute_hosts)

    # -- dispatch ---------------------------------------------------------------------------

    def openstack(self, host: str, noun: str, verb: str, rest: list[str]) -> Result | None:
        """The client's answer to `openstack NOUN VERB REST...`; None when not a command of
        this module (the caller knows it, or says it is not simulated)."""
        if noun in ("security", "floating", "console") and rest:
            noun, verb, rest = f"{noun} {verb}", rest[0], rest[1:]
            if noun == "security group" and verb == "rule" and rest:
                noun, verb, rest = "security group rule", rest[0], rest[1:]
        handler = {
            "endpoint": self._endpoint, "image": self._image, "flavor": self._flavor,
            "router": self._router, "security group": self._security_group,
            "security group rule": self._security_group_rule, "keypair": self._keypair,
            "server": self.servers.server, "console log": self.servers.console_log,
            "floating ip": self.servers.floating_ip,
        }.get(noun)
        if handler is None and noun in ("network", "subnet") and verb == "delete":
            handler = self._network_delete if noun == "network" else self._subnet_delete
        if handler is None:
            return None
        out = handler(host, verb, rest)
        return out if out is not None else (
            [f"openstack {noun} {verb}: not simulated by the lab"], 2)

    # -- the catalog --------------------------------------------------------------------------

    def endpoints(self) -> list[dict[str, Any]]:
        """The catalog's endpoints of the deployed API services (public and internal)."""
        st = self.lab.state
        # The load balancer's addresses: the k8s charm's load-balancer-cidrs (or a pool set
        # through the Kubernetes API); traefik-public takes the first, traefik the next.
        pools = [*st.lb_pools.values(), *(
            str(a.config["load-balancer-cidrs"]) for m in st.models.values()
            for a in m.apps.values() if a.charm == "k8s" and a.config.get("load-balancer-cidrs"))]
        if not pools:
            return []
        pool = pools[0].split(",")[0]
        public = ip_address(pool.split("-")[0].strip())
        internal = public + 1
        rows: list[dict[str, Any]] = []
        for m in st.models.values():
            for a in m.apps.values():
                entry = CATALOG.get(a.charm)
                if entry is None:
                    continue
                name, kind, path = entry
                for iface, addr in (("public", public), ("internal", internal)):
                    rows.append({"ID": uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/{iface}").hex,
                                 "Region": "RegionOne", "Service Name": name,
                                 "Service Type": kind, "Enabled": True, "Interface": iface,
                                 "URL": f"https://{addr}/{path}"})
        return rows

    def _endpoint(self, host: str, verb: str, rest: list[str]) -> Result | None:
        if verb != "list":
            return None
        line = command_line("endpoint list", rest, (), ("-f", "-c", "--interface", "--service"))
        if not isinstance(line, CommandLine):
            return line
        opts = line.opts
        rows = [r for r in self.endpoints()
                if r["Interface"] in opts.get("--interface", [r["Interface"]])]
        return listed(rows, {**opts, "-c": opts.get("-c") or list(ENDPOINT_COLUMNS)}), 0

    def answers(self, url: str) -> bool:
        """Whether an HTTP request to `url` gets an answer: it is an endpoint of an API service
        whose units are active."""
        now = self.lab.now()
        for r in self.endpoints():
            if url.rstrip("/").startswith(r["URL"].split("/v")[0]):
                for m in self.lab.state.models.values():
                    for name, a in m.apps.items():
                        if CATALOG.get(a.charm, ("",))[0] == r["Service Name"]:
                            return any(self.lab.app_unit_status(m.name, name, u, now)[0]
                                       == "active" for u in a.units.values())
        return False

    # -- images and flavors ----------------------------------------------------------------

    def _image(self, host: str, verb: str, rest: list[str]) -> Result | None:
        st = self.lab.state
        line = command_line(f"image {verb}", rest, ("--public", "--private"),
                            (*self.COMMON, "--disk-format", "--container-format", "--file"),
                            required="<image>")
        if not isinstance(line, CommandLine):
            return line
        opts, name = line.opts, line.name
        if verb == "show":
            image = st.images.get(name)
            if image is None:
                return [f"No Image found for {name}"], 1
            return shown(image.model_dump(), opts), 0
        if verb == "create":
            path = one_value(opts, "--file")
            if path is None or path not in st.host_files.get(host, []):
                return [f"[Errno 2] No such file or directory: '{path}'"], 1
            image = ImageState(name=name, id=str(uuid.uuid4()),
                               disk_format=one_value(opts, "--disk-format", "raw") or "raw",
                               container_format=one_value(opts, "--container-format", "bare")
                               or "bare")
            st.images[name] = image
            self.lab.save()
            return shown(image.model_dump(), opts), 0
        if verb == "delete":
            if st.images.pop(name, None) is None:
                return [f"Failed to delete image with name or ID '{name}': No Image found for "
                        f"{name}", "Failed to delete 1 of 1 images."], 1
            self.lab.save()
            return [], 0
        return None

    def _flavor(self, host: str, verb: str, rest: list[str]) -> Result | None:
        st = self.lab.state
        line = command_line(f"flavor {verb}", rest, ("--public",),
                            (*self.COMMON, "--ram", "--vcpus", "--disk"), required="<flavor>")
        if not isinstance(line, CommandLine):
            return line
        opts, name = line.opts, line.name
        if verb == "show":
            flavor = st.flavors.get(name)
            if flavor is None:
                return [f"No Flavor found for {name}"], 1
            return shown(flavor.model_dump(), opts), 0
        if verb == "create":
            if name in st.flavors:
                return [f"Conflict: Flavor with name {name} already exists. (HTTP 409)"], 1
            try:
                flavor = FlavorState(name=name, id=str(uuid.uuid4()),
                                     ram=int(one_value(opts, "--ram", "256") or 256),
                                     vcpus=int(one_value(opts, "--vcpus", "1") or 1),
                                     disk=int(one_value(opts, "--disk", "0") or 0))
            except ValueError:
                return ["openstack flavor create: error: --ram, --vcpus and --disk take "
                        "whole numbers"], 2
            st.flavors[name] = flavor
            self.lab.save()
            return shown(flavor.model_dump(), opts), 0
        if verb == "delete":
            if st.flavors.pop(name, None) is None:
                return [f"Failed to delete flavor with name or ID '{name}'"], 1
            self.lab.save()
            return [], 0
        return None

    # -- networks, subnets and routers -------------------------------------------------------

    def _subnets_of(self, network: str) -> list[str]:
        return [s.name for s in self.lab.state.subnets.values() if s.network == network]

    def _network_delete(self, host: str, verb: str, rest: list[str]) -> Result | None:
        st = self.lab.state
        names = [w for w in rest if not w.startswith("-")]
        for name in names:
            if name not in st.networks:
                return [f"Failed to delete network with name or ID '{name}': No Network found "
                        f"for {name}", "1 of 1 networks failed to delete."], 1
            in_use = [s.name for s in st.servers.values() if s.network == name] + [
                r.name for r in st.routers.values()
                if r.external_gateway == name or set(r.subnets) & set(self._subnets_of(name))]
            if in_use:
                return [f"ConflictException: 409: Unable to complete operation on network "
                        f"{name}. There are one or more ports still in use on the network "
                        f"({', '.join(sorted(in_use))})."], 1
            for subnet in self._subnets_of(name):
                del st.subnets[subnet]
            del st.networks[name]
        self.lab.save()
        return [], 0

    def _subnet_delete(self, host: str, verb: str, rest: list[str]) -> Result | None:
        st = self.lab.state
        for name in (w for w in rest if not w.startswith("-")):
            if name not in st.subnets:
                return [f"Failed to delete subnet with name or ID '{name}': No Subnet found "
                        f"for {name}"], 1
            if any(name in r.subnets for r in st.routers.values()):
                return [f"ConflictException: 409: Unable to complete operation on subnet "
                        f"{name}: One or more ports have an IP allocation from this subnet."], 1
            del st.subnets[name]
        self.lab.save()
        return [], 0

    def _router(self, host: str, verb: str, rest: list[str]) -> Result | None:
        st = self.lab.state
        if verb in ("add", "remove") and rest[:1] == ["subnet"]:
            words = [w for w in rest[1:] if not w.startswith("-")]
            if len(words) != 2:
                return [f"openstack router {verb} subnet: error: the following arguments are "
                        "required: <router>, <subnet>"], 2
            router, subnet = st.routers.get(words[0]), words[1]
            if router is None:
                return [f"No Router found for {words[0]}"], 1
            if subnet not in st.subnets:
                return [f"No Subnet found for {subnet}"], 1
            if verb == "add" and subnet not in router.subnets:
                router.subnets.append(subnet)
            elif verb == "remove":
                if subnet not in router.subnets:
                    return [f"NotFoundException: 404: Router {router.name} has no interface on "
                            f"subnet {subnet}"], 1
                router.subnets.remove(subnet)
            self.lab.save()
            return [], 0
        line = command_line(f"router {verb}", rest, (), (*self.COMMON, "--external-gateway"),
                            required="<router>")
        if not isinstance(line, CommandLine):
            return line
        opts, name = line.opts, line.name
        if verb == "create":
            st.routers[name] = RouterState(name=name)
            self.lab.save()
            return shown(st.routers[name].model_dump(), opts), 0
        router = st.routers.get(name)
        if router is None:
            return [f"No Router found for {name}"], 1
        if verb == "show":
            return shown(router.model_dump(), opts), 0
        if verb == "set":
            gateway = one_value(opts, "--external-gateway")
            if gateway is not None:
                net = st.networks.get(gateway)
                if net is None:
                    return [f"No Network found for {gateway}"], 1
                if not net.external:
                    return [f"BadRequestException: 400: Network {gateway} is not a valid "
                            "external network"], 1
                if not self._subnets_of(gateway):
                    return [f"BadRequestException: 400: Network {gateway} has no subnet for the "
                            "router's gateway"], 1
                router.external_gateway = gateway
            self.lab.save()
            return [], 0
        if verb == "delete":
            if router.subnets:
                return [f"ConflictException: 409: Router {name} still has ports (interfaces on "
                        f"{', '.join(router.subnets)})", "1 of 1 routers failed to delete."], 1
            del st.routers[name]
            self.lab.save()
            return [], 0
        return None

    # -- security groups and keypairs -------------------------------------------------------

    def _security_group(self, host: str, verb: str, rest: list[str]) -> Result | None:
        st = self.lab.state
        line = command_line(f"security group {verb}", rest, (), (*self.COMMON, "--description"),
                            required="<group>")
        if not isinstance(line, CommandLine):
            return line
        opts, name = line.opts, line.name
        if verb == "create":
            st.security_groups[name] = SecurityGroupState(name=name)
            self.lab.save()
            return shown(st.security_groups[name].model_dump(), opts), 0
        group = st.security_groups.get(name)
        if group is None:
            return [f"No SecurityGroup found for {name}"], 1
        if verb == "show":
            return shown(group.model_dump(), opts), 0
        if verb == "delete":
            users = [s.name for s in st.servers.values() if name in s.security_groups]
            if users:
                return [f"ConflictException: 409: Security Group {name} in use by "
                        f"{', '.join(users)}."], 1
            del st.security_groups[name]
            self.lab.save()
            return [], 0
        return None

    def _security_group_rule(self, host: str, verb: str, rest: list[str]) -> Result | None:
        if verb != "create":
            return None
        line = command_line("security group rule create", rest, ("--ingress", "--egress"),
                            (*self.COMMON, "--protocol", "--dst-port", "--remote-ip",
                             "--ethertype"))
        if not isinstance(line, CommandLine):
            return line
        opts, words = line.opts, line.words
        group = self.lab.state.security_groups.get(words[0]) if words else None
        if group is None:
            return [f"No SecurityGroup found for {words[0] if words else ''}"], 1
        direction = "egress" if "--egress" in opts else "ingress"
        rule = " ".join(x for x in (direction, one_value(opts, "--protocol", "any"),
                                    one_value(opts, "--dst-port")) if x)
        if rule in group.rules:
            return ["ConflictException: 409: Security group rule already exists."], 1
        group.rules.append(rule)
        self.lab.save()
        return shown({"id": str(uuid.uuid4()), "rule": rule}, opts), 0

    def _keypair(self, host: str, verb: str, rest: list[str]) -> Result | None:
        st = self.lab.state
        words = [w for w in rest if not w.startswith("-")]
        if not words:
            return [f"openstack keypair {verb}: error: the following arguments are required: "
                    "<name>"], 2
        name = words[0]
        if verb == "create":
            if name in st.keypairs:
                return [f"ConflictException: 409: Key pair '{name}' already exists."], 1
            st.keypairs[name] = uuid.uuid4().hex
            self.lab.save()
            return list(FAKE_PRIVATE_KEY), 0  # the client prints the new private key
        if verb == "show":
            if name not in st.keypairs:
                return [f"No keypair with a name or ID of '{name}' exists."], 1
            return [st.keypairs[name]], 0
        if verb == "delete":
            if st.keypairs.pop(name, None) is None:
                return [f"Failed to delete key with name '{name}'"], 1
            self.lab.save()
            return [], 0
        return None

    # -- the hosts' own commands --------------------------------------------------------------

    def ping(self, target: str) -> Result:
        """`ping -c N ADDRESS` from a host (installer/lab/servers.py)."""
        return self.servers.ping(target)

    def curl(self, host: str, args: list[str]) -> Result:
        """`curl ... -o PATH URL` (a download, kept as a file of the host) or `curl ... -o
        /dev/null -w %{http_code} URL` (does the URL answer)."""
        parsed = parse_args(args, ("-f", "-s", "-S", "-L", "-k", "-fsSL", "-sk", "--create-dirs"),
                        ("-o", "-w", "--max-time"))
        if isinstance(parsed, str):
            return [f"curl: option {parsed}"], 2
        opts, words = parsed
        if len(words) != 1:
            return ["curl: try 'curl --help' for more information"], 2
        url, out = words[0], one_value(opts, "-o")
        if out not in (None, "/dev/null"):
            # A download from the internet: the lab's hosts reach it (faults model otherwise).
            files = self.lab.state.host_files.setdefault(host, [])
            if out not in files:
                files.append(out)
            self.lab.save()
            return [], 0
        if not self.answers(url):
            return [f"curl: (7) Failed to connect to {url}: Connection refused"], 7
        return ["300" if "-w" in opts else ""], 0

    def rm(self, host: str, args: list[str]) -> Result:
        files = self.lab.state.host_files.get(host, [])
        for path in (a for a in args if not a.startswith("-")):
            if path in files:
                files.remove(path)
            elif "-f" not in args:
                return [f"rm: cannot remove '{path}': No such file or directory"], 1
        if not files:
            self.lab.state.host_files.pop(host, None)
        self.lab.save()
        return [], 0
