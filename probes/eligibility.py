"""Ceph OSD eligibility of disks: the rules live in the standard-library readers (they also run
on remote hosts); this module applies them to `Disk` models, e.g. to re-check recorded facts."""

from __future__ import annotations

from probes.facts import Disk, HostFacts
from probes.readers.eligibility import MIN_OSD_BYTES, osd_ineligible_reason

__all__ = ["MIN_OSD_BYTES", "apply_eligibility", "eligible_disks", "osd_ineligible_reason"]


def apply_eligibility(disk: Disk) -> Disk:
    """Set `osd_eligible` and `ineligible_reason` of `disk` from its other facts; returns it."""
    reason = osd_ineligible_reason(disk)
    disk.osd_eligible = reason is None
    disk.ineligible_reason = reason
    return disk


def eligible_disks(facts: HostFacts) -> list[Disk]:
    return [d for d in facts.disks if d.osd_eligible]
