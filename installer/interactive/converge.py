"""The guided converge: "Add hosts to a deployed cloud" in the TUI and in plain mode.

It does what headless converge does (installer/cmd/_converge.py), driven by screens or prompts:
the wizard starts from the answers the cloud was deployed with (`<state>/deployed-answers.json`),
the operator adds hosts and changes roles and features, the Review shows the difference to the
cloud as it is (read live, installer/pipeline/converge.py `preview`) instead of the whole plan,
and the run is an ordinary converge run in its own process, followed like an install's.

What a converge cannot change (release, deployment name and region, the networks) is shown
read-only; a changed value is refused with the reason and the command that changes it.
Removing a deployed host or a role needs an explicit "allow removal", as `--allow-removal`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from installer.exits import UserError
from installer.interactive.install import Session, count_hosts
from installer.interactive.notices import Notice, SessionError, has_errors, notice_from_finding

if TYPE_CHECKING:
    from installer.events import Event
    from installer.interactive.probing import Prober
    from installer.pipeline.deployed import Deployed
    from installer.pipeline.settings import RunSettings
    from installer.planner.changes import Difference

SOURCE = "the answers"  # how a refusal names what it refuses (there is no file)
CONVERGE_LABEL = "Add hosts to a deployed cloud"


@dataclass(frozen=True)
class DeployedCloud:
    """What the state dir holds for the Welcome choice: the deployed answers, or why there are
    none to converge here (`why_not`: shown beside the disabled choice)."""

    deployed: Deployed | None
    why_not: str | None

    @property
    def available(self) -> bool:
        return self.deployed is not None


def find_deployed(settings: RunSettings) -> DeployedCloud:
    """The deployed cloud of the settings' state dir, or why the converge cannot start here."""
    from installer.pipeline.converge import deployed_cloud

    try:
        deployed = deployed_cloud(settings)
    except UserError as e:
        return DeployedCloud(None, str(e))
    if deployed is None:
        return DeployedCloud(None, "no cloud has been deployed from this state directory")
    if deployed.dry_run != settings.dry_run:
        mode = "a dry-run" if deployed.dry_run else "a real"
        flag = "with" if deployed.dry_run else "without"
        return DeployedCloud(None, f"the state directory holds {mode} cloud; start {flag} "
                                   "--dry-run to add hosts to it")
    return DeployedCloud(deployed, None)


@dataclass(frozen=True)
class HostChanges:
    """The hosts of the draft against the deployed ones, by name."""

    added: list[str]
    removed: list[str]
    kept: list[str]
    roles_removed: dict[str, list[str]]  # kept host -> roles it loses
    roles_added: dict[str, list[str]]  # kept host -> roles it gains

    def line(self) -> str:
        """One line for the Review: the hosts added, removed and kept."""
        parts = [f"{len(self.added)} added" + (f" ({', '.join(self.added)})" if self.added
                                                 else ""),
                 f"{len(self.removed)} removed" + (f" ({', '.join(self.removed)})"
                                                   if self.removed else ""),
                 f"{len(self.kept)} kept"]
        roles = [f"{', '.join(r)} added on {n}" for n, r in self.roles_added.items()]
        roles += [f"{', '.join(r)} removed from {n}" for n, r in self.roles_removed.items()]
        return ("Hosts: " + ", ".join(parts) + "."
                + (f" Roles: {'; '.join(roles)}." if roles else ""))


