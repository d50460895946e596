"""Plain mode's "Add hosts to a deployed cloud": the TUI's converge as line prompts.

`run_guided_plain` is plain mode's entry (`--plain`, TERM=dumb, or no terminal). When the state
dir holds a deployed cloud (and no --answers file was given) it asks first what to do, as the
TUI's Welcome does, with adding hosts as the default; a new deployment is plain mode's install
(installer/plain.py). The converge asks the install's questions starting from the deployed
answers (installer/interactive/converge.py), shows what stays as deployed, lets the operator
remove hosts (which then needs an explicit "allow removal"), shows the difference to the cloud
instead of the plan, and runs it; an unchanged draft says "nothing to change" and runs nothing.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from installer import plain
from installer.exits import Exit, UserError
from installer.interactive.converge import CONVERGE_LABEL, ConvergeSession, find_deployed
from installer.interactive.install import Session
from installer.interactive.notices import SessionError, has_errors
from installer.plain import (
    Choice,
    LinePrompter,
    Prompter,
    QuestionaryPrompter,
    ask_hosts,
    ask_network,
    ask_roles,
    ask_storage,
    install,
    needs_line_prompts,
    show_findings,
)

if TYPE_CHECKING:
    from installer.pipeline.deployed import Deployed
    from installer.pipeline.settings import RunSettings

NEW, CONVERGE = "new", "add-hosts"


def run_guided_plain(settings: RunSettings, *, answers_path: str | None = None,
                     assume_yes: bool = False, prompter: Prompter | None = None) -> int:
    """Plain mode: on a state dir with a deployed cloud, ask whether to add hosts to it (the
    default) or deploy anew; then that flow's questions. The exit code."""
    cloud = find_deployed(settings)
    if answers_path or cloud.deployed is None:
        if prompter is None:
            return plain.run_plain(settings, answers_path=answers_path, assume_yes=assume_yes)
        return plain.run_plain(settings, answers_path=answers_path, assume_yes=assume_yes,
                               prompter=prompter)
    if prompter is None:
        prompter = LinePrompter() if needs_line_prompts() else QuestionaryPrompter()
    try:
        mode = choose_mode(cloud.deployed, prompter)
        if mode == NEW:
            return plain.run_plain(settings, assume_yes=assume_yes, prompter=prompter)
        session = ConvergeSession(settings, cloud.deployed)
        go = converge_interview(session, prompter, assume_yes=assume_yes)
    except EOFError:
        print("sunbeam-install: input ended before every question was answered.", file=sys.stderr)
        return int(Exit.USAGE)
    if go is None:
        return int(Exit.OK)  # nothing to change
    if not go:
        return int(Exit.INVALID)
    return install(session, prompter)


def choose_mode(deployed: Deployed, p: Prompter) -> str:
    """Welcome's choice as a prompt: adding hosts to the deployed cloud by default."""
    hosts = len(deployed.answers.hosts)
    p.say(f"A cloud is deployed from this state directory ({hosts} host{'s' * (hosts != 1)}, "
          f"OpenStack {deployed.answers.release}).")
    return p.select("What to do?", [Choice(CONVERGE_LABEL, CONVERGE),
                                    Choice("New deployment", NEW)], CONVERGE)


def ask_removals(session: ConvergeSession, p: Prompter) -> None:
    """Deployed hosts to take out of the cloud (the Hosts screen's Delete)."""
    names = session.deployed_host_names()

    def check(value: str) -> str | None:
        if value and value not in names:
            return f"{value!r} is not a host of this cloud (its hosts: {', '.join(names)})."
        return None

    while True:
        name = p.text("Remove a host from the cloud (its name; empty: none)", "", check)
        if not name:
            return
        session.remove_host_named(name)
        p.say(f"  {name} will be removed (Review asks to allow it).")


def ask_features(session: Session, p: Prompter) -> None:
    """Options of a converge: the features (release, name and region stay as deployed)."""
    p.say("== Options ==")
    features = session.feature_names()
    if features:
        session.draft.features = p.checkbox("Optional features", [
            Choice(f"{k}: {v}", k, k in session.draft.features) for k, v in features.items()])


def converge_interview(session: ConvergeSession, p: Prompter, *,
                       assume_yes: bool = False) -> bool | None:
    """Ask what changes; True to apply the difference, False to stop, None when there is
    nothing to change."""
    p.say(f"sunbeam-install: {CONVERGE_LABEL.lower()} (plain mode)"
          + ("  [DRY RUN: the simulated lab, nothing is changed]" if session.dry_run else ""))
    p.say("Stays as deployed (a converge does not change it): "
          + "; ".join(f"{what} {value}" for what, value in session.fixed()) + ".")
    ask_hosts(session, p)
    ask_removals(session, p)
    ask_roles(session, p)
    ask_network(session, p)
    ask_storage(session, p)
    ask_features(session, p)
    p.say("== Review the changes ==")
    notices = session.validate()
    show_findings(notices, p)
    if has_errors(notices):
        p.say("The answers have errors; fix them and run again.")
        return False
    removals = session.removals()
    if removals:
        session.allow_removal = p.confirm(
            f"Allow removal of {', '.join(removals)} (guests and OSDs are checked first)?",
            False)
    try:
        asyncio.run(session.compute_difference())
    except UserError as e:
        p.say(f"Cannot apply: {e}")
        return False
    for line in session.difference_lines():
        p.say(line)
    diff = session.difference
    if diff is None or diff.empty:
        return None
    path = p.text("Save the answers file to (empty: do not save)",
                  str(session.state_dir / "answers.yaml"))
    if path:
        try:
            p.say(f"Saved to {session.save_answers(Path(path))}")
        except SessionError as e:
            p.say(str(e))
    if any(n.severity == "warning" for n in notices) and not assume_yes:
        if not p.confirm("Accept the warnings above?", False):
            return False
        session.accepted_warnings = True
    return assume_yes or p.confirm(f"Apply these {len(diff.plan)} steps now?", True)
