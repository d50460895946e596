"""Ceph OSD devices: each `osd_devices` entry must be a disk of its host that can hold an OSD."""

from __future__ import annotations

from installer.preflight._common import Facts, hosts_with_facts, join, size
from installer.preflight.finding import Finding
from manifests.answers import Answers
from manifests.release import Release
from probes.facts import Disk, HostFacts
from probes.readers.eligibility import UNKNOWN_SIGNATURE


def _name(d: Disk) -> str:
    # by-id names survive reboots and re-enumeration; Sunbeam asks for them too.
    return d.by_id[0] if d.by_id else d.path


def _clause(sentence: str) -> str:
    """The probe's sentence as a clause after a colon: "It is mounted" -> "it is mounted",
    but an acronym or a path at its start ("LVM2 ...", "/dev/sda ...") is left alone."""
    if len(sentence) > 1 and sentence[0].isupper() and sentence[1].islower():
        return sentence[0].lower() + sentence[1:]
    return sentence


def _eligible(hf: HostFacts) -> str:
    good = [d for d in hf.disks if d.osd_eligible]
    return join([f"{_name(d)} ({d.name}, {size(d.size_bytes)})" for d in good])


def osd_devices(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        claimed: dict[str, str] = {}  # kernel name -> the entry that named it first
        for j, device in enumerate(host.osd_devices):
            path: list[str | int] = ["hosts", i, "osd_devices", j]
            disk = hf.disk(device)
            if disk is None:
                out.append(
                    Finding(
                        severity="error",
                        code="osd-device-not-found",
                        host=host.name,
                        message=f"OSD device {device} does not exist on host {host.name}.",
                        hint=f"Name a whole disk of {host.name}; eligible: {_eligible(hf)}.",
                        path=path,
                    )
                )
                continue
            if disk.name in claimed:
                out.append(
                    Finding(
                        severity="error",
                        code="osd-device-duplicate",
                        host=host.name,
                        message=f"OSD device {device} on host {host.name} is the same disk "
                        f"({disk.name}) as {claimed[disk.name]}.",
                        hint="List each disk once.",
                        path=path,
                    )
                )
                continue
            claimed[disk.name] = device
            if not disk.osd_eligible and disk.signature == UNKNOWN_SIGNATURE:
                out.append(
                    Finding(
                        severity="error",
                        code="osd-device-unknown",
                        host=host.name,
                        message=f"OSD device {device} on host {host.name} could not be read "
                        "by the probe, so whether it holds data is unknown.",
                        hint="Run as root so the disk's signature can be read: "
                        + (
                            f"the probe runs as the SSH user, so use ssh_user root for {host.name}."
                            if host.address is not None
                            else "`sudo sunbeam-install ...` on this machine."
                        ),
                        path=path,
                    )
                )
                continue
            if not disk.osd_eligible:
                reason = (disk.ineligible_reason or "the probe found it in use").rstrip(".")
                out.append(
                    Finding(
                        severity="error",
                        code="osd-device-ineligible",
                        host=host.name,
                        message=f"OSD device {device} on host {host.name} cannot hold a Ceph "
                        f"OSD: {_clause(reason)}.",
                        hint="Choose an empty whole disk, wiping it first if its data is not "
                        f"needed; eligible: {_eligible(hf)}.",
                        path=path,
                    )
                )
    return out
