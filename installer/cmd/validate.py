"""Check an answers file without changing anything.

Checks the schema (unknown keys, types, addresses), the rules that need no host facts (roles,
ranges, unique names and addresses, release and features), and the preflight checks on host
facts: with --probe against the hosts themselves (probed read-only, over SSH for remote ones),
with --dry-run against the simulated lab's hosts. Problems are printed as FILE:LINE:COL: message;
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
    parser.add_argument(
        "--probe",
        action="store_true",
        help="also run the preflight checks against the hosts themselves: this machine, and "
        "the others over SSH (read-only)",
    )
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="with --probe: trust SSH host keys seen for the first time (never a changed key)",
    )
    from installer.cmd._options import add_ssh_options

    add_ssh_options(parser, suppress=True)


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
    from manifests.answers import ROLES

    # Every role the schema knows; one nobody has (network, usually) is left out of the line.
    roles = {r: n for r in ROLES if (n := len(answers.hosts_with(r))) or r != "network"}
    summary = ", ".join(f"{n} {r}" for r, n in roles.items())
    print(
        f"{args.file}: valid: release {answers.release}, {len(answers.hosts)} "
        f"host{'s' if len(answers.hosts) != 1 else ''} ({summary})"
    )
    from installer.cmd import _preflight

    if args.dry_run:
        facts = _preflight.lab_facts(loaded, args.facts)
        where = f"facts from {args.facts}" if args.facts else "the simulated lab's default hosts"
        return _preflight.report_preflight(loaded, facts, where=where, real_mode=False)
    if args.probe:
        import asyncio

        from installer.backends.real import probe_answer_hosts

        identity = getattr(args, "identity", None)
        facts, unreachable = asyncio.run(probe_answer_hosts(
            answers, accept_new_host_keys=args.accept_new_host_keys,
            known_hosts=getattr(args, "known_hosts", None),
            client_keys=[identity] if identity else None,
        ))
        return _preflight.report_preflight(
            loaded, facts, where="the probed hosts", real_mode=True, unreachable=unreachable
        )
    print(
        "host checks (resources, disks, NICs, name resolution) run at install time; run them "
        "now with --probe (the real hosts) or --dry-run (the simulated lab)"
    )
    return 0
