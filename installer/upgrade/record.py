"""Where an upgrade run started from, kept beside the journal so a resume re-plans the same steps.

An upgrade run is journaled with kind "upgrade" and the answers the cloud was installed with,
their `release` set to the target. Its starting point (`Deployed`, target, options) is stored
in `<state>/upgrades/<run-id>.json`: half of the cloud has moved on when the run is resumed,
so detecting again would plan different steps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationError

from installer.exits import Exit, UserError
from installer.upgrade.detect import Deployed

if TYPE_CHECKING:
    from installer.plan import Plan
    from installer.upgrade.planner import UpgradeOptions
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

    def options(self) -> UpgradeOptions:
        from installer.upgrade.planner import UpgradeOptions

        return UpgradeOptions(compute_batch=self.compute_batch,
                              disable_scheduling=self.disable_scheduling)


def record_path(state_dir: Path, run_id: str) -> Path:
    return state_dir / RECORDS_DIR / f"{run_id}.json"


def save_record(state_dir: Path, record: UpgradeRecord) -> None:
    """Write the record atomically (a kill leaves the old file or the new one)."""
    from installer.lab.state import write_atomic

    d = state_dir / RECORDS_DIR
    d.mkdir(mode=0o700, exist_ok=True)
    write_atomic(record_path(state_dir, record.run_id), record.model_dump_json())


def load_record(state_dir: Path, run_id: str) -> UpgradeRecord | None:
    """The record of `run_id`, None when there is none; exit 1 when it cannot be read."""
    path = record_path(state_dir, run_id)
    try:
        return UpgradeRecord.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError) as e:
        raise UserError(f"The upgrade record {path} cannot be read ({e.__class__.__name__}); "
                        f"run `{PROG} upgrade --to RELEASE` again to re-detect the cloud.",
                        Exit.INVALID) from None


def plan_from_record(state_dir: Path, run_id: str, answers: Answers) -> Plan:
    """The plan of upgrade run `run_id`, as it was when it started."""
    from installer.upgrade.planner import plan_upgrade
    from manifests.release import load_release

    record = load_record(state_dir, run_id)
    if record is None:
        raise UserError(f"The upgrade run {run_id} has no stored starting point in "
                        f"{str(state_dir)!r}; run `{PROG} upgrade --to {answers.release}` "
                        "again to re-detect the cloud and continue.", Exit.INVALID)
    return plan_upgrade(record.deployed, load_release(record.to_release), answers,
                        record.options())
