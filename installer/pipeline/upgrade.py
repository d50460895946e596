"""Upgrade: read what is deployed, check a target, plan, then the run's Events.

    async with open_upgrade(settings, answers_path=path) as job:
        deployed = await job.detect()        # on the same loop as the run that follows
        findings = job.preflight(target)
        setup = job.start(target, options)   # journaled, starting point stored
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from installer.exits import Exit, UserError
from installer.pipeline.backends import Opened, open_backends
from installer.pipeline.install import prepare_state
from installer.pipeline.runs import RunSetup, new_run

if TYPE_CHECKING:
    from installer.events import Event
    from installer.journal import RunRecord
    from installer.pipeline.follow import RunControl
    from installer.pipeline.settings import RunSettings
    from installer.plan import Plan
    from installer.preflight.finding import Finding
    from installer.state import StateDir
    from installer.upgrade.detect import Deployed
    from installer.upgrade.planner import UpgradeOptions
    from installer.upgrade.record import UpgradeRecord
    from manifests.answers import Answers
    from manifests.release import Release

PROG = "sunbeam-install"


@dataclass
class UpgradeJob:
    """One upgrade command: the state dir (locked unless only looking), the cloud's answers,
    and, once `detect` ran, the backends and what is deployed."""

    settings: RunSettings
    state: StateDir
    answers: Answers
    answers_path: str | None
    journal_release: str | None
    last: RunRecord | None
    stack: contextlib.AsyncExitStack
    opened: Opened | None = None
    deployed: Deployed | None = None
    run_findings: list[Finding] = field(default_factory=list)
    lock_fd: int = -1  # the state dir's lock (not held when only looking)

    def unfinished(self) -> tuple[RunRecord, UpgradeRecord | None] | None:
        """The last run when it is an upgrade that did not finish, with its starting point."""
        from installer.upgrade.record import load_record

        last = self.last
        if last is None or last.kind != "upgrade" or last.outcome == "done":
            return None
        return last, load_record(self.state.path, last.id)

    async def open(self) -> Opened:
        """The backends (opened once, closed with the job)."""
        if self.opened is None:
            # The lab keeps its own hosts, unless --facts says how they look now (e.g. after
            # their Ubuntu was upgraded).
            self.opened = await self.stack.enter_async_context(open_backends(
                self.settings, self.state, self.answers,
                place_hosts=self.settings.facts_dir is not None))
        return self.opened

    async def detect(self) -> Deployed:
        """Read what runs now on the hosts and in every model."""
        from installer.upgrade.detect import detect

        opened = await self.open()
        self.deployed = await detect(opened.backends, [h.name for h in self.answers.hosts],
                                     journal_release=self.journal_release,
                                     answers=self.answers)
        return self.deployed

    def require_deployed(self) -> Deployed:
        if self.deployed is None:
            raise UserError("The cloud has not been read yet; wait for detection to end.")
        return self.deployed

    def preflight(self, target: Release) -> list[Finding]:
        from installer.upgrade.preflight import check_upgrade

        facts = self.opened.facts if self.opened else None
        return check_upgrade(self.require_deployed(), target, answers=self.answers, facts=facts)

    def plan(self, target: Release, options: UpgradeOptions) -> Plan:
        from installer.upgrade.planner import plan_upgrade
        from installer.upgrade.steps import scale_waits

        plan = plan_upgrade(self.require_deployed(), target, self.answers, options)
        if self.opened is not None and self.opened.lab is not None:
            # The lab's time scale also shortens the Ceph health waits.
            scale_waits(plan, self.opened.lab.time_scale)
        return plan

    def start(self, target: Release, options: UpgradeOptions, plan: Plan) -> RunSetup:
        """Store where the upgrade starts, then journal its run; the caller executes it.

        The record is written first, under the id the run then gets: a kill between the two
        leaves a record no run names (harmless), never a journaled run without its record."""
        from installer.journal import new_run_id
        from installer.upgrade.record import UpgradeRecord, save_record

        deployed = self.require_deployed()
        assert self.opened is not None and deployed.release is not None
        run_id = new_run_id()
        save_record(self.state.path, UpgradeRecord(
            run_id=run_id, from_release=deployed.release, to_release=target.release,
            compute_batch=options.compute_batch,
            disable_scheduling=options.disable_scheduling, deployed=deployed,
        ))
        return new_run(
            kind="upgrade", settings=self.settings, state=self.state, plan=plan,
            answers=self.answers.model_copy(update={"release": target.release}),
            answers_path=self.answers_path, release=target, backends=self.opened.backends,
            extra_options={"upgrade_from": deployed.release, "upgrade_to": target.release},
            run_id=run_id, lab=self.opened.lab,
        )


def load_answers_path(path: str) -> Answers:
    """The answers file at `path`; exit 1 with its problems when it is not valid."""
    from manifests.loader import AnswersError, load_answers_file

    try:
        return load_answers_file(path).answers
    except AnswersError as e:
        raise UserError(str(e), Exit.INVALID) from None
    except OSError as e:
        raise UserError(f"Cannot read the answers file {path!r} ({e.strerror}); check the "
                        "path.", Exit.INVALID) from None


def _cloud_answers(answers_path: str | None, last_done: RunRecord | None, state: StateDir
                   ) -> tuple[Answers, str | None]:
    """The answers the cloud was installed with: the file given, else the journal's (its proxy
    credentials put back from the state dir's secrets)."""
    from pydantic import ValidationError

    from installer.secrets import restore_proxy
    from manifests.answers import Answers

    if answers_path:
        return load_answers_path(answers_path), str(Path(answers_path).resolve())
    if last_done is None:
        raise UserError("No finished install is recorded in the state dir, so the cloud's "
                        "hosts are not known; pass --answers FILE (the answers it was "
                        "installed with).", Exit.INVALID)
    try:
        snapshot = Answers.model_validate_json(last_done.answers_snapshot)
    except ValidationError:
        raise UserError(f"The answers recorded for run {last_done.id} cannot be read by this "
                        "version; pass --answers FILE.", Exit.INVALID) from None
    return restore_proxy(snapshot, state.secrets()), last_done.answers_path


