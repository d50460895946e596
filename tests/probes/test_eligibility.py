"""OSD eligibility rules and on-disk signature detection."""

from __future__ import annotations

import struct

import pytest

from probes.eligibility import apply_eligibility, osd_ineligible_reason
from probes.facts import Disk
from probes.readers.disk import signature

BLANK = {"name": "sdx", "size_bytes": 4 * 10**12, "partitions": [], "holders": []}


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({}, None),
        ({"holds_root": True, "removable": True}, "holds the root filesystem"),
        ({"read_only": True}, "is read-only"),
        ({"transport": "usb"}, "is removable"),
        (
            {"partitions": ["sdx1"], "mounted_partitions": [("sdx1", "/srv")]},
            "partition sdx1 is mounted on /srv",
        ),
        ({"mounted_partitions": [("sdx2", "[SWAP]")]}, "partition sdx2 is used as swap"),
        ({"holders": ["md0"]}, "is part of RAID array md0"),
        ({"holders": ["dm-3"]}, "is in use by dm-3 (LVM, LUKS or multipath)"),
        ({"partitions": ["sdx1", "sdx2"]}, "has 2 partitions (sdx1, sdx2); wipe it first"),
        ({"signature": "gpt"}, "has an old gpt partition table; wipe it first"),
        ({"signature": "ceph_bluestore"}, "already holds a Ceph OSD (bluestore); zap it first"),
        ({"signature": "ext4"}, "holds a ext4 filesystem; wipe it first"),
        ({"size_bytes": 4 * 10**9}, "is too small (4.0 GB); a Ceph OSD needs at least 5 GB"),
    ],
)
def test_reasons(extra: dict, reason: str | None) -> None:
    assert osd_ineligible_reason({**BLANK, **extra}) == reason


def test_recorded_disk_model_is_rechecked_with_the_same_rules() -> None:
    disk = Disk(
        name="sdb",
        path="/dev/sdb",
        size_bytes=10**12,
        partitions=["sdb1"],
        mountpoints=["/data"],
        osd_eligible=True,
    )
    apply_eligibility(disk)
    assert (disk.osd_eligible, disk.ineligible_reason) == (False, "a partition is mounted on /data")
    blank = apply_eligibility(Disk(name="sdc", path="/dev/sdc", size_bytes=10**12))
    assert (blank.osd_eligible, blank.ineligible_reason) == (True, None)


def _head(offset: int, magic: bytes, size: int = 70 * 1024) -> bytes:
    b = bytearray(size)
    b[offset : offset + len(magic)] = magic
    return bytes(b)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (_head(512, b"EFI PART"), "gpt"),
        (_head(510, b"\x55\xaa"), "dos"),
        (_head(536, b"LVM2 001"), "LVM2_member"),
        (_head(1080, b"\x53\xef"), "ext4"),
        (_head(0, b"XFSB"), "xfs"),
        (_head(65600, b"_BHRfS_M"), "btrfs"),
        (_head(4086, b"SWAPSPACE2"), "swap"),
        (_head(0, b"bluestore block device\n"), "ceph_bluestore"),
        (_head(0, b"LUKS\xba\xbe"), "crypto_LUKS"),
        (_head(4096, struct.pack("<I", 0xA92B4EFC)), "linux_raid_member"),
        (bytes(70 * 1024), None),
        (b"", None),
    ],
)
def test_signature(head: bytes, expected: str | None) -> None:
    assert signature(head) == expected
