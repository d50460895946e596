"""The message for commands this build does not offer yet."""

import argparse
import sys

from installer.exits import Exit


def unavailable(what: str) -> int:
    """Say plainly that `what` is not available yet; exit 2 rather than pretend."""
    print(f"sunbeam-install: {what} is not available in this version yet.", file=sys.stderr)
    return int(Exit.USAGE)


def no_arguments(parser: argparse.ArgumentParser) -> None:
    del parser
