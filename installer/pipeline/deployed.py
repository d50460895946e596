"""The answers a state dir's cloud was deployed with: kept after each install or converge that
finished (`<state>/deployed-answers.json`, 0600), printed by `sunbeam-install answers`, and the
starting point of a converge (installer/pipeline/converge.py).

Secrets stay out, as in the journal (installer/secrets.py answers_snapshot): a proxy URL's
credentials show as `***@` and are kept 0600 in `<state>/secrets/`; the admin password is a file
reference (identity.admin_password_file) or keystone's own, kept in the state dir. Re-applying a
file that still says `***@` uses the kept credentials (`restore_proxy`).

A state dir from before this file existed: the journal's last finished install or converge run
holds the same snapshot, and is read instead."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from installer.exits import Exit, UserError

if TYPE_CHECKING:
    from installer.secrets import Secrets
    from installer.state import StateDir
    from manifests.answers import Answers

PROG = "sunbeam-install"
DEPLOYED_FILE = "deployed-answers.json"
# The run kinds whose success is the deployed cloud (an upgrade's answers name its release).
DEPLOYING_KINDS = ("install", "converge", "upgrade")


@dataclass(frozen=True)
class Deployed:
    """The deployed answers (proxy credentials still `***@`: `restored()` puts them back)."""

    answers: Answers
    run_id: str
    dry_run: bool

    def restored(self, secrets: Secrets) -> Answers:
        from installer.secrets import restore_proxy

        return restore_proxy(self.answers, secrets)


def keep_deployed(state: StateDir, answers: Answers, secrets: Secrets, run_id: str,
                  dry_run: bool) -> None:
    """Keep `answers` as the deployed ones, after run `run_id` finished (atomically, 0600)."""
    from installer.secrets import answers_snapshot, write_private

    doc = {"run_id": run_id, "dry_run": dry_run,
           "answers": json.loads(answers_snapshot(answers, secrets))}
    write_private(state.path / DEPLOYED_FILE, json.dumps(doc, indent=1) + "\n")


def load_deployed(state: StateDir) -> Deployed | None:
    """The deployed answers of `state`, None when no install there has finished."""
    from pydantic import ValidationError

    from manifests.answers import Answers

    path = state.path / DEPLOYED_FILE
    try:
        doc = json.loads(path.read_text())
        return Deployed(Answers.model_validate(doc["answers"]), str(doc["run_id"]),
                        bool(doc["dry_run"]))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError, ValidationError):
        raise UserError(f"The deployed answers {str(path)!r} cannot be read by this version; "
                        f"remove the file to read them from the journal instead.",
                        Exit.INVALID) from None
    return _from_journal(state)


def _from_journal(state: StateDir) -> Deployed | None:
    from pydantic import ValidationError

    from installer.journal import open_journal
    from manifests.answers import Answers

    if not state.journal_path.exists():
        return None
    with open_journal(state.journal_path) as journal:
        runs = [r for r in journal.runs(outcome="done") if r.kind in DEPLOYING_KINDS]
    if not runs:
        return None
    try:
        answers = Answers.model_validate_json(runs[0].answers_snapshot)
    except ValidationError:
        return None
    return Deployed(answers, runs[0].id, runs[0].dry_run)


HEADER = """\
# The answers of the cloud deployed from this state directory (run {run}).
# Edit and re-apply: `{prog} --answers FILE{mode}` changes only what differs
# (removing hosts or roles needs --allow-removal). Secrets are not in this file:
# a proxy URL's credentials show as ***@ and the kept ones are used; the admin
# password is identity.admin_password_file, or keystone's own in the state directory.
"""


def answers_yaml(deployed: Deployed, *, mode: str = "") -> str:
    """The deployed answers as an answers file a person edits and re-applies."""
    import yaml

    data = deployed.answers.model_dump(mode="json")
    head = HEADER.format(run=deployed.run_id, prog=PROG, mode=mode)
    return head + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
