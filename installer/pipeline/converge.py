"""Converge: a deployed cloud to a changed answers file (day two).

    deployed = deployed_cloud(settings)          # None: nothing deployed, install instead
    async with open_converge(settings, answers, answers_path=path) as job:
        job.difference.lines()                   # the front end shows it, asks, or stops
        findings = job.preflight()               # the new hosts' findings
        setup = job.start()                      # journaled, kind "converge"

What is deployed is read live through the backends (installer/planner/live.py) beside the
answers the cloud was deployed with (installer/pipeline/deployed.py); the difference engine
(installer/planner/converge.py) plans only what differs. The run is an ordinary run of the
journal with kind "converge": the same runner, events, detached process and `resume`. Its
starting point (the deployed answers, the removal flag, the step ids) is kept in
`<state>/converge/<run-id>.json`, so a resume re-plans the same steps although half the cloud
has moved on."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from installer.exits import Exit, UserError
from installer.pipeline.backends import Opened, open_backends
from installer.pipeline.deployed import Deployed, load_deployed
from installer.pipeline.runs import RunSetup, load_release_for, new_run

if TYPE_CHECKING:
    from pathlib import Path

    from installer.pipeline.settings import RunSettings
    from installer.plan import Plan
    from installer.planner.changes import Difference
    from installer.planner.live import Live
    from installer.preflight.finding import Finding
    from installer.secrets import Secrets
    from installer.state import StateDir
    from manifests.answers import Answers
    from manifests.release import Release

PROG = "sunbeam-install"
RECORDS_DIR = "converge"
T = TypeVar("T")
Locate = Callable[[tuple[str | int, ...]], tuple[int, int]]  # a field's line and column


def check_refusals(target: Answers, deployed: Answers, source: str,
                   locate: Locate | None = None) -> None:
    """Stop (exit 1, FILE:LINE:COL: field: why) on a change a converge does not make, before
    anything is opened or planned."""
    from installer.planner.changes import ConvergeRefused
    from installer.planner.converge import refusals

    def check() -> None:
        found = refusals(deployed, target)
        if found:
            raise ConvergeRefused(found)

    located(check, source, locate)


def deployed_cloud(settings: RunSettings) -> Deployed | None:
    """The deployed answers of the settings' state dir; None when nothing is deployed there."""
    from installer.state import StateDir

    path = settings.resolved_state_dir()
    if not path.exists():
        return None
    return load_deployed(StateDir(path).check())


def _with_gone_hosts(target: Answers, deployed: Answers) -> Answers:
    """The target's hosts and the deployed hosts it removes: the backends reach both."""
    names = {h.name for h in target.hosts}
    gone = [h for h in deployed.hosts if h.name not in names]
    return target.model_copy(update={"hosts": [*target.hosts, *gone]}) if gone else target


def snap_pairs(*plans: Plan) -> set[tuple[str, str]]:
    """(host, snap) of every snap the plans install: what to ask each host's snapd for."""
    from installer.steps.snaps import SnapInstall

    return {(s.host, s.snap) for p in plans for s in p.steps
            if isinstance(s, SnapInstall) and s.host is not None}


async def compute_difference(opened: Opened, target: Answers, deployed: Answers,
                             release: Release, *, allow_removal: bool, source: str,
                             locate: Locate | None = None) -> tuple[Difference, Live]:
    """The difference from the cloud the backends show (deployed with `deployed`) to
    `target`; a UserError (exit 1) naming `source` and the field for a refused change."""
    from installer.planner import plan as make_plan
    from installer.planner.converge import difference
    from installer.planner.live import read_live

    pairs = snap_pairs(make_plan(target, release), make_plan(deployed, release))
    live = await read_live(opened.backends, pairs)
    return located(lambda: difference(target, deployed, release, live,
                                      allow_removal=allow_removal), source, locate), live


