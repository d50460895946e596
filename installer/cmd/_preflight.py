"""Preflight for `validate --dry-run`: the host checks against the simulated lab's facts."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from manifests.loader import Loaded


def report_preflight(loaded: Loaded, *, facts_dir: str | None) -> int:
    """Print every finding (FILE:LINE:COL where it points into the file); 1 on any error."""
    from installer.lab.lab import Lab
    from installer.preflight import check, format_finding, summarize
    from manifests.release import load_release

    # The lab writes state when it creates hosts; validate changes nothing: use a scratch dir.
    with tempfile.TemporaryDirectory(prefix="sunbeam-validate-") as scratch:
        lab = Lab.open(Path(scratch), facts_dir=Path(facts_dir) if facts_dir else None)
        lab.ensure_hosts(loaded.answers)
        findings = check(loaded.answers, lab.facts(), load_release(loaded.answers.release))
    for f in findings:
        print(format_finding(f, loaded.locate, loaded.file), file=sys.stderr)
    errors, warnings, infos = summarize(findings)
    where = f"facts from {facts_dir}" if facts_dir else "the simulated lab's default hosts"
    print(
        f"preflight against {where}: {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}, {infos} info"
    )
    return 1 if errors else 0
