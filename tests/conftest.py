import os
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


@pytest.fixture(autouse=True)
def _keep_umask() -> Iterator[None]:
    """Every run sets umask 077 for what it creates (owner-only state); runs called in-process
    must not leak that into later tests (files the real sshd's users must read, say)."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)
