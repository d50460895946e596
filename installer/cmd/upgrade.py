"""Upgrade a cloud this installer deployed to a newer OpenStack release.

Without --to, a wizard guides the choice; `upgrade --to RELEASE --yes` runs headless."""

import argparse

from installer.cmd._options import add_run_options
from installer.cmd._unavailable import unavailable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", metavar="RELEASE", help="target release, e.g. 2025.1")
    add_run_options(parser, suppress=True)


def run(args: argparse.Namespace) -> int:
    return unavailable("`upgrade`")
