"""The simulated cluster: the state the lab's backends read and change, and their operations.

`LabCluster` holds the state (hosts and their snaps, the Juju controller, clouds, models, machines,
applications and units, relations, offers, Kubernetes load-balancer pools, Ceph OSDs, OpenStack
networks) and persists it after every change: `save()` journals the entities marked as touched
since the last save (installer/lab/persist.py). A host is marked when it is looked up with
`host()`/`host_by_address()`; models, machines, applications and units by the `touch_*` methods
of the operations that change them; the top-level fields are compared on every save. It knows
none of the backends: they are built on it (installer/lab/snaps.py, juju.py, k8s.py, hosts.py)
and `Lab` (installer/lab/lab.py), which sits above them all, hands them out.

Every operation takes a realistic duration in "real" seconds (installer/lab/timing.py) multiplied
by the time scale, and may be told to fail (installer/lab/faults.py). Unit status is computed from
wall-clock timestamps kept in the state, so a unit deployed before a kill -9 is found active by the
next process, as on a real cloud; `status_index` (installer/lab/status_index.py) derives it
incrementally for `juju status` and the waits.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

from installer.backends.base import BackendError, ProgressFn
from installer.lab.faults import FaultPlan
from installer.lab.persist import LabStore
from installer.lab.state import (
    AppState,
    HostState,
    LabFacts,
    LabState,
    ModelState,
    UnitState,
)
from installer.lab.status_index import StatusIndex
from installer.lab.timing import jitter
from installer.lab.wiring import wiring_status
from probes.facts import HostFacts


class LabCluster:
    """The simulated cluster's state and the operations the backends run on it.

    Callers use its subclass `Lab`, which opens one from a state dir and hands out backends."""

    def __init__(
        self,
        state_dir: Path,
        state: LabState,
        facts: LabFacts,
        *,
        time_scale: float,
        faults: FaultPlan,
        facts_dir: Path | None,
        store: LabStore,
    ) -> None:
        self.state_dir = state_dir
        self.state = state
        self._facts = facts
        self.time_scale = time_scale
        self.faults = faults
        self.facts_dir = facts_dir
        self.store = store
        self.status_index = StatusIndex(self)
        # Lookup indexes, rebuilt when they miss (hosts, machines and units are only added).
        self._by_address: dict[str, str] = {}
        self._provisioned: set[str] | None = None  # hosts that are a machine of some model
        self._unit_machines: dict[tuple[str, str], tuple[int, set[str | None]]] = {}

    # -- facts --------------------------------------------------------------------------------

    def facts(self) -> dict[str, HostFacts]:
        """Facts of every host the lab knows, by host name."""
        return {
            name: self._facts.hosts[name] for name in self.state.hosts if name in self._facts.hosts
        }

    def host_facts(self, name: str) -> HostFacts | None:
        """Facts of the host called `name`, if the lab knows it and has facts for it."""
        return self._facts.hosts.get(name) if name in self.state.hosts else None

    def host_names(self) -> list[str]:
        """Names of the hosts the lab knows, in the order they were added."""
        return list(self.state.hosts)

    # -- persistence --------------------------------------------------------------------------

    def save(self) -> None:
        """Persist what changed since the last save as one journal record: a kill leaves all
        of an operation's changes or none (installer/lab/persist.py)."""
        self.store.save(self.state)

    def touch_host(self, name: str) -> None:
        """The host's state was changed (`host()` marks the hosts it returns already)."""
        self.store.mark_host(name)

    def touch_model(self, name: str) -> None:
        """The model's own fields (relations, offers, consumed, config) were changed."""
        self.store.mark_model(name)
        self.status_index.touch_model(name)

    def touch_machine(self, model: str, machine: str) -> None:
        """A machine was added to `model`, or removed from it."""
        self.store.mark_machine(model, machine)
        self.status_index.touch_model(model)
        host = self.state.models[model].machines.get(machine)
        if host is None:
            self._provisioned = None  # removed: the next lookup counts the machines again
        elif self._provisioned is not None:
            self._provisioned.add(host)

    def touch_app(self, model: str, app: str) -> None:
        """The application's own fields (channel, config, next unit) were changed."""
        self.store.mark_app(model, app)

    def touch_unit(self, model: str, app: str, unit: str) -> None:
        """A unit was added, changed or removed (its status is recomputed on the next query)."""
        self.store.mark_unit(model, app, unit)
        self.status_index.touch_unit(model, app, unit)
        a = self.state.models[model].apps.get(app)
        if a is None or unit not in a.units:
            self._unit_machines.pop((model, app), None)  # removed: counted again when asked

    # -- time and faults ----------------------------------------------------------------------

    @staticmethod
    def now() -> float:
        """The lab's clock, in seconds since the epoch."""
        # Wall-clock, not monotonic: timestamps are persisted and read by later processes.
        return time.time()

    def scaled(self, seconds: float, key: str) -> float:
        """`seconds` of real time as the lab spends them: time-scaled, jittered per `key`."""
        return seconds * jitter(key) * self.time_scale

    async def op(
        self,
        name: str,
        seconds: float,
        *,
        progress: ProgressFn | None = None,
        phases: Sequence[str] = (),
        fault: bool = True,
    ) -> None:
        """Spend the operation's scaled time (reporting its phases), or fail as a fault says.

        `fault=False`: the caller checks the faults itself (to fail after a partial change)."""
        total = self.scaled(seconds, name)
        if self.faults.hangs(name):
            # Held until cancelled (Ctrl-C, the step's deadline) or killed.
            await asyncio.Event().wait()
        try:
            if fault:
                self.faults.check(name)
        except BackendError:
            # A failing operation still takes a little time, as a real one does before erroring.
            await asyncio.sleep(total * 0.2)
            raise
        if not phases:
            await asyncio.sleep(total)
            return
        for i, phase in enumerate(phases):
            if progress is not None:
                progress(phase, i / len(phases))
            await asyncio.sleep(total / len(phases))

    # -- lookups (BackendError when the thing is not there: a step ran before its needs) ------

    def host(self, name: str) -> HostState:
        """The host called `name`."""
        try:
            h = self.state.hosts[name]
        except KeyError:
            raise BackendError(
                f"host {name} is not in the lab",
                hint="Add it to the answers file; the lab creates the hosts the answers name.",
            ) from None
        self.store.mark_host(name)  # callers change what they look up
        return h

    def host_by_address(self, address: str) -> HostState:
        """The host at `[user@]address` (its name is accepted for the address)."""
        target = address.rsplit("@", 1)[-1]
        for rebuild in (False, True):
            if rebuild:
                # The first host with that address or name, as a scan in order finds it.
                self._by_address = {}
                for h in self.state.hosts.values():
                    self._by_address.setdefault(h.address, h.name)
                    self._by_address.setdefault(h.name, h.name)
            found = self.state.hosts.get(self._by_address.get(target, ""))
            if found is not None and target in (found.address, found.name):
                self.store.mark_host(found.name)
                return found
        raise BackendError(
            f"no lab host has the address {target}",
            hint="Check the host addresses in the answers file.",
        )

    def model(self, name: str) -> ModelState:
        """The Juju model called `name`."""
        try:
            return self.state.models[name]
        except KeyError:
            raise BackendError(
                f"model {name!r} not found", hint="The model is created by an earlier step."
            ) from None

    def app(self, model: str, app: str) -> AppState:
        """The application `app` of `model`."""
        m = self.model(model)
        try:
            return m.apps[app]
        except KeyError:
            raise BackendError(f"application {app!r} not found in model {model!r}") from None

    # -- units --------------------------------------------------------------------------------

    def new_unit(self, model: str, app_name: str, app: AppState, machine: str | None) -> None:
        """Add a unit to `app` of `model` (on `machine`, if a machine model), settling from now."""
        now = self.now()
        name = f"{app_name}/{app.next_unit}"
        app.next_unit += 1
        app.units[name] = UnitState(
            machine=machine,
            started=now,
            settle_at=now + app.settle_seconds * jitter(name),
        )
        self.touch_app(model, app_name)
        self.touch_unit(model, app_name, name)
        cached = self._unit_machines.get((model, app_name))
        if cached is not None and cached[0] == len(app.units) - 1:
            cached[1].add(machine)
            self._unit_machines[(model, app_name)] = (len(app.units), cached[1])

    def unit_machines(self, model: str, app_name: str) -> set[str | None]:
        """The machines that have a unit of the application (read-only; kept as units come)."""
        app = self.app(model, app_name)
        cached = self._unit_machines.get((model, app_name))
        if cached is None or cached[0] != len(app.units):
            cached = (len(app.units), {u.machine for u in app.units.values()})
            self._unit_machines[(model, app_name)] = cached
        return cached[1]

    def provisioned(self, host: str) -> bool:
        """Whether `host` is a machine of some model already."""
        if self._provisioned is None:
            self._provisioned = {
                h for m in self.state.models.values() for h in m.machines.values()
            }
        return host in self._provisioned

    def busy(
        self, model: str, app: str, unit_name: str, activity: str, seconds: float, key: str
    ) -> None:
        """The unit runs hooks for `seconds` (scaled) from now before it settles again."""
        unit = self.app(model, app).units[unit_name]
        self.touch_unit(model, app, unit_name)
        now = self.now()
        until = now + self.scaled(seconds, key)
        if unit.settle_at <= now:
            unit.started = now
            unit.activity = activity
        unit.settle_at = max(unit.settle_at, until)

    def unit_status(self, unit: UnitState, now: float) -> tuple[str, str, str]:
        """(workload, agent, message) of a unit at `now`."""
        if unit.error:
            return "error", "idle", unit.error
        if now >= unit.settle_at:
            return "active", "idle", ""
        span = max(unit.settle_at - unit.started, 1e-9)
        if (now - unit.started) / span < 0.6:
            return "maintenance", "executing", unit.activity
        return "waiting", "executing", "waiting for the workload to start"

    def app_unit_status(
        self, model: str, app_name: str, unit: UnitState, now: float
    ) -> tuple[str, str, str]:
        """(workload, agent, message) of a unit of `app_name` in `model`: once its hooks have
        settled, blocked or waiting with its charm's message while a mandatory relation is
        missing."""
        workload, agent, message = self.unit_status(unit, now)
        if workload != "active":
            return workload, agent, message
        app = self.state.models[model].apps[app_name]
        wiring = wiring_status(self.state.models, model, app_name, app)
        if wiring is None:
            return workload, agent, message
        return wiring[0], agent, wiring[1]

    def machine_host(self, model: ModelState, machine: str | None) -> str | None:
        """The host a machine of `model` is, or None for a Kubernetes unit (no machine)."""
        return model.machines.get(machine) if machine is not None else None

    def k8s_nodes(self) -> dict[str, bool]:
        """Kubernetes nodes: the hosts running a unit of the k8s charm, ready once it is active."""
        now = self.now()
        nodes: dict[str, bool] = {}
        for m in self.state.models.values():
            if m.kind != "machine":
                continue
            for app in m.apps.values():
                if app.charm != "k8s":
                    continue
                for unit in app.units.values():
                    host = self.machine_host(m, unit.machine)
                    if host is not None:
                        nodes[host] = self.unit_status(unit, now)[0] == "active"
        return nodes

    def keystone_admin_password(self) -> str | None:
        """The admin password keystone-k8s generated, or None before its leader is active.

        Like the charm, the lab generates it when keystone first becomes active, and keystone
        accepts it until `openstack user set --password` changes the admin's password; the charm's
        copy (what `get-admin-password` returns) does not change then."""
        import hashlib
        import secrets

        now = self.now()
        units = [
            (m.name, name, u)
            for m in self.state.models.values()
            for name, a in m.apps.items()
            if a.charm == "keystone-k8s"
            for u in a.units.values()
        ]
        if not any(self.app_unit_status(m, n, u, now)[0] == "active" for m, n, u in units):
            return None
        st = self.state
        if st.keystone_admin_seed is None:
            st.keystone_admin_seed = secrets.token_hex(16)
            password = _derive_admin_password(st.keystone_admin_seed)
            st.admin_password_sha256 = hashlib.sha256(password.encode()).hexdigest()
            self.save()
        return _derive_admin_password(st.keystone_admin_seed)

    def set_admin_password(self, password: str) -> None:
        """The admin's password changed through the Identity API (a digest is kept, only)."""
        import hashlib

        self.state.admin_password_sha256 = hashlib.sha256(password.encode()).hexdigest()
        self.save()

    def check_password(self, env: dict[str, str] | None) -> bool:
        """Whether `env`'s OS_PASSWORD is the admin's current keystone password."""
        import hashlib

        self.keystone_admin_password()  # keystone has a password once it is active
        pw = (env or {}).get("OS_PASSWORD")
        digest = self.state.admin_password_sha256
        return bool(pw) and digest is not None and hashlib.sha256(pw.encode()).hexdigest() == digest  # type: ignore[union-attr]

    def kubeconfig(self) -> str:
        """What the k8s charm's get-kubeconfig action hands out (the token is the lab's own)."""
        nodes = [h for h, ready in self.k8s_nodes().items() if ready]
        server = self.host(nodes[0]).address if nodes else "127.0.0.1"
        token = f"{zlib.crc32(server.encode()):08x}" * 4
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "k8s", "cluster": {"server": f"https://{server}:6443"}}],
                "users": [{"name": "admin", "user": {"token": token}}],
                "contexts": [{"name": "k8s", "context": {"cluster": "k8s", "user": "admin"}}],
                "current-context": "k8s",
            }
        )


def _derive_admin_password(seed: str) -> str:
    import hashlib

    return "ks-" + hashlib.sha256(f"keystone-k8s admin {seed}".encode()).hexdigest()[:24]
