"""Install: answers in, host facts and preflight findings, then the run's Events.

    async with open_install(settings, answers, answers_path=path) as job:
        findings = job.preflight()          # the front end shows them, asks, or stops
        setup = job.start()                  # journaled; `launch.launch_setup` or `runs.execute`
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from installer.pipeline.backends import Opened, open_backends, real_mode_gate
from installer.pipeline.runs import RunSetup, load_release_for, new_run

if TYPE_CHECKING:
    from installer.events import Event
    from installer.journal import RunRecord
    from installer.pipeline.follow import RunControl
    from installer.pipeline.settings import RunSettings
    from installer.plan import Plan
    from installer.preflight.finding import Finding
    from installer.state import StateDir
    from manifests.answers import Answers
    from manifests.release import Release


@dataclass
class InstallJob:
    """One install with its state dir locked and its backends open."""

    settings: RunSettings
    state: StateDir
    answers: Answers
    answers_path: str | None
    release: Release
    opened: Opened
    lock_fd: int = -1  # the state dir's lock, for the run's own process (`launch_setup`)

    def preflight(self) -> list[Finding]:
        """Every finding of the preflight checks on the hosts' facts."""
        from installer.preflight import check

        return check(self.answers, self.opened.facts, self.release,
                     real_mode=not self.settings.dry_run)

    def plan(self) -> Plan:
        from installer.planner import plan as make_plan

        return make_plan(self.answers, self.release)

    def unfinished_run(self) -> RunRecord | None:
        """The last run, when it did not finish (a new install starts a new run beside it)."""
        from installer.journal import open_journal

        if not self.state.journal_path.exists():
            return None
        with open_journal(self.state.journal_path) as journal:
            last = journal.last_run()
        return last if last is not None and last.outcome != "done" else None

    def start(self) -> RunSetup:
        """Journal a new install run of the plan; the caller executes and closes it."""
        return new_run(kind="install", settings=self.settings, state=self.state,
                       plan=self.plan(), answers=self.answers, answers_path=self.answers_path,
                       release=self.release, backends=self.opened.backends, lab=self.opened.lab)


def prepare_state(settings: RunSettings) -> StateDir:
    """Check the settings and the mode's prerequisites, then create the state dir (0700)."""
    from installer.state import StateDir

    settings.check()
    if not settings.dry_run:
        real_mode_gate(settings)  # before anything else: without root or snapd nothing works
    os.umask(0o077)  # everything a run creates (journal, logs, lab state) is owner-only
    return StateDir(settings.resolved_state_dir()).ensure()


@contextlib.asynccontextmanager
async def open_install(
    settings: RunSettings, answers: Answers, *, answers_path: str | None = None
) -> AsyncIterator[InstallJob]:
    """Lock the state dir and open the backends for installing `answers`; close both after."""
    state = prepare_state(settings)
    release = load_release_for(answers)
    with state.lock("install") as lock_fd:
        async with open_backends(settings, state, answers) as opened:
            yield InstallJob(settings, state, answers, answers_path, release, opened, lock_fd)


async def install_events(
    settings: RunSettings, answers: Answers, *, answers_path: str | None = None,
    control: RunControl | None = None,
) -> AsyncIterator[Event]:
    """Install `answers` and yield the runner's Events (the interactive front ends' path).

    The run executes in its own process, as a headless install's does; this follows it.
    The caller has shown preflight already. Closing the generator early interrupts the run
    (journaled as interrupted, resumable) unless `control.detach()` leaves it running; a
    failure to start is a UserError."""
    from installer.pipeline.follow import follow_launched
    from installer.pipeline.launch import launch_setup

    async with open_install(settings, answers, answers_path=answers_path) as job:
        launched = launch_setup(job.start(), job.lock_fd)
    async with contextlib.aclosing(follow_launched(launched, job.state, control)) as events:
        async for event in events:
            yield event
