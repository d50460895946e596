"""The probe on this very machine, checked against independent sources (psutil, lsblk, ioctl)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess

import psutil
import pytest

from probes.local import probe_local
from probes.readers import net


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return probe_local()


def test_nics_addresses_and_macs_match_psutil(facts) -> None:  # type: ignore[no-untyped-def]
    expected = psutil.net_if_addrs()
    assert {n.name for n in facts.nics} == set(expected)
    for nic in facts.nics:
        addrs = expected[nic.name]
        v4 = sorted(a.address for a in addrs if a.family.name == "AF_INET")
        v6 = sorted(a.address.split("%")[0] for a in addrs if a.family.name == "AF_INET6")
        assert sorted(str(i.ip) for i in nic.ipv4) == v4, nic.name
        assert sorted(str(i.ip) for i in nic.ipv6) == v6, nic.name
        macs = [a.address for a in addrs if a.family == psutil.AF_LINK]
        if macs:
            assert nic.mac == macs[0]


def test_netlink_and_proc_fallback_agree_on_ipv4(facts) -> None:  # type: ignore[no-untyped-def]
    from_proc, problems = net.proc_addresses("/")
    assert problems == []
    for nic in facts.nics:
        proc_v4 = sorted(f"{a}/{p}" for fam, a, p in from_proc.get(nic.name, []) if fam == 4)
        assert sorted(str(i) for i in nic.ipv4) == proc_v4


def test_default_route_matches_proc_net_route(facts) -> None:  # type: ignore[no-untyped-def]
    with open("/proc/net/route") as f:
        rows = [line.split() for line in f.read().splitlines()[1:]]
    defaults = [r for r in rows if r[1] == "00000000" and r[7] == "00000000"]
    if not defaults:
        pytest.skip("this machine has no IPv4 default route")
    assert facts.default_route is not None and facts.default_route.nic == defaults[0][0]


@pytest.mark.skipif(shutil.which("lsblk") is None, reason="no lsblk here")
def test_disk_sizes_match_lsblk(facts) -> None:  # type: ignore[no-untyped-def]
    out = subprocess.run(
        ["lsblk", "--json", "--bytes", "--nodeps", "-o", "NAME,SIZE,TYPE"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sizes = {d["name"]: int(d["size"]) for d in json.loads(out)["blockdevices"]}
    assert facts.disks, "no disk found on this machine"
    for d in facts.disks:
        assert d.size_bytes == sizes[d.name]
    assert sum(d.holds_root for d in facts.disks) == 1


def test_virtualization_verdict_matches_dev_kvm(facts) -> None:  # type: ignore[no-untyped-def]
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        usable = False
    else:
        try:
            usable = fcntl.ioctl(fd, 0xAE00) == 12
        finally:
            os.close(fd)
    assert facts.cpu.kvm_usable is usable
    assert (facts.cpu.virtualization == "kvm") is (usable or facts.cpu.kvm_device)
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    assert facts.cpu.flags_vmx is (" vmx" in flags)
    assert facts.cpu.flags_svm is (" svm" in flags)
    assert facts.cpu.threads == os.cpu_count()


def test_memory_matches_psutil(facts) -> None:  # type: ignore[no-untyped-def]
    assert facts.memory.total_bytes == psutil.virtual_memory().total
