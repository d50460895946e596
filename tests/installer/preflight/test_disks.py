from __future__ import annotations

from installer.preflight import disks

from .conftest import at


def test_missing_device_is_an_error_pointing_at_the_entry(raw3, facts3, answers, release):
    raw3["hosts"][1]["osd_devices"] = ["/dev/disk/by-id/wwn-0x5000c500a1b2c3d2", "/dev/sdz"]
    [f] = disks.osd_devices(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "osd-device-not-found", "node2")
    assert f.path == ["hosts", 1, "osd_devices", 1] and at(raw3, f.path) == "/dev/sdz"
    assert "/dev/sdz" in f.message and "node2" in f.message
    # The hint offers the disks that would do.
    assert "/dev/disk/by-id/wwn-0x5000c500a1b2c3d2 (nvme0n1, 1.8 TiB)" in f.hint


def test_ineligible_device_gives_the_probe_reason(raw3, facts3, answers, release):
    raw3["hosts"][0]["osd_devices"] = ["/dev/sda"]
    [f] = disks.osd_devices(answers(raw3), facts3, release)
    assert (f.code, f.path) == ("osd-device-ineligible", ["hosts", 0, "osd_devices", 0])
    assert f.message == (
        "OSD device /dev/sda on host node1 cannot hold a Ceph OSD: it holds the root filesystem."
    )


def test_ineligible_reason_keeps_acronyms(raw3, facts3, answers, release):
    raw3["hosts"][0]["osd_devices"] = ["/dev/sdb"]
    facts3["node1"].disks[2].ineligible_reason = "LVM2 signature found."
    [f] = disks.osd_devices(answers(raw3), facts3, release)
    assert f.message.endswith("cannot hold a Ceph OSD: LVM2 signature found.")


def test_same_disk_by_two_names_is_an_error(raw3, facts3, answers, release):
    raw3["hosts"][2]["osd_devices"] = ["/dev/nvme0n1", "/dev/disk/by-id/wwn-0x5000c500a1b2c3d3"]
    [f] = disks.osd_devices(answers(raw3), facts3, release)
    assert (f.code, f.path) == ("osd-device-duplicate", ["hosts", 2, "osd_devices", 1])
    assert "nvme0n1" in f.message and "/dev/nvme0n1" in f.message


def test_device_by_kernel_name_and_by_id_both_found(raw3, facts3, answers, release):
    raw3["hosts"][0]["osd_devices"] = ["/dev/disk/by-id/nvme-INTEL_SSDPE2KX020T8_PHLJ00000001"]
    assert disks.osd_devices(answers(raw3), facts3, release) == []


def test_unreadable_device_is_unknown_and_says_to_run_as_root(raw3, facts3, answers, release):
    from probes.eligibility import apply_eligibility

    raw3["hosts"][1]["osd_devices"] = ["/dev/disk/by-id/wwn-0x5000c500a1b2c3d2"]
    disk = facts3["node2"].disk("/dev/disk/by-id/wwn-0x5000c500a1b2c3d2")
    assert disk is not None and disk.osd_eligible
    disk.signature = "unknown"  # the probe could not read it (not root)
    apply_eligibility(disk)
    assert not disk.osd_eligible and "root" in (disk.ineligible_reason or "")
    [f] = disks.osd_devices(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "osd-device-unknown", "node2")
    assert f.path == ["hosts", 1, "osd_devices", 0]
    assert "unknown" in f.message and "as root" in f.hint and "ssh_user root" in f.hint
    # Never offered as an eligible disk either.
    raw3["hosts"][1]["osd_devices"] = ["/dev/sdz"]
    [f] = disks.osd_devices(answers(raw3), facts3, release)
    assert "wwn-0x5000c500a1b2c3d2" not in f.hint
