"""Print the steps that installing an answers file would run, in order, with what each waits for.

Nothing is changed and no host is contacted. With --json, prints
{"steps": [{"id", "title", "host", "needs": [...]}, ...]}."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from manifests.answers import Answers
    from manifests.release import Release


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the answers file (YAML)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


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
