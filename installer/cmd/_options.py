"""Options shared by the commands that change something."""

from __future__ import annotations

import argparse


def add_run_options(p: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """Options of every command that changes something (install, upgrade, resume)."""

    def d(value: object) -> object:
        # On subcommands the defaults must not overwrite what was given before the command.
        return argparse.SUPPRESS if suppress else value

    g = p.add_argument_group("run options")
    g.add_argument(
        "--dry-run",
        action="store_true",
        default=d(False),
        help="run against the built-in simulated lab: changes nothing, needs no root",
    )
    g.add_argument(
        "--yes",
        "-y",
        action="store_true",
        default=d(False),
        help="do not ask for confirmation (accepts warnings)",
    )
    g.add_argument(
        "--facts",
        metavar="DIR",
        default=d(None),
        help="dry-run: host facts for the lab, one <host>.json (probe --json output) per host",
    )
    g.add_argument(
        "--time-scale",
        metavar="X",
        type=float,
        default=d(None),
        help="dry-run: multiply the lab's operation times by X (default makes a 3-node "
        "install take seconds; 0 makes them instant)",
    )
    g.add_argument(
        "--faults",
        metavar="SPEC",
        action="append",
        default=d(None),
        help="dry-run: make named operations fail, e.g. 'juju.deploy:nova-k8s=transient:2' "
        "or 'ceph.add-osd@node2=fail' (repeatable, or comma-separated)",
    )
    g.add_argument(
        "--events",
        choices=["console", "jsonl"],
        default=d("console"),
        help="how progress is reported: a console display, or one JSON event per line",
    )
    g.add_argument(
        "--events-file",
        metavar="FILE",
        default=d(None),
        help="write the JSON-lines events to FILE instead of stdout",
    )
    g.add_argument(
        "--parallel",
        metavar="N",
        type=int,
        default=d(None),
        help="run at most N steps at once (default: 4 per host, 8 to 64); besides, at most 32 "
        "at once use the Juju controller, 4 each host and 4 the Kubernetes API",
    )
    g.add_argument(
        "--state-dir",
        metavar="DIR",
        default=d(None),
        help="where the journal, logs and generated secrets live (default: "
        "/var/lib/sunbeam-install, or $XDG_STATE_HOME/sunbeam-install with --dry-run)",
    )
    g.add_argument(
        "--allow-removal",
        action="store_true",
        default=d(False),
        help="converging a deployed cloud: let hosts and roles the answers no longer have be "
        "removed (after checking guests and OSDs)",
    )
    g.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        default=d(False),
        help="trust SSH host keys seen for the first time (never a changed key)",
    )
    add_ssh_options(g, suppress=suppress)


def add_ssh_options(p: argparse.ArgumentParser | argparse._ArgumentGroup, *,
                    suppress: bool = False) -> None:
    """--identity and --known-hosts: how a command that reaches hosts over SSH logs in and
    checks their keys. Under `sudo` the operator's agent and ~/.ssh are not root's, so these
    name them explicitly."""
    default = argparse.SUPPRESS if suppress else None
    p.add_argument(
        "--identity",
        metavar="FILE",
        default=default,
        help="SSH private key to log in to the hosts with (default: ssh-agent through "
        "SSH_AUTH_SOCK, and ~/.ssh/id_*; under sudo that is root's ~/.ssh)",
    )
    p.add_argument(
        "--known-hosts",
        metavar="FILE",
        default=default,
        help="known_hosts file to check host keys against and record new ones in "
        "(default ~/.ssh/known_hosts; under sudo, root's)",
    )
