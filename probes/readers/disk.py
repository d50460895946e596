"""Whole disks from /sys/block, with identity from /dev/disk/by-id and usage from /proc.

lsblk is not used: without udev its model/serial/wwn are null, and it may be absent remotely.
"""

from __future__ import annotations

import os
import struct

from . import _fs
from .eligibility import UNKNOWN_SIGNATURE, osd_ineligible_reason

# Kernel names of block devices that are never disks an operator would hand to Ceph.
_SKIP_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "sr", "nbd", "fd", "rbd")


def _transport(devpath: str, name: str) -> str:
    if name.startswith("nvme") or "/nvme/" in devpath:
        return "nvme"
    if "/virtio" in devpath or name.startswith("vd"):
        return "virtio"
    if "/usb" in devpath:
        return "usb"
    if name.startswith("mmcblk"):
        return "mmc"
    if "/ata" in devpath:
        return "sata"
    if "/sas" in devpath or "/end_device-" in devpath:
        return "sas"
    if "/host" in devpath and "/target" in devpath:
        return "scsi"
    return "unknown"


def _by_id(root: str) -> dict[str, list[str]]:
    """{kernel name: [/dev/disk/by-id/... links]} with wwn-* first, partition links skipped."""
    out: dict[str, list[str]] = {}
    d = "/dev/disk/by-id"
    for entry in _fs.listdir(root, d):
        target = _fs.link_name(root, f"{d}/{entry}")
        if target:
            out.setdefault(target, []).append(f"{d}/{entry}")
    for links in out.values():
        links.sort(key=lambda p: (not os.path.basename(p).startswith("wwn-"), p))
    return out


def _mountinfo(root: str) -> dict[str, list[str]]:
    """{"major:minor": [mountpoints]} from /proc/self/mountinfo (device numbers, not names,
    so /dev/root and bind mounts are attributed to the right device)."""
    out: dict[str, list[str]] = {}
    for line in (_fs.read(root, "/proc/self/mountinfo") or "").splitlines():
        f = line.split()
        if len(f) > 4:
            mp = f[4].replace("\\040", " ")
            if mp not in out.setdefault(f[2], []):
                out[f[2]].append(mp)
    return out


def _swaps(root: str) -> set[str]:
    lines = (_fs.read(root, "/proc/swaps") or "").splitlines()[1:]
    return {os.path.basename(line.split()[0]) for line in lines if line.split()}


def _udev_props(root: str, devnum: str | None) -> dict[str, str]:
    if not devnum:
        return {}
    text = _fs.read(root, f"/run/udev/data/b{devnum}") or ""
    return dict(line[2:].split("=", 1) for line in text.splitlines() if line.startswith("E:"))


def _read_head(root: str, name: str) -> bytes | None:
    try:
        with open(_fs.path(root, "/dev/" + name), "rb") as f:
            return f.read(70 * 1024)
    except OSError:
        return None


def signature(head: bytes) -> str | None:
    """What the first bytes of a device say it holds, in blkid's words."""

    def at(offset: int, magic: bytes) -> bool:
        return head[offset : offset + len(magic)] == magic

    if at(0, b"bluestore block device"):
        return "ceph_bluestore"
    if at(512 + 24, b"LVM2 001") or at(24, b"LVM2 001"):
        return "LVM2_member"
    if at(0, b"LUKS\xba\xbe"):
        return "crypto_LUKS"
    if at(4096, struct.pack("<I", 0xA92B4EFC)) or at(0, struct.pack("<I", 0xA92B4EFC)):
        return "linux_raid_member"
    if at(0, b"XFSB"):
        return "xfs"
    if at(1080, b"\x53\xef"):
        return "ext4"
    if at(65600, b"_BHRfS_M"):
        return "btrfs"
    if at(4086, b"SWAPSPACE2") or at(4086, b"SWAP-SPACE"):
        return "swap"
    if at(512, b"EFI PART"):
        return "gpt"
    if at(510, b"\x55\xaa"):
        return "dos"
    return None


