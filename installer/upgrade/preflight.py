"""Upgrade preflight: is the cloud in a state to be upgraded now? Errors block the upgrade.

Pure functions over what `detect` read (and the host facts): every application active and
idle, no unit in error, Kubernetes nodes ready, Ceph healthy (microceph settled and every OSD
listed), enough free disk on every host for the new snap revisions, no unfinished install
before it. The run lock (a second install or upgrade running right now) is taken by the
command: `StateDir.lock` refuses it with its own message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from installer.preflight.finding import Finding

if TYPE_CHECKING:
    from installer.journal import RunRecord
    from installer.upgrade.detect import Deployed
    from manifests.answers import Answers
    from manifests.release import Release
    from probes.facts import HostFacts

# A snap refresh keeps the old revision and mounts the new one: the largest (k8s, hypervisor)
# take about 1 GiB each; ask for room for all of them with a margin.
MIN_FREE_BYTES = 5 * 1024**3
PROG = "sunbeam-install"


def check_upgrade(
    deployed: Deployed,
    target: Release,
    *,
    answers: Answers | None = None,
    facts: Mapping[str, HostFacts] | None = None,
) -> list[Finding]:
    """Findings on upgrading `deployed` to `target` now, errors first."""
    out: list[Finding] = []
    if not deployed.apps:
        out.append(Finding(
            severity="error", code="nothing-deployed",
            message="No application this installer deploys was found in any Juju model.",
            hint=f"Install first (`{PROG} --answers FILE`), or check that Juju reaches the "
            "controller (`juju models`).",
        ))
    for note in deployed.notes:
        out.append(Finding(severity="error", code="cannot-read", message=_sentence(note),
                           hint="Fix the access and run the upgrade again."))
    for a in deployed.apps:
        bad = [u for u in a.units if u.in_error]
        if bad:
            u = bad[0]
            out.append(Finding(
                severity="error", code="unit-in-error", host=u.host,
                message=f"Unit {u.name} is in error ({u.message or 'no message'})"
                + (f", and {len(bad) - 1} more of {a.app}" if len(bad) > 1 else "") + ".",
                hint=f"`juju debug-log -m {a.model} --include {u.name}` shows why; resolve it "
                f"(`juju resolve {u.name}`) before upgrading.",
            ))
        elif not a.units:
            out.append(Finding(
                severity="error", code="app-without-units",
                message=f"Application {a.app} has no units.",
                hint=f"`juju status -m {a.model} {a.app}`; add a unit or remove it.",
            ))
        elif not a.settled:
            u = next(u for u in a.units if not u.settled)
            out.append(Finding(
                severity="error", code="app-not-settled", host=u.host,
                message=f"Application {a.app} is not active and idle ({u.name}: {u.workload}/"
                f"{u.agent}{': ' + u.message if u.message else ''}).",
                hint=f"Wait for it (`juju status -m {a.model} {a.app}`) and run the upgrade "
                "again.",
            ))
    not_ready = sorted(h for h, ready in deployed.k8s_nodes.items() if not ready)
    if not_ready:
        out.append(Finding(
            severity="error", code="k8s-node-not-ready", host=not_ready[0],
            message=f"Kubernetes node{'s' * (len(not_ready) > 1)} {', '.join(not_ready)} "
            f"{'are' if len(not_ready) > 1 else 'is'} not Ready.",
            hint="`sudo k8s status` on a control host shows why; wait or fix it first.",
        ))
    out += _ceph(deployed, answers)
    out += _disk(deployed, facts or {})
    if answers is not None and facts:
        # The target's machine charms are built for one Ubuntu base; Juju refuses to refresh
        # a unit onto a charm without its host's base, so the hosts' OS moves first.
        from installer.preflight.platform import os_release

        out += [f.model_copy(update={"path": None}) for f in os_release(answers, facts, target)]
    out += _coverage(deployed, target)
    if deployed.apps and deployed.channels_release is None:
        out.append(Finding(
            severity="warning", code="mixed-channels",
            message="The charm and snap channels match no single shipped release (an "
            "upgrade left half done, or channels changed by hand).",
            hint=f"`{PROG} upgrade --show` lists every channel; the upgrade moves them all "
            f"to {target.release}.",
        ))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda f: order[f.severity])


def check_runs(last: RunRecord | None, *, locked_by_other: bool = False) -> list[Finding]:
    """An install that did not finish must be finished (or resumed) before an upgrade."""
    if locked_by_other:
        return [Finding(severity="error", code="run-in-progress",
                        message="Another install or upgrade is running on this state dir.",
                        hint=f"Wait for it; `{PROG} status` follows it.")]
    if last is not None and last.kind == "install" and last.outcome != "done":
        return [Finding(
            severity="error", code="install-unfinished",
            message=f"The install run {last.id} did not finish, so the cloud is not complete.",
            hint=f"Finish it with `{PROG} resume" + (" --dry-run" if last.dry_run else "")
            + "`, then upgrade.",
        )]
    return []


def _ceph(deployed: Deployed, answers: Answers | None) -> list[Finding]:
    ceph = next((a for a in deployed.apps if a.charm == "microceph"), None)
    if ceph is None:
        return []
    if deployed.ceph_osds is None:
        return [Finding(
            severity="error", code="ceph-unknown",
            message="Ceph's health cannot be read (the microceph list-disks action failed).",
            hint="`sudo microceph.ceph status` on a storage host; fix Ceph first.",
        )]
    if answers is None:
        return []
    out: list[Finding] = []
    listed = {(o.host, o.path) for o in deployed.ceph_osds}
    for h in answers.hosts_with("storage"):
        missing = [d for d in h.osd_devices if (h.name, d) not in listed]
        if missing:
            out.append(Finding(
                severity="error", code="ceph-osd-missing", host=h.name,
                message=f"Ceph does not list the OSD{'s' * (len(missing) > 1)} "
                f"{', '.join(missing)} of {h.name}.",
                hint=f"On {h.name}: `sudo microceph disk list`; bring the OSDs back before "
                "upgrading.",
            ))
    return out


def _disk(deployed: Deployed, facts: Mapping[str, HostFacts]) -> list[Finding]:
    out: list[Finding] = []
    for host in deployed.hosts:
        f = facts.get(host)
        free = f.free_bytes("/var") if f is not None else None
        if free is not None and free < MIN_FREE_BYTES:
            out.append(Finding(
                severity="error", code="disk-space", host=host,
                message=f"{host} has {free / 1024**3:.1f} GiB free under /var; the new snap "
                f"revisions need {MIN_FREE_BYTES // 1024**3} GiB.",
                hint=f"Free space on {host} (e.g. `sudo snap set system refresh.retain=2`).",
            ))
    return out


def _coverage(deployed: Deployed, target: Release) -> list[Finding]:
    out: list[Finding] = []
    apps = {a.app for a in deployed.apps}
    for a in deployed.apps:
        table = target.charms if a.side == "control-plane" else target.machine_charms
        if a.app not in table:
            out.append(Finding(
                severity="warning", code="charm-not-in-target",
                message=f"Application {a.app} ({a.channel}) is not part of {target.release}; "
                "the upgrade leaves it as it is.",
                hint=f"Check {target.release}'s release notes for what replaces it.",
            ))
    if any(a.side == "control-plane" for a in deployed.apps):
        for name in target.core:
            if name not in apps and not target.charms[name].storage_only:
                out.append(Finding(
                    severity="warning", code="charm-new-in-target",
                    message=f"{name} is part of {target.release} but not deployed; the upgrade "
                    "does not add it.",
                    hint=f"Deploy it after the upgrade (`juju deploy "
                    f"{target.charms[name].charm} {name} --channel "
                    f"{target.charms[name].channel}`).",
                ))
    return out


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."
