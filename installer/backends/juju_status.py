"""One `juju status` source per model, shared by every step that asks about it.

At a thousand hosts, hundreds of steps ask about the same model at once (each add-unit's done(),
each wait's poll). Each asking on its own meant one `juju` process and one whole-model status
on the controller per question (about 8,000 for 1,000 hosts), and a whole-model status held in
memory by each waiter. A `StatusSource` per model instead:

- runs at most one `juju status` for the model at a time; whoever asks while it runs and can use
  its answer (the same or a wider filter, started after our last change) shares it, the others
  wait for the next one, which asks for all of their applications together;
- reuses an answer younger than `max_age` (the backends' poll interval), unless we changed the
  model since it was asked for: `invalidate()` after each of our own mutating commands, so a
  step that depends on an add-unit never sees a status from before it;
- asks Juju only for the applications wanted (`juju status APP...`, which filters by exact
  application, unit or machine names), and builds each caller's ModelStatus from those only.

A cancelled caller (Ctrl+C) stops waiting; the shared command is killed only when nobody
waits for it any more (its process group dies with its task, see commands.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from installer.backends.base import AppStatus, ModelStatus, UnitStatus

if TYPE_CHECKING:
    import jubilant

Wanted = frozenset[str] | None  # applications asked about; None: the whole model
Fetch = Callable[[Wanted], Awaitable["jubilant.Status"]]


def wanted(apps: Collection[str] | None) -> Wanted:
    return None if apps is None else frozenset(apps)


def covers(have: Wanted, want: Wanted) -> bool:
    """Whether an answer asked for `have` holds everything `want` asks about."""
    return have is None or (want is not None and want <= have)


def union(a: Wanted, b: Wanted) -> Wanted:
    return None if a is None or b is None else a | b


@dataclass(eq=False)
class _Fetch:
    apps: Wanted
    future: asyncio.Future[_Answer]
    generation: int = -1  # the model's generation when the command started
    waiters: int = 0
    task: asyncio.Task[None] | None = None


@dataclass(eq=False)
class _Answer:
    at: float  # monotonic time the command started
    generation: int
    status: jubilant.Status
    # ModelStatus built from it, per filter asked (callers treat them as read-only).
    built: dict[Wanted, ModelStatus] = field(default_factory=dict)
    machines: dict[str, str] | None = None


class StatusSource:
    """The shared status of one model; `fetch(apps)` runs `juju status [APP...]` and parses it."""

    def __init__(self, name: str, fetch: Fetch, *, max_age: float) -> None:
        self.name = name
        self._fetch = fetch
        self.max_age = max_age
        self.generation = 0
        self._answers: dict[Wanted, _Answer] = {}
        self._running: _Fetch | None = None
        self._next: _Fetch | None = None

    def invalidate(self) -> None:
        """We changed the model: no answer asked for before now is given out again."""
        self.generation += 1
        self._answers.clear()

    async def status(self, apps: Collection[str] | None = None) -> ModelStatus:
        """The model's status (only `apps` when given), from a shared `juju status`."""
        want = wanted(apps)
        answer = await self._answer(want)
        built = answer.built.get(want)
        if built is None:
            if answer.machines is None:
                answer.machines = machines_of(answer.status)
            built = answer.built[want] = model_status(
                self.name, answer.status, want, machines=answer.machines
            )
        return built

    async def parsed(self, apps: Collection[str] | None = None) -> jubilant.Status:
        """jubilant's parse of a shared `juju status` (for what ModelStatus does not keep)."""
        return (await self._answer(wanted(apps))).status

    async def _answer(self, want: Wanted) -> _Answer:
        answer = self._fresh(want)
        return answer if answer is not None else await self._wait(want)

    def _fresh(self, want: Wanted) -> _Answer | None:
        now = time.monotonic()
        for have, answer in list(self._answers.items()):
            if now - answer.at >= self.max_age:
                del self._answers[have]
            elif covers(have, want):
                return answer
        return None

    async def _wait(self, want: Wanted) -> _Answer:
        loop = asyncio.get_running_loop()
        if self._running is not None and (
            self._running.task is None or self._running.task.get_loop() is not loop
        ):
            # Left behind by an event loop that has ended (one loop per command; a backend
            # kept across two is a test's doing): it will never finish.
            self._running = self._next = None
        running = self._running
        if running is not None and running.generation == self.generation and covers(
            running.apps, want
        ):
            fetch = running
        elif running is None:
            fetch = _Fetch(want, loop.create_future())
            self._start(fetch)
        elif self._next is None:  # the one running is older than our last change, or narrower
            fetch = self._next = _Fetch(want, loop.create_future())
        else:
            fetch = self._next
            fetch.apps = union(fetch.apps, want)
        fetch.waiters += 1
        try:
            return await asyncio.shield(fetch.future)
        except asyncio.CancelledError:
            if not fetch.future.done():  # this caller was cancelled, not the command
                fetch.waiters -= 1
                if fetch.waiters == 0:
                    killed = self._abandon(fetch)
                    if killed is not None:  # its juju is gone when the caller's cancel ends
                        await asyncio.wait({killed})
            raise

    def _abandon(self, fetch: _Fetch) -> asyncio.Task[None] | None:
        """Nobody waits for `fetch` any more: do not start it, or kill its command (the task
        to wait for is returned)."""
        if fetch is self._next:
            self._next = None
            fetch.future.cancel()
        elif fetch.task is not None and not fetch.task.done():
            fetch.task.cancel()
            return fetch.task
        return None

    def _start(self, fetch: _Fetch) -> None:
        fetch.generation = self.generation
        self._running = fetch
        fetch.task = asyncio.get_running_loop().create_task(
            self._run(fetch), name=f"juju status {self.name}"
        )

    async def _run(self, fetch: _Fetch) -> None:
        started = time.monotonic()
        try:
            status = await self._fetch(fetch.apps)
        except BaseException as e:  # every waiter gets the error (CancelledError included)
            if not fetch.future.done():
                if isinstance(e, asyncio.CancelledError):
                    fetch.future.cancel()
                else:
                    fetch.future.set_exception(e)
                    fetch.future.exception()  # marked read: a caller may have gone meanwhile
            if not isinstance(e, Exception):
                raise
        else:
            answer = _Answer(started, fetch.generation, status)
            if fetch.generation == self.generation:
                self._answers[fetch.apps] = answer
            if not fetch.future.done():
                fetch.future.set_result(answer)
        finally:
            self._running = None
            following, self._next = self._next, None
            if following is not None and not following.future.done():
                self._start(following)


