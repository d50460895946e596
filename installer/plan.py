"""Steps and plans: the DAG the planner builds and the runner executes."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from installer.backends.base import Backends
    from manifests.answers import Answers
    from manifests.release import Release


class StepContext(Protocol):
    """What a running step may use. The runner provides it; steps never see the runner."""

    answers: Answers
    release: Release
    backends: Backends
    cancelled: asyncio.Event

    def progress(self, message: str, fraction: float | None = None) -> None: ...
    def log(self, line: str) -> None: ...
    def remaining(self) -> float:
        """Seconds left before the runner stops this attempt of the step (its timeout)."""
        ...
    def secret(self, name: str) -> str:
        """A secret (e.g. admin password) by name; never logged. KeyError if not known yet."""
        ...
    def keep_secret(self, name: str, value: str) -> None:
        """Keep a secret a step learned (e.g. the password a charm generated): stored 0600 in
        the state dir for later runs and redacted from logs, events and the journal."""
        ...


# A backend wait gets what is left of the step's time less this margin, so the backend's own
# timeout, whose message names what it waited for (units, nodes), fires before the runner's,
# which can only say that the step ran out of time. The margin covers the backend's last poll.
WAIT_MARGIN_SHARE = 0.05
WAIT_MARGIN_MIN = 2.0  # seconds
WAIT_MARGIN_MAX = 30.0  # seconds


def wait_timeout(ctx: StepContext) -> float:
    """The timeout for a backend wait in a running step: its remaining time less a margin.

    The margin is WAIT_MARGIN_SHARE of the remaining time, at least WAIT_MARGIN_MIN and at most
    WAIT_MARGIN_MAX seconds, and never more than half the remaining time.
    """
    remaining = max(ctx.remaining(), 0.0)
    margin = min(max(remaining * WAIT_MARGIN_SHARE, WAIT_MARGIN_MIN), WAIT_MARGIN_MAX,
                 remaining / 2)
    return remaining - margin


class StepFailed(Exception):
    """A step could not reach its wanted state. `hint` says what the operator can do."""

    def __init__(self, message: str, *, hint: str | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.transient = transient


@dataclass(eq=False)
class Step(abc.ABC):
    """One idempotent unit of work with a stable id, e.g. `snap.install:juju@node1`."""

    id: str
    title: str
    needs: tuple[str, ...] = ()
    host: str | None = None
    timeout: float = 3600.0  # seconds of real time; the lab scales its own durations

    @abc.abstractmethod
    async def done(self, ctx: StepContext) -> bool:
        """True when the world is already in this step's wanted state (the step is skipped)."""

    @abc.abstractmethod
    async def run(self, ctx: StepContext) -> None:
        """Bring the world to the wanted state; report through ctx.progress and ctx.log."""


class PlanError(ValueError):
    """The plan is not a DAG (unknown need, duplicate id, cycle)."""


@dataclass
class Plan:
    """Steps in a dependency-respecting order."""

    steps: list[Step]
    kind: str = "install"
    _by_id: dict[str, Step] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {}
        for s in self.steps:
            if s.id in self._by_id:
                raise PlanError(f"two steps have the id {s.id!r}")
            self._by_id[s.id] = s
        for s in self.steps:
            for n in s.needs:
                if n not in self._by_id:
                    raise PlanError(f"step {s.id!r} needs {n!r}, which is not in the plan")
        self.steps = self.topological(self.steps)

    def __getitem__(self, step_id: str) -> Step:
        return self._by_id[step_id]

    def __contains__(self, step_id: object) -> bool:
        return step_id in self._by_id

    def __len__(self) -> int:
        return len(self.steps)

    def ids(self) -> list[str]:
        return [s.id for s in self.steps]

    @staticmethod
    def topological(steps: Iterable[Step]) -> list[Step]:
        """Kahn's algorithm, stable with respect to the given order."""
        steps = list(steps)
        indegree = {s.id: len(set(s.needs)) for s in steps}
        dependents: dict[str, list[Step]] = {s.id: [] for s in steps}
        for s in steps:
            for n in set(s.needs):
                dependents[n].append(s)
        ready = [s for s in steps if indegree[s.id] == 0]
        order: list[Step] = []
        while ready:
            s = ready.pop(0)
            order.append(s)
            for d in dependents[s.id]:
                indegree[d.id] -= 1
                if indegree[d.id] == 0:
                    ready.append(d)
        if len(order) != len(steps):
            stuck = sorted(i for i, d in indegree.items() if d > 0)
            raise PlanError(f"the plan has a cycle among {', '.join(stuck[:5])}")
        return order

    def critical_path(self, durations: dict[str, float]) -> float:
        """Length of the longest chain of needs, with each step taking durations[id] (default 0)."""
        finish: dict[str, float] = {}
        for s in self.steps:
            start = max((finish[n] for n in s.needs), default=0.0)
            finish[s.id] = start + durations.get(s.id, 0.0)
        return max(finish.values(), default=0.0)
