"""The interactive upgrade: the one object the upgrade wizard's screens talk to.

It wraps installer.upgrade's pipeline (detect -> targets -> diff -> preflight -> plan -> run)
the way `Session` wraps the install: screens ask it, render what comes back, and never reach a
backend. The run itself goes through the same pipeline as `upgrade --to RELEASE --yes` (journal
of kind "upgrade", its stored starting point, the state lock), so `sunbeam-install resume`
continues a wizard's upgrade exactly as it continues a headless one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.session import (
    Notice,
    SessionError,
    _count_hosts,
    _notice_from_finding,
    follow_run,
)

if TYPE_CHECKING:
    from installer.events import Event
    from installer.plan import Plan
    from installer.state import StateDir
    from installer.upgrade.detect import Deployed
    from installer.upgrade.targets import Change, TargetVerdict
    from manifests.answers import Answers
    from probes.facts import HostFacts

PROG = "sunbeam-install"


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


class UpgradeSession:
    """One guided upgrade: what is deployed, the target, what changes, preflight, the run."""

    def __init__(
        self,
        *,
        dry_run: bool = True,
        state_dir: Path | None = None,
        answers_path: str | None = None,
        facts_dir: Path | None = None,
        time_scale: float | None = None,
        faults: list[str] | None = None,
        parallel: int | None = None,
        compute_batch: int | None = None,
    ) -> None:
        from installer.state import resolve_state_dir

        self.dry_run = dry_run
        self.state_dir = Path(resolve_state_dir(str(state_dir) if state_dir else None,
                                                dry_run=dry_run))
        self.answers_path = answers_path
        self.facts_dir = facts_dir
        self.time_scale = time_scale
        self.faults = list(faults or [])
        self.parallel = parallel
        self.compute_batch = compute_batch
        self.answers: Answers | None = None
        self.deployed: Deployed | None = None
        self.facts: dict[str, HostFacts] = {}
        self.run_notices: list[Notice] = []  # about earlier runs: they block like errors
        self.target: str | None = None
        self.plan_summary: UpgradeSummary | None = None  # of the last summary() asked
        self.log_path: str | None = None
        self.last_outcome: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> UpgradeSession:
        faults: list[str] = []
        for spec in getattr(args, "faults", None) or []:
            faults.extend(s for s in spec.split(",") if s.strip())
        state = getattr(args, "state_dir", None)
        facts = getattr(args, "facts", None)
        return cls(
            dry_run=bool(getattr(args, "dry_run", False)),
            state_dir=Path(state) if state else None,
            answers_path=getattr(args, "answers", None),
            facts_dir=Path(facts).resolve() if facts else None,
            time_scale=getattr(args, "time_scale", None),
            faults=faults,
            parallel=getattr(args, "parallel", None),
            compute_batch=getattr(args, "compute_batch", None),
        )

    # -- what is deployed ---------------------------------------------------------------------

    def _state(self) -> StateDir:
        from installer.state import StateDir

        return StateDir(self.state_dir)

    def _open_backends(self, answers: Answers) -> tuple[Any, Any, dict[str, HostFacts]]:
        """(lab or None, backends, facts by host) for the session's mode."""
        from installer.cmd import install as pipeline

        state = self._state().ensure()
        if self.dry_run:
            lab = pipeline.open_lab(state, time_scale=self.time_scale, faults=self.faults,
                                    facts_dir=str(self.facts_dir) if self.facts_dir else None)
            if self.facts_dir is not None:
                # --facts: the hosts look like this now (e.g. after their Ubuntu was upgraded).
                lab.ensure_hosts(answers)
            return lab, lab.backends(), dict(lab.facts())
        args = argparse.Namespace(dry_run=False, parallel=self.parallel,
                                  state_dir=str(self.state_dir), accept_new_host_keys=False)
        facts, backends = pipeline.open_real_backends(answers, state, args)
        return None, backends, dict(facts)

    def _load_answers(self, journal: Any) -> tuple[Answers, str | None]:
        """The answers the cloud was installed with: the file given, else the journal's."""
        from pydantic import ValidationError

        from installer.upgrade.detect import last_finished_run
        from manifests.answers import Answers

        if self.answers_path:
            from manifests.loader import AnswersError, load_answers_file

            try:
                loaded = load_answers_file(self.answers_path)
            except AnswersError as e:
                raise SessionError(str(e)) from None
            except OSError as e:
                raise SessionError(f"Cannot read the answers file {self.answers_path!r} "
                                   f"({e.strerror}); check the path.") from None
            return loaded.answers, str(Path(self.answers_path).resolve())
        run = last_finished_run(journal) if journal is not None else None
        if run is None:
            raise SessionError("No finished install is recorded in the state dir "
                               f"{str(self.state_dir)!r}, so the cloud's hosts are not known; "
                               "pass --answers FILE (the answers it was installed with).")
        try:
            return Answers.model_validate_json(run.answers_snapshot), run.answers_path
        except ValidationError:
            raise SessionError(f"The answers recorded for run {run.id} cannot be read by this "
                               "version; pass --answers FILE.") from None

    def _journal(self) -> Any:
        from installer.cmd import install as pipeline

        state = self._state()
        return pipeline.open_journal(state.ensure()) if state.exists() else None

    async def detect(self) -> Deployed:
        """Read what runs now; SessionError (one sentence) when it cannot be told."""
        return await asyncio.to_thread(self._detect_sync)

    def _detect_sync(self) -> Deployed:
        from installer.exits import UserError
        from installer.upgrade.detect import detect, release_from_journal
        from installer.upgrade.preflight import check_runs
        from installer.upgrade.run import load_record

        try:
            journal = self._journal()
            notices: list[Notice] = []
            journal_release = None
            try:
                if journal is not None:
                    last = journal.last_run()
                    notices = [_notice_from_finding(f) for f in check_runs(last)]
                    if last is not None and last.kind == "upgrade" and last.outcome != "done":
                        record = load_record(self._state(), last.id)
                        to = f" to {record.to_release}" if record else ""
                        resume = f"{PROG} resume" + (" --dry-run" if self.dry_run else "")
                        notices.append(Notice(
                            "error", f"The upgrade run {last.id}{to} did not finish.",
                            code="upgrade-unfinished",
                            hint=f"Continue it with `{resume}` before starting another.",
                        ))
                    journal_release = release_from_journal(journal)
                answers, path = self._load_answers(journal)
            finally:
                if journal is not None:
                    journal.close()
            if self.answers_path is None:
                self.answers_path = path
            _, backends, facts = self._open_backends(answers)
            deployed = asyncio.run(detect(backends, [h.name for h in answers.hosts],
                                          journal_release=journal_release, answers=answers))
        except UserError as e:
            raise SessionError(str(e)) from None
        self.answers, self.deployed, self.facts = answers, deployed, facts
        self.run_notices = notices
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
        return self.run_notices + [_notice_from_finding(f) for f in findings]

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
        return _count_hosts(self.plan().steps)

    # -- the run ------------------------------------------------------------------------------

    def upgrade(self) -> AsyncIterator[Event]:
        """The runner's events of the upgrade to the chosen target (dry-run: in the lab)."""
        return _upgrade_events(self)

    async def run_to(self, on_event: Callable[[Event], None]) -> str:
        """Run the upgrade, handing each event to `on_event`; returns the plan's outcome."""
        return await follow_run(self, self.upgrade(), on_event)