class ConvergeSession(Session):
    """A guided converge: a Session whose draft starts as the deployed answers, validated for
    what it adds, reviewed as a difference and run as a converge."""

    converging = True  # the screens ask the session which Review to show

    def __init__(self, settings: RunSettings, deployed: Deployed, *,
                 prober: Prober | None = None) -> None:
        super().__init__(settings, prefill=deployed.answers, prober=prober)
        self.deployed = deployed
        self.allow_removal = False
        self.difference: Difference | None = None  # the difference last shown on Review
        self.replaced: Session | None = None  # the install session it stands in for

    @classmethod
    def replacing(cls, session: Session, deployed: Deployed) -> ConvergeSession:
        """A converge session with `session`'s settings and prober (the TUI's choice)."""
        converge = cls(session.settings, deployed, prober=_prober_of(session))
        converge.replaced = session
        return converge

    # -- what stays as deployed ------------------------------------------------------------------

    def fixed(self) -> list[tuple[str, str]]:
        """(what, value) of what a converge keeps as deployed, for showing read-only."""
        a = self.deployed.answers
        ext = a.network.external
        return [("OpenStack release", a.release),
                ("Deployment name", a.deployment.name),
                ("Region", a.deployment.region),
                ("Management network", str(a.network.management_cidr)),
                ("Load-balancer range", str(a.network.loadbalancer_range)),
                ("External network", str(ext.cidr) if ext is not None else "none")]

    def deployed_host_names(self) -> list[str]:
        return [h.name for h in self.deployed.answers.hosts]

    def host_changes(self) -> HostChanges:
        old = {h.name: h for h in self.deployed.answers.hosts}
        new = {h.name: h for h in self.draft.hosts}
        kept = [n for n in old if n in new]
        return HostChanges(
            added=[n for n in new if n not in old],
            removed=[n for n in old if n not in new],
            kept=kept,
            roles_removed={n: list(lost) for n in kept
                           if (lost := [r for r in old[n].roles if r not in new[n].roles])},
            roles_added={n: list(got) for n in kept
                         if (got := [r for r in new[n].roles if r not in old[n].roles])},
        )

    def remove_host_named(self, name: str) -> None:
        """Take host `name` out of the draft (and its probe), as the Hosts screen's Delete."""
        target = next((t for t, e in self.hosts.items() if e.name == name), None)
        if target is not None:
            self.remove_host(target)
        self.draft.hosts = [h for h in self.draft.hosts if h.name != name]

    def removals(self) -> list[str]:
        """What the draft removes from the cloud, one phrase each (it needs allow_removal)."""
        changes = self.host_changes()
        out = [f"host {n}" for n in changes.removed]
        out += [f"{', '.join(roles)} from {n}" for n, roles in changes.roles_removed.items()]
        return out

    # -- checks and the difference ------------------------------------------------------------

    def validate(self) -> list[Notice]:
        """The answers-file rules, then preflight of what the converge adds: the new hosts and
        the cluster (a deployed host's disks are OSDs now, which preflight would flag)."""
        notices = self._static_notices()
        if has_errors(notices):
            return notices
        from installer.interactive.commands import facts_hint
        from installer.preflight import check
        from manifests.release import load_release

        answers = self.draft.to_answers()
        new = set(self.host_changes().added)
        findings = [f for f in check(answers, self.facts_by_host(), load_release(answers.release),
                                     real_mode=not self.dry_run)
                    if f.host is None or f.host in new]
        notices += [notice_from_finding(f) for f in findings]
        hint = facts_hint(self.settings, {f.code for f in findings if f.severity != "info"})
        if hint:
            notices.append(Notice("info", hint, code="dry-run-facts"))
        return notices

    async def compute_difference(self) -> Difference:
        """The difference from the cloud as it is (read live, nothing changed) to the draft;
        a UserError for a change a converge refuses, or when the cloud cannot be read."""
        from installer.pipeline.converge import preview

        self.difference = None
        shown, why = await preview(self.settings, self.answers(), source=SOURCE,
                                   allow_removal=self.allow_removal)
        if shown is None:
            raise SessionError(f"The deployed cloud cannot be compared with these answers: "
                               f"{why or 'nothing is deployed in the state directory'}.")
        self.difference = shown.difference
        return shown.difference

    def difference_lines(self) -> list[str]:
        """The Review's text: the hosts, then the difference's counts and one line per change."""
        if self.difference is None:
            return []
        return [self.host_changes().line(), *self.difference.lines()]

    # -- the run --------------------------------------------------------------------------------

    def steps_per_host(self) -> dict[str, int]:
        """How many of the converge's steps run on each host (the Progress screen's totals)."""
        if self.difference is None:
            return {}
        return count_hosts(self.difference.plan.steps)

    def install(self) -> AsyncIterator[Event]:
        """The converge run's events (first, those of a run in progress, as for an install)."""
        if self.live is not None:
            return super().install()
        return _converge_events(self)


def _prober_of(session: Session) -> Prober | None:
    """The session's prober unless it is the lab's, which reads its own session's draft."""
    from installer.interactive.probing import LabProfileProber

    return None if isinstance(session.prober, LabProfileProber) else session.prober


async def _converge_events(session: ConvergeSession) -> AsyncIterator[Event]:
    """Start the converge as headless converge does, after checking that the cloud still
    differs as the Review showed; follow the run in its own process."""
    from installer.pipeline.converge import open_converge
    from installer.pipeline.follow import follow_launched
    from installer.pipeline.launch import launch_setup

    shown = session.difference
    if shown is None:
        raise SessionError("The difference has not been computed; go back to Review.")
    async with open_converge(session.settings, session.answers(), session.deployed,
                             answers_path=None if session.saved_answers is None
                             else str(session.saved_answers),
                             allow_removal=session.allow_removal, source=SOURCE) as job:
        now = job.difference
        if now.empty:
            raise SessionError("Nothing to change: the cloud already is what these answers "
                               "describe.")
        if sorted(now.plan.ids()) != sorted(shown.plan.ids()):
            raise SessionError("The cloud changed since the Review showed the difference "
                               f"({now.counts()} now); quit and start again to review it.")
        launched = launch_setup(job.start(), job.lock_fd)
    async with contextlib.aclosing(follow_launched(launched, job.state, session.control)) as evs:
        async for event in evs:
            yield event