def located(compute: Callable[[], T], source: str, locate: Locate | None = None) -> T:
    """`compute()`, its ConvergeRefused and PlanError as one UserError (exit 1) whose lines
    name `source` (with `locate`: FILE:LINE:COL) and the field at fault."""
    from installer.plan import PlanError
    from installer.planner.changes import ConvergeRefused
    from manifests.loader import dotted

    try:
        return compute()
    except ConvergeRefused as e:
        lines = [f"{_at(source, r.path, locate)}: {dotted(list(r.path))}: {r.message}"
                 for r in e.refusals]
        raise UserError("\n".join(lines), Exit.INVALID) from None
    except PlanError as e:
        raise UserError(f"{source}: {e}", Exit.INVALID) from None


def _at(source: str, path: tuple[str | int, ...], locate: Locate | None) -> str:
    if locate is None:
        return source
    try:
        line, col = locate(path)
    except (KeyError, IndexError, ValueError, AttributeError):
        return source
    return f"{source}:{line}:{col}"


@dataclass
class ConvergeJob:
    """One converge with its state dir locked, its backends open and its difference known."""

    settings: RunSettings
    state: StateDir
    answers: Answers
    answers_path: str | None
    deployed: Answers
    release: Release
    opened: Opened
    difference: Difference
    allow_removal: bool
    lock_fd: int = -1

    def preflight(self) -> list[Finding]:
        """The preflight findings about what the converge adds: the new hosts, and the
        findings of no host. (A deployed host's disks are OSDs now, which preflight would
        flag as taken.)"""
        from installer.preflight import check

        new = {h.name for h in self.answers.hosts} - {h.name for h in self.deployed.hosts}
        return [f for f in check(self.answers, self.opened.facts, self.release,
                                 real_mode=not self.settings.dry_run)
                if f.host is None or f.host in new]

    def start(self) -> RunSetup:
        """Journal the converge run (kind "converge") and keep its starting point."""
        plan = self.difference.plan
        setup = new_run(kind="converge", settings=self.settings, state=self.state, plan=plan,
                        answers=self.answers, answers_path=self.answers_path,
                        release=self.release, backends=self.opened.backends,
                        lab=self.opened.lab)
        try:
            save_record(self.state, setup.run_id, self.deployed, self.allow_removal,
                        plan.ids(), setup.secrets)
        except BaseException:
            setup.close()
            raise
        return setup


@contextlib.asynccontextmanager
async def open_converge(
    settings: RunSettings, answers: Answers, deployed: Deployed, *,
    answers_path: str | None = None, allow_removal: bool = False, source: str | None = None,
    locate: Locate | None = None,
) -> AsyncIterator[ConvergeJob]:
    """Lock the state dir, open the backends, read the cloud and compute the difference to
    `answers`; close both after."""
    from installer.pipeline.install import prepare_state

    state = prepare_state(settings)
    secrets = state.secrets()
    old = deployed.restored(secrets)
    target = _restore_target(answers, secrets)
    source = source or answers_path or "the answers"
    check_refusals(target, old, source, locate)
    release = load_release_for(answers)
    with state.lock("converge") as lock_fd:
        reach = _with_gone_hosts(target, old)
        async with open_backends(settings, state, reach) as opened:
            diff, _ = await compute_difference(opened, target, old, release,
                                               allow_removal=allow_removal, source=source,
                                               locate=locate)
            yield ConvergeJob(settings, state, target, answers_path, old, release, opened,
                              diff, allow_removal, lock_fd)


def _restore_target(answers: Answers, secrets: Secrets) -> Answers:
    """A re-applied `answers` output says `***@` for proxy credentials: the kept ones."""
    from installer.secrets import restore_proxy

    return restore_proxy(answers, secrets)


# -- the record a resume re-plans from ----------------------------------------------------------


def record_path(state_dir: Path, run_id: str) -> Path:
    return state_dir / RECORDS_DIR / f"{run_id}.json"


def save_record(state: StateDir, run_id: str, deployed: Answers, allow_removal: bool,
                step_ids: list[str], secrets: Secrets) -> None:
    """Keep where converge run `run_id` started (0600; proxy credentials as in the journal)."""
    from installer.secrets import answers_snapshot, write_private

    doc = {"run_id": run_id, "allow_removal": allow_removal, "steps": step_ids,
           "deployed": json.loads(answers_snapshot(deployed, secrets))}
    write_private(record_path(state.path, run_id), json.dumps(doc) + "\n")


