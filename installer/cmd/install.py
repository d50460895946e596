"""Install: the guided installer, or headless with --answers FILE."""

import argparse

from installer.cmd._unavailable import unavailable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # install takes the top-level options


def run(args: argparse.Namespace) -> int:
    if args.answers:
        return unavailable("Headless install (--answers)")
    return unavailable("The guided installer")
