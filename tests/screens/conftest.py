from __future__ import annotations

from pathlib import Path

import pytest

from installer.interactive.install import Session
from installer.pipeline import RunSettings

FACTS = Path(__file__).resolve().parent / "facts"
SIZE = (80, 24)


@pytest.fixture
def session(tmp_path: Path) -> Session:
    """A dry-run session whose hosts are the recorded facts in tests/screens/facts."""
    return Session(RunSettings(dry_run=True, state_dir=tmp_path / "state",
                               facts_dir=FACTS, time_scale=0))


@pytest.fixture(autouse=True)
def _no_color_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Textual reads (and removes) NO_COLOR at App creation; keep tests independent of the shell.
    monkeypatch.delenv("NO_COLOR", raising=False)
