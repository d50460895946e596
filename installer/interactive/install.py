"""The guided install's session: the one object the TUI and the plain line mode both drive.

Screens and prompts never talk to Juju, Kubernetes, snapd or SSH. They ask this session to
probe hosts (-> HostFacts), keep the answers being built (a `Draft`), validate them
(-> `Notice`s from the answers-file rules and preflight), summarise the plan, save the answers
file and run the install (-> the runner's Events). Everything heavy is imported lazily so the
first screen appears quickly and `--help` never pays for it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from installer.events import Event, PlanFinished, PlanStarted
from installer.interactive.draft import Draft, HostDraft, partial_draft, screen_of
from installer.interactive.notices import (
    Notice,
    SessionError,
    first_error,
    has_errors,
    notice_from_finding,
    one_line,
    sentence,
)
from installer.interactive.probing import (
    LOCAL,
    UNADDRESSED,
    FactsDirProber,
    LabProfileProber,
    ProbedHost,
    Prober,
    RealProber,
    is_ip_address,
    management_address,
    management_cidr,
    parse_target,
)
from installer.pipeline.settings import RunSettings
from manifests.answers import Answers
from probes.facts import HostFacts

if TYPE_CHECKING:
    from installer.pipeline.follow import RunControl
    from installer.pipeline.launch import RunProcess

# --------------------------------------------------------------------------------------------
# Plan summary.


@dataclass(frozen=True)
class PlanSummary:
    steps: int
    hosts: int
    by_kind: dict[str, int]  # step kind (id before ':') -> count
    titles: list[str]  # first steps' titles, in order


# --------------------------------------------------------------------------------------------
# The session.


class Session:
    """One guided install: hosts and their facts, the draft answers, findings, plan and run."""

    converging = False  # a ConvergeSession (interactive/converge.py) changes a deployed cloud

    def __init__(
        self,
        settings: RunSettings,
        *,
        prefill: Answers | None = None,
        prober: Prober | None = None,
    ) -> None:
        self.settings = settings
        self.state_dir = settings.resolved_state_dir()
        if prober is None:
            if settings.facts_dir is not None:
                prober = FactsDirProber(settings.facts_dir)
            elif settings.dry_run:
                prober = LabProfileProber(lambda: self.draft)
            else:
                prober = RealProber(accept_new_host_keys=settings.accept_new_host_keys)
        self.prober = prober
        self.hosts: dict[str, ProbedHost] = {}  # by target, in the order added
        self.draft = Draft.from_answers(prefill) if prefill else Draft()
        self.prefilled = prefill is not None
        # Problems of a partial --answers file, shown on the screen each belongs to.
        self.prefill_problems: list[Notice] = []
        self.accepted_warnings = False
        self.log_path: str | None = None
        self.last_outcome: str | None = None
        self.saved_answers: Path | None = None
        self.last_finished: PlanFinished | None = None  # the last run's counts
        self.control: RunControl | None = None  # the run being followed: detach or stop it
        self.live: RunProcess | None = None  # a run in progress to follow before any other

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run

    @property
    def facts_dir(self) -> Path | None:
        return self.settings.facts_dir

    def prefill_partial(self, data: Any) -> None:
        """Prefill from a partial answers file (parsed YAML); its problems go to their screens."""
        self.draft, self.prefill_problems = partial_draft(data)
        self.prefilled = True

    def problems_for(self, screen: str) -> list[Notice]:
        return [n for n in self.prefill_problems if screen_of(n.path) == screen]

    # -- hosts -------------------------------------------------------------------------------

    def needs_this_machine(self) -> bool:
        """Whether this machine is one of the hosts: always when starting from nothing; with a
        prefilled file only when the file names it (a host without an address)."""
        hosts = self.draft.hosts
        return not hosts or any(h.address is None for h in hosts)

    def first_targets(self) -> list[str]:
        """The hosts to probe first: this machine when it is one of the hosts, then the
        prefilled file's hosts, each registered (named as the file names it) so a screen can
        show them at once. A prefilled host whose address is not an IP address gets a failed
        entry saying so, which adding the host again as user@address replaces."""
        targets: list[str] = []
        if self.needs_this_machine() and self.hosts.get(LOCAL, None) is None:
            local = self.pending(LOCAL)
            local.label = next((h.name for h in self.draft.hosts if h.address is None), None)
            targets.append(LOCAL)
        known = {e.address for e in self.hosts.values()}
        for h in self.draft.hosts:
            if h.address is None or h.address in known:
                continue
            if not is_ip_address(h.address):
                key = UNADDRESSED + h.name
                self.hosts.setdefault(key, ProbedHost(
                    target=key, address=h.address, ssh_user=h.ssh_user, label=h.name,
                    state="failed",
                    error=f"address {h.address!r} is not an IP address; add the host again "
                          "above as user@address"))
                continue
            if h.ssh_user:
                entry = self.pending(f"{h.ssh_user}@{h.address}")
                entry.label = h.name
                targets.append(entry.target)
        return targets

    async def probe_local(self) -> ProbedHost:
        entry = self.hosts.setdefault(LOCAL, ProbedHost(target=LOCAL))
        return await self._probe(entry, self.prober.probe_local())

    async def add_host(self, target: str) -> ProbedHost:
        """Probe `user@address` and add it; SessionError when the target is malformed or known."""
        user, address = parse_target(target)
        key = f"{user}@{address}"
        for e in self.hosts.values():
            if e.address == address and e.target != key:
                raise SessionError(f"Address {address} is already in the list as {e.target}.")
        entry = self.hosts.get(key)
        if entry is None:
            entry = self.hosts[key] = ProbedHost(target=key, address=address, ssh_user=user)
        return await self._probe(entry, self.prober.probe_remote(user, address))

    def pending(self, target: str) -> ProbedHost:
        """Register a target as being probed (so a screen can show it before the facts arrive)."""
        if target == LOCAL:
            return self.hosts.setdefault(LOCAL, ProbedHost(target=LOCAL))
        user, address = parse_target(target)
        key = f"{user}@{address}"
        return self.hosts.setdefault(key, ProbedHost(target=key, address=address, ssh_user=user))

    async def retry(self, target: str) -> ProbedHost:
        if target == LOCAL:
            return await self.probe_local()
        return await self.add_host(target)

    def remove_host(self, target: str) -> None:
        """Forget a host: its probe and its place in the answers (roles, disks, NIC)."""
        entry = self.hosts.pop(target, None)
        if entry is None:
            return
        names = {n for n in (entry.label, entry.facts.hostname if entry.facts else None) if n}
        self.draft.hosts = [
            h for h in self.draft.hosts
            if h.name not in names and not (entry.address and h.address == entry.address)
            and not (target == LOCAL and h.address is None)
        ]

    async def _probe(self, entry: ProbedHost, work: Any) -> ProbedHost:
        entry.state, entry.error = "probing", None
        try:
            facts: HostFacts = await work
        except SessionError as e:
            entry.state, entry.error = "failed", str(e)
            return entry
        except Exception as e:  # a probe that breaks must show its reason, not end the session
            entry.state, entry.error = "failed", one_line(e)
            return entry
        entry.facts, entry.state = facts, "ready"
        if entry.target == LOCAL and entry.address is None:
            entry.address = management_address(facts)
        self._sync_draft_host(entry)
        return entry

    def _sync_draft_host(self, entry: ProbedHost) -> None:
        assert entry.facts is not None
        name = entry.facts.hostname
        hosts = self.draft.hosts
        # The file's own name for the host first, then its hostname; a prefilled host may name
        # this machine by omitting its address, or a remote host by its address; last, a host
        # of the file whose address was not one is the host added again in its place.
        existing = (
            next((h for h in hosts if entry.label and h.name == entry.label), None)
            or self.draft.host(name)
        )
        if existing is None:
            if entry.target == LOCAL:
                existing = next((h for h in hosts if h.address is None), None)
            else:
                existing = next((h for h in hosts if h.address and h.address == entry.address),
                                None)
        if existing is None and entry.target != LOCAL:
            existing = next((h for h in hosts if h.address and not is_ip_address(h.address)),
                            None)
        if existing is None:
            existing = HostDraft(name=name)
            hosts.append(existing)
        if existing.address and not is_ip_address(existing.address):
            # The host added again in place of one whose address was wrong: its failed row
            # and the file's note about the address go.
            placeholder = UNADDRESSED + existing.name
            if placeholder in self.hosts:  # the new entry takes its place in the list
                self.hosts = {
                    (entry.target if k == placeholder else k): (entry if k == placeholder else e)
                    for k, e in self.hosts.items() if k != entry.target
                }
            index = hosts.index(existing)
            self.prefill_problems = [
                n for n in self.prefill_problems if n.path != f"hosts[{index}].address"
            ]
        existing.name = name
        entry.label = name
        if entry.target != LOCAL:
            existing.address, existing.ssh_user = entry.address, entry.ssh_user
        if not self.draft.management_cidr:
            self.draft.management_cidr = management_cidr(entry.facts) or ""

    def suggest_roles_if_unset(self) -> None:
        """The suggested layout where roles are missing. Roles from an answers file are never
        thrown away (a host without one is left for the operator); without a file, the layout
        is suggested again while some host has no role."""
        from installer.interactive.fields import suggest_roles

        hosts = self.draft.hosts
        if not any(h.roles for h in hosts) or (
                not self.prefilled and any(not h.roles for h in hosts)):
            suggest_roles(self.draft, self.facts_by_host())

    def ready_hosts(self) -> list[ProbedHost]:
        return [e for e in self.hosts.values() if e.state == "ready"]

    def facts_by_host(self) -> dict[str, HostFacts]:
        return {e.facts.hostname: e.facts for e in self.hosts.values() if e.facts is not None}

    # -- answers ------------------------------------------------------------------------------

    def release_names(self) -> list[str]:
        from manifests.release import shipped_releases

        return shipped_releases()

    def feature_names(self) -> dict[str, str]:
        """Optional features of the draft's release: name -> description."""
        from manifests.release import load_release

        try:
            release = load_release(self.draft.release)
        except KeyError:
            return {}
        return {k: v.description for k, v in release.features.items()}

    def answers(self) -> Answers:
        """The draft as an Answers model; SessionError naming the first field at fault."""
        try:
            return self.draft.to_answers()
        except ValidationError as e:
            raise SessionError(first_error(e)) from None

    def save_answers(self, path: Path) -> Path:
        """Write the answers file headless mode accepts unchanged (0600: it names secret files)."""
        text = self.draft.to_yaml()
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
        except OSError as e:
            raise SessionError(
                f"Cannot write the answers file {str(path)!r} ({e.strerror}); choose another path."
            ) from None
        self.saved_answers = path
        return path

    def network_problems(self) -> dict[tuple[str | int, ...], str]:
        """The answers-file rules about networks and ranges, by path, for the draft as it is.

        Field checks catch a malformed value; these catch values that are each well formed but
        do not fit together (a range outside its CIDR, reversed, overlapping a host). Empty
        while the draft is not yet a valid model: the field checks speak first then."""
        from manifests import rules

        try:
            answers = self.draft.to_answers()
        except ValidationError:
            return self._external_overlap()
        found: dict[tuple[str | int, ...], str] = {}
        for rule in (rules.addresses_in_management, rules.loadbalancer_range,
                     rules.external_network):
            for path, message in rule(answers):
                found.setdefault(path, sentence(message))
        return found

    def _external_overlap(self) -> dict[tuple[str | int, ...], str]:
        """The external network overlapping the management one, as soon as both CIDRs are
        written (the full rule waits for the gateway and range too); the words of
        `manifests.rules.external_network`."""
        from ipaddress import ip_network

        from installer.interactive.fields import check_field

        d = self.draft
        if not d.external_enabled or check_field("network.management_cidr", d.management_cidr) \
                or check_field("external.cidr", d.external_cidr):
            return {}
        try:
            mgmt = ip_network(d.management_cidr.strip(), strict=False)
            ext = ip_network(d.external_cidr.strip(), strict=False)
        except ValueError:
            return {}
        if ext.version != mgmt.version or not ext.overlaps(mgmt):
            return {}
        return {("network", "external", "cidr"): sentence(
            f"external network {ext} overlaps the management network {mgmt}; "
            "use a separate network")}

    def validate(self) -> list[Notice]:
        """The answers-file rules, then (when they pass) preflight against the probed facts."""
        notices = self._static_notices()
        if has_errors(notices):
            return notices
        answers = self.draft.to_answers()
        return notices + self._preflight(answers)

    def _static_notices(self) -> list[Notice]:
        """The answers-file schema and rules, run on the YAML exactly as headless mode reads it."""
        text = self.draft.to_yaml()
        from manifests.loader import AnswersError, load_answers_text

        try:
            load_answers_text(text, "answers")
        except AnswersError as e:
            return [
                Notice("error", sentence(p.message), code="answers", path=p.path or None)
                for p in e.problems
            ]
        return []

    def _preflight(self, answers: Answers) -> list[Notice]:
        from installer.preflight import check
        from manifests.release import load_release

        release = load_release(answers.release)
        findings = check(
            answers, self.facts_by_host(), release, real_mode=not self.dry_run
        )
        notices = [notice_from_finding(f) for f in findings]
        from installer.interactive.commands import facts_hint

        hint = facts_hint(self.settings, {f.code for f in findings if f.severity != "info"})
        if hint:
            notices.append(Notice("info", hint, code="dry-run-facts"))
        return notices

    def plan_summary(self) -> PlanSummary:
        from installer.planner import plan
        from manifests.release import load_release

        answers = self.answers()
        p = plan(answers, load_release(answers.release))
        kinds = Counter(s.id.split(":", 1)[0].split("@", 1)[0] for s in p.steps)
        return PlanSummary(
            steps=len(p.steps),
            hosts=len(answers.hosts),
            by_kind=dict(kinds),
            titles=[s.title for s in p.steps],
        )

    # -- install ------------------------------------------------------------------------------

    def install(self) -> AsyncIterator[Event]:
        """The runner's events for installing the draft (dry-run: in the lab); first, those
        of the run in progress found by `find_live_run`."""
        if self.live is not None:
            from installer.pipeline.follow import attach_events
            from installer.state import StateDir

            live, self.live = self.live, None
            return attach_events(live, StateDir(self.state_dir), self.control)
        return _install_events(self)

    def find_live_run(self) -> bool:
        """Whether a run is in progress in the state dir (in its own process); if so, the
        next `run_to` follows it, and the draft holds that run's answers."""
        from installer.pipeline.launch import live_run_process

        live = live_run_process(self.state_dir)
        if live is None:
            return False
        self.live = live
        from installer.pipeline.resume import journaled_answers

        answers = journaled_answers(self.state_dir, live.files.run_id)
        if answers is not None:
            self.draft = Draft.from_answers(answers)
            self.prefilled = True
        return True

    def steps_per_host(self) -> dict[str, int]:
        """How many steps of the install's plan run on each host (None host: "cluster")."""
        from installer.planner import plan
        from manifests.release import load_release

        answers = self.answers()
        return count_hosts(plan(answers, load_release(answers.release)).steps)

    async def run_to(self, on_event: Callable[[Event], None],
                     control: RunControl | None = None) -> str:
        """Run the install, handing each event to `on_event`; returns the plan's outcome.
        `control` (else a new one, kept as `self.control`) detaches from it or stops it."""
        from installer.pipeline.follow import RunControl

        self.control = control if control is not None else RunControl()
        return await follow_run(self, self.install(), on_event)

    def credentials_file(self) -> Path:
        """Where the admin password is (the answers' file, else the state dir's)."""
        from installer.interactive.commands import credentials_file

        return credentials_file(self.settings, self.draft.admin_password_file)

    def dashboard_url(self) -> str | None:
        from installer.interactive.commands import dashboard_url

        return dashboard_url(self.draft.loadbalancer_range)


