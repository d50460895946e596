"""An upgrade killed between its journal row and its record file (issue 13, item 5): the record
is written first, so no journaled upgrade run lacks one; a journal left that way by an older
version is recovered by `upgrade --to` (re-detect, re-plan, say so), which `resume` points to."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.cli import main
from installer.journal import Journal
from installer.state import StateDir
from installer.upgrade.record import RECORDS_DIR
from manifests.answers import Answers
from tests.installer.upgrade.test_upgrade_dry_run import Cloud


def _last_run(state: Path) -> tuple[str, str, str | None]:
    j = Journal.open(StateDir(state).journal_path)
    try:
        last = j.last_run()
        assert last is not None
        return last.id, last.kind, last.outcome
    finally:
        j.close()


def test_a_kill_while_storing_the_record_leaves_no_journaled_run_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud = Cloud(tmp_path)

    def killed(*_: object) -> None:
        raise KeyboardInterrupt  # the process dies here

    monkeypatch.setattr("installer.upgrade.record.save_record", killed)
    assert cloud.upgrade() == 130
    monkeypatch.undo()
    # Nothing of the upgrade is in the journal: the next `upgrade --to` starts it cleanly.
    assert _last_run(cloud.state)[1:] == ("install", "done")
    assert cloud.upgrade() == 0
    run_id, kind, outcome = _last_run(cloud.state)
    assert (kind, outcome) == ("upgrade", "done")
    assert (cloud.state / RECORDS_DIR / f"{run_id}.json").is_file()


def test_a_journaled_upgrade_without_its_record_is_continued_by_upgrade_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = Cloud(tmp_path)
    # What a kill in the window left with the old order: the run journaled, no record.
    j = Journal.open(StateDir(cloud.state).journal_path)
    try:
        done = j.last_run()
        assert done is not None
        answers = Answers.model_validate_json(done.answers_snapshot)
        crashed = j.start_run(
            kind="upgrade",
            answers_snapshot=answers.model_copy(update={"release": "2025.1"}).model_dump_json(),
            answers_path=done.answers_path, dry_run=True, steps=[("juju.refresh:x", "x", None)],
            options={"upgrade_from": "2024.1", "upgrade_to": "2025.1"},
        ).id
    finally:
        j.close()
    capsys.readouterr()
    # resume cannot re-plan it and says which command does (not a loop back to itself) ...
    assert main(["resume", *cloud.common()]) == 1
    err = capsys.readouterr().err
    assert "upgrade --to 2025.1" in err
    # ... and that command continues: it detects the cloud again and upgrades it.
    assert cloud.upgrade() == 0
    err = capsys.readouterr().err
    assert f"upgrade run {crashed} stopped before its first step" in err
    run_id, kind, outcome = _last_run(cloud.state)
    assert (kind, outcome) == ("upgrade", "done") and run_id != crashed
    data = cloud.show(capsys)
    assert data["deployed"]["release"] == "2025.1"
