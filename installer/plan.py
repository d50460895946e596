"""Steps and plans: the DAG the planner builds and the runner executes."""

from __future__ import annotations

import abc
import asyncio
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
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


# What a running step holds, each limited by the runner (RunOptions.limits): the Juju
# controller, the Kubernetes API server, and a host's SSH connection and snapd ("host:NAME").
JUJU = "juju"
K8S = "k8s"
HOST = "host"


def host_resource(host: str) -> str:
    """The resource of one host: its SSH connection (and the snapd behind it)."""
    return f"{HOST}:{host}"


def resource_kind(resource: str) -> str:
    """`host:node1` -> `host`: the limit a resource counts against."""
    return resource.partition(":")[0]


# How many steps may hold one resource at once (the runner's RunOptions.limits).
# - JUJU, the controller: each step runs one `juju` process at a time, each with its own API
#   connection and login (tens of MB of RSS each). The controller already keeps a connection per
#   machine and unit agent (thousands at this scale) and rate-limits only agent logins, to a
#   token bucket of 10 refilled every 250 ms (controller config agent-ratelimit-max/-rate);
#   32 client connections beside them are little for it, and keep the installer's `juju`
#   processes around a gigabyte however many hosts. Status costs one of them per model at most
#   (shared, backends/juju_status.py). In the lab, a 100-host install's makespan stays at its
#   critical path with 32 (ratio 1.00; 1.28 with 16); add-machine does not count (AddMachine).
# - HOST, one host: its SSH connection (one per host, reused; OpenSSH allows 10 sessions on
#   it, MaxSessions) and its snapd, which refuses a second change to the same snap (a
#   conflict) anyway: 4 leaves room for the probe's and the operator's sessions.
# - K8S, the API server: a Kubernetes client's default is 5 requests/s with bursts of 10
#   (client-go's QPS/Burst); these steps poll, so 4 is plenty.
DEFAULT_LIMITS: dict[str, int] = {JUJU: 32, HOST: 4, K8S: 4}
_UNLIMITED = 1 << 30  # a resource kind without a limit

# What the runner queues per ready step, ordered best first: (-priority, plan order, step id).
Entry = tuple[int, int, str]


class ResourceGate:
    """Which ready steps may start, by the resources they hold (Step.resources).

    At most `limits[kind]` running steps hold each resource (a kind without a limit: any). A
    step whose resource is busy waits in that resource's queue, as the runner's ordered entry
    (a heap: the runner's best first), and holds nothing until it starts; when a holder lets
    go, `woken()` hands the waiting entries back while there is room."""

    def __init__(self, limits: Mapping[str, int]) -> None:
        self._limits = dict(limits)
        self._in_use: dict[str, int] = {}
        self._waiting: dict[str, list[Entry]] = {}
        self._freed: set[str] = set()  # resources with room again and steps waiting for them

    def _limit(self, resource: str) -> int:
        limit = self._limits.get(resource_kind(resource))
        return _UNLIMITED if limit is None else max(1, limit)

    def _full(self, resource: str) -> bool:
        return self._in_use.get(resource, 0) >= self._limit(resource)

    def admit(self, step: Step, entry: Entry) -> bool:
        """Take the step's resources (True: start it), or queue `entry` behind the first of
        them that is busy (False)."""
        resources = dict.fromkeys(step.resources)
        busy = next((r for r in resources if self._full(r)), None)
        if busy is not None:
            heapq.heappush(self._waiting.setdefault(busy, []), entry)
            return False
        for r in resources:
            self._in_use[r] = self._in_use.get(r, 0) + 1
        return True

    def release(self, step: Step) -> None:
        """The step has ended: its resources have room again."""
        for r in dict.fromkeys(step.resources):
            self._in_use[r] -= 1
            if self._waiting.get(r):
                self._freed.add(r)

    def woken(self, room: Callable[[], bool]) -> Iterator[Entry]:
        """The entries waiting for a resource that has room again, best first, while `room()`
        (the runner's total bound); each goes back through admit()."""
        for resource in list(self._freed):
            queue = self._waiting.get(resource, [])
            while queue and room() and not self._full(resource):
                yield heapq.heappop(queue)
            if not queue or self._full(resource):
                self._freed.discard(resource)  # its next release wakes it again


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

    @property
    def resources(self) -> tuple[str, ...]:
        """What the step talks to while it runs (JUJU, K8S, host_resource(...)); the runner
        runs at most RunOptions.limits[kind] steps holding a resource of each kind. By default
        a step with a host uses that host; the steps of each area say what else they use."""
        return (host_resource(self.host),) if self.host else ()

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
