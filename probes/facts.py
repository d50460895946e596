"""Host facts: what one host has, as the probes find it and everything downstream reads it.

These models are the boundary between `probes` and the rest of the program; they round-trip
through JSON (`sunbeam-install probe --json`, `--facts DIR`, the remote probe's output).
"""

from __future__ import annotations

from ipaddress import IPv4Interface, IPv6Interface
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

NicKind = Literal[
    "physical", "bond", "bridge", "vlan", "veth", "loopback", "tun", "virtual", "other"
]
Transport = Literal["nvme", "sata", "sas", "scsi", "virtio", "usb", "mmc", "unknown"]
Virtualization = Literal["kvm", "emulated", "unavailable"]

# Bounds: facts come from other hosts and from files, so nothing in them is trusted to be sane.
# A size or count is a non-negative 64-bit number; a name fits the kernel's or DNS's limit.
FACTS_FILE_MAX = 4 * 1024 * 1024
"""Largest facts file read: `probe --json` of a host is a few KB, ~0.5 KB more per disk or NIC;
validating a file this size takes ~60 MB."""
MAX_ITEMS = 4096  # NICs, disks, addresses, partitions ... of one host

Size = Annotated[int, Field(ge=0, lt=2**63)]  # bytes, counts
Name = Annotated[str, Field(max_length=255)]  # hostnames, NIC and disk names, short labels
Label = Annotated[str, Field(max_length=256)]  # model, serial, OS name, versions
PathText = Annotated[str, Field(max_length=4096)]  # /dev/..., /dev/disk/by-id/..., mount points
Sentence = Annotated[str, Field(max_length=4096)]  # a reason
ERROR_LINE_MAX = 1024
# A reader's error is diagnostics made from whatever failed: kept, clipped, never refused.
ErrorLine = Annotated[
    str, AfterValidator(lambda s: s if len(s) <= ERROR_LINE_MAX else s[: ERROR_LINE_MAX - 1] + "…")
]


def _many() -> Any:
    """A list field of at most MAX_ITEMS entries, empty by default."""
    return Field(default_factory=list, max_length=MAX_ITEMS)


class _Facts(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False)


class Nic(_Facts):
    """One network interface."""

    name: Name
    mac: Name | None = None
    mtu: Size | None = None
    state: Name = "unknown"  # operstate: up, down, lowerlayerdown, unknown, dormant
    carrier: bool | None = None
    speed_mbps: Size | None = None  # None when unknown or link down
    driver: Name | None = None
    pci_address: Name | None = None  # None for virtual devices
    kind: NicKind = "other"
    master: Name | None = None  # bond or bridge this NIC is enslaved to
    members: list[Name] = _many()  # for bond and bridge
    vlan_id: Size | None = None
    vlan_parent: Name | None = None
    ipv4: list[IPv4Interface] = _many()
    ipv6: list[IPv6Interface] = _many()
    sriov_totalvfs: Size | None = None
    sriov_numvfs: Size | None = None

    def interfaces(self) -> list[IPv4Interface | IPv6Interface]:
        """IPv4 then IPv6 addresses with their prefixes."""
        out: list[IPv4Interface | IPv6Interface] = [*self.ipv4, *self.ipv6]
        return out


class Route(_Facts):
    """The default route."""

    gateway: Name | None = None
    nic: Name | None = None
    family: Literal[4, 6] = 4


class Disk(_Facts):
    """One whole block device and what stands on it."""

    name: Name  # kernel name: sda, nvme0n1, vdb
    path: PathText  # /dev/<name>
    by_id: list[PathText] = _many()  # /dev/disk/by-id/..., wwn-* first
    size_bytes: Size
    rotational: bool | None = None
    model: Label | None = None
    serial: Label | None = None
    wwn: Label | None = None
    transport: Transport = "unknown"
    removable: bool = False
    read_only: bool = False
    partitions: list[Name] = _many()  # kernel names: sda1, sda2
    mountpoints: list[PathText] = _many()  # of the disk or any partition
    holders: list[Name] = _many()  # dm-0, md0 ... of the disk or a partition
    # filesystem or other signature: ext4, LVM2_member, gpt, ...; None when blank, "unknown"
    # when the device could not be read (a probe that is not root): never eligible.
    signature: Label | None = None
    holds_root: bool = False
    osd_eligible: bool = False
    ineligible_reason: Sentence | None = None  # one sentence when not eligible

    def matches(self, device: str) -> bool:
        """True when `device` (a /dev path or by-id link) names this disk."""
        return device in (self.path, self.name) or device in self.by_id


class Cpu(_Facts):
    """Processor and virtualization support."""

    vendor: Label | None = None
    model: Label | None = None
    architecture: Name  # x86_64, aarch64, ppc64le, s390x
    sockets: Size = 1
    cores: Size = 1  # physical cores, all sockets
    threads: Size = 1  # logical CPUs
    flags_vmx: bool = False
    flags_svm: bool = False
    kvm_device: bool = False  # /dev/kvm exists
    kvm_usable: bool = False  # /dev/kvm opens and KVM_GET_API_VERSION answers 12
    nested: bool | None = None  # kvm_intel/kvm_amd nested parameter
    virtualized_by: Name | None = None  # "kvm", "vmware", "none", ... ; None when unknown
    iommu: bool = False
    virtualization: Virtualization = "unavailable"
    virtualization_reason: Sentence = ""  # which evidence decided the verdict


class Memory(_Facts):
    total_bytes: Size
    available_bytes: Size
    hugepages_total: Size = 0
    hugepage_size_bytes: Size | None = None


class OsInfo(_Facts):
    id: Label | None = None  # ubuntu
    version: Label | None = None  # 24.04
    pretty_name: Label | None = None
    kernel: Label | None = None
    arch: Name | None = None


class Snapd(_Facts):
    present: bool = False
    version: Label | None = None


class FreeSpace(_Facts):
    path: PathText  # /var/snap, /var/lib
    free_bytes: Size
    total_bytes: Size


class HostFacts(_Facts):
    """Everything the installer knows about one host."""

    schema_version: Literal[1] = 1
    hostname: Name
    fqdn: Name | None = None
    fqdn_resolves_to: list[Name] = _many()  # addresses the FQDN resolves to
    nics: list[Nic] = _many()
    default_route: Route | None = None
    disks: list[Disk] = _many()
    cpu: Cpu
    memory: Memory
    os: OsInfo = Field(default_factory=OsInfo)
    snapd: Snapd = Field(default_factory=Snapd)
    free_space: list[FreeSpace] = _many()
    probe_errors: list[ErrorLine] = _many()  # readers that failed, one line each
    # What the install runs there; None when unknown (a fixture tree, facts from before).
    sudo_nopasswd: bool | None = None  # root, or `sudo -n true` succeeds
    has_curl: bool | None = None  # on the probing user's PATH
    has_python3: bool | None = None

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


def facts_problem(error: ValidationError) -> str:
    """The first problem of invalid facts, naming the field: `disks[0].size_bytes: Input should
    be greater than or equal to 0` (the value itself is left out: it may be huge)."""
    first = error.errors(include_url=False, include_input=False)[0]
    where = ""
    for part in first["loc"]:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return f"{where or 'top level'}: {first['msg']}"
