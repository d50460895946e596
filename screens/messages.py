"""App-wide messages: what workers and screens tell each other (one place, STYLE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from installer.interactive.install import PlanSummary
    from installer.interactive.notices import Notice
    from installer.interactive.probing import ProbedHost
    from installer.interactive.upgrade import UpgradeSummary


@dataclass
class HostProbed(Message):
    """A host's probe ended (facts arrived, or it failed with a one-line reason)."""

    host: ProbedHost


@dataclass
class ReviewReady(Message):
    """Validation and the plan summary of the current answers are ready to show."""

    notices: list[Notice]
    summary: PlanSummary | None
    summary_error: str | None


@dataclass
class RunEnded(Message):
    """The install finished (done / failed / interrupted), or could not start (`error`, with
    `code` the exit code headless mode would end with)."""

    outcome: str
    error: str | None = None
    code: int | None = None


@dataclass
class UpgradeDetected(Message):
    """Reading what is deployed ended; `error` says why it could not be read (`code`: the
    exit code it means)."""

    error: str | None = None
    code: int | None = None


@dataclass
class UpgradeChecked(Message):
    """The upgrade preflight and the plan summary are ready (or `error` says why not, and
    `code` the exit code it means)."""

    notices: list[Notice]
    summary: UpgradeSummary | None
    error: str | None = None
    code: int | None = None
