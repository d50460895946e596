"""Preflight: the checks that need host facts, run before anything is changed.

`check(answers, facts, release)` returns Findings: errors block the install, warnings need
confirmation (the install command asks; `--yes` accepts), infos are shown. The static rules that
need no facts (ranges inside CIDRs, duplicate names, ...) belong to `manifests.loader`.
Each check is a small function over (answers, facts, release) in a module per group, so it can
be tested alone; `CHECKS` lists them in the order their findings are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from installer.preflight import (
    disks,
    naming,
    network,
    platform,
    proxy,
    resources,
    virtualization,
)
from installer.preflight.finding import (
    SEVERITIES,
    AnswersPath,
    Finding,
    Locate,
    Severity,
    format_finding,
    summarize,
)
from manifests.answers import Answers
from manifests.release import Release
from probes.facts import HostFacts

__all__ = [
    "CHECKS",
    "REAL_MODE_CHECKS",
    "SEVERITIES",
    "AnswersPath",
    "Check",
    "Finding",
    "Locate",
    "Severity",
    "check",
    "format_finding",
    "summarize",
]

Check = Callable[[Answers, Mapping[str, HostFacts], Release], list[Finding]]

CHECKS: tuple[Check, ...] = (
    platform.facts_missing,
    platform.architecture,
    platform.os_release,
    resources.ram,
    resources.cores,
    resources.free_disk,
    virtualization.kvm,
    disks.osd_devices,
    network.address_on_host,
    network.management_address_present,
    network.external_nic,
    naming.hostname,
    naming.fqdn,
    proxy.no_proxy,
    platform.probe_errors,
)
# Only meaningful on real hosts: the lab's hosts have no snapd and need none.
REAL_MODE_CHECKS: tuple[Check, ...] = (platform.snapd, platform.remote_tools,
                                       platform.juju_ssh_port)

_RANK = {s: n for n, s in enumerate(SEVERITIES)}


def check(
    answers: Answers,
    facts: Mapping[str, HostFacts],
    release: Release,
    *,
    real_mode: bool = False,
) -> list[Finding]:
    """Every preflight finding for `answers` on hosts described by `facts` (keyed by the
    answers' host name; a host missing from it is an error), errors first, then warnings,
    then infos, each group in the order of CHECKS and of the hosts in the answers."""
    checks = CHECKS + (REAL_MODE_CHECKS if real_mode else ())
    findings = [f for c in checks for f in c(answers, facts, release)]
    return sorted(findings, key=lambda f: _RANK[f.severity])  # stable: keeps check order
