"""Show host facts: NICs, disks (and which can hold Ceph OSDs), CPU virtualization, memory, OS.

With no HOST, probes this machine. HOST is [user@]address[:port]; remote hosts are probed over
SSH concurrently and need only python3 on the far side."""

import argparse

from installer.cmd._unavailable import unavailable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hosts", nargs="*", metavar="HOST", help="[user@]address[:port]")
    parser.add_argument("--json", action="store_true", help="print the facts as JSON")


def run(args: argparse.Namespace) -> int:
    return unavailable("`probe`")
