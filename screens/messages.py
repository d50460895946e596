"""App-wide messages: what workers and screens tell each other (one place, STYLE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from installer.session import Notice, PlanSummary, ProbedHost


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