def machines_of(st: jubilant.Status) -> dict[str, str]:
    """Machine id -> hostname, as steps find a host's machine.

    Steps find a host's machine by its name in the answers file, which is its hostname
    (validation checks it resolves); the address is the fallback for an agent that has not
    reported a hostname yet."""
    return {
        mid: m.hostname or m.dns_name or (m.ip_addresses[0] if m.ip_addresses else "")
        for mid, m in st.machines.items()
    }


def model_status(
    name: str, st: jubilant.Status, apps: Wanted = None, *, machines: dict[str, str] | None = None
) -> ModelStatus:
    """Our ModelStatus from jubilant's parsed `juju status --format json`.

    With `apps`, only those applications, and only the relations of theirs whose other end is
    in `st` (a filtered status may lack the far end's endpoint names); machines as `st` has them.
    """
    out = ModelStatus(name=name)
    out.machines = machines if machines is not None else machines_of(st)
    chosen = [(n, a) for n, a in st.apps.items() if apps is None or n in apps]
    for app_name, a in chosen:
        app = AppStatus(
            name=app_name,
            charm=a.charm_name or a.charm,
            channel=a.charm_channel or None,
            revision=a.charm_rev if a.charm_rev >= 0 else None,
        )
        # A subordinate's units are listed under its principals' units, on their machines.
        units = [(uname, u, u.machine) for uname, u in a.units.items()]
        for principal in a.subordinate_to:
            for pu in st.apps[principal].units.values() if principal in st.apps else ():
                for sname, su in pu.subordinates.items():
                    if sname.startswith(f"{app_name}/"):
                        units.append((sname, su, pu.machine))
        for uname, u, machine in units:
            app.units[uname] = UnitStatus(
                name=uname,
                workload=u.workload_status.current or "unknown",
                agent=u.juju_status.current or "unknown",
                message=u.workload_status.message or u.juju_status.message or "",
                machine=machine or None,
            )
        out.apps[app_name] = app
    # Relations: each app lists (its endpoint -> related app, interface). The other side's
    # endpoint is the one of the related app that points back with the same interface.
    for app_name, a in chosen:
        for endpoint, rels in a.relations.items():
            for r in rels:
                if r.related_app == app_name:
                    continue  # peer relation
                other = st.apps.get(r.related_app)
                other_ep = None
                if other is not None:
                    for ep2, rels2 in other.relations.items():
                        if any(
                            x.related_app == app_name and x.interface == r.interface for x in rels2
                        ):
                            other_ep = ep2
                            break
                else:
                    remote = st.app_endpoints.get(r.related_app)
                    if remote is not None:
                        for ep2, apps2 in remote.relations.items():
                            if app_name in apps2:
                                other_ep = ep2
                                break
                    elif apps is not None:
                        continue  # filtered out: its endpoint is unknown here
                    other_ep = other_ep or endpoint
                if other_ep:
                    out.relations.add(
                        frozenset({f"{app_name}:{endpoint}", f"{r.related_app}:{other_ep}"})
                    )
    for alias, remote in st.app_endpoints.items():
        out.consumed[alias] = remote.url
    for offer_name, o in st.offers.items():
        ep = next(iter(o.endpoints), "")
        out.offers[offer_name] = f"{o.app}:{ep}"
    return out


def missing_principals(st: jubilant.Status) -> set[str]:
    """Principals of subordinates in `st` that a filtered status left out (their units hold the
    subordinate's units)."""
    return {p for a in st.apps.values() for p in a.subordinate_to if p not in st.apps}
