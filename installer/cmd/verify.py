"""Prove an installed cloud works, as Sunbeam's `configure` and `launch` do, then clean up.

The checks, each a step with progress: the API endpoints in the catalog answer; the
nova-compute services are up; a test network, subnet and router (to the external network), a
cirros image and a flavor (m1.tiny when the cloud has one) are created; a test instance becomes
ACTIVE and is reached: its console shows the login prompt and, with an external network, its
floating IP answers ping from the first control host (--no-ping: the console only). Everything
created is named sunbeam-install-verify-* and is deleted afterwards, also when a check fails.

Runs on the state dir of a finished install (--dry-run: the lab's). Writes an openrc for the
admin in the state dir (0600; it reads the password from its file when sourced). Exit 0 all
checks passed; 3 a check failed (its hint says what to look at); 4 nothing installed there yet;
130 interrupted."""

from __future__ import annotations

import argparse
import asyncio
from typing import IO, TYPE_CHECKING

from installer.cmd._options import add_run_options
from installer.exits import exit_for

if TYPE_CHECKING:
    from installer.pipeline.settings import RunSettings
    from installer.pipeline.verify import VerifyJob
    from installer.runner import RunResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser, suppress=True)
    parser.add_argument(
        "--no-ping", action="store_true", default=False,
        help="reach the instance through its console log only (when the first control host "
        "has no route to the external network)")


def run(args: argparse.Namespace) -> int:
    from installer.cmd.install import settings_from_args

    return asyncio.run(_verify(settings_from_args(args), args))


async def _verify(settings: RunSettings, args: argparse.Namespace) -> int:
    from installer.cmd._view import print_report
    from installer.cmd.install import renderers, report_stream
    from installer.pipeline.verify import open_verify, run_verify

    async with open_verify(settings, ping=not args.no_ping) as job:
        if settings.dry_run:
            print_report(["Dry run: verify runs in the simulated lab; nothing on any host is "
                          "changed."], report_stream(args))
        with renderers(args) as (emit, report):
            result = await run_verify(job, emit)
        return _finish(job, result, report)


def _finish(job: VerifyJob, result: RunResult, report: IO[str]) -> int:
    """The closing report; the exit code."""
    from installer.cmd._view import print_report
    from installer.interactive.commands import command_line
    from installer.pipeline.openrc import admin_password_file
    from installer.pipeline.verify import leftovers
    from installer.render.console import report_lines

    s = job.setup
    again = command_line(s.settings, "verify")
    if result.outcome == "done":
        lines = [f"Verified: the cloud of {job.installed.kind} run {job.installed.id} works "
                 f"({result.done} steps done, {result.skipped} with nothing to do)."]
        lines += [f"  Reached: {how}." for how in job.scope.reached]
        lines.append("  Everything verify created was deleted.")
    else:
        lines = report_lines(result, log_path=str(s.log_path), resume_hint=f"Run it again "
                             f"(it removes what this one left first): {again}")
        left = leftovers(result)
        lines.append("  Left in the cloud: " + "; ".join(left) if left else
                     "  Everything verify created was deleted.")
    lines.append(f"openrc for the admin: {job.openrc} (source it; the password is read from "
                 f"{admin_password_file(s.state.path, s.answers)})")
    if s.dry_run:
        lines.append("Dry run: this verify ran in the simulated lab; nothing on any host was "
                     "changed.")
    lines += s.notes
    print_report(lines, report)
    return int(exit_for(result.outcome))
