"""The Step implementations the planner composes, one module per area.

Every step is a dataclass (the planner fills in its parameters) whose `done()` asks the
backends whether the world is already as wanted (so a second run skips it) and whose `run()`
changes the world only through `ctx.backends`, reporting with `ctx.progress` and `ctx.log`.
BackendError propagates unchanged: the runner retries the transient ones.
"""

from __future__ import annotations

from installer.backends.base import ModelStatus


def machine_of(status: ModelStatus, host: str) -> str | None:
    """The Juju machine id of `host` in a machine model, if it is a machine there."""
    return next((mid for mid, name in status.machines.items() if name == host), None)


def unit_on(status: ModelStatus, app: str, host: str) -> str | None:
    """The unit of `app` placed on `host`, if any."""
    machine = machine_of(status, host)
    a = status.apps.get(app)
    if machine is None or a is None:
        return None
    return next((u.name for u in a.units.values() if u.machine == machine), None)
