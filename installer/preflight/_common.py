"""Helpers shared by the check modules: walking the hosts that have facts, naming sizes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from ipaddress import ip_address

from manifests.answers import Answers, Host
from probes.facts import HostFacts, Nic

GIB = 1024**3

# Facts by the answers' host name, as probes or the lab give them.
Facts = Mapping[str, HostFacts]


def hosts_with_facts(
    answers: Answers, facts: Mapping[str, HostFacts]
) -> Iterator[tuple[int, Host, HostFacts]]:
    """(index in answers.hosts, host, its facts) for every host whose probe succeeded.

    Hosts without facts are reported once, by `platform.facts_missing`; the other checks skip
    them rather than repeat that error in their own words.
    """
    for i, host in enumerate(answers.hosts):
        hf = facts.get(host.name)
        if hf is not None:
            yield i, host, hf


def management_address(answers: Answers, host: Host, hf: HostFacts) -> str | None:
    """The host's management address: the one in the answers, else (the local host, which has
    none there) the first address the host carries inside the management CIDR."""
    if host.address is not None:
        return str(host.address)
    cidr = answers.network.management_cidr
    for addr in hf.addresses():
        ip = ip_address(addr)
        if ip.version == cidr.version and ip in cidr:
            return addr
    return None


def lower_nics(hf: HostFacts, name: str) -> set[str]:
    """`name` and every NIC it stands on: bridge and bond members, VLAN parents, recursively.

    Taking any of these NICs away (as OVS does with the external NIC) takes `name` down too.
    """
    seen: set[str] = set()
    todo = [name]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        nic = hf.nic(n)
        if nic is None:
            continue
        todo.extend(nic.members)
        if nic.vlan_parent:
            todo.append(nic.vlan_parent)
        # Members may only name their master (the probe fills `master` from sysfs).
        todo.extend(m.name for m in hf.nics if m.master == n)
    return seen


def nic_label(nic: Nic) -> str:
    return f"{nic.name} ({nic.kind})" if nic.kind not in ("physical", "other") else nic.name


def gib(n_bytes: int) -> str:
    """Bytes as GiB with one decimal, dropping a trailing .0 (16 GiB, 15.6 GiB)."""
    value = round(n_bytes / GIB, 1)
    return f"{value:g} GiB"


def size(n_bytes: int) -> str:
    """A disk size in the unit people buy disks in: 480 GiB, 1.8 TiB."""
    if n_bytes >= 1024 * GIB:
        return f"{round(n_bytes / (1024 * GIB), 1):g} TiB"
    return gib(n_bytes)


def join(items: list[str], empty: str = "none", *, most: int = 8) -> str:
    """`a, b, c`; past `most` items `a, b, ... and 992 more` so a 1,000-host file stays readable."""
    if not items:
        return empty
    if len(items) > most:
        return f"{', '.join(items[:most])} and {len(items) - most} more"
    return ", ".join(items)
