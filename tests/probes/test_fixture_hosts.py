"""The readers against checked-in host trees (tests/fixtures/hosts/<name>, see build.py there)."""

from __future__ import annotations

from ipaddress import ip_interface
from pathlib import Path

import pytest

from probes.facts import HostFacts
from probes.local import probe_local

HOSTS = Path(__file__).resolve().parent.parent / "fixtures" / "hosts"


def probe(name: str) -> HostFacts:
    return probe_local(str(HOSTS / name))


@pytest.fixture(scope="module")
def server() -> HostFacts:
    return probe("server-2s")


def test_server_network_bond_vlan_bridge_and_unplugged_nic(server: HostFacts) -> None:
    f = server
    assert f.probe_errors == []
    bond = f.nic("bond0")
    assert bond is not None
    assert (bond.kind, bond.members, bond.driver) == ("bond", ["ens1f0", "ens1f1"], "bonding")
    for member in ("ens1f0", "ens1f1"):
        m = f.nic(member)
        assert m is not None
        assert (m.kind, m.master, m.speed_mbps, m.driver) == (
            "physical",
            "bond0",
            25000,
            "mlx5_core",
        )
        assert (m.sriov_totalvfs, m.sriov_numvfs, m.mtu) == (8, 0, 9000)
    assert f.nic("ens1f0").pci_address == "0000:3b:00.0"  # type: ignore[union-attr]
    vlan = f.nic("bond0.100")
    assert vlan is not None
    assert (vlan.kind, vlan.vlan_id, vlan.vlan_parent, vlan.master) == ("vlan", 100, "bond0", "br0")
    br = f.nic("br0")
    assert br is not None
    assert (br.kind, br.members) == ("bridge", ["bond0.100"])
    assert br.ipv4 == [ip_interface("10.20.0.11/24")]
    assert br.ipv6 == [ip_interface("2001:db8:20::11/64")]
    assert f.nic("bond0").ipv4 == [ip_interface("10.30.0.11/24")]  # type: ignore[union-attr]
    unplugged = f.nic("eno2")
    assert unplugged is not None
    assert (unplugged.state, unplugged.carrier, unplugged.speed_mbps) == ("down", False, None)
    assert f.nic("lo").kind == "loopback"  # type: ignore[union-attr]
    assert f.default_route is not None
    assert (f.default_route.gateway, f.default_route.nic, f.default_route.family) == (
        "10.20.0.1",
        "br0",
        4,
    )
    assert f.nic_with_address("10.20.0.11") is br


def test_server_disks_and_eligibility_reasons(server: HostFacts) -> None:
    reasons = {d.name: d.ineligible_reason for d in server.disks}
    assert reasons == {
        "nvme0n1": "holds the root filesystem",
        "sda": "is mounted on /srv",
        "sdb": "is an LVM physical volume",
        "sdc": "has an old dos partition table; wipe it first",
        "sdd": None,
        "sde": None,
        "sdf": None,
        "sdg": "is removable",
    }
    assert [d.name for d in server.disks if d.osd_eligible] == ["sdd", "sde", "sdf"]
    root = server.disk("/dev/nvme0n1")
    assert root is not None
    assert root.transport == "nvme" and root.holds_root
    assert root.partitions == ["nvme0n1p1", "nvme0n1p2"]
    assert sorted(root.mountpoints) == ["/", "/boot/efi"]
    assert root.size_bytes == 960_197_124_096
    assert root.serial == "S6CKNE0T912345"
    assert root.wwn == "eui.36434b3052a123450025384500000001"
    sdd = server.disk("/dev/disk/by-id/wwn-0x5000c500a1b2c3d4")
    assert sdd is not None and sdd.name == "sdd"
    assert sdd.by_id[0] == "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"  # wwn first
    assert (sdd.transport, sdd.rotational, sdd.model) == ("sata", False, "MZ7L33T8HBLT-00A07")
    sdb = server.disk("sdb")
    assert sdb is not None and sdb.holders == ["dm-0"] and sdb.signature == "LVM2_member"
    assert server.disk("sda").signature == "xfs"  # type: ignore[union-attr]
    usb = server.disk("sdg")
    assert usb is not None and usb.transport == "usb" and usb.removable


