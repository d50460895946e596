"""Upgrade a cloud this installer deployed to a newer OpenStack release.

`upgrade --to RELEASE --yes` runs headless: it detects what is deployed, refuses targets that
are not a supported step (one release forward, or a skip-level jump between SLURP releases),
shows what changes, runs the upgrade preflight, and upgrades the control plane in OpenStack's
order and then the hosts one by one, resumable like an install. `upgrade --show` prints what
is deployed and where it may go. Without --to, the interactive wizard would guide the choice."""

from __future__ import annotations

import argparse
import sys

from installer.cmd._options import add_run_options
from installer.exits import Exit

PROG = "sunbeam-install"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", metavar="RELEASE", help="target release, e.g. 2025.1")
    parser.add_argument("--show", action="store_true",
                        help="print what is deployed and the supported targets; change nothing")
    parser.add_argument("--json", action="store_true", help="with --show: print JSON")
    parser.add_argument("--answers", metavar="FILE", default=argparse.SUPPRESS,
                        help="the answers the cloud was installed with (default: the journal's)")
    parser.add_argument("--compute-batch", metavar="N", type=int, default=None,
                        help="refresh the hypervisors of N compute hosts at once (default: a "
                        "quarter of them)")
    parser.add_argument("--one-at-a-time", action="store_true",
                        help="refresh one compute host at a time, disabled for scheduling "
                        "meanwhile (real clouds; the lab does not simulate it)")
    add_run_options(parser, suppress=True)


def run(args: argparse.Namespace) -> int:
    if args.show:
        from installer.upgrade.run import show

        return show(args)
    if not args.to:
        print(f"{PROG}: the interactive upgrade wizard is not available in this version yet; "
              f"run `{PROG} upgrade --to RELEASE --yes` (`{PROG} upgrade --show` lists the "
              "supported releases).", file=sys.stderr)
        return int(Exit.USAGE)
    from installer.upgrade.run import headless_upgrade

    return headless_upgrade(args)
