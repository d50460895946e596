"""A state dir another user could have set up (issue 13, item 4): links, foreign owners and
group/other-writable entries are refused (exit 4) before anything is written through them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from installer.cli import main
from installer.exits import Exit, UserError
from installer.secrets import write_private
from installer.state import StateDir

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "single-node.yaml"


def install(state: Path) -> int:
    return main(["--answers", str(EXAMPLE), "--dry-run", "--yes", "--state-dir", str(state),
                 "--time-scale", "0", "--events-file", os.devnull])


@pytest.fixture
def state(tmp_path: Path) -> Path:
    d = tmp_path / "state"
    d.mkdir(mode=0o700)
    return d


def test_a_linked_run_lock_is_refused_and_its_target_untouched(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "shadow"
    victim.write_text("precious\n")
    (state / "run.lock").symlink_to(victim)
    assert install(state) == Exit.PREREQUISITE
    assert victim.read_text() == "precious\n"
    err = capsys.readouterr().err
    assert "run.lock" in err and "symbolic link" in err


def test_the_lock_is_never_opened_through_a_link(state: Path, tmp_path: Path) -> None:
    # Even when the tree was checked before the link appeared.
    victim = tmp_path / "shadow"
    victim.write_text("precious\n")
    s = StateDir(state).ensure()
    (state / "run.lock").symlink_to(victim)
    s.check = lambda: s  # type: ignore[method-assign]
    with pytest.raises(UserError, match="symbolic link"), s.lock():
        pass
    assert victim.read_text() == "precious\n"


def test_a_linked_temporary_secret_file_is_refused_and_nothing_written_through_it(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leak = tmp_path / "world-readable"
    (state / "secrets").mkdir(mode=0o700)
    (state / "secrets" / ".admin-password.tmp").symlink_to(leak)
    assert install(state) == Exit.PREREQUISITE
    assert not leak.exists()
    assert ".admin-password.tmp" in capsys.readouterr().err


def test_write_private_never_writes_through_a_link(tmp_path: Path) -> None:
    leak = tmp_path / "leak"
    (tmp_path / ".admin-password.tmp").symlink_to(leak)
    with pytest.raises(UserError, match="symbolic link"):
        write_private(tmp_path / "admin-password", "s3cret-password\n")
    assert not leak.exists() and not (tmp_path / "admin-password").exists()
    # A leftover regular temporary file of a killed run is replaced.
    (tmp_path / ".admin-password.tmp").unlink()
    (tmp_path / ".admin-password.tmp").write_text("old")
    write_private(tmp_path / "admin-password", "s3cret-password\n")
    assert (tmp_path / "admin-password").read_text() == "s3cret-password\n"
    assert (tmp_path / "admin-password").stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_state_dir_owned_by_another_user_is_refused(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chown(state, 4321, 4321)
    assert install(state) == Exit.PREREQUISITE
    err = capsys.readouterr().err
    assert str(state) in err and "owned by uid 4321" in err
    assert not (state / "journal.sqlite").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_file_in_it_owned_by_another_user_is_refused(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert install(state) == 0
    os.chown(state / "journal.sqlite", 4321, 4321)
    assert main(["status", "--state-dir", str(state)]) == Exit.PREREQUISITE
    assert "journal.sqlite" in capsys.readouterr().err


def test_a_group_writable_state_dir_is_refused(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chmod(state, 0o770)
    assert install(state) == Exit.PREREQUISITE
    err = capsys.readouterr().err
    assert "writable by its group or by others (mode 770)" in err and "chmod go-w" in err
    assert not (state / "journal.sqlite").exists()


def test_a_linked_state_dir_and_a_linked_journal_are_refused(
    tmp_path: Path, state: Path
) -> None:
    link = tmp_path / "link"
    link.symlink_to(state)
    assert install(link) == Exit.PREREQUISITE
    other = tmp_path / "other.sqlite"
    (state / "journal.sqlite").symlink_to(other)
    assert install(state) == Exit.PREREQUISITE
    assert main(["status", "--state-dir", str(state)]) == Exit.PREREQUISITE
    assert not other.exists()


def test_a_private_state_dir_still_installs_and_resumes(state: Path) -> None:
    assert install(state) == 0
    assert main(["status", "--state-dir", str(state)]) == 0