@contextlib.asynccontextmanager
async def open_upgrade(
    settings: RunSettings, *, answers_path: str | None = None, look_only: bool = False
) -> AsyncIterator[UpgradeJob]:
    """The upgrade of the cloud in the settings' state dir; `look_only` (upgrade --show) takes
    no lock and creates nothing."""
    from installer.state import StateDir
    from installer.upgrade.detect import last_finished_run, release_from_journal
    from installer.upgrade.preflight import check_runs

    if look_only:
        settings.check()
        state = StateDir(settings.resolved_state_dir()).check()
    else:
        state = prepare_state(settings)
    with contextlib.ExitStack() as sync:
        lock_fd = -1
        if not look_only:
            lock_fd = sync.enter_context(state.lock("upgrade"))
        last = last_done = journal_release = None
        if state.exists():
            from installer.journal import open_journal

            journal = open_journal(state.journal_path)
            try:
                last = journal.last_run()
                last_done = last_finished_run(journal)
                journal_release = release_from_journal(journal)
            finally:
                journal.close()
        answers, path = _cloud_answers(answers_path, last_done, state)
        async with contextlib.AsyncExitStack() as stack:
            yield UpgradeJob(settings, state, answers, path, journal_release, last, stack,
                             run_findings=check_runs(last), lock_fd=lock_fd)


async def upgrade_events(
    settings: RunSettings,
    *,
    answers: Answers,
    answers_path: str | None,
    deployed: Deployed,
    target: Release,
    options: UpgradeOptions,
    control: RunControl | None = None,
) -> AsyncIterator[Event]:
    """Upgrade the detected cloud to `target` and yield the runner's Events (the upgrade
    wizard's path, after its own detection and confirmation). The run executes in its own
    process and this follows it (closing early: as `install_events`)."""
    from installer.pipeline.follow import follow_launched
    from installer.pipeline.launch import launch_setup

    state = prepare_state(settings)
    with state.lock("upgrade") as lock_fd:
        async with contextlib.AsyncExitStack() as stack:
            job = UpgradeJob(settings, state, answers, answers_path, deployed.release, None,
                             stack, deployed=deployed, lock_fd=lock_fd)
            await job.open()
            plan = job.plan(target, options)
            if not plan.steps:
                raise UserError(f"Nothing to upgrade: everything is on {target.release}'s "
                                "channels already.")
            launched = launch_setup(job.start(target, options, plan), lock_fd)
    async with contextlib.aclosing(follow_launched(launched, state, control)) as events:
        async for event in events:
            yield event