def plan_from_record(state: StateDir, run_id: str, answers: Answers, release: Release) -> Plan:
    """The plan of converge run `run_id` as it was when it started (for `resume` and the run's
    own process)."""
    from pydantic import ValidationError

    from installer.planner.converge import difference
    from installer.planner.live import Recorded
    from installer.secrets import restore_proxy
    from manifests.answers import Answers

    path = record_path(state.path, run_id)
    again = (f"run `{PROG} --answers FILE` again to compare the cloud with the file anew")
    try:
        doc = json.loads(path.read_text())
        deployed = Answers.model_validate(doc["deployed"])
        ids = [str(i) for i in doc["steps"]]
        allow_removal = bool(doc["allow_removal"])
    except FileNotFoundError:
        raise UserError(f"The converge run {run_id} has no stored starting point in "
                        f"{str(state.path)!r}; {again}.", Exit.INVALID) from None
    except (OSError, ValueError, KeyError, TypeError, ValidationError):
        raise UserError(f"The converge record {str(path)!r} cannot be read; {again}.",
                        Exit.INVALID) from None
    deployed = restore_proxy(deployed, state.secrets())
    diff = located(lambda: difference(answers, deployed, release, Recorded(set(ids)),
                                      allow_removal=allow_removal), str(path))
    if sorted(diff.plan.ids()) != sorted(ids):
        raise UserError(f"The converge run {run_id} cannot be re-planned by this version; "
                        f"{again}.", Exit.INVALID)
    return diff.plan


# -- preview: `plan FILE` and `bundle FILE` on a deployed cloud ----------------------------------


@dataclass
class Preview:
    """What `plan`/`bundle` show of a converge: the difference, and the bundles of the cloud
    as it is and as the answers want it (installer/planner/live.py's shape)."""

    difference: Difference
    deployed_bundle: dict[str, dict[str, object]]
    planned_bundle: dict[str, dict[str, object]]


async def preview(settings: RunSettings, answers: Answers, *, source: str,
                  allow_removal: bool = False, locate: Locate | None = None,
                  ) -> tuple[Preview | None, str | None]:
    """The converge from the cloud in the settings' state dir to `answers`, read only (no
    lock, the lab's hosts left as they are): (preview, None); (None, None) when nothing is
    deployed there; (None, why) when the cloud cannot be read from here."""
    from installer.planner.deployment import deployment
    from installer.planner.live import deployed_bundle, planned_bundle
    from installer.state import StateDir

    deployed = deployed_cloud(settings)
    if deployed is None:
        return None, None
    if deployed.dry_run != settings.dry_run:
        return None, ("the state dir holds a " + ("dry-run" if deployed.dry_run else "real")
                      + " cloud; add --dry-run" * deployed.dry_run + " to compare with it")
    state = StateDir(settings.resolved_state_dir())
    if state.is_locked():
        return None, (f"a run holds {str(state.path)!r} now; after it, `{PROG} plan` shows "
                      "the difference")
    secrets = state.secrets()
    old, target = deployed.restored(secrets), _restore_target(answers, secrets)
    check_refusals(target, old, source, locate)
    release = load_release_for(answers)
    try:
        if not settings.dry_run:
            from installer.pipeline.backends import real_mode_gate

            real_mode_gate(settings)
        async with open_backends(settings, state, _with_gone_hosts(target, old),
                                 place_hosts=False) as opened:
            diff, live = await compute_difference(opened, target, old, release,
                                                  allow_removal=allow_removal, source=source,
                                                  locate=locate)
    except UserError as e:
        if e.code == Exit.INVALID:
            raise  # a refused change: said as for a converge
        return None, f"the deployed cloud cannot be read from here ({e})"
    return Preview(diff, deployed_bundle(live), planned_bundle(deployment(target, release))), None
