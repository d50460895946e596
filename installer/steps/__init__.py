"""The Step implementations the planner composes, one module per area.

Every step is a dataclass (the planner fills in its parameters) whose `done()` asks the
backends whether the world is already as wanted (so a second run skips it) and whose `run()`
changes the world only through `ctx.backends`, reporting with `ctx.progress` and `ctx.log`.
BackendError propagates unchanged: the runner retries the transient ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from installer.backends.base import ModelStatus

# Reverse indexes (host -> machine, machine -> unit) of the maps statuses share between queries
# (the lab's status, a shared status source): a step per host scanning a map of every host made
# large installs quadratic. A map gets its index on its second lookup, so one seen once costs a
# scan as before. Statuses are read-only, so an unchanged map (same object, same size) is valid.
_INDEXES: dict[int, tuple[object, int, dict[str | None, str] | None]] = {}
_MAX_INDEXES = 32


def _index(table: Mapping[str, object], pairs: Callable[[], Iterable[tuple[str, str | None]]]
           ) -> dict[str | None, str] | None:
    """`value -> first key` of `table` once it is looked up again unchanged, else None."""
    entry = _INDEXES.get(id(table))
    if entry is not None and entry[0] is table and entry[1] == len(table):
        if entry[2] is not None:
            return entry[2]
        index: dict[str | None, str] = {}
        for key, value in pairs():
            index.setdefault(value, key)
        _INDEXES[id(table)] = (table, len(table), index)
        return index
    _INDEXES[id(table)] = (table, len(table), None)
    if len(_INDEXES) > _MAX_INDEXES:
        del _INDEXES[next(iter(_INDEXES))]
    return None


def machine_of(status: ModelStatus, host: str) -> str | None:
    """The Juju machine id of `host` in a machine model, if it is a machine there."""
    machines = status.machines
    index = _index(machines, machines.items)
    if index is not None:
        return index.get(host)
    return next((mid for mid, name in machines.items() if name == host), None)


def unit_on(status: ModelStatus, app: str, host: str) -> str | None:
    """The unit of `app` placed on `host`, if any."""
    machine = machine_of(status, host)
    a = status.apps.get(app)
    if machine is None or a is None:
        return None
    units = a.units
    index = _index(units, lambda: ((u.name, u.machine) for u in units.values()))
    if index is not None:
        return index.get(machine)
    return next((u.name for u in units.values() if u.machine == machine), None)
