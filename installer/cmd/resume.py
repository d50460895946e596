"""Continue the last interrupted or failed run: finished steps are not run again.

The run continues with the answers it started with (the journal keeps a snapshot) and in the
same mode (dry-run or real). Steps that were running when the run stopped are checked and run
again. --faults, --time-scale and --parallel may be given anew; faults are not carried over, so
a resume after a `--faults ...=fail` run tries the operation for real (in the lab)."""

from __future__ import annotations

import argparse
import os

from installer.cmd._options import add_run_options
from installer.exits import Exit, UserError

PROG = "sunbeam-install"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser, suppress=True)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from installer.cmd import install as pipeline
    from installer.state import StateDir, open_run_log, resolve_state_dir
    from manifests.answers import Answers

    pipeline.check_parallel(getattr(args, "parallel", None))
    dry_run_flag = bool(getattr(args, "dry_run", False))
    state_arg = getattr(args, "state_dir", None)
    state = StateDir(resolve_state_dir(state_arg, dry_run=dry_run_flag))
    if not state.journal_path.exists():
        other = "" if dry_run_flag or state_arg else (
            f"; for a dry-run install, use `{PROG} resume --dry-run`"
        )
        raise UserError(f"There is no run to resume in {str(state.path)!r}{other}.",
                        Exit.INVALID)
    os.umask(0o077)
    with state.lock("resume"):
        journal = pipeline.open_journal(state)
        last = journal.last_run()
        if last is None:
            journal.close()
            raise UserError(f"There is no run to resume in {str(state.path)!r}.", Exit.INVALID)
        if last.outcome == "done":
            journal.close()
            print(f"The last run {last.id} finished; there is nothing to resume.")
            return int(Exit.OK)
        if last.kind == "upgrade":
            journal.close()
            from installer.upgrade.run import resume_upgrade

            return resume_upgrade(args, state, last)
        dry_run = last.dry_run
        if not dry_run:
            journal.close()
            pipeline.real_mode_gate()
            journal = pipeline.open_journal(state)
        try:
            answers = Answers.model_validate_json(last.answers_snapshot)
        except ValidationError:
            journal.close()
            raise UserError(f"The answers recorded for run {last.id} in {str(state.path)!r} "
                            "cannot be read by this version; start a new install with "
                            "--answers FILE.", Exit.INVALID) from None
        release = pipeline.load_release_for(answers)
        stored = last.options
        time_scale = args.time_scale if getattr(args, "time_scale", None) is not None else (
            stored.get("time_scale"))
        parallel = getattr(args, "parallel", None) or stored.get("parallel")
        facts_dir = getattr(args, "facts", None) or stored.get("facts")
        lab = None
        if dry_run:
            lab = pipeline.open_lab(state, time_scale=time_scale,
                                    faults=getattr(args, "faults", None), facts_dir=facts_dir)
            lab.ensure_hosts(answers)
            backends = lab.backends()
            options = pipeline.dry_run_options(time_scale, parallel)
        else:
            _, backends = pipeline.open_real_backends(answers, state, args)
            options = pipeline.real_options(parallel)

        from installer.planner import plan as make_plan

        plan = make_plan(answers, release)
        secrets = state.secrets()
        secrets.load_admin_password(answers.identity.admin_password_file)
        journal.run_resumed(last.id, {"time_scale": time_scale, "facts": facts_dir,
                                      "parallel": parallel})
        log_path = state.log_path(last.id)
        logger = open_run_log(log_path, secrets.redactor)
        logger.info("resume of %s run %s", last.kind, last.id)
        setup = pipeline.RunSetup("install", state, journal, last.id, plan, answers, release,
                                  backends, secrets, logger, log_path, options, dry_run, lab)
        setup.extras["explicit_state_dir"] = bool(state_arg)
        return pipeline.run_setup(setup, args)
