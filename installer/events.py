"""Events: what the runner tells the renderers (TUI, console, JSON lines); DESIGN.md's set."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Outcome = Literal["done", "skipped", "failed"]
PlanOutcome = Literal["done", "failed", "interrupted"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    time: float = Field(default_factory=time.time)
    step: str | None = None


class PlanStarted(_Event):
    event: Literal["PlanStarted"] = "PlanStarted"
    run_id: str
    kind: Literal["install", "upgrade", "verify", "converge"] = "install"
    steps: int  # how many steps the plan has
    already_done: int = 0  # finished in an earlier attempt of this run (resume)
    log_path: str | None = None


# What a front end calls a running plan of each kind (titles, progress lines).
RUN_TITLES: dict[str, str] = {
    "install": "Installing",
    "upgrade": "Upgrading",
    "converge": "Applying changes",
    "verify": "Verifying",
}


def run_title(kind: str) -> str:
    """'Installing', 'Upgrading'... for a PlanStarted's kind."""
    return RUN_TITLES.get(kind, "Running")


class StepStarted(_Event):
    event: Literal["StepStarted"] = "StepStarted"
    step: str
    title: str
    host: str | None = None
    attempt: int = 1


class StepProgress(_Event):
    event: Literal["StepProgress"] = "StepProgress"
    step: str
    message: str
    fraction: float | None = None  # 0..1 when known


class StepLog(_Event):
    event: Literal["StepLog"] = "StepLog"
    step: str
    line: str


class StepFinished(_Event):
    event: Literal["StepFinished"] = "StepFinished"
    step: str
    outcome: Outcome
    error: str | None = None
    hint: str | None = None
    duration: float = 0.0
    log_tail: list[str] = Field(default_factory=list)


class PlanFinished(_Event):
    event: Literal["PlanFinished"] = "PlanFinished"
    outcome: PlanOutcome
    done: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0
    duration: float = 0.0


Event = Annotated[
    PlanStarted | StepStarted | StepProgress | StepLog | StepFinished | PlanFinished,
    Field(discriminator="event"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(line: str | bytes) -> Event:
    """One JSON line back into its event (for tests and tools reading `--events jsonl`)."""
    return EVENT_ADAPTER.validate_json(line)
