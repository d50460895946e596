"""Continue the last interrupted or failed run: finished steps are not run again."""

import argparse

from installer.cmd._options import add_run_options
from installer.cmd._unavailable import unavailable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser, suppress=True)


def run(args: argparse.Namespace) -> int:
    return unavailable("`resume`")
