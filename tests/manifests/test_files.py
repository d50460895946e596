"""Files the operator names (the admin password file, facts files) are read only when they are
regular files of sensible size, without blocking: never /dev/zero, a FIFO or a directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from installer.exits import UserError
from installer.secrets import Secrets
from manifests.files import FileProblem, read_password_file, read_regular_file
from manifests.loader import AnswersError, load_answers_text

from ..conftest import EXAMPLES


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.mark.timeout(20)
def test_special_files_are_refused_without_blocking(tmp_path: Path, fifo: Path) -> None:
    zero_link = tmp_path / "zero"
    zero_link.symlink_to("/dev/zero")
    for path, reason in [
        (fifo, "is a FIFO (named pipe), not a regular file"),
        (zero_link, "is a character device, not a regular file"),
        (Path("/dev/zero"), "is a character device, not a regular file"),
        (tmp_path, "is a directory, not a regular file"),
    ]:
        with pytest.raises(FileProblem) as e:
            read_regular_file(path, 4096)
        assert e.value.reason == reason and not e.value.missing


def test_size_missing_and_nul(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 4097)
    with pytest.raises(FileProblem, match=r"^is larger than 4 KiB \(4,097 bytes\)$"):
        read_regular_file(big, 4096)
    assert read_regular_file(big, 4097) == b"x" * 4097
    with pytest.raises(FileProblem) as e:
        read_regular_file(tmp_path / "nope", 4096)
    assert e.value.missing and e.value.reason == "does not exist"
    with pytest.raises(FileProblem, match="NUL"):
        read_regular_file(str(tmp_path) + "/\0x", 4096)


def test_password_file_content(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("  correct-horse-battery \n")
    assert read_password_file(str(pw)) == "correct-horse-battery"
    pw.write_bytes(b"\xff\xfe" * 8)
    with pytest.raises(FileProblem, match="not UTF-8") as e:
        read_password_file(str(pw))
    assert e.value.content


def _answers_with_password_file(path: str) -> str:
    data = yaml.safe_load((EXAMPLES / "three-node.yaml").read_text())
    data["identity"] = {"admin_password_file": path}
    return yaml.safe_dump(data, sort_keys=False)


def _password_problem(path: str) -> str:
    text = _answers_with_password_file(path)
    with pytest.raises(AnswersError) as e:
        load_answers_text(text, "a.yaml")
    [p] = e.value.problems
    line = text.splitlines()[p.line - 1]
    assert p.path == "identity.admin_password_file" and "admin_password_file:" in line
    return p.message


@pytest.mark.timeout(20)
def test_validate_refuses_a_password_file_that_is_not_a_small_regular_file(
    tmp_path: Path, fifo: Path
) -> None:
    assert _password_problem("/dev/zero") == (
        "'/dev/zero' is a character device, not a regular file; give a regular file of at "
        "most 4 KiB holding the password"
    )
    assert "is a FIFO (named pipe), not a regular file" in _password_problem(str(fifo))
    big = tmp_path / "big"
    big.write_text("p" * 5000)
    assert "is larger than 4 KiB (5,000 bytes)" in _password_problem(str(big))
    assert _password_problem(str(tmp_path / "nope")).endswith(
        "does not exist; create it, or set admin_password_file to null to use the password "
        "keystone generates"
    )
    short = tmp_path / "short"
    short.write_text("abc\n")
    assert "shorter than 8 characters" in _password_problem(str(short))
    good = tmp_path / "good"
    good.write_text("correct-horse-battery\n")
    loaded = load_answers_text(_answers_with_password_file(str(good)))
    assert loaded.answers.identity.admin_password_file == str(good)


@pytest.mark.timeout(20)
def test_the_run_refuses_them_too(tmp_path: Path, fifo: Path) -> None:
    big = tmp_path / "big"
    big.write_text("p" * 5000)
    for path, reason in [
        (fifo, "is a FIFO (named pipe), not a regular file"),
        (big, "is larger than 4 KiB"),
        (Path("/dev/zero"), "is a character device"),
    ]:
        with pytest.raises(UserError) as e:
            Secrets(tmp_path / "secrets").load_admin_password(str(path))
        assert f"Cannot read identity.admin_password_file {str(path)!r}: it {reason}" in str(
            e.value
        )
