"""The `sunbeam-install` command line: parse, dispatch to `installer.cmd.<name>`, map errors
to exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from installer.cmd._options import add_run_options
from installer.exits import Exit, UserError

PROG = "sunbeam-install"

DESCRIPTION = """\
Deploy and upgrade an OpenStack cloud the Sunbeam way: the control plane as Juju charms on
Kubernetes, hypervisor and storage as snaps on the hosts.

With no command, starts the guided installer (a text UI on a capable terminal, line prompts
with --plain). With --answers FILE, installs headless from an answers file. Add --dry-run to
any command that changes something to run it against a built-in simulated lab instead: no root,
snapd or Juju needed."""

EPILOG = """\
exit codes: 0 done; 1 invalid input (answers file, preflight errors); 2 usage or not available;
3 a step failed (resumable with `resume`); 4 needs root or a missing prerequisite;
130 interrupted (resumable).

examples:
  sunbeam-install --answers examples/three-node.yaml --dry-run --yes
  sunbeam-install validate examples/three-node.yaml
  sunbeam-install plan examples/single-node.yaml
  sunbeam-install probe ubuntu@10.20.0.12 --json"""

# name -> one-line help; each has a module installer/cmd/<name>.py
COMMANDS: dict[str, str] = {
    "upgrade": "upgrade a deployed cloud to a newer OpenStack release",
    "probe": "show the host facts (NICs, disks, CPU, memory, OS) of this host or of SSH hosts",
    "validate": "check an answers file (schema, rules, preflight) without changing anything",
    "plan": "print the ordered steps that installing an answers file would run",
    "bundle": "print the deployment an answers file converges to, as Juju bundles per model",
    "schema": "print the JSON Schema of the answers file (for editors)",
    "resume": "continue the last interrupted or failed run from its journal",
    "status": "show what the journal says about the last run",
    "verify": "prove an installed cloud works: endpoints, compute, a test instance; cleans up",
    "attach": "follow the running (or last) run: replay its progress, then stream it",
    "inspect": "write a redacted diagnostics tarball of the last run for a bug report",
    "answers": "print the answers of the deployed cloud, to edit and re-apply with --answers",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="ask the questions as plain line prompts (serial consoles, TERM=dumb)",
    )
    parser.add_argument(
        "--answers",
        metavar="FILE",
        help="install headless from this answers file (see `sunbeam-install schema`)",
    )
    parser.add_argument(
        "--tui",
        action="store_true",
        help="open the guided installer as a text UI (with --answers: prefilled from FILE "
        "instead of installing headless; --plain does the same as line prompts)",
    )
    add_run_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, help_text in COMMANDS.items():
        module = _command_module(name)
        p = sub.add_parser(
            name,
            help=help_text,
            description=(module.__doc__ or help_text).strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
    return parser


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"installer.cmd.{name}")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("sunbeam-install")
    except Exception:
        return "unknown"


class _VersionAction(argparse.Action):
    """--version: the installed package's version, looked up only when asked for (reading the
    package metadata cost every command ~34 ms when the parser was built)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"{PROG} {_version()}")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        # Alone, it needs no parser (which imports every command's module).
        print(f"{PROG} {_version()}")
        return int(Exit.OK)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    name = args.command or "install"
    try:
        return int(_command_module(name).run(args))
    except UserError as e:
        from installer.text import neutralise

        # A message may quote a host or a backend: its control characters are shown escaped.
        print(f"{PROG}: {neutralise(str(e))}", file=sys.stderr)
        return int(e.code)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return int(Exit.INTERRUPTED)
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(Exit.OK)
