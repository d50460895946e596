"""Hardware virtualization on compute hosts.

The probe's verdict (`Cpu.virtualization`) is the input: "kvm" is what we want; "emulated" means
QEMU will run guests in software (TCG), which works but is one to two orders of magnitude
slower: fine for a lab, a warning. "unavailable" means the probe found neither KVM nor a way to
emulate this architecture, so nova-compute would deploy and then fail every instance it tries
to boot: that is an error, because the install would succeed into a cloud that cannot run guests.
"""

from __future__ import annotations

from installer.preflight._common import Facts, hosts_with_facts
from installer.preflight.finding import Finding
from manifests.answers import Answers
from manifests.release import Release
from probes.facts import HostFacts


def _evidence(hf: HostFacts) -> str:
    reason = hf.cpu.virtualization_reason.strip().rstrip(".")
    return f"The probe found: {reason}. " if reason else ""


def _enable_hint(hf: HostFacts, name: str) -> str:
    if hf.cpu.virtualized_by and hf.cpu.virtualized_by != "none":
        return (
            f"{name} is itself a {hf.cpu.virtualized_by} guest: enable nested virtualization "
            "on its hypervisor, or drop the compute role from it"
        )
    return (
        f"Enable VT-x or AMD-V (and the kvm module) in the firmware of {name}, "
        "or drop the compute role from it"
    )


def kvm(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        if "compute" not in host.roles or hf.cpu.virtualization == "kvm":
            continue
        if hf.cpu.virtualization == "emulated":
            out.append(
                Finding(
                    severity="warning",
                    code="kvm-unavailable",
                    host=host.name,
                    message=f"Compute host {host.name} has no usable KVM, so its guests will be "
                    "emulated and run very slowly.",
                    hint=_evidence(hf) + _enable_hint(hf, host.name) + "; confirm to accept "
                    "emulation.",
                    path=["hosts", i, "roles"],
                )
            )
        else:
            arch = hf.cpu.architecture
            out.append(
                Finding(
                    severity="error",
                    code="virtualization-unavailable",
                    host=host.name,
                    message=f"Compute host {host.name} ({arch}) cannot run guests: neither KVM "
                    "nor emulation is available there, so every instance scheduled on it "
                    "would fail to boot.",
                    hint=_evidence(hf) + f"Drop the compute role from {host.name}, or use an "
                    "amd64 host with hardware virtualization.",
                    path=["hosts", i, "roles"],
                )
            )
    return out
