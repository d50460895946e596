"""Check an answers file without changing anything.

Checks the schema (unknown keys, types, addresses), the rules that need no host facts (roles,
ranges, unique names and addresses, release and features), and with --dry-run the preflight
checks against the simulated lab's host facts. Problems are printed as FILE:LINE:COL: message;
the exit code is 1 when there is an error."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the answers file (YAML)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="also run the preflight checks against the simulated lab's host facts",
    )
    parser.add_argument(
        "--facts",
        metavar="DIR",
        help="with --dry-run: host facts for the lab, one <host>.json (probe --json) per host",
    )


def run(args: argparse.Namespace) -> int:
    from manifests.loader import AnswersError, load_answers_file

    try:
        loaded = load_answers_file(args.file)
    except AnswersError as e:
        for p in e.problems:
            print(p.format(), file=sys.stderr)
        n = len(e.problems)
        print(
            f"{args.file}: {n} problem{'s' if n != 1 else ''}; nothing was changed", file=sys.stderr
        )
        return 1
    answers = loaded.answers
    roles = {r: len(answers.hosts_with(r)) for r in ("control", "compute", "storage")}
    summary = ", ".join(f"{n} {r}" for r, n in roles.items())
    print(
        f"{args.file}: valid: release {answers.release}, {len(answers.hosts)} "
        f"host{'s' if len(answers.hosts) != 1 else ''} ({summary})"
    )
    if not args.dry_run:
        print(
            "host checks (resources, disks, NICs, name resolution) run at install time, "
            "or now against the simulated lab with --dry-run"
        )
        return 0
    from installer.cmd._preflight import report_preflight

    return report_preflight(loaded, facts_dir=args.facts)
