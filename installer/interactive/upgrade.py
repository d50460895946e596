"""The interactive upgrade: the one object the upgrade wizard's screens talk to.

It wraps installer.upgrade's pipeline (detect -> targets -> diff -> preflight -> plan -> run)
the way `Session` wraps the install: screens ask it, render what comes back, and never reach a
backend. The run itself goes through the same pipeline as `upgrade --to RELEASE --yes` (journal
of kind "upgrade", its stored starting point, the state lock), so `sunbeam-install resume`
continues a wizard's upgrade exactly as it continues a headless one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from installer.interactive.commands import command_line
from installer.interactive.install import count_hosts, follow_run
from installer.interactive.notices import Notice, SessionError, notice_from_finding
from installer.pipeline.settings import RunSettings

if TYPE_CHECKING:
    from installer.events import Event, PlanFinished
    from installer.pipeline.follow import RunControl
    from installer.plan import Plan
    from installer.upgrade.detect import Deployed
    from installer.upgrade.targets import Change, TargetVerdict
    from manifests.answers import Answers
    from probes.facts import HostFacts

@dataclass(frozen=True)
class ChangeRow:
    """One row of the "what changes" table: identical snap changes on many hosts are one row."""

    kind: str
    name: str
    where: list[str]  # the model of a charm; the hosts of a snap
    current_channel: str | None
    current_revision: str | None
    target_channel: str | None
    target_revision: str | None  # None: the newest in the channel
    action: str


@dataclass(frozen=True)
class UpgradeSummary:
    steps: int
    hosts: int
    by_kind: dict[str, int]


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


class UpgradeSession:
    """One guided upgrade: what is deployed, the target, what changes, preflight, the run."""

    def __init__(
        self,
        settings: RunSettings,
        *,
        answers_path: str | None = None,
        compute_batch: int | None = None,
    ) -> None:
        self.settings = settings
        self.state_dir = settings.resolved_state_dir()
        self.answers_path = answers_path
        self.compute_batch = compute_batch
        self.answers: Answers | None = None
        self.deployed: Deployed | None = None
        self.facts: dict[str, HostFacts] = {}
        self.run_notices: list[Notice] = []  # about earlier runs: they block like errors
        self.target: str | None = None
        self.plan_summary: UpgradeSummary | None = None  # of the last summary() asked
        self.log_path: str | None = None
        self.last_outcome: str | None = None
        self.last_finished: PlanFinished | None = None  # the last run's counts
        self.control: RunControl | None = None  # the run being followed: detach or stop it

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run

    # -- what is deployed ---------------------------------------------------------------------

    async def detect(self) -> Deployed:
        """Read what runs now (on the caller's loop); a UserError when it cannot be told."""
        from installer.pipeline.upgrade import open_upgrade

        async with open_upgrade(self.settings, answers_path=self.answers_path,
                                look_only=True) as job:
            notices = [notice_from_finding(f) for f in job.run_findings]
            unfinished = job.unfinished()
            if unfinished is not None:
                last, record = unfinished
                to = f" to {record.to_release}" if record else ""
                resume = command_line(self.settings, "resume")
                notices.append(Notice(
                    "error", f"The upgrade run {last.id}{to} did not finish.",
                    code="upgrade-unfinished",
                    hint=f"Continue it with `{resume}` before starting another.",
                ))
            deployed = await job.detect()
            facts = dict(job.opened.facts) if job.opened else {}
            self.answers, self.answers_path = job.answers, job.answers_path
        self.deployed, self.facts, self.run_notices = deployed, facts, notices
        return deployed

    # -- the target ---------------------------------------------------------------------------

    def targets(self) -> list[TargetVerdict]:
        """Every shipped release newer than what runs, each with its verdict."""
        from installer.upgrade.targets import supported_targets

        if self.deployed is None or self.deployed.release is None:
            return []
        return supported_targets(self.deployed.release)

    def choose(self, target: str) -> None:
        """Set the target; SessionError with the reason when it is not a supported step."""
        from installer.upgrade.targets import check_target

        current = self._require_deployed().release
        if current is None:
            raise SessionError("Which release the cloud runs cannot be told, so no target can "
                               "be chosen; pass --answers FILE or check the journal.")
        verdict = check_target(current, target)
        if not verdict.supported:
            raise SessionError(f"Cannot upgrade to {target}: {verdict.reason}")
        if target != self.target:
            self.plan_summary = None  # it was of the other target
        self.target = target

    def _require_deployed(self) -> Deployed:
        if self.deployed is None:
            raise SessionError("The cloud has not been read yet; wait for detection to end.")
        return self.deployed

    def _target_release(self) -> Any:
        from manifests.release import load_release

        if self.target is None:
            raise SessionError("No target release is chosen yet; choose one on the Target "
                               "screen.")
        return load_release(self.target)

    # -- what changes -------------------------------------------------------------------------

    def changes(self) -> list[Change]:
        from installer.upgrade.targets import diff

        return diff(self._require_deployed(), self._target_release(), self.answers)

    def change_rows(self, *, show_unchanged: bool = False) -> list[ChangeRow]:
        """The diff grouped as format_diff groups it: a 100-host cloud gives a short table."""
        grouped: dict[tuple[object, ...], list[str]] = {}
        for c in self.changes():
            if c.action == "unchanged" and not show_unchanged:
                continue
            key: tuple[object, ...] = (
                c.kind, c.name, c.current_channel, c.current_revision, c.target_channel,
                c.target_revision, c.action, c.where if c.kind == "charm" else "",
            )
            grouped.setdefault(key, []).append(c.where)
        rows = []
        for key, wheres in grouped.items():
            kind, name, cur_ch, cur_rev, tgt_ch, tgt_rev, action, _ = key
            rows.append(ChangeRow(str(kind), str(name), wheres, _opt(cur_ch), _opt(cur_rev),
                                  _opt(tgt_ch), _opt(tgt_rev), str(action)))
        return rows

    # -- preflight and plan -------------------------------------------------------------------

    def preflight(self) -> list[Notice]:
        """The upgrade preflight (and unfinished earlier runs), errors first."""
        from installer.upgrade.preflight import check_upgrade

        findings = check_upgrade(self._require_deployed(), self._target_release(),
                                 answers=self.answers, facts=self.facts)
        return self.run_notices + [notice_from_finding(f) for f in findings]

    def _options(self) -> Any:
        from installer.upgrade.planner import UpgradeOptions

        return UpgradeOptions(compute_batch=self.compute_batch)

    def plan(self) -> Plan:
        from installer.upgrade.planner import plan_upgrade

        assert self.answers is not None
        return plan_upgrade(self._require_deployed(), self._target_release(), self.answers,
                            self._options())

    def summary(self) -> UpgradeSummary:
        p = self.plan()
        # upgrade.snap:k8s@node1, upgrade.k8s-ready/1.31@node1 -> upgrade.snap, upgrade.k8s-ready
        kinds = Counter(s.id.split(":", 1)[0].split("@", 1)[0].split("/", 1)[0]
                        for s in p.steps)
        hosts = len(self.answers.hosts) if self.answers else 0
        self.plan_summary = UpgradeSummary(steps=len(p.steps), hosts=hosts, by_kind=dict(kinds))
        return self.plan_summary

    def steps_per_host(self) -> dict[str, int]:
        """How many steps of the upgrade's plan run on each host (None host: "cluster")."""
        return count_hosts(self.plan().steps)

    # -- the run ------------------------------------------------------------------------------

    def upgrade(self) -> AsyncIterator[Event]:
        """The runner's events of the upgrade to the chosen target (dry-run: in the lab)."""
        return _upgrade_events(self)

    async def run_to(self, on_event: Callable[[Event], None],
                     control: RunControl | None = None) -> str:
        """Run the upgrade, handing each event to `on_event`; returns the plan's outcome.
        `control` (else a new one, kept as `self.control`) detaches from it or stops it."""
        from installer.pipeline.follow import RunControl

        self.control = control if control is not None else RunControl()
        return await follow_run(self, self.upgrade(), on_event)


async def _upgrade_events(session: UpgradeSession) -> AsyncIterator[Event]:
    """Like `upgrade --to` after its confirmation: journal, stored starting point, run."""
    from installer.pipeline.upgrade import upgrade_events

    deployed, answers = session._require_deployed(), session.answers
    target = session._target_release()
    if answers is None or deployed.release is None:
        raise SessionError("The cloud has not been read yet; wait for detection to end.")
    async for event in upgrade_events(session.settings, answers=answers,
                                      answers_path=session.answers_path, deployed=deployed,
                                      target=target, options=session._options(),
                                      control=session.control):
        yield event
