"""RAM, CPUs and free disk per host against the release manifest's minimums.

Sunbeam checks every node for 4 logical CPUs and MemTotal of 16,000,000 kB and only warns
(snap-openstack core/checks.py SystemRequirementsCheck), so these are warnings, whatever the
shortfall. Sunbeam checks no disk space; our free-disk figure is a warning that says it is ours.
"""

from __future__ import annotations

from installer.preflight._common import GIB, Facts, gib, hosts_with_facts
from installer.preflight.finding import Finding, Severity
from manifests.answers import Answers, Host
from manifests.release import Release

# MemTotal leaves out what firmware and kernel reserve: a 16 GiB machine reports ~15.6 GiB.
# Without this slack every machine sized exactly at the minimum would be warned about.
RAM_SLACK = 1.0  # Sunbeam compares MemTotal itself, in kB (1 kB = 1024 bytes in /proc/meminfo)
# Free disk is measured where the snaps keep their data (Juju, k8s images, OVN, Ceph state).
DATA_PATH = "/var/snap"
HARD_FLOOR = 0.5


def _what(answers: Answers, host: Host) -> str:
    if answers.single_node:
        return "a single-node cloud"
    roles = list(host.roles)
    named = roles[0] if len(roles) == 1 else f"{', '.join(roles[:-1])} and {roles[-1]}"
    return f"a {named} host of a multi-node cloud"


def _severity(have: float, need: float) -> Severity | None:
    return None if have >= need else "warning"


def ram(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        need_kb = release.requirements.every_host.ram_kb
        need = round(need_kb * 1024 / GIB, 1)
        have = hf.memory.total_bytes
        sev = _severity(have, need_kb * 1024 * RAM_SLACK)
        if sev is None:
            continue
        out.append(
            Finding(
                severity=sev,
                code="ram-below-minimum",
                host=host.name,
                message=f"Host {host.name} has {gib(have)} of RAM; {_what(answers, host)} "
                f"needs at least {need} GiB.",
                hint=f"Add memory to {host.name} or give it fewer roles"
                + ("" if sev == "error" else "; confirm to install anyway on a test cloud")
                + ".",
                path=["hosts", i],
            )
        )
    return out


def cores(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        need = release.requirements.every_host.cores
        # Logical CPUs, as Sunbeam counts them (os.cpu_count()).
        have = max(hf.cpu.threads, hf.cpu.cores)
        sev = _severity(have, need)
        if sev is None:
            continue
        out.append(
            Finding(
                severity=sev,
                code="cores-below-minimum",
                host=host.name,
                message=f"Host {host.name} has {have} CPU{'s' if have != 1 else ''}; "
                f"{_what(answers, host)} needs at least {need}.",
                hint=f"Give {host.name} more CPUs or fewer roles"
                + ("" if sev == "error" else "; confirm to install anyway on a test cloud")
                + ".",
                path=["hosts", i],
            )
        )
    return out


def free_disk(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        need = release.requirements.free_disk_gib
        have = hf.free_bytes(DATA_PATH)
        if have is None:
            out.append(
                Finding(
                    severity="warning",
                    code="free-disk-unknown",
                    host=host.name,
                    message=f"Free disk space on host {host.name} is unknown; "
                    f"{_what(answers, host)} needs {need} GiB free under {DATA_PATH}.",
                    hint=f"Check with `df -h /var` on {host.name}, then confirm.",
                    path=["hosts", i],
                )
            )
            continue
        sev = _severity(have, need * GIB)
        if sev is None:
            continue
        out.append(
            Finding(
                severity=sev,
                code="disk-below-minimum",
                host=host.name,
                message=f"Host {host.name} has {gib(have)} free under {DATA_PATH}; "
                f"we advise {need} GiB free for images, Juju and Ceph state (Sunbeam itself "
                "checks no disk space).",
                hint=f"Free or add space on the filesystem holding {DATA_PATH} on {host.name}.",
                path=["hosts", i],
            )
        )
    return out
