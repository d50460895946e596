"""The upgrade pipeline behind `sunbeam-install upgrade`: detect -> target -> diff ->
preflight -> plan -> the install runner (same renderers, journal, log and resume).

An upgrade run is journaled with kind "upgrade" and the answers the cloud was installed with,
their `release` set to the target. Its starting point (`Deployed`, target, options) is stored
in `<state>/upgrades/<run-id>.json`, so a resumed upgrade re-plans exactly the same steps even
though half of the cloud has moved on: `plan_for_resume` and `resume_upgrade` are the hooks
`sunbeam-install resume` calls for an upgrade run. Running the same `upgrade --to RELEASE`
again while an upgrade to RELEASE is unfinished continues it the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from installer.exits import Exit, UserError
from installer.upgrade.detect import Deployed

if TYPE_CHECKING:
    from installer.backends.base import Backends
    from installer.journal import Journal, RunRecord
    from installer.plan import Plan
    from installer.state import StateDir
    from manifests.answers import Answers

PROG = "sunbeam-install"
RECORDS_DIR = "upgrades"


class UpgradeRecord(BaseModel):
    """Where an upgrade run started from: what re-planning it needs."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    from_release: str
    to_release: str
    compute_batch: int | None = None
    disable_scheduling: bool = False
    deployed: Deployed


def record_path(state: StateDir, run_id: str) -> Path:
    return state.path / RECORDS_DIR / f"{run_id}.json"


def save_record(state: StateDir, record: UpgradeRecord) -> None:
    from installer.lab.state import write_atomic

    d = state.path / RECORDS_DIR
    d.mkdir(mode=0o700, exist_ok=True)
    write_atomic(record_path(state, record.run_id), record.model_dump_json())


def load_record(state: StateDir, run_id: str) -> UpgradeRecord | None:
    path = record_path(state, run_id)
    try:
        return UpgradeRecord.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError) as e:
        raise UserError(f"The upgrade record {path} cannot be read ({e.__class__.__name__}); "
                        f"run `{PROG} upgrade --to RELEASE` again to re-detect the cloud.",
                        Exit.INVALID) from None


def _options(record: UpgradeRecord) -> Any:
    from installer.upgrade.planner import UpgradeOptions

    return UpgradeOptions(compute_batch=record.compute_batch,
                          disable_scheduling=record.disable_scheduling)


def plan_for_resume(state: StateDir, run: RunRecord, answers: Answers) -> Plan:
    """HOOK for `resume`: the plan of upgrade run `run`, as it was when it started."""
    from installer.upgrade.planner import plan_upgrade
    from manifests.release import load_release

    record = load_record(state, run.id)
    if record is None:
        raise UserError(f"The upgrade run {run.id} has no stored starting point in "
                        f"{str(state.path)!r}; run `{PROG} upgrade --to {answers.release}` "
                        "again to re-detect the cloud and continue.", Exit.INVALID)
    return plan_upgrade(record.deployed, load_release(record.to_release), answers,
                        _options(record))


