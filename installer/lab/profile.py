"""The lab's default server: a realistic HostFacts that meets the shipped releases' minimums.

32 cores with working KVM, 128 GiB, two 10 GbE NICs (the first carries the management address),
an NVMe root disk and blank data disks. The data disks are generated to match the `osd_devices`
the answers name for the host, so the shipped examples pass preflight in dry-run.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network

from probes.facts import HostFacts

GIB = 1024**3
DATA_DISK_BYTES = 3_840_755_982_336  # a 3.84 TB SAS SSD
ROOT_DISK_BYTES = 960_197_124_096  # a 960 GB NVMe drive


def _hex(seed: str, width: int) -> str:
    return f"{zlib.crc32(seed.encode()) & ((1 << (4 * width)) - 1):0{width}x}"


def _mac(seed: str) -> str:
    h = _hex(seed, 6)
    return "3c:ec:ef:" + ":".join(h[i : i + 2] for i in range(0, 6, 2))


def _disk_name(index: int) -> str:
    # sdb, sdc, ... sdz, sdaa: the root disk is NVMe, so SCSI names start at sda.
    letters = ""
    n = index
    while True:
        letters = chr(ord("a") + n % 26) + letters
        n = n // 26 - 1
        if n < 0:
            return "sd" + letters


def _data_disk(name: str, device: str | None, seed: str) -> dict[str, object]:
    """A blank data disk named by `device` (a by-id link or /dev path), or a generated one."""
    by_id: list[str] = []
    wwn = None
    if device and device.startswith("/dev/disk/by-id/"):
        link = device.rsplit("/", 1)[-1]
        by_id.append(device)
        if link.startswith("wwn-"):
            wwn = link[len("wwn-") :]
    if wwn is None and not by_id:
        wwn = "0x5000c500" + _hex(seed + name, 8)
        by_id.append(f"/dev/disk/by-id/wwn-{wwn}")
    serial = _hex(seed + name + "serial", 8).upper()
    by_id.append(f"/dev/disk/by-id/scsi-35000c500{serial.lower()}")
    return {
        "name": name,
        "path": f"/dev/{name}",
        "by_id": by_id,
        "size_bytes": DATA_DISK_BYTES,
        "rotational": False,
        "model": "MZILT3T8HBLS/007",
        "serial": serial,
        "wwn": wwn,
        "transport": "sas",
        "osd_eligible": True,
    }


def default_facts(
    hostname: str,
    address: str,
    *,
    prefix: int = 24,
    osd_devices: Sequence[str] = (),
    external_nic: str | None = None,
    gateway: str | None = None,
) -> HostFacts:
    """The default server profile for `hostname` with its management `address`."""
    addr = ip_address(address)
    net = ip_network(f"{address}/{prefix}", strict=False)
    if gateway is None:
        gateway = str(next(net.hosts())) if net.num_addresses > 2 else address
    root_name = "nvme0n1"
    disks: list[dict[str, object]] = [
        {
            "name": root_name,
            "path": f"/dev/{root_name}",
            "by_id": [
                "/dev/disk/by-id/nvme-SAMSUNG_MZ1L2960HCJR-00A07_S665NE0T"
                + _hex(hostname, 6).upper()
            ],
            "size_bytes": ROOT_DISK_BYTES,
            "rotational": False,
            "model": "SAMSUNG MZ1L2960HCJR-00A07",
            "serial": f"S665NE0T{_hex(hostname, 6).upper()}",
            "transport": "nvme",
            "partitions": [f"{root_name}p1", f"{root_name}p2"],
            "mountpoints": ["/boot/efi", "/"],
            "signature": "gpt",
            "holds_root": True,
            "osd_eligible": False,
            "ineligible_reason": "It holds the root filesystem.",
        }
    ]
    # Disks the answers name by kernel path (/dev/sdX) keep that name; the others get the next
    # free sdX name. Hosts that name none still get two blank disks, as a real server has.
    wanted: list[str | None] = list(osd_devices) or [None, None]
    taken = {d.removeprefix("/dev/") for d in wanted if d and not d.startswith("/dev/disk/")}
    index = 0
    for device in wanted:
        if device and not device.startswith("/dev/disk/"):
            name = device.removeprefix("/dev/")
        else:
            while _disk_name(index) in taken:
                index += 1
            name = _disk_name(index)
            taken.add(name)
        disks.append(_data_disk(name, device, hostname))

    nics: list[dict[str, object]] = [
        {
            "name": "lo",
            "mtu": 65536,
            "state": "unknown",
            "kind": "loopback",
            "ipv4": ["127.0.0.1/8"],
            "ipv6": ["::1/128"],
        },
        {
            "name": "eno1",
            "mac": _mac(hostname + "eno1"),
            "mtu": 1500,
            "state": "up",
            "carrier": True,
            "speed_mbps": 10000,
            "driver": "i40e",
            "pci_address": "0000:3b:00.0",
            "kind": "physical",
            "ipv4" if isinstance(addr, IPv4Address) else "ipv6": [f"{address}/{prefix}"],
            "sriov_totalvfs": 64,
            "sriov_numvfs": 0,
        },
        {
            "name": "eno2",
            "mac": _mac(hostname + "eno2"),
            "mtu": 1500,
            "state": "up",
            "carrier": True,
            "speed_mbps": 10000,
            "driver": "i40e",
            "pci_address": "0000:3b:00.1",
            "kind": "physical",
            "sriov_totalvfs": 64,
            "sriov_numvfs": 0,
        },
    ]
    if external_nic and external_nic not in {"lo", "eno1", "eno2"}:
        nics.append(
            {
                "name": external_nic,
                "mac": _mac(hostname + external_nic),
                "mtu": 1500,
                "state": "up",
                "carrier": True,
                "speed_mbps": 25000,
                "driver": "mlx5_core",
                "pci_address": "0000:5e:00.1",
                "kind": "physical",
            }
        )
    total_root = 894 * GIB
    return HostFacts.model_validate(
        {
            "hostname": hostname.split(".")[0],
            "fqdn": hostname if "." in hostname else f"{hostname}.lab",
            "fqdn_resolves_to": [address],
            "nics": nics,
            "default_route": {
                "gateway": gateway,
                "nic": "eno1",
                "family": 4 if isinstance(net, IPv4Network) else 6,
            },
            "disks": disks,
            "cpu": {
                "vendor": "GenuineIntel",
                "model": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
                "architecture": "x86_64",
                "sockets": 2,
                "cores": 32,
                "threads": 64,
                "flags_vmx": True,
                "kvm_device": True,
                "kvm_usable": True,
                "nested": False,
                "virtualized_by": "none",
                "iommu": True,
                "virtualization": "kvm",
                "virtualization_reason": "/dev/kvm answers KVM_GET_API_VERSION with 12",
            },
            "memory": {"total_bytes": 128 * GIB, "available_bytes": 121 * GIB},
            "os": {
                "id": "ubuntu",
                "version": "24.04",
                "pretty_name": "Ubuntu 24.04.2 LTS",
                "kernel": "6.8.0-57-generic",
                "arch": "x86_64",
            },
            "snapd": {"present": True, "version": "2.67.1"},
            "free_space": [{"path": "/", "free_bytes": 850 * GIB, "total_bytes": total_root}],
        }
    )