def test_server_cpu_memory_os(server: HostFacts) -> None:
    c = server.cpu
    assert (c.sockets, c.cores, c.threads) == (2, 16, 32)
    assert (c.vendor, c.flags_vmx, c.flags_svm) == ("GenuineIntel", True, False)
    assert (c.kvm_device, c.kvm_usable, c.nested, c.iommu) == (True, True, False, True)
    assert c.virtualized_by == "none"
    assert c.virtualization == "kvm"
    assert "KVM_GET_API_VERSION=12" in c.virtualization_reason
    assert "vmx" in c.virtualization_reason
    assert server.memory.total_bytes == 527_938_716 * 1024
    assert server.memory.hugepages_total == 1024
    assert server.memory.hugepage_size_bytes == 2 * 1024 * 1024
    assert (server.os.id, server.os.version, server.os.arch) == ("ubuntu", "24.04", "x86_64")
    assert server.os.kernel == "6.8.0-45-generic"
    assert (server.hostname, server.fqdn, server.fqdn_resolves_to) == (
        "node1",
        "node1.maas.example",
        ["10.20.0.11"],
    )
    assert (server.snapd.present, server.snapd.version) == (True, "2.66.1")
    assert {s.path for s in server.free_space} == {"/", "/var/lib", "/var/snap"}
    assert all(s.total_bytes >= s.free_bytes > 0 for s in server.free_space)


def test_laptop_vm_without_kvm_is_emulated() -> None:
    f = probe("laptop-vm")
    c = f.cpu
    assert (c.kvm_device, c.kvm_usable, c.flags_vmx, c.flags_svm) == (False, False, False, False)
    assert c.virtualization == "emulated"
    assert "no /dev/kvm and no vmx/svm flag" in c.virtualization_reason
    assert c.virtualized_by == "qemu"
    assert c.nested is None
    (vda,) = f.disks
    assert (vda.name, vda.size_bytes, vda.transport, vda.serial) == (
        "vda",
        64 * 1024**3,
        "virtio",
        "vda-serial-01",
    )
    assert vda.ineligible_reason == "holds the root filesystem"
    assert vda.signature == "gpt"
    nic = f.nic("enp1s0")
    assert nic is not None
    assert (nic.driver, nic.pci_address, nic.mac) == (
        "virtio_net",
        "0000:01:00.0",
        "52:54:00:12:34:56",
    )
    assert nic.ipv4 == [ip_interface("192.168.122.50/24")]
    assert nic.ipv6 == [ip_interface("fe80::5054:ff:fe12:3456/64")]
    assert f.fqdn is None and f.fqdn_resolves_to == ["127.0.1.1"]
    assert (f.snapd.present, f.snapd.version) == (True, "2.65.3")


def test_arm64_server() -> None:
    f = probe("arm64-server")
    c = f.cpu
    assert (c.architecture, c.vendor, c.model) == ("aarch64", "ARM", "Neoverse-N1")
    assert (c.sockets, c.cores, c.threads) == (1, 16, 16)
    assert c.virtualization == "kvm"
    assert "no vmx/svm flag" in c.virtualization_reason  # arm64 has none: /dev/kvm decides
    assert c.iommu
    assert f.os.arch == "aarch64"
    nic = f.nic("enP2p1s0f0")
    assert nic is not None
    assert (nic.speed_mbps, nic.sriov_totalvfs, nic.sriov_numvfs, nic.pci_address) == (
        100000,
        16,
        4,
        "0002:01:00.0",
    )
    assert {d.name: d.osd_eligible for d in f.disks} == {"nvme0n1": False, "nvme1n1": True}
    assert f.disk("nvme1n1").size_bytes == 7_681_501_126_656  # type: ignore[union-attr]


