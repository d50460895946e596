import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short directory for unix sockets (their paths are limited to 107 bytes)."""
    d = tempfile.mkdtemp(prefix="sb-", dir="/tmp")
    try:
        yield Path(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


# The umask pytest started with; read (and put back) once, when this file is imported.
SESSION_UMASK = os.umask(0o022)
os.umask(SESSION_UMASK)


@pytest.fixture(autouse=True)
def _keep_umask() -> Iterator[None]:
    """Every run sets umask 077 for what it creates (owner-only state); runs called in-process
    (in a test or in a module fixture) must not leak that into later tests (files the real
    sshd's users must read, say): each test starts and ends with the session's umask."""
    os.umask(SESSION_UMASK)
    yield
    os.umask(SESSION_UMASK)
