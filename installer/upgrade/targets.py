"""Which releases a cloud may move to, and what would change.

Supported: one release forward in OpenStack's sequence (2024.1 -> 2024.2 -> 2025.1, two a
year), or a skip-level jump from one SLURP release to the next (2024.1 -> 2025.1), as
OpenStack supports them. A target manifest that lists `upgrade_from` has the last word: a
release not in it is refused. Everything else is refused with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from installer.upgrade.detect import Deployed
    from manifests.answers import Answers
    from manifests.release import Release, Snap

_VERSION = re.compile(r"^(\d{4})\.([12])$")


def parse_version(release: str) -> tuple[int, int] | None:
    """(year, 1 or 2) of an OpenStack release name such as 2025.1; None when it is not one."""
    m = _VERSION.match(release)
    return (int(m.group(1)), int(m.group(2))) if m else None


def next_version(release: str) -> str | None:
    """The release after `release` in OpenStack's sequence (2024.1 -> 2024.2 -> 2025.1)."""
    v = parse_version(release)
    if v is None:
        return None
    year, half = v
    return f"{year}.2" if half == 1 else f"{year + 1}.1"


@dataclass(frozen=True)
class TargetVerdict:
    """Whether `current` may upgrade to `target`, and why (shown to the operator as is)."""

    current: str
    target: str
    supported: bool
    reason: str
    skip_level: bool = False


def _shipped() -> dict[str, Release]:
    from manifests.release import load_release, shipped_releases

    return {name: load_release(name) for name in shipped_releases()}


def check_target(
    current: str, target: str, releases: Mapping[str, Release] | None = None
) -> TargetVerdict:
    """The verdict on upgrading `current` to `target` among the shipped `releases`."""
    releases = _shipped() if releases is None else releases
    names = ", ".join(releases) or "none"

    def no(reason: str) -> TargetVerdict:
        return TargetVerdict(current, target, False, reason)

    if target not in releases:
        return no(f"Release {target} is not one this installer ships; it ships {names}.")
    if current == target:
        return no(f"The cloud already runs {current}; there is nothing to upgrade.")
    cur_v, tgt_v = parse_version(current), parse_version(target)
    if cur_v is None or tgt_v is None:
        return no(f"Release {current if cur_v is None else target} is not an OpenStack "
                  "release name such as 2025.1, so no upgrade path to it is known.")
    if tgt_v < cur_v:
        return no(f"Upgrading from {current} to the older {target} is a downgrade, which "
                  "OpenStack does not support; restore from a backup instead.")
    rel = releases[target]
    if rel.upgrade_from and current not in rel.upgrade_from:
        return no(f"The {target} manifest allows upgrades only from "
                  f"{', '.join(rel.upgrade_from)}, not from {current}; upgrade in steps.")
    if current in rel.upgrade_from:
        # Sunbeam shipped no release between them (no 2024.2): the manifest names the path.
        return TargetVerdict(current, target, True,
                             f"the {target} manifest lists {current} as its predecessor.")
    if next_version(current) == target:
        return TargetVerdict(current, target, True, f"{target} is the release after {current}.")
    src = releases.get(current)
    skipped = next_version(current)
    if src is None:
        return no(f"The cloud runs {current}, which this installer does not ship, so a "
                  f"skip-level upgrade to {target} cannot be checked; upgrade one release "
                  "at a time.")
    del skipped
    return no(f"{current} to {target} skips more than one release; OpenStack supports a "
              "skip of one SLURP cycle at most: upgrade in steps.")


def supported_targets(
    current: str, releases: Mapping[str, Release] | None = None
) -> list[TargetVerdict]:
    """Every shipped release newer than `current`, each with its verdict, oldest first."""
    releases = _shipped() if releases is None else releases
    cur_v = parse_version(current)
    out: list[TargetVerdict] = []
    for name in releases:
        v = parse_version(name)
        if name == current or (cur_v is not None and v is not None and v < cur_v):
            continue
        out.append(check_target(current, name, releases))
    return out


# --------------------------------------------------------------------------------------------
# What changes.

Action = Literal["refresh", "unchanged", "not-in-target", "new-in-target"]


@dataclass(frozen=True)
class Change:
    """One row of the diff: a charm (where = Juju model) or a snap (where = host)."""

    kind: Literal["charm", "snap"]
    name: str
    where: str
    current_channel: str | None
    current_revision: str | None
    target_channel: str | None
    target_revision: str | None  # None: the newest in the channel
    action: Action


