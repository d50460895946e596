"""State dir locations and permissions, secrets, redaction, the run log."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from installer.exits import Exit, UserError
from installer.secrets import ADMIN_PASSWORD, REDACTED, Redactor, Secrets
from installer.state import StateDir, close_run_log, default_state_dir, open_run_log


def test_default_state_dirs() -> None:
    assert default_state_dir(dry_run=False, env={}) == Path("/var/lib/sunbeam-install")
    assert default_state_dir(dry_run=False, env={"SNAP": "/snap/x/1"}) == Path(
        "/var/snap/sunbeam-install/common")
    assert default_state_dir(dry_run=True, env={"XDG_STATE_HOME": "/x/state"}) == Path(
        "/x/state/sunbeam-install")
    assert default_state_dir(dry_run=True, env={"HOME": "/home/u"}) == Path(
        "/home/u/.local/state/sunbeam-install")


def test_ensure_makes_owner_only_dirs(tmp_path: Path) -> None:
    s = StateDir(tmp_path / "a" / "state").ensure()
    for d in (s.path, s.logs_dir, s.secrets_dir):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_ensure_that_cannot_create_names_the_dir_and_the_fix(tmp_path: Path) -> None:
    # A file where a directory must go fails even for root (tests may run as root).
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError) as e:
        StateDir(tmp_path / "file" / "state").ensure()
    assert e.value.code == Exit.PREREQUISITE
    assert str(tmp_path / "file" / "state") in str(e.value) and "--state-dir" in str(e.value)


def test_no_password_is_generated_up_front_and_a_kept_one_is_stored_0600(tmp_path: Path) -> None:
    s = StateDir(tmp_path / "s").ensure()
    # keystone-k8s generates the admin password; the installer only keeps what it returns.
    assert s.secrets().load_admin_password(None) is None
    assert not (s.secrets_dir / ADMIN_PASSWORD).exists()
    sec = s.secrets()
    sec.set(ADMIN_PASSWORD, "charm-generated-pw")
    f = s.secrets_dir / ADMIN_PASSWORD
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert sec.redactor.redact("pw charm-generated-pw") == f"pw {REDACTED}"
    again = s.secrets()
    assert again.load_admin_password(None) == "charm-generated-pw"
    assert again.get(ADMIN_PASSWORD) == "charm-generated-pw"
    assert again.redactor.redact("charm-generated-pw") == REDACTED


def test_password_file_is_read_and_redacted(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("correct-horse-battery\n")
    sec = Secrets(tmp_path / "secrets")
    assert sec.load_admin_password(str(pw)) == "correct-horse-battery"
    assert sec.get(ADMIN_PASSWORD) == "correct-horse-battery"
    assert sec.redactor.redact("pw=correct-horse-battery;") == f"pw={REDACTED};"
    assert not (tmp_path / "secrets").exists()  # a given password is not copied anywhere


def test_missing_or_short_password_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"Cannot read identity.admin_password_file .*/nope"):
        Secrets(tmp_path).load_admin_password(str(tmp_path / "nope"))
    short = tmp_path / "short"
    short.write_text("abc")
    with pytest.raises(UserError, match="shorter than 8 characters"):
        Secrets(tmp_path).load_admin_password(str(short))


def test_redactor_replaces_every_secret_longest_first() -> None:
    r = Redactor(["abcd1234", "abcd1234-long"])
    assert r.redact("x abcd1234-long y abcd1234 z") == f"x {REDACTED} y {REDACTED} z"
    assert Redactor().redact("nothing") == "nothing"
    assert Redactor(["ab"]).redact("tab") == "tab"  # too short to be treated as a secret


def test_run_log_is_debug_level_owner_only_and_redacted(tmp_path: Path) -> None:
    r = Redactor(["hunter2-hunter2"])
    log = open_run_log(tmp_path / "logs" / "r1.log", r)
    log.debug("debug line with hunter2-hunter2")
    log.info("args too: %s", "hunter2-hunter2")
    close_run_log(log)
    text = (tmp_path / "logs" / "r1.log").read_text()
    assert "debug line with ********" in text and "args too: ********" in text
    assert "hunter2" not in text
    assert stat.S_IMODE((tmp_path / "logs" / "r1.log").stat().st_mode) == 0o600
