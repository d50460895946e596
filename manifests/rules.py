"""The static rules of an answers file: the ones that need no host facts (DESIGN.md).

Each rule yields (path, message) with the path of the value at fault, so the loader can point at
its line. Rules run only on a schema-valid Answers (PITFALLS: model validators have no location).
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address

from manifests.answers import Answers
from manifests.files import PASSWORD_FILE_MAX, FileProblem, read_password_file, size_text
from manifests.release import load_release, shipped_releases

Path = tuple[str | int, ...]
Rule = Iterator[tuple[Path, str]]


def check_rules(answers: Answers) -> list[tuple[Path, str]]:
    """Every static rule broken by `answers`, as (path, message)."""
    out: list[tuple[Path, str]] = []
    for rule in RULES:
        out.extend(rule(answers))
    return out


def control_count(a: Answers) -> Rule:
    control = [i for i, h in enumerate(a.hosts) if "control" in h.roles]
    if not control:
        yield (
            ("hosts",),
            (
                "no host has the control role; give it to 1 host, "
                "or to 3 or more for a highly available control plane"
            ),
        )
    elif len(control) == 2:
        names = " and ".join(a.hosts[i].name for i in control)
        yield (
            ("hosts", control[1], "roles"),
            f"the control role is on 2 hosts ({names}); it must be on 1 host, or on 3 or more "
            "for high availability (a 2-node database cluster cannot keep quorum)",
        )


def compute_present(a: Answers) -> Rule:
    if not a.hosts_with("compute"):
        yield ("hosts",), "no host has the compute role; give it to at least one host"


def storage_devices(a: Answers) -> Rule:
    for i, h in enumerate(a.hosts):
        if "storage" in h.roles and not h.osd_devices:
            yield (
                (("hosts", i, "roles")),
                f"host {h.name} has the storage role but no osd_devices; list at least one "
                "whole disk for Ceph, e.g. osd_devices: [/dev/disk/by-id/wwn-0x...]",
            )
        if h.osd_devices and "storage" not in h.roles:
            yield (
                (("hosts", i, "osd_devices")),
                f"host {h.name} lists osd_devices but has no storage role; add storage to its "
                "roles or remove osd_devices",
            )
        if h.external_nic and not {"compute", "network"} & set(h.roles):
            yield (
                (("hosts", i, "external_nic")),
                f"host {h.name} names an external_nic but has no compute role; only compute "
                "hosts carry the external network",
            )


def network_role(a: Answers) -> Rule:
    """Sunbeam 2024.1 and 2025.1 refuse compute and network on one node unless the gated
    `feature.split-roles` is on (provider/local/commands.py:675-678; reference §4); a network
    node's external NIC goes to openstack-network-agents, which this installer does not set yet."""
    for i, h in enumerate(a.hosts):
        if "network" in h.roles and "compute" in h.roles:
            yield (
                ("hosts", i, "roles"),
                f"host {h.name} has both the compute and the network role; Sunbeam does not "
                "put them on one host (split roles are gated); give it one of the two",
            )
        elif "network" in h.roles and h.external_nic:
            yield (
                ("hosts", i, "external_nic"),
                f"host {h.name} is a network host with an external_nic; this installer sets "
                "the external NIC on compute hosts only (the hypervisor's action); remove it",
            )


def unique_hosts(a: Answers) -> Rule:
    names: dict[str, int] = {}
    addresses: dict[str, int] = {}
    for i, h in enumerate(a.hosts):
        key = h.name.lower()
        if key in names:
            yield (
                ("hosts", i, "name"),
                f"host name {h.name!r} is also used by hosts[{names[key]}]; names must be unique",
            )
        else:
            names[key] = i
        if h.address is not None:
            addr = str(h.address)
            if addr in addresses:
                yield (
                    ("hosts", i, "address"),
                    f"address {addr} is also used by hosts[{addresses[addr]}] "
                    f"({a.hosts[addresses[addr]].name}); addresses must be unique",
                )
            else:
                addresses[addr] = i


def local_host(a: Answers) -> Rule:
    local = [i for i, h in enumerate(a.hosts) if h.address is None]
    for i in local[1:]:
        yield (
            ("hosts", i, "name"),
            f"host {a.hosts[i].name} has no address, and neither has hosts[{local[0]}]; only "
            "one host (this machine) may omit its address: give the others theirs",
        )
    for i, h in enumerate(a.hosts):
        if h.address is None and h.ssh_user:
            yield (
                ("hosts", i, "ssh_user"),
                f"host {h.name} has an ssh_user but no address; ssh_user is for remote hosts, "
                "so add its address or remove ssh_user",
            )


def addresses_in_management(a: Answers) -> Rule:
    cidr = a.network.management_cidr
    for i, h in enumerate(a.hosts):
        if h.address is None:
            continue
        if h.address not in cidr:
            yield (
                ("hosts", i, "address"),
                f"address {h.address} of host {h.name} is outside the management network "
                f"{cidr}; use an address in {cidr} or correct network.management_cidr",
            )
        elif h.address in (cidr.network_address, cidr.broadcast_address) and cidr.num_addresses > 2:
            yield (
                ("hosts", i, "address"),
                f"address {h.address} of host {h.name} is the network or broadcast address "
                f"of {cidr}; use a host address",
            )


