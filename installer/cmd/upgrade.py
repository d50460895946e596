"""Upgrade a cloud this installer deployed to a newer OpenStack release.

`upgrade --to RELEASE --yes` runs headless: it detects what is deployed, refuses targets that
are not a supported step (one release forward, or a skip-level jump between SLURP releases),
shows what changes, runs the upgrade preflight, and upgrades the control plane in OpenStack's
order and then the hosts one by one, resumable like an install. `upgrade --show` prints what
is deployed and where it may go. Without --to, the wizard (TUI) guides the choice; without a
capable terminal it lists the supported targets and says to pass --to."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

from installer.cmd._options import add_run_options
from installer.cmd.install import settings_from_args
from installer.exits import Exit, UserError

if TYPE_CHECKING:
    from installer.cmd._view import RunInfo
    from installer.pipeline.launch import Launched
    from installer.pipeline.settings import RunSettings
    from installer.upgrade.detect import Deployed

PROG = "sunbeam-install"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", metavar="RELEASE", help="target release, e.g. 2025.1")
    parser.add_argument("--show", action="store_true",
                        help="print what is deployed and the supported targets; change nothing")
    parser.add_argument("--json", action="store_true", help="with --show: print JSON")
    parser.add_argument("--answers", metavar="FILE", default=argparse.SUPPRESS,
                        help="the answers the cloud was installed with (default: the journal's)")
    parser.add_argument("--compute-batch", metavar="N", type=int, default=None,
                        help="refresh the hypervisors of N compute hosts at once (default: a "
                        "quarter of them)")
    parser.add_argument("--one-at-a-time", action="store_true",
                        help="refresh one compute host at a time, disabled for scheduling "
                        "meanwhile (real clouds; the lab does not simulate it)")
    add_run_options(parser, suppress=True)


def run(args: argparse.Namespace) -> int:
    if args.show:
        return asyncio.run(show(settings_from_args(args), args))
    if not args.to:
        return guided_upgrade(args)
    if args.compute_batch is not None and args.compute_batch < 1:
        raise UserError(f"--compute-batch {args.compute_batch} is below 1; give how many "
                        "compute hosts to refresh at once (1 or more).", Exit.USAGE)
    settings = settings_from_args(args)
    settings.check()
    if not settings.dry_run:
        from installer.pipeline.backends import real_mode_gate

        real_mode_gate(settings)
    return asyncio.run(headless_upgrade(settings, args))


# --------------------------------------------------------------------------------------------
# `upgrade --show`


async def show(settings: RunSettings, args: argparse.Namespace) -> int:
    """Print what is deployed and where it may go; change nothing."""
    from installer.pipeline.upgrade import open_upgrade
    from installer.upgrade.targets import supported_targets

    async with open_upgrade(settings, answers_path=getattr(args, "answers", None),
                            look_only=True) as job:
        deployed = await job.detect()
    targets = supported_targets(deployed.release) if deployed.release else []
    if args.json:
        print(json.dumps({
            "deployed": deployed.model_dump(mode="json"),
            "targets": [{"release": t.target, "supported": t.supported, "reason": t.reason,
                         "skip_level": t.skip_level} for t in targets],
        }, indent=2))
        return int(Exit.OK)
    from installer.text import neutralise

    for line in describe(deployed):
        print(neutralise(line))  # names and notes come from Juju and snapd
    for t in targets:
        print(f"  -> {t.target}: {'supported' if t.supported else 'refused'}. {t.reason}")
    if deployed.release and not targets:
        print(f"  No newer release is shipped than {deployed.release}.")
    return int(Exit.OK)


def describe(deployed: Deployed) -> list[str]:
    """What is deployed, a line per charm and snap, for the operator."""
    src = {"journal": "from the journal", "channels": "from the channels",
           "unknown": "unknown"}[deployed.release_source]
    lines = [f"Deployed release: {deployed.release or 'unknown'} ({src}); channels match "
             f"{deployed.channels_release or 'no single release'}"]
    for a in deployed.apps:
        state = "active" if a.settled else "NOT settled"
        lines.append(f"  charm {a.app:28} {a.channel or '-':22} rev {a.revision!s:5} "
                     f"{len(a.units)} unit(s) {state}")
    for s in deployed.snaps:
        lines.append(f"  snap  {s.name + '@' + s.host:28} {s.channel:22} rev {s.revision}")
    for note in deployed.notes:
        lines.append(f"  note: {note}")
    return lines


# --------------------------------------------------------------------------------------------
# `upgrade --to RELEASE`


async def headless_upgrade(settings: RunSettings, args: argparse.Namespace) -> int:
    """Detect, check and plan in this process; the upgrade itself runs in its own process,
    which this one follows (as an install does)."""
    from installer.cmd.install import follow_launched

    started = await _start_upgrade(settings, args)
    if isinstance(started, int):
        return started
    return await follow_launched(*started, args)


async def _start_upgrade(settings: RunSettings, args: argparse.Namespace
                         ) -> int | tuple[Launched, RunInfo]:
    """The upgrade's run started in its own process, or the exit code when none was."""
    from installer.cmd._view import RunInfo
    from installer.cmd.install import confirm, launch_run
    from installer.pipeline.launch import launch
    from installer.pipeline.resume import mark_resumed, run_inputs
    from installer.pipeline.upgrade import open_upgrade
    from installer.preflight.finding import format_finding, summarize
    from installer.text import neutralise
    from installer.upgrade.planner import UpgradeOptions
    from installer.upgrade.targets import check_target, diff, format_diff
    from manifests.release import load_release

    # With `--events jsonl` on stdout, stdout carries only JSON lines: the text goes to stderr.
    out = sys.stderr if args.events == "jsonl" and not args.events_file else sys.stdout
    async with open_upgrade(settings, answers_path=getattr(args, "answers", None)) as job:
        unfinished = job.unfinished()
        if unfinished is not None and unfinished[1] is None:
            # Killed between journaling the run and storing its starting point (an older
            # version wrote them in that order): no step of it ran, so detect and start anew.
            print(f"{PROG}: the upgrade run {unfinished[0].id} stopped before its first step "
                  "(its starting point was not stored); detecting the cloud again and starting "
                  "the upgrade anew.", file=sys.stderr)
            unfinished = None
        if unfinished is not None:
            last, record = unfinished
            if record is not None and record.to_release != args.to:
                raise UserError(f"The upgrade run {last.id} to {record.to_release} did not "
                                f"finish; continue it with `{PROG} resume` before upgrading "
                                f"to {args.to}.", Exit.INVALID)
            print(f"{PROG}: continuing the unfinished upgrade run {last.id} to {args.to}.",
                  file=sys.stderr)
            inputs = run_inputs(settings, job.state, last)
            mark_resumed(inputs, job.state)
            info = RunInfo(last.kind, inputs.settings, job.state.path,
                           str(job.state.log_path(last.id)), inputs.answers)
            return launch(job.state.path, last.id, last.kind, inputs.settings,
                          job.lock_fd), info
        for f in job.run_findings:
            print(format_finding(f), file=sys.stderr)
        if job.run_findings:
            return int(Exit.INVALID)

        deployed = await job.detect()
        if deployed.release is None:
            raise UserError("Which release the cloud runs cannot be told (no finished install "
                            "in the journal and the channels match no shipped release); "
                            f"`{PROG} upgrade --show` lists them.", Exit.INVALID)
        if deployed.release == args.to:
            print(f"The cloud runs {args.to} already; there is nothing to upgrade.", file=out)
            return int(Exit.OK)
        verdict = check_target(deployed.release, args.to)
        if not verdict.supported:
            raise UserError(f"Cannot upgrade to {args.to}: {verdict.reason}", Exit.INVALID)
        target = load_release(args.to)
        print(f"Upgrade {deployed.release} -> {target.release} ({target.codename}): "
              f"{verdict.reason}", file=out)
        for line in format_diff(diff(deployed, target, job.answers)):
            print(f"  {neutralise(line)}", file=out)  # channels as Juju and snapd report them
        out.flush()

        findings = job.preflight(target)
        errors, warnings, _ = summarize(findings)
        for f in findings:
            print(format_finding(f), file=sys.stderr)
        if errors:
            print(f"{PROG}: upgrade preflight found {errors} error(s); fix them and run the "
                  "upgrade again.", file=sys.stderr)
            return int(Exit.INVALID)
        if warnings:
            confirm(f"Upgrade despite {warnings} warning(s)?", yes=args.yes)
        elif not settings.dry_run:
            confirm(f"Upgrade the cloud on {len(job.answers.hosts)} host(s) to "
                    f"{target.release}?", yes=args.yes)

        options = UpgradeOptions(compute_batch=args.compute_batch,
                                 disable_scheduling=bool(args.one_at_a_time))
        if args.one_at_a_time:
            options = UpgradeOptions(compute_batch=1, disable_scheduling=True)
        plan = job.plan(target, options)
        if not plan.steps:
            print(f"Nothing to upgrade: everything is on {target.release}'s channels already.",
                  file=out)
            return int(Exit.OK)
        return launch_run(job.start(target, options, plan), job.lock_fd)


