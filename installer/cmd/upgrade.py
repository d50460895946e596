"""Upgrade a cloud this installer deployed to a newer OpenStack release.

`upgrade --to RELEASE --yes` runs headless: it detects what is deployed, refuses targets that
are not a supported step (one release forward, or a skip-level jump between SLURP releases),
shows what changes, runs the upgrade preflight, and upgrades the control plane in OpenStack's
order and then the hosts one by one, resumable like an install. `upgrade --show` prints what
is deployed and where it may go. Without --to, the wizard (TUI) guides the choice; without a
capable terminal it lists the supported targets and says to pass --to."""

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
        return guided_upgrade(args)
    from installer.upgrade.run import headless_upgrade

    return headless_upgrade(args)


def guided_upgrade(args: argparse.Namespace) -> int:
    """No --to: the wizard on a capable terminal; else the targets and how to pass one."""
    from installer.plain import needs_line_prompts

    if not needs_line_prompts():
        from screens.upgrade_app import run_upgrade_tui

        return run_upgrade_tui(args)
    import asyncio

    from installer.session import SessionError
    from installer.upgrade_session import UpgradeSession

    session = UpgradeSession.from_args(args)
    try:
        deployed = asyncio.run(session.detect())
    except SessionError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return int(Exit.INVALID)
    targets = session.targets()
    print(f"The cloud runs {deployed.release or 'an unknown release'}.")
    for t in targets:
        print(f"  {t.target}: {'supported' if t.supported else 'refused'}. {t.reason}")
    supported = [t.target for t in targets if t.supported]
    dry = " --dry-run" if session.dry_run else ""
    if supported:
        print(f"{PROG}: there is no terminal for the upgrade wizard; pass the target, e.g. "
              f"`{PROG} upgrade --to {supported[-1]}{dry} --yes`.", file=sys.stderr)
    else:
        print(f"{PROG}: no shipped release is a supported upgrade from "
              f"{deployed.release or 'this cloud'}; there is nothing to pass to --to.",
              file=sys.stderr)
    return int(Exit.USAGE)
