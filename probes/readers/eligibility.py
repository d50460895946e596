"""Whether a disk can become a Ceph OSD, and if not, why, in one sentence.

Works on a plain mapping (what the readers build, here or on a remote host) or on anything with
the same attributes (a `probes.facts.Disk`), so preflight can re-check recorded facts.
"""

from __future__ import annotations

from typing import Any

# ceph-volume refuses devices under 5 GB.
MIN_OSD_BYTES = 5 * 1000**3

# The signature of a disk whose first bytes could not be read (a probe that is not root).
UNKNOWN_SIGNATURE = "unknown"
UNKNOWN_REASON = (
    "its signature could not be read (the probe was not root), so it may hold data; "
    "probe as root to know whether it is empty"
)

_FILESYSTEMS = {"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "ntfs", "zfs_member", "swap"}


def _get(disk: Any, key: str, default: Any = None) -> Any:
    if isinstance(disk, dict):
        return disk.get(key, default)
    return getattr(disk, key, default)


def osd_ineligible_reason(disk: Any) -> str | None:
    """None when the disk can hold an OSD, else the reason ("holds the root filesystem")."""
    name = _get(disk, "name", "?")
    partitions = list(_get(disk, "partitions", []) or [])
    mountpoints = list(_get(disk, "mountpoints", []) or [])
    holders = list(_get(disk, "holders", []) or [])
    sig = _get(disk, "signature")
    if _get(disk, "holds_root"):
        return "holds the root filesystem"
    if _get(disk, "read_only"):
        return "is read-only"
    if _get(disk, "removable") or _get(disk, "transport") == "usb":
        return "is removable"
    mounted = _get(disk, "mounted_partitions")
    if mounted is None:  # a recorded Disk: the mountpoints are known, not which partition
        mounted = [(name if not partitions else "", mp) for mp in mountpoints]
    for part, mp in mounted:
        what = "is" if part == name else f"partition {part} is" if part else "a partition is"
        if mp == "[SWAP]":
            return f"{what} used as swap"
        return f"{what} mounted on {mp}"
    md = [h for h in holders if h.startswith("md")]
    if md:
        return f"is part of RAID array {md[0]}"
    if sig == "LVM2_member":
        return "is an LVM physical volume"
    if holders:
        return f"is in use by {', '.join(holders)} (LVM, LUKS or multipath)"
    if partitions:
        n = len(partitions)
        return f"has {n} partition{'s' if n > 1 else ''} ({', '.join(partitions)}); wipe it first"
    if sig in ("gpt", "dos"):
        return f"has an old {sig} partition table; wipe it first"
    if sig == "ceph_bluestore":
        return "already holds a Ceph OSD (bluestore); zap it first"
    if sig == "crypto_LUKS":
        return "holds a LUKS encrypted volume; wipe it first"
    if sig == "linux_raid_member":
        return "was part of a RAID array (md superblock); wipe it first"
    if sig == UNKNOWN_SIGNATURE:
        return UNKNOWN_REASON
    if sig in _FILESYSTEMS or sig:
        return f"holds a {sig} filesystem; wipe it first"
    size = int(_get(disk, "size_bytes", 0) or 0)
    if size < MIN_OSD_BYTES:
        return f"is too small ({size / 1000**3:.1f} GB); a Ceph OSD needs at least 5 GB"
    return None