# --------------------------------------------------------------------------------------------
# Following a run, and counting a plan's steps per host (the install's and the upgrade's).


async def follow_run(run: Any, events: AsyncIterator[Event],
                     on_event: Callable[[Event], None]) -> str:
    """Hand each event of a run to `on_event`; note the log path, outcome and counts on `run`
    (`last_finished`: the run's PlanFinished, for saying what ran when it did not finish)."""
    outcome = "failed"
    run.last_finished = None
    async for event in events:
        on_event(event)
        if isinstance(event, PlanStarted):
            run.log_path = event.log_path
        elif isinstance(event, PlanFinished):
            outcome = event.outcome
            run.last_finished = event
    run.last_outcome = outcome
    return outcome


def stopped_run_text(run: Any, noun: str) -> str:
    """What a run that did not finish left behind, and the command that continues it."""
    from installer.interactive.commands import command_line

    finished: PlanFinished | None = getattr(run, "last_finished", None)
    resume = command_line(run.settings, "resume")
    if finished is None:
        what = f"The {noun} did not finish"
    else:
        total = finished.done + finished.skipped + finished.failed + finished.pending
        ran = finished.done + finished.skipped
        what = (f"The {noun} stopped with {ran} of {total} steps done"
                + (f" ({finished.skipped} of them from an earlier run)" if finished.skipped
                   else "")
                + (f", {finished.failed} failed" if finished.failed else "")
                + "; what ran stays on the hosts")
    return f"{what}.\nContinue with: {resume}"


CLUSTER = "cluster"  # the Progress screen's row for steps that run on no single host


def count_hosts(steps: Iterable[Any]) -> dict[str, int]:
    """How many of `steps` run on each host; steps on no single host count as CLUSTER."""
    counts: dict[str, int] = {}
    for step in steps:
        host = step.host or CLUSTER
        counts[host] = counts.get(host, 0) + 1
    return counts


async def _install_events(session: Session) -> AsyncIterator[Event]:
    from installer.pipeline.install import install_events

    async for event in install_events(session.settings, session.answers(),
                                      control=session.control):
        yield event

