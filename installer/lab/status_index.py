"""The lab's `juju status`, kept up to date incrementally instead of rebuilt on every call.

Rebuilding every unit's status for each query made a 1,000-host dry-run quadratic: each add-unit
and add-osd step asked for the whole model. Here a unit's status is computed when the unit
changes (the backends mark it), when its time-driven phase changes (maintenance -> waiting ->
active: a heap of the next transition of each unit), or when the relations that decide its
charm's blocked/waiting message change; everything else is reused. Each application keeps one
immutable-by-convention `AppStatus` snapshot that all callers share until something in it
changes, and one summary that all concurrent `wait_settled` waiters of a model read: the work
per change is constant, the work per query is per application asked about.

Callers must treat what they get as read-only: the dicts are shared between queries.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from installer.backends.base import AppStatus, ModelStatus, UnitStatus
from installer.lab.state import AppState, ModelState
from installer.lab.wiring import wiring_status

if TYPE_CHECKING:
    from installer.lab.cluster import LabCluster

# A unit's phase is re-read this long after the moment it changes (float rounding).
_EPSILON = 1e-6


@dataclass
class Summary:
    """What `wait_settled` needs of one application, computed once per change."""

    total: int = 0
    pending: int = 0
    # (settle_at, unit, "workload: message") of the unit that settles first among the pending.
    first: tuple[float, str, str] | None = None
    # The first unit (in unit order) that can never settle: ("error", unit, message) or
    # ("wiring", unit, "workload: message", what is missing).
    problem: tuple[str, ...] | None = None


@dataclass
class _Entry:
    hook: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # unit -> its hooks' view
    live: dict[str, UnitStatus] = field(default_factory=dict)  # unit -> what status shows
    wiring: tuple[str, str, str] | None = None
    wiring_sig: tuple[object, ...] = ()
    snapshot: AppStatus | None = None  # None: to be rebuilt from `live`
    summary: Summary | None = None


class StatusIndex:
    """Unit, application and model status of the lab's Juju models, derived incrementally."""

    def __init__(self, lab: LabCluster) -> None:
        self.lab = lab
        self._apps: dict[tuple[str, str], _Entry] = {}
        self._pending: dict[tuple[str, str], dict[str, None]] = {}
        self._heap: list[tuple[float, str, str, str]] = []
        self._machines: dict[str, tuple[int, dict[str, str]]] = {}
        self._relations: dict[str, tuple[int, set[frozenset[str]]]] = {}
        # Bumped by every change to a model's own fields or machines (added or removed): the
        # copies above and the wiring signature are made again when it moves.
        self._versions: dict[str, int] = {}
        self.unit_computations = 0  # how many unit statuses were computed (for tests)

    # -- changes ------------------------------------------------------------------------------

    def touch_unit(self, model: str, app: str, unit: str) -> None:
        """The unit was added or changed: recompute it on the next query."""
        self._pending.setdefault((model, app), {})[unit] = None

    def touch_model(self, model: str) -> None:
        """The model's relations, offers, consumed offers, config or machines changed."""
        self._versions[model] = self._versions.get(model, 0) + 1

    # -- queries ------------------------------------------------------------------------------

    def model_status(self, model: str, apps: Collection[str] | None = None) -> ModelStatus:
        """The model's status; with `apps`, only those applications (unknown names absent)."""
        m = self.lab.model(model)
        now = self.lab.now()
        self._advance(now)
        sig = self._wiring_sig()
        wanted = None if apps is None else set(apps)
        names = [a for a in m.apps if wanted is None or a in wanted]
        out: dict[str, AppStatus] = {}
        for name in names:
            e = self._entry(m, name, now, sig)
            a = m.apps[name]
            snap = e.snapshot
            if snap is None or (snap.charm, snap.channel, snap.revision) != (
                a.charm, a.channel, a.revision
            ):
                snap = e.snapshot = AppStatus(name, a.charm, a.channel, a.revision, dict(e.live))
            out[name] = snap
        return ModelStatus(
            name=model,
            apps=out,
            machines=self._machines_of(m),
            relations=self._relations_of(m),
            offers=dict(m.offers),
            consumed=dict(m.consumed),
        )

    def summaries(self, model: str, apps: Sequence[str]) -> list[Summary]:
        """One summary per application of `apps` (which must exist), shared by all waiters."""
        m = self.lab.model(model)
        now = self.lab.now()
        self._advance(now)
        sig = self._wiring_sig()
        out = []
        for name in apps:
            e = self._entry(m, name, now, sig)
            if e.summary is None:
                e.summary = self._summarise(m.apps[name], e)
            out.append(e.summary)
        return out

    # -- internals ----------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Queue the units whose phase has changed by `now` for recomputation."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, model, app, unit = heapq.heappop(heap)
            self.touch_unit(model, app, unit)

    def _wiring_sig(self) -> tuple[object, ...]:
        # Relations, offers and consumed offers change only through touch_model.
        return tuple((name, self._versions.get(name, 0)) for name in self.lab.state.models)

    def _entry(self, m: ModelState, name: str, now: float, sig: tuple[object, ...]) -> _Entry:
        key = (m.name, name)
        a = m.apps[name]
        e = self._apps.get(key)
        pending = self._pending.pop(key, None)
        if e is None:
            e = self._apps[key] = _Entry()
            pending = dict.fromkeys(a.units)
            e.wiring, e.wiring_sig = self._wiring(m, name, a), sig
        elif e.wiring_sig != sig:
            e.wiring_sig = sig
            wiring = self._wiring(m, name, a)
            if wiring != e.wiring:
                e.wiring = wiring
                pending = dict.fromkeys(a.units)
        for unit in pending or ():
            self._unit(m.name, name, a, e, unit, now)
        if len(e.hook) != len(a.units):
            # Units appeared that nothing announced (a change made around the backends).
            for unit in a.units:
                self._unit(m.name, name, a, e, unit, now)
        return e

    def _wiring(self, m: ModelState, name: str, a: AppState) -> tuple[str, str, str] | None:
        return wiring_status(self.lab.state.models, m.name, name, a)

    def _unit(self, model: str, app: str, a: AppState, e: _Entry, name: str, now: float) -> None:
        self.unit_computations += 1
        u = a.units.get(name)
        if u is None:
            if e.live.pop(name, None) is not None:
                e.snapshot = e.summary = None
            e.hook.pop(name, None)
            return
        hook = self.lab.unit_status(u, now)
        workload, agent, message = hook
        if workload == "active" and e.wiring is not None:
            workload, message = e.wiring[0], e.wiring[1]
        status = UnitStatus(name, workload, agent, message, u.machine)
        e.hook[name] = hook
        if e.live.get(name) != status:
            e.live[name] = status
            e.snapshot = e.summary = None
        if hook[0] == "maintenance":
            span = max(u.settle_at - u.started, 1e-9)
            heapq.heappush(self._heap, (max(u.started + 0.6 * span, now) + _EPSILON,
                                        model, app, name))
        elif hook[0] == "waiting":
            heapq.heappush(self._heap, (max(u.settle_at, now) + _EPSILON, model, app, name))

    def _summarise(self, a: AppState, e: _Entry) -> Summary:
        s = Summary(total=len(e.live))
        for name, status in e.live.items():
            hook = e.hook[name]
            if s.problem is None:
                if hook[0] == "active" and e.wiring is not None:
                    shown = f"{e.wiring[0]}: {e.wiring[1]}" if e.wiring[1] else e.wiring[0]
                    s.problem = ("wiring", name, shown, e.wiring[2])
                elif status.workload == "error":
                    s.problem = ("error", name, status.message)
            if status.workload != "active":
                s.pending += 1
                item = (a.units[name].settle_at, name, f"{status.workload}: {status.message}")
                if s.first is None or item < s.first:
                    s.first = item
        return s

    def _machines_of(self, m: ModelState) -> dict[str, str]:
        version = self._versions.get(m.name, 0)
        cached = self._machines.get(m.name)
        if cached is None or cached[0] != version:
            cached = self._machines[m.name] = (version, dict(m.machines))
        return cached[1]

    def _relations_of(self, m: ModelState) -> set[frozenset[str]]:
        version = self._versions.get(m.name, 0)
        cached = self._relations.get(m.name)
        if cached is None or cached[0] != version:
            cached = self._relations[m.name] = (version, {frozenset(r) for r in m.relations})
        return cached[1]