def target_snaps(target: Release, answers: Answers | None = None) -> dict[str, Snap]:
    """Every snap of `target` and its channel, as `Release.all_snaps`, with the answers'
    `software` overrides applied: a machine charm whose `snap-channel` the answers pin keeps
    its snap there too, so a pinned charm and its snap never part ways in an upgrade."""
    out = target.all_snaps()
    if answers is None:
        return out
    from manifests.release import Snap

    for name, spec in target.machine_charms.items():
        channel = target.app(name, answers).config.get("snap-channel")
        if isinstance(channel, str) and spec.charm in out and spec.charm not in target.snaps:
            out[spec.charm] = Snap(channel=channel)
    return out


def diff(deployed: Deployed, target: Release, answers: Answers | None = None) -> list[Change]:
    """Charm and snap changes from what is deployed to `target`, control plane first."""
    rows: list[Change] = []
    control = [a for a in deployed.apps if a.side == "control-plane"]
    machine = [a for a in deployed.apps if a.side == "machine"]
    for a in [*control, *machine]:
        table = target.charms if a.side == "control-plane" else target.machine_charms
        cur_rev = str(a.revision) if a.revision is not None else None
        if a.app not in table:  # applications keep their names across releases
            rows.append(Change("charm", a.app, a.model, a.channel, cur_rev, None, None,
                               "not-in-target"))
            continue
        want = target.app(a.app, answers)
        want_rev = str(want.revision) if want.revision is not None else None
        same = a.channel == want.channel and (want_rev is None or want_rev == cur_rev)
        rows.append(Change("charm", a.app, a.model, a.channel, cur_rev, want.channel, want_rev,
                           "unchanged" if same else "refresh"))
    deployed_apps = {a.app for a in control}
    if control:
        # Core applications of the target the cloud does not have.
        for name in target.core:
            if name not in deployed_apps and not target.charms[name].storage_only:
                rows.append(Change("charm", name, deployed.openstack_model or "-", None, None,
                                   target.charms[name].channel, None, "new-in-target"))
    snaps = target_snaps(target, answers)
    for s in deployed.snaps:
        snap = snaps.get(s.name)
        if snap is None:
            rows.append(Change("snap", s.name, s.host, s.channel, s.revision, None, None,
                               "not-in-target"))
            continue
        rows.append(Change("snap", s.name, s.host, s.channel, s.revision, snap.channel, None,
                           "unchanged" if s.channel == snap.channel else "refresh"))
    return rows


_ACTION_TEXT = {
    "refresh": "",
    "unchanged": "unchanged",
    "not-in-target": "not in the target release: left as it is",
    "new-in-target": "new in the target release: not deployed by the upgrade",
}


def format_diff(changes: list[Change], *, show_unchanged: bool = False) -> list[str]:
    """The diff as a plain-text table; snaps on several hosts with the same change are one row
    naming the hosts, so a 100-host cloud gives a short table."""
    grouped: dict[tuple[object, ...], list[str]] = {}
    for c in changes:
        if c.action == "unchanged" and not show_unchanged:
            continue
        key: tuple[object, ...] = (c.kind, c.name, c.current_channel, c.current_revision,
               c.target_channel, c.target_revision, c.action, c.where if c.kind == "charm" else "")
        grouped.setdefault(key, []).append(c.where)
    rows: list[tuple[str, str, str, str, str]] = []
    for key, wheres in grouped.items():
        kind, name, cur_ch, cur_rev, tgt_ch, tgt_rev, action, _ = key
        where = wheres[0] if kind == "charm" else _hosts(wheres)
        current = _chan(cur_ch, cur_rev)
        target = _chan(tgt_ch, tgt_rev) if tgt_ch else "-"
        rows.append((str(kind), str(name), where, f"{current} -> {target}",
                     _ACTION_TEXT[str(action)]))
    if not rows:
        return ["Nothing changes."]
    head = ("KIND", "NAME", "WHERE", "CHANNEL (REVISION): CURRENT -> TARGET", "NOTE")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    out = []
    for r in [head, *rows]:
        line = "  ".join(r[i].ljust(widths[i]) for i in range(4)) + ("  " + r[4] if r[4] else "")
        out.append(line.rstrip())
    return out


def _chan(channel: object, revision: object) -> str:
    if channel is None:
        return "-"
    return f"{channel} ({revision})" if revision else f"{channel} (newest)"


def _hosts(hosts: list[str]) -> str:
    if len(hosts) <= 3:
        return ",".join(hosts)
    return f"{','.join(hosts[:2])} +{len(hosts) - 2} hosts"