def test_nested_cloud_vm() -> None:
    f = probe("nested-cloud-vm")
    c = f.cpu
    assert (c.flags_vmx, c.kvm_usable, c.nested, c.virtualized_by) == (True, True, True, "kvm")
    assert c.virtualization == "kvm"
    reasons = {d.name: d.ineligible_reason for d in f.disks}
    assert reasons == {
        "vda": "holds the root filesystem",
        "vdb": None,
        "vdc": "is too small (1.1 GB); a Ceph OSD needs at least 5 GB",
        "vdd": "is used as swap",
    }
    assert f.disk("/dev/disk/by-id/virtio-b1c2d3e4-1").name == "vdb"  # type: ignore[union-attr]
    assert f.nic("ens3").mtu == 1450  # type: ignore[union-attr]
    assert f.os.version == "22.04"


def test_microvm_kvm_without_cpu_flags_is_decided_by_the_kernel() -> None:
    c = probe("microvm-kvm-noflags").cpu
    assert (c.flags_vmx, c.flags_svm, c.kvm_device, c.kvm_usable) == (False, False, True, True)
    assert c.virtualization == "kvm"
    assert "no vmx/svm flag in /proc/cpuinfo; the kernel decides" in c.virtualization_reason
    assert c.virtualized_by == "unknown hypervisor"


@pytest.mark.parametrize(
    "name", ["laptop-vm", "server-2s", "arm64-server", "nested-cloud-vm", "microvm-kvm-noflags"]
)
def test_facts_round_trip_through_json(name: str) -> None:
    facts = probe(name)
    assert HostFacts.model_validate_json(facts.model_dump_json()) == facts


def test_a_missing_root_gives_empty_facts_with_reasons_not_a_crash(tmp_path: Path) -> None:
    f = probe_local(str(tmp_path))
    assert f.nics == [] and f.disks == []
    assert f.hostname == "unknown"
    assert f.cpu.virtualization == "emulated"


def test_kvm_device_that_answers_a_wrong_version_is_not_usable(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "kvm").write_text("11\n")
    c = probe_local(str(tmp_path)).cpu
    assert (c.kvm_device, c.kvm_usable, c.virtualization) == (True, False, "emulated")
    assert "KVM_GET_API_VERSION=11, not 12" in c.virtualization_reason


def test_a_crashing_reader_is_reported_in_probe_errors(tmp_path: Path) -> None:
    # /proc/net/route with a non-hex field: the network reader fails, the rest still comes.
    net = tmp_path / "proc" / "net"
    net.mkdir(parents=True)
    (net / "route").write_text("Iface\tDestination\nbr0\tZZZZ\t0\t0\t0\t0\t0\tXX\n")
    (tmp_path / "sys" / "class" / "net").mkdir(parents=True)
    f = probe_local(str(tmp_path))
    assert len(f.probe_errors) == 1
    assert f.probe_errors[0].startswith("network: ValueError")
    assert f.cpu is not None


def test_a_disk_the_probe_cannot_read_is_unknown_never_blank(tmp_path: Path) -> None:
    """As a normal user /dev/sdX is unreadable: its signature is unknown and it is not offered
    to Ceph (here the device node is a directory: unreadable even for root)."""
    import shutil

    tree = tmp_path / "server-2s"
    shutil.copytree(HOSTS / "server-2s", tree, symlinks=True)
    before = probe_local(str(tree)).disk("sdd")
    assert before is not None and before.osd_eligible and before.signature is None
    (tree / "dev" / "sdd").unlink()
    (tree / "dev" / "sdd").mkdir()
    sdd = probe_local(str(tree)).disk("sdd")
    assert sdd is not None
    assert sdd.signature == "unknown"
    assert not sdd.osd_eligible
    assert sdd.ineligible_reason and "root" in sdd.ineligible_reason