async def _upgrade_events(session: UpgradeSession) -> AsyncIterator[Event]:
    """Like `upgrade --to` after its confirmation: journal, stored starting point, run."""
    from installer.cmd import install as pipeline
    from installer.exits import UserError
    from installer.upgrade.run import UpgradeRecord, save_record

    deployed, answers = session._require_deployed(), session.answers
    target = session._target_release()
    if answers is None or deployed.release is None:
        raise SessionError("The cloud has not been read yet; wait for detection to end.")
    if not session.dry_run:
        try:
            pipeline.real_mode_gate()
        except UserError as e:
            raise SessionError(str(e)) from None
    os.umask(0o077)
    state = session._state().ensure()
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(state.lock("upgrade"))
            lab, backends, _ = session._open_backends(answers)
        except UserError as e:
            raise SessionError(str(e)) from None
        plan = session.plan()
        if not plan.steps:
            raise SessionError(f"Nothing to upgrade: everything is on {target.release}'s "
                               "channels already.")
        if lab is not None:
            from installer.upgrade.steps import scale_waits

            # As `upgrade --to` does: the lab's time scale also shortens the Ceph health waits.
            scale_waits(plan, lab.time_scale)
        options = session._options()
        setup = pipeline.new_run(
            kind="upgrade", state=state, plan=plan,
            answers=answers.model_copy(update={"release": target.release}),
            answers_path=session.answers_path, release=target, backends=backends,
            dry_run=session.dry_run,
            options=(pipeline.dry_run_options(session.time_scale, session.parallel)
                     if session.dry_run else pipeline.real_options(session.parallel)),
            run_options={"time_scale": session.time_scale,
                         "facts": str(session.facts_dir) if session.facts_dir else None,
                         "parallel": session.parallel, "upgrade_from": deployed.release,
                         "upgrade_to": target.release},
            lab=lab,
        )
        stack.callback(setup.close)
        save_record(state, UpgradeRecord(
            run_id=setup.run_id, from_release=deployed.release, to_release=target.release,
            compute_batch=options.compute_batch, disable_scheduling=options.disable_scheduling,
            deployed=deployed,
        ))
        # aclosing: the run must be cancelled here, before the ExitStack closes its journal.
        async with contextlib.aclosing(pipeline.stream_events(setup)) as events:
            async for event in events:
                yield event


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