def guided_upgrade(args: argparse.Namespace) -> int:
    """No --to: the wizard on a capable terminal; else the targets and how to pass one."""
    from installer.plain import needs_line_prompts

    if not needs_line_prompts():
        from screens.upgrade_app import run_upgrade_tui

        return run_upgrade_tui(settings_from_args(args),
                               answers_path=getattr(args, "answers", None),
                               compute_batch=args.compute_batch)
    from installer.interactive.upgrade import UpgradeSession

    session = UpgradeSession(settings_from_args(args), answers_path=getattr(args, "answers", None))
    deployed = asyncio.run(session.detect())  # a UserError reaches main() with its exit code
    targets = session.targets()
    print(f"The cloud runs {deployed.release or 'an unknown release'}.")
    for t in targets:
        print(f"  {t.target}: {'supported' if t.supported else 'refused'}. {t.reason}")
    supported = [t.target for t in targets if t.supported]
    dry = " --dry-run" if session.dry_run else ""
    if supported:
        print(f"{PROG}: there is no terminal for the upgrade wizard; pass the target, e.g. "
              f"`{PROG} upgrade --to {supported[-1]}{dry} --yes`.", file=sys.stderr)
    else:
        print(f"{PROG}: no shipped release is a supported upgrade from "
              f"{deployed.release or 'this cloud'}; there is nothing to pass to --to.",
              file=sys.stderr)
    return int(Exit.USAGE)
