"""Host facts: what one host has, as the probes find it and everything downstream reads it.

These models are the boundary between `probes` and the rest of the program; they round-trip
through JSON (`sunbeam-install probe --json`, `--facts DIR`, the remote probe's output).
"""

from __future__ import annotations

from ipaddress import IPv4Interface, IPv6Interface
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NicKind = Literal[
    "physical", "bond", "bridge", "vlan", "veth", "loopback", "tun", "virtual", "other"
]
Transport = Literal["nvme", "sata", "sas", "scsi", "virtio", "usb", "mmc", "unknown"]
Virtualization = Literal["kvm", "emulated", "unavailable"]


class _Facts(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False)


class Nic(_Facts):
    """One network interface."""

    name: str
    mac: str | None = None
    mtu: int | None = None
    state: str = "unknown"  # operstate: up, down, lowerlayerdown, unknown, dormant
    carrier: bool | None = None
    speed_mbps: int | None = None  # None when unknown or link down
    driver: str | None = None
    pci_address: str | None = None  # None for virtual devices
    kind: NicKind = "other"
    master: str | None = None  # bond or bridge this NIC is enslaved to
    members: list[str] = Field(default_factory=list)  # for bond and bridge
    vlan_id: int | None = None
    vlan_parent: str | None = None
    ipv4: list[IPv4Interface] = Field(default_factory=list)
    ipv6: list[IPv6Interface] = Field(default_factory=list)
    sriov_totalvfs: int | None = None
    sriov_numvfs: int | None = None

    def interfaces(self) -> list[IPv4Interface | IPv6Interface]:
        """IPv4 then IPv6 addresses with their prefixes."""
        out: list[IPv4Interface | IPv6Interface] = [*self.ipv4, *self.ipv6]
        return out


class Route(_Facts):
    """The default route."""

    gateway: str | None = None
    nic: str | None = None
    family: Literal[4, 6] = 4


class Disk(_Facts):
    """One whole block device and what stands on it."""

    name: str  # kernel name: sda, nvme0n1, vdb
    path: str  # /dev/<name>
    by_id: list[str] = Field(default_factory=list)  # /dev/disk/by-id/..., wwn-* first
    size_bytes: int
    rotational: bool | None = None
    model: str | None = None
    serial: str | None = None
    wwn: str | None = None
    transport: Transport = "unknown"
    removable: bool = False
    read_only: bool = False
    partitions: list[str] = Field(default_factory=list)  # kernel names: sda1, sda2
    mountpoints: list[str] = Field(default_factory=list)  # of the disk or any partition
    holders: list[str] = Field(default_factory=list)  # dm-0, md0 ... of the disk or a partition
    signature: str | None = None  # filesystem or other signature: ext4, LVM2_member, gpt, ...
    holds_root: bool = False
    osd_eligible: bool = False
    ineligible_reason: str | None = None  # one sentence when not eligible

    def matches(self, device: str) -> bool:
        """True when `device` (a /dev path or by-id link) names this disk."""
        return device in (self.path, self.name) or device in self.by_id


class Cpu(_Facts):
    """Processor and virtualization support."""

    vendor: str | None = None
    model: str | None = None
    architecture: str  # x86_64, aarch64, ppc64le, s390x
    sockets: int = 1
    cores: int = 1  # physical cores, all sockets
    threads: int = 1  # logical CPUs
    flags_vmx: bool = False
    flags_svm: bool = False
    kvm_device: bool = False  # /dev/kvm exists
    kvm_usable: bool = False  # /dev/kvm opens and KVM_GET_API_VERSION answers 12
    nested: bool | None = None  # kvm_intel/kvm_amd nested parameter
    virtualized_by: str | None = None  # "kvm", "vmware", "none", ... ; None when unknown
    iommu: bool = False
    virtualization: Virtualization = "unavailable"
    virtualization_reason: str = ""  # which evidence decided the verdict


class Memory(_Facts):
    total_bytes: int
    available_bytes: int
    hugepages_total: int = 0
    hugepage_size_bytes: int | None = None


class OsInfo(_Facts):
    id: str | None = None  # ubuntu
    version: str | None = None  # 24.04
    pretty_name: str | None = None
    kernel: str | None = None
    arch: str | None = None


class Snapd(_Facts):
    present: bool = False
    version: str | None = None


class FreeSpace(_Facts):
    path: str  # /var/snap, /var/lib
    free_bytes: int
    total_bytes: int


class HostFacts(_Facts):
    """Everything the installer knows about one host."""

    schema_version: Literal[1] = 1
    hostname: str
    fqdn: str | None = None
    fqdn_resolves_to: list[str] = Field(default_factory=list)  # addresses the FQDN resolves to
    nics: list[Nic] = Field(default_factory=list)
    default_route: Route | None = None
    disks: list[Disk] = Field(default_factory=list)
    cpu: Cpu
    memory: Memory
    os: OsInfo = Field(default_factory=OsInfo)
    snapd: Snapd = Field(default_factory=Snapd)
    free_space: list[FreeSpace] = Field(default_factory=list)
    probe_errors: list[str] = Field(default_factory=list)  # readers that failed, one line each

    def nic(self, name: str) -> Nic | None:
        return next((n for n in self.nics if n.name == name), None)

    def disk(self, device: str) -> Disk | None:
        return next((d for d in self.disks if d.matches(device)), None)

    def nic_with_address(self, address: str) -> Nic | None:
        """The NIC that carries `address`, if any."""
        for n in self.nics:
            if any(str(i.ip) == address for i in n.interfaces()):
                return n
        return None

    def addresses(self) -> list[str]:
        return [str(i.ip) for n in self.nics for i in n.interfaces()]

    def free_bytes(self, path: str = "/var") -> int | None:
        """Free bytes on the filesystem holding `path` (longest matching probe path)."""
        best = None
        for fs in self.free_space:
            if path.startswith(fs.path) and (best is None or len(fs.path) > len(best.path)):
                best = fs
        if best is None and self.free_space:
            best = self.free_space[0]
        return best.free_bytes if best else None
