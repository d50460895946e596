"""Print the steps that installing an answers file would run, in order, with what each waits for.

Nothing is changed. With --json, prints {"steps": [{"id", "title", "host", "needs": [...]}, ...]}.

On a state dir whose cloud is deployed (--dry-run: the lab's), prints only the difference a
converge to FILE would run: the cloud is read live, and the changes (added, changed, removed,
untouched) come before the steps; with --json, {"difference": {...}, "steps": [...]}. --full
prints the whole install plan instead. When the deployed cloud cannot be read from here, the
whole plan is printed, saying so."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from installer.pipeline.converge import Preview
    from manifests.answers import Answers
    from manifests.release import Release


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the answers file (YAML)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    add_converge_arguments(parser)


def add_converge_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that point `plan` and `bundle` at a deployed cloud."""
    parser.add_argument("--full", action="store_true",
                        help="the whole install, even when the state dir's cloud is deployed")
    parser.add_argument("--dry-run", action="store_true",
                        help="compare with the cloud of the dry-run state dir (the lab's)")
    parser.add_argument("--state-dir", metavar="DIR",
                        help="compare with the cloud deployed from the state dir DIR")
    parser.add_argument("--allow-removal", action="store_true",
                        help="plan the removal of hosts and roles FILE no longer has")


def converge_preview(args: argparse.Namespace, answers: Answers) -> Preview | None:
    """The converge to `answers` of the deployed cloud the options name, None with no deployed
    cloud (or --full); when it cannot be read, None after a note on stderr."""
    import asyncio

    from installer.cmd.install import settings_from_args
    from installer.pipeline.converge import preview

    if args.full:
        return None
    shown, why = asyncio.run(preview(settings_from_args(args), answers, source=args.file,
                                     allow_removal=args.allow_removal))
    if why is not None:
        print(f"sunbeam-install: {why}; this is the whole plan.", file=sys.stderr)
    return shown


def load_for_planning(path: str) -> tuple[Answers, Release] | None:
    """The answers file and its release, for the commands that only plan (plan, bundle);
    None after saying on stderr why not (exit 1)."""
    from manifests.loader import AnswersError, load_answers
    from manifests.release import load_release, shipped_releases

    try:
        answers = load_answers(path)
    except AnswersError as e:
        print(str(e), file=sys.stderr)
        return None
    try:
        return answers, load_release(answers.release)
    except KeyError:
        print(
            f"{path}: release {answers.release!r} is not shipped; choose one of "
            f"{', '.join(shipped_releases())}.",
            file=sys.stderr,
        )
        return None


def run(args: argparse.Namespace) -> int:
    from installer.exits import Exit
    from installer.plan import PlanError
    from installer.planner import plan, plan_summary, plan_to_json

    loaded = load_for_planning(args.file)
    if loaded is None:
        return int(Exit.INVALID)
    answers, release = loaded
    shown = converge_preview(args, answers)
    if shown is not None:
        diff = shown.difference
        if args.json:
            print(json.dumps({"difference": diff.to_json(), **plan_to_json(diff.plan)},
                             indent=2))
            return int(Exit.OK)
        print("\n".join(diff.lines()))
        if not diff.empty:
            print()
            print(plan_summary(diff.plan, answers))
        return int(Exit.OK)
    try:
        p = plan(answers, release)
    except PlanError as e:
        print(f"{args.file}: {e}", file=sys.stderr)
        return int(Exit.INVALID)
    if args.json:
        print(json.dumps(plan_to_json(p), indent=2))
    else:
        print(plan_summary(p, answers))
    return int(Exit.OK)