def read_disks(root: str = "/") -> tuple[list[dict], list[str]]:
    """(disks, problems)."""
    by_id = _by_id(root)
    mounts = _mountinfo(root)
    swaps = _swaps(root)
    root_devs = mounts_for(mounts, "/")
    disks = []
    problems: list[str] = []
    for name in _fs.listdir(root, "/sys/block"):
        base = "/sys/block/" + name
        devpath = _fs.realpath(root, base)
        if name.startswith(_SKIP_PREFIXES) or "/devices/virtual/" in devpath:
            continue
        sectors = _fs.read_int(root, base + "/size")
        if sectors is None:
            problems.append(f"disk {name}: {base}/size is unreadable")
            continue
        partitions = [
            p for p in _fs.listdir(root, base) if _fs.exists(root, f"{base}/{p}/partition")
        ]
        parts_base = [(name, base)] + [(p, f"{base}/{p}") for p in partitions]
        devnums = {n: _fs.read(root, f"{b}/dev") for n, b in parts_base}
        mountpoints: list[str] = []
        holders: list[str] = []
        mounted_parts: list[tuple[str, str]] = []
        for n, b in parts_base:
            for mp in mounts.get(devnums[n] or "", []):
                mountpoints.append(mp)
                mounted_parts.append((n, mp))
            if n in swaps:
                mounted_parts.append((n, "[SWAP]"))
            holders.extend(h for h in _fs.listdir(root, b + "/holders") if h not in holders)
        # / may live on LVM or md: follow holders down to find which disk carries it.
        holds_root = bool(set(devnums.values()) & root_devs) or any(
            _reaches(root, h, root_devs) for h in holders
        )
        udev = _udev_props(root, devnums[name])
        sig = udev.get("ID_FS_TYPE") or udev.get("ID_PART_TABLE_TYPE")
        if not sig:
            # Unreadable (not root): "unknown", never taken for a blank disk.
            head = _read_head(root, name)
            sig = UNKNOWN_SIGNATURE if head is None else signature(head)
        device = base + "/device"
        wwn = _fs.read(root, base + "/wwid") or _fs.read(root, device + "/wwid")
        disk = {
            "name": name,
            "path": "/dev/" + name,
            "by_id": by_id.get(name, []),
            "size_bytes": sectors * 512,  # /sys/block/*/size counts 512-byte sectors, always
            "rotational": _bool(_fs.read(root, base + "/queue/rotational")),
            "model": _fs.read(root, device + "/model") or udev.get("ID_MODEL") or None,
            "serial": _fs.read(root, device + "/serial")
            or _fs.read(root, base + "/serial")
            or udev.get("ID_SERIAL_SHORT")
            or None,
            "wwn": wwn or udev.get("ID_WWN") or None,
            "transport": _transport(devpath, name),
            "removable": _bool(_fs.read(root, base + "/removable")) or False,
            "read_only": _bool(_fs.read(root, base + "/ro")) or False,
            "partitions": partitions,
            "mountpoints": mountpoints,
            "holders": holders,
            "signature": sig,
            "holds_root": holds_root,
            "mounted_partitions": mounted_parts,
        }
        reason = osd_ineligible_reason(disk)
        disk["osd_eligible"] = reason is None
        disk["ineligible_reason"] = reason
        del disk["mounted_partitions"]
        disks.append(disk)
    return disks, problems


def mounts_for(mounts: dict[str, list[str]], mountpoint: str) -> set[str]:
    return {dev for dev, mps in mounts.items() if mountpoint in mps}


def _reaches(root: str, holder: str, targets: set[str], depth: int = 0) -> bool:
    """Whether block device `holder` (dm-0, md0) is, or holds up, one of `targets` (maj:min)."""
    if depth > 8:
        return False
    if _fs.read(root, f"/sys/block/{holder}/dev") in targets:
        return True
    return any(
        _reaches(root, h, targets, depth + 1)
        for h in _fs.listdir(root, f"/sys/block/{holder}/holders")
    )


def _bool(text: str | None) -> bool | None:
    return None if text is None else text.strip() == "1"