def resume_upgrade(args: argparse.Namespace, state: StateDir, last: RunRecord) -> int:
    """HOOK for `resume`: continue upgrade run `last`. The caller holds the state lock."""
    from installer.cmd import install as pipeline
    from installer.state import open_run_log
    from installer.upgrade.steps import scale_waits
    from manifests.answers import Answers

    dry_run = last.dry_run
    if not dry_run:
        pipeline.real_mode_gate()
    try:
        answers = Answers.model_validate_json(last.answers_snapshot)
    except ValidationError:
        raise UserError(f"The answers recorded for upgrade run {last.id} cannot be read by "
                        f"this version; run `{PROG} upgrade --to RELEASE --answers FILE`.",
                        Exit.INVALID) from None
    release = pipeline.load_release_for(answers)
    plan = plan_for_resume(state, last, answers)
    stored = last.options
    time_scale = _given(args, "time_scale", stored.get("time_scale"))
    parallel = _given(args, "parallel", stored.get("parallel"))
    facts_dir = _given(args, "facts", stored.get("facts"))
    lab = None
    if dry_run:
        lab = pipeline.open_lab(state, time_scale=time_scale,
                                faults=getattr(args, "faults", None), facts_dir=facts_dir)
        backends = lab.backends()
        scale_waits(plan, lab.time_scale)
        options = pipeline.dry_run_options(time_scale, parallel)
    else:
        _, backends = pipeline.open_real_backends(answers, state, args)
        options = pipeline.real_options(parallel)
    secrets = state.secrets()
    secrets.load_admin_password(answers.identity.admin_password_file)
    journal = pipeline.open_journal(state)
    journal.run_resumed(last.id, {**stored, "time_scale": time_scale, "facts": facts_dir,
                                  "parallel": parallel})
    log_path = state.log_path(last.id)
    logger = open_run_log(log_path, secrets.redactor)
    logger.info("continuing upgrade run %s to %s", last.id, release.release)
    setup = pipeline.RunSetup("upgrade", state, journal, last.id, plan, answers, release,
                              backends, secrets, logger, log_path, options, dry_run, lab)
    setup.extras["explicit_state_dir"] = bool(getattr(args, "state_dir", None))
    return pipeline.run_setup(setup, args)


def _given(args: argparse.Namespace, name: str, stored: Any) -> Any:
    value = getattr(args, name, None)
    return stored if value is None else value


# --------------------------------------------------------------------------------------------
# Detection with the mode's backends.


def _answers(args: argparse.Namespace, journal: Journal | None) -> tuple[Answers, str | None]:
    """The answers the cloud was installed with: --answers FILE, else the journal's."""
    from manifests.answers import Answers

    path = getattr(args, "answers", None)
    if path:
        from manifests.loader import AnswersError, load_answers_file

        try:
            return load_answers_file(path).answers, str(Path(path).resolve())
        except AnswersError as e:
            raise UserError(str(e), Exit.INVALID) from None
        except OSError as e:
            raise UserError(f"Cannot read the answers file {path!r} ({e.strerror}); check the "
                            "path.", Exit.INVALID) from None
    from installer.upgrade.detect import last_finished_run

    run = last_finished_run(journal) if journal is not None else None
    if run is None:
        raise UserError("No finished install is recorded in the state dir, so the cloud's "
                        "hosts are not known; pass --answers FILE (the answers it was "
                        "installed with).", Exit.INVALID)
    try:
        return Answers.model_validate_json(run.answers_snapshot), run.answers_path
    except ValidationError:
        raise UserError(f"The answers recorded for run {run.id} cannot be read by this "
                        "version; pass --answers FILE.", Exit.INVALID) from None


def _backends(args: argparse.Namespace, state: StateDir, answers: Answers
              ) -> tuple[Any, Backends, dict[str, Any]]:
    """(lab or None, backends, host facts by name) for the run's mode."""
    from installer.cmd import install as pipeline

    if args.dry_run:
        lab = pipeline.open_lab(state, time_scale=args.time_scale, faults=args.faults,
                                facts_dir=args.facts)
        if args.facts:
            # --facts: the hosts look like this now (e.g. after their Ubuntu was upgraded).
            lab.ensure_hosts(answers)
        return lab, lab.backends(), dict(lab.facts())
    facts, backends = pipeline.open_real_backends(answers, state, args)
    return None, backends, dict(facts)


def _detect(backends: Backends, answers: Answers, journal_release: str | None) -> Deployed:
    from installer.upgrade.detect import detect

    return asyncio.run(detect(backends, [h.name for h in answers.hosts],
                              journal_release=journal_release, answers=answers))


def _state(args: argparse.Namespace) -> StateDir:
    from installer.state import StateDir, resolve_state_dir

    return StateDir(resolve_state_dir(args.state_dir, dry_run=bool(args.dry_run)))


