"""App-wide messages: what workers and screens tell each other (one place, STYLE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from installer.session import Notice, PlanSummary, ProbedHost
    from installer.upgrade_session import UpgradeSummary


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
    """The install finished (done / failed / interrupted), or could not start (`error`)."""

    outcome: str
    error: str | None = None


@dataclass
class UpgradeDetected(Message):
    """Reading what is deployed ended; `error` says why it could not be read."""

    error: str | None = None


@dataclass
class UpgradeChecked(Message):
    """The upgrade preflight and the plan summary are ready (or `error` says why not)."""

    notices: list[Notice]
    summary: UpgradeSummary | None
    error: str | None = None
