"""Print the answers of the cloud deployed from the state dir, as an answers file to edit and
re-apply with `sunbeam-install --answers FILE` (only what differs changes).

They are kept after every install or converge that finished (<state>/deployed-answers.json,
0600). No secret is printed: a proxy URL's credentials show as ***@ (re-applied, the kept
ones are used) and the admin password stays a file reference. Exit 4 when no install has
finished in the state dir."""

from __future__ import annotations

import argparse

PROG = "sunbeam-install"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="the cloud of the dry-run state dir (the simulated lab's)")
    parser.add_argument("--state-dir", metavar="DIR", help="the cloud of the state dir DIR")


def run(args: argparse.Namespace) -> int:
    from installer.cmd.install import settings_from_args
    from installer.exits import Exit, UserError
    from installer.pipeline.converge import deployed_cloud
    from installer.pipeline.deployed import answers_yaml

    settings = settings_from_args(args)
    deployed = deployed_cloud(settings)
    mode = " --dry-run" if settings.dry_run else ""
    if deployed is None:
        raise UserError(
            f"No install has finished in {str(settings.resolved_state_dir())!r}, so there are "
            f"no deployed answers to print; install with `{PROG} --answers FILE{mode}` first.",
            Exit.PREREQUISITE)
    if settings.explicit_state_dir:
        mode += f" --state-dir {settings.resolved_state_dir()}"
    print(answers_yaml(deployed, mode=mode), end="")
    return int(Exit.OK)