# --------------------------------------------------------------------------------------------
# `upgrade --show`


def show(args: argparse.Namespace) -> int:
    """Print what is deployed and where it may go; change nothing."""
    from installer.cmd import install as pipeline
    from installer.upgrade.detect import release_from_journal
    from installer.upgrade.targets import supported_targets

    state = _state(args)
    journal = pipeline.open_journal(state.ensure()) if state.exists() else None
    try:
        answers, _ = _answers(args, journal)
        journal_release = release_from_journal(journal) if journal is not None else None
    finally:
        if journal is not None:
            journal.close()
    _, backends, _ = _backends(args, state, answers)
    deployed = _detect(backends, answers, journal_release)
    targets = supported_targets(deployed.release) if deployed.release else []
    if args.json:
        print(json.dumps({
            "deployed": deployed.model_dump(mode="json"),
            "targets": [{"release": t.target, "supported": t.supported, "reason": t.reason,
                         "skip_level": t.skip_level} for t in targets],
        }, indent=2))
        return int(Exit.OK)
    for line in describe(deployed):
        print(line)
    for t in targets:
        print(f"  -> {t.target}: {'supported' if t.supported else 'refused'}. {t.reason}")
    if deployed.release and not targets:
        print(f"  No newer release is shipped than {deployed.release}.")
    return int(Exit.OK)


def describe(deployed: Deployed) -> list[str]:
    src = {"journal": "from the journal", "channels": "from the channels",
           "unknown": "unknown"}[deployed.release_source]
    lines = [f"Deployed release: {deployed.release or 'unknown'} ({src}); channels match "
             f"{deployed.channels_release or 'no single release'}"]
    for a in deployed.apps:
        state = "active" if a.settled else "NOT settled"
        lines.append(f"  charm {a.app:28} {a.channel or '-':22} rev {a.revision!s:5} "
                     f"{len(a.units)} unit(s) {state}")
    for s in deployed.snaps:
        lines.append(f"  snap  {s.name + '@' + s.host:28} {s.channel:22} rev {s.revision}")
    for note in deployed.notes:
        lines.append(f"  note: {note}")
    return lines


# --------------------------------------------------------------------------------------------
# `upgrade --to RELEASE`


