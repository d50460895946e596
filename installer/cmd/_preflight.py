"""Preflight for `validate`: the host checks against the lab's facts (--dry-run) or against
the hosts themselves, probed over SSH (--probe)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from manifests.loader import Loaded

if TYPE_CHECKING:
    from probes.facts import HostFacts


def lab_facts(loaded: Loaded, facts_dir: str | None) -> dict[str, HostFacts]:
    """The facts a dry-run install of these answers would see."""
    from installer.lab.lab import Lab

    # The lab writes state when it creates hosts; validate changes nothing: use a scratch dir.
    with tempfile.TemporaryDirectory(prefix="sunbeam-validate-") as scratch:
        lab = Lab.open(Path(scratch), facts_dir=Path(facts_dir) if facts_dir else None)
        lab.ensure_hosts(loaded.answers)
        return lab.facts()


def report_preflight(
    loaded: Loaded, facts: dict[str, HostFacts], *, where: str, real_mode: bool,
    unreachable: dict[str, str] | None = None,
) -> int:
    """Print every finding (FILE:LINE:COL where it points into the file); 1 on any error."""
    from installer.preflight import check, format_finding, summarize
    from installer.text import one_line
    from manifests.release import load_release

    for name, reason in (unreachable or {}).items():
        print(f"error: host {name}: cannot be probed: {one_line(reason)}", file=sys.stderr)
    findings = check(loaded.answers, facts, load_release(loaded.answers.release),
                     real_mode=real_mode)
    # A host that could not be probed was reported with its reason just above.
    findings = [f for f in findings
                if not (f.code == "facts-missing" and f.host in (unreachable or {}))]
    for f in findings:
        print(format_finding(f, loaded.locate, loaded.file), file=sys.stderr)
    errors, warnings, infos = summarize(findings)
    errors += len(unreachable or {})
    print(
        f"preflight against {where}: {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}, {infos} info"
    )
    return 1 if errors else 0