def loadbalancer_range(a: Answers) -> Rule:
    net = a.network
    r = net.loadbalancer_range
    path: Path = ("network", "loadbalancer_range")
    if not r.ordered:
        yield path, f"range {r} ends before it starts; write the lower address first"
        return
    if not r.within(net.management_cidr):
        yield (
            path,
            (
                f"range {r} is not inside the management network {net.management_cidr}; "
                "the API endpoints must be reachable on it"
            ),
        )
    yield from _hosts_in_range(a, r, path, "load-balancer range")


def external_network(a: Answers) -> Rule:
    ext = a.network.external
    if ext is None:
        return
    base: Path = ("network", "external")
    if ext.gateway not in ext.cidr:
        yield (
            (*base, "gateway"),
            (
                f"gateway {ext.gateway} is outside the external network "
                f"{ext.cidr}; use an address in {ext.cidr}"
            ),
        )
    r = ext.allocation_range
    if not r.ordered:
        yield (
            (*base, "allocation_range"),
            (f"range {r} ends before it starts; write the lower address first"),
        )
        return
    if not r.within(ext.cidr):
        yield (
            (*base, "allocation_range"),
            (f"range {r} is not inside the external network {ext.cidr}"),
        )
    if ext.gateway in r:
        yield (
            (*base, "gateway"),
            (
                f"gateway {ext.gateway} is inside the allocation range {r}; "
                "floating IPs would collide with it, so shrink the range"
            ),
        )
    lb = a.network.loadbalancer_range
    if lb.ordered and r.overlaps(lb):
        yield (
            (*base, "allocation_range"),
            (
                f"range {r} overlaps the load-balancer range {lb}; "
                "the two ranges must not share addresses"
            ),
        )
    if ext.cidr.version == a.network.management_cidr.version and ext.cidr.overlaps(
        a.network.management_cidr
    ):
        yield (
            (*base, "cidr"),
            (
                f"external network {ext.cidr} overlaps the management network "
                f"{a.network.management_cidr}; use a separate network"
            ),
        )
    yield from _hosts_in_range(a, r, (*base, "allocation_range"), "allocation range")


def _hosts_in_range(a: Answers, r: object, path: Path, what: str) -> Rule:
    from manifests.iprange import IpRange

    assert isinstance(r, IpRange)
    for h in a.hosts:
        if isinstance(h.address, IPv4Address | IPv6Address) and h.address in r:
            yield (
                path,
                (
                    f"{what} {r} contains the address {h.address} of host {h.name}; "
                    "keep host addresses out of it"
                ),
            )


def release_known(a: Answers) -> Rule:
    known = shipped_releases()
    if a.release not in known:
        yield (
            ("release",),
            (
                f"release {a.release!r} is not one this installer ships; "
                f"choose one of: {', '.join(known)}"
            ),
        )


def features_known(a: Answers) -> Rule:
    if a.release not in shipped_releases():
        return  # reported by release_known
    release = load_release(a.release)
    enabled = set(a.features)
    seen: set[str] = set()
    for i, f in enumerate(a.features):
        if f in seen:
            yield ("features", i), f"feature {f!r} is listed twice; list it once"
        seen.add(f)
        feature = release.features.get(f)
        if feature is None:
            yield (
                ("features", i),
                (
                    f"unknown feature {f!r} for release {a.release}; known "
                    f"features: {', '.join(sorted(release.features))}"
                ),
            )
            continue
        missing = release.missing_requirements([f]).get(f, [])
        missing = [m for m in missing if m not in enabled]
        if len(missing) == 1:
            yield (
                ("features", i),
                f"feature {f!r} needs the feature {missing[0]!r}; add {missing[0]} to features",
            )
        elif missing:
            # Every requirement at once, those of its requirements too (caas: secrets,
            # loadbalancer and, through secrets, vault), so one edit fixes it.
            names = ", ".join(repr(m) for m in missing)
            yield (
                ("features", i),
                f"feature {f!r} needs the features {names}; add {', '.join(missing)} to "
                "features",
            )
    for charm in a.software:
        if charm not in release.all_charm_names():
            yield (
                ("software", charm),
                (
                    f"charm {charm!r} is not part of release {a.release}; "
                    "software overrides name charms of the release manifest"
                ),
            )


def admin_password_file(a: Answers) -> Rule:
    """The password file must be a short regular file holding a password: `/dev/zero` or a FIFO
    there would exhaust memory or hang the install when it reads the password."""
    path = a.identity.admin_password_file
    if not path:
        return
    try:
        read_password_file(path)
    except FileProblem as e:
        if e.content:
            message = f"{path!r} {e.reason}"
        elif e.missing:
            message = (
                f"{path!r} {e.reason}; create it, or set admin_password_file to null to use the "
                "password keystone generates"
            )
        else:
            message = (
                f"{path!r} {e.reason}; give a regular file of at most "
                f"{size_text(PASSWORD_FILE_MAX)} holding the password"
            )
        yield ("identity", "admin_password_file"), message


RULES = [
    control_count,
    compute_present,
    storage_devices,
    network_role,
    unique_hosts,
    local_host,
    addresses_in_management,
    loadbalancer_range,
    external_network,
    release_known,
    features_known,
    admin_password_file,
]