def headless_upgrade(args: argparse.Namespace) -> int:
    from installer.cmd import install as pipeline
    from installer.preflight.finding import format_finding, summarize
    from installer.upgrade.detect import release_from_journal
    from installer.upgrade.planner import UpgradeOptions, plan_upgrade
    from installer.upgrade.preflight import check_runs, check_upgrade
    from installer.upgrade.steps import scale_waits
    from installer.upgrade.targets import check_target, diff, format_diff
    from manifests.release import load_release

    dry_run = bool(args.dry_run)
    if not dry_run:
        pipeline.real_mode_gate()
        if args.faults or args.time_scale is not None or args.facts:
            raise UserError("--faults, --time-scale and --facts work only with --dry-run; add "
                            "--dry-run or leave them out.", Exit.USAGE)
    if args.compute_batch is not None and args.compute_batch < 1:
        raise UserError(f"--compute-batch {args.compute_batch} is below 1; give how many "
                        "compute hosts to refresh at once (1 or more).", Exit.USAGE)
    os.umask(0o077)
    state = _state(args).ensure()
    with state.lock("upgrade"):
        journal = pipeline.open_journal(state)
        try:
            last = journal.last_run()
            if last is not None and last.kind == "upgrade" and last.outcome != "done":
                record = load_record(state, last.id)
                if record is None or record.to_release == args.to:
                    journal.close()
                    print(f"{PROG}: continuing the unfinished upgrade run {last.id} to "
                          f"{args.to}.", file=sys.stderr)
                    return resume_upgrade(args, state, last)
                raise UserError(f"The upgrade run {last.id} to {record.to_release} did not "
                                f"finish; continue it with `{PROG} resume` before upgrading "
                                f"to {args.to}.", Exit.INVALID)
            run_findings = check_runs(last)
            answers, answers_path = _answers(args, journal)
            journal_release = release_from_journal(journal)
        finally:
            journal.close()
        for f in run_findings:
            print(format_finding(f), file=sys.stderr)
        if run_findings:
            return int(Exit.INVALID)

        lab, backends, facts = _backends(args, state, answers)
        deployed = _detect(backends, answers, journal_release)
        if deployed.release is None:
            raise UserError("Which release the cloud runs cannot be told (no finished install "
                            "in the journal and the channels match no shipped release); "
                            f"`{PROG} upgrade --show` lists them.", Exit.INVALID)
        if deployed.release == args.to:
            print(f"The cloud runs {args.to} already; there is nothing to upgrade.")
            return int(Exit.OK)
        verdict = check_target(deployed.release, args.to)
        if not verdict.supported:
            raise UserError(f"Cannot upgrade to {args.to}: {verdict.reason}", Exit.INVALID)
        target = load_release(args.to)
        # With `--events jsonl` on stdout, stdout carries only JSON lines.
        out = sys.stderr if args.events == "jsonl" and not args.events_file else sys.stdout
        print(f"Upgrade {deployed.release} -> {target.release} ({target.codename}): "
              f"{verdict.reason}", file=out)
        for line in format_diff(diff(deployed, target, answers)):
            print(f"  {line}", file=out)
        out.flush()

        findings = check_upgrade(deployed, target, answers=answers, facts=facts)
        errors, warnings, _ = summarize(findings)
        for f in findings:
            print(format_finding(f), file=sys.stderr)
        if errors:
            print(f"{PROG}: upgrade preflight found {errors} error(s); fix them and run the "
                  "upgrade again.", file=sys.stderr)
            return int(Exit.INVALID)
        if warnings:
            pipeline.confirm(f"Upgrade despite {warnings} warning(s)?", yes=args.yes)
        elif not dry_run:
            pipeline.confirm(f"Upgrade the cloud on {len(answers.hosts)} host(s) to "
                             f"{target.release}?", yes=args.yes)

        options = UpgradeOptions(compute_batch=args.compute_batch,
                                 disable_scheduling=bool(args.one_at_a_time))
        if args.one_at_a_time:
            options = UpgradeOptions(compute_batch=1, disable_scheduling=True)
        plan = plan_upgrade(deployed, target, answers, options)
        if lab is not None:
            scale_waits(plan, lab.time_scale)
        if not plan.steps:
            print(f"Nothing to upgrade: everything is on {target.release}'s channels already.",
                  file=out)
            return int(Exit.OK)
        run_answers = answers.model_copy(update={"release": target.release})
        run_options = {"time_scale": args.time_scale, "facts": _abs(args.facts),
                       "parallel": args.parallel, "upgrade_from": deployed.release,
                       "upgrade_to": target.release}
        setup = pipeline.new_run(
            kind="upgrade", state=state, plan=plan, answers=run_answers,
            answers_path=answers_path, release=target, backends=backends, dry_run=dry_run,
            options=(pipeline.dry_run_options(args.time_scale, args.parallel) if dry_run
                     else pipeline.real_options(args.parallel)),
            run_options=run_options, lab=lab,
        )
        try:
            save_record(state, UpgradeRecord(
                run_id=setup.run_id, from_release=deployed.release, to_release=target.release,
                compute_batch=options.compute_batch,
                disable_scheduling=options.disable_scheduling, deployed=deployed,
            ))
        except BaseException:
            setup.close()
            raise
        setup.extras["explicit_state_dir"] = bool(args.state_dir)
        return pipeline.run_setup(setup, args)


def _abs(path: str | None) -> str | None:
    return str(Path(path).resolve()) if path else None
