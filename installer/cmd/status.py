"""Show the last run from its journal: steps done, failed and pending, and the log path."""

import argparse

from installer.cmd._unavailable import unavailable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="the dry-run state dir")
    parser.add_argument("--state-dir", metavar="DIR", help="read the journal in DIR")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")


def run(args: argparse.Namespace) -> int:
    return unavailable("`status`")
