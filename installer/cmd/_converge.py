"""Headless converge: `sunbeam-install --answers FILE` on a state dir whose cloud is deployed.

The headless install calls `converge_if_deployed` first (installer/cmd/install.py): with no
deployed cloud in the state dir it returns None and the install goes on. Otherwise it shows the
difference between the cloud (read live) and FILE (added, changed, removed, untouched), stops
with exit 0 when there is nothing to change, asks (or --yes), and starts the converge run in
its own process, which this command follows like an install's (installer/cmd/_view.py).
Removing hosts or roles needs --allow-removal; a change a converge cannot make (release,
management network, deployment name) stops with exit 1 naming FILE, the field and the command
that makes it."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from installer.exits import Exit, UserError

if TYPE_CHECKING:
    from installer.pipeline.settings import RunSettings

PROG = "sunbeam-install"
Confirm = Callable[..., None]


def converge_if_deployed(settings: RunSettings, loaded: Any, args: argparse.Namespace,
                         confirm: Confirm) -> int | None:
    """Converge when the state dir holds a deployed cloud (the exit code); None otherwise."""
    from installer.pipeline.converge import deployed_cloud

    deployed = deployed_cloud(settings)
    if deployed is None:
        return None
    if deployed.dry_run != settings.dry_run:
        mode = "a dry-run" if deployed.dry_run else "a real"
        raise UserError(f"The state dir {str(settings.resolved_state_dir())!r} holds {mode} "
                        "cloud; converge it in the same mode, or give another --state-dir.",
                        Exit.USAGE)
    return asyncio.run(_converge(settings, loaded, args, deployed, confirm))


def _report(args: argparse.Namespace) -> IO[str]:
    from installer.cmd._view import report_stream

    return report_stream(args)


async def _converge(settings: RunSettings, loaded: Any, args: argparse.Namespace,
                    deployed: Any, confirm: Confirm) -> int:
    from installer.cmd._view import RunInfo, follow
    from installer.pipeline.converge import open_converge
    from installer.pipeline.follow import Follower
    from installer.pipeline.launch import launch_setup
    from installer.preflight.finding import format_finding, summarize
    from installer.state import StateDir
    from installer.text import neutralise

    out = _report(args)
    allow = bool(getattr(args, "allow_removal", False))
    path = str(Path(args.answers).resolve())
    async with open_converge(settings, loaded.answers, deployed, answers_path=path,
                             allow_removal=allow, source=args.answers,
                             locate=loaded.locate) as job:
        diff = job.difference
        print(f"{PROG}: the cloud in {job.state.path} is deployed (run {deployed.run_id}); "
              f"converging it to {args.answers}.", file=out)
        for line in diff.lines():
            print(neutralise(line), file=out)
        out.flush()
        if diff.empty:
            if settings.dry_run:
                print(f"Everything was already in place in this lab; `rm -rf {job.state.path}` "
                      "starts it over.", file=out)
            return int(Exit.OK)
        findings = job.preflight()
        errors, warnings, _ = summarize(findings)
        shown = [f for f in findings if f.severity != "info"]
        if shown:
            for f in shown:
                print(format_finding(f, loaded.locate, args.answers), file=sys.stderr)
        if errors:
            print(f"{PROG}: preflight found {errors} error(s) about the new hosts; fix them "
                  f"in {args.answers} and run again.", file=sys.stderr)
            return int(Exit.INVALID)
        if warnings:
            confirm(f"Converge despite {warnings} warning(s)?", yes=args.yes)
        else:
            where = "in the simulated lab" if settings.dry_run else "on the deployed cloud"
            confirm(f"Run these {len(diff.plan)} steps {where}?", yes=args.yes)
        setup = job.start()
        info = RunInfo.of_setup(setup)
        launched = launch_setup(setup, job.lock_fd)
    return await follow(Follower.of_launched(launched, StateDir(info.state_path)), info, args)
