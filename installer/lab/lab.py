"""The simulated lab: a cluster model that dry-run, the TUI tests and the benchmarks deploy into.

One `Lab` holds the state (hosts and their snaps, the Juju controller, clouds, models, machines,
applications and units, relations, offers, Kubernetes load-balancer pools, Ceph OSDs, OpenStack
networks) and persists it after every change. Its four backends (installer/lab/backends.py)
implement the Protocols of installer/backends/base.py, so steps cannot tell it from a cloud.

Every operation takes a realistic duration in "real" seconds (a bootstrap about 6 minutes, a
charm about 2) multiplied by the time scale, and may be told to fail (installer/lab/faults.py).
Unit status is computed from wall-clock timestamps kept in the state, so a unit deployed before
a kill -9 is found active by the next process, as on a real cloud.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import Iterable, Sequence
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from installer.backends.base import BackendError, ProgressFn
from installer.exits import UserError
from installer.lab.faults import FaultPlan, parse_faults
from installer.lab.profile import default_facts
from installer.lab.state import (
    FACTS_FILE,
    STATE_FILE,
    AppState,
    HostState,
    LabFacts,
    LabState,
    ModelState,
    UnitState,
    read_model,
    write_atomic,
)
from probes.facts import HostFacts

if TYPE_CHECKING:
    from installer.backends.base import Backends
    from manifests.answers import Answers

# With this scale a 3-node install (about 20 minutes of real operations on its critical path)
# takes a few seconds; `--time-scale 1` replays real time, 0 makes everything instant.
DEFAULT_TIME_SCALE = 0.003

# "Real" seconds of each kind of operation, before the time scale.
SECONDS = {
    "bootstrap": 360.0,
    "add-machine": 90.0,
    "add-k8s-cloud": 10.0,
    "add-model": 8.0,
    "deploy": 20.0,
    "add-unit": 10.0,
    "integrate": 4.0,
    "relation-settle": 30.0,
    "offer": 4.0,
    "consume": 4.0,
    "config": 3.0,
    "refresh": 20.0,
    "action": 5.0,
    "add-osd": 40.0,
    "lb-pool": 3.0,
    "snap-config": 2.0,
    "snap-revert": 20.0,
    "openstack-cli": 3.0,
    "ceph-cli": 2.0,
    "osd-restart": 60.0,  # a storage host's OSDs rejoin this long after its microceph restarts
}
SNAP_SECONDS = {"juju": 30.0, "k8s": 60.0, "microceph": 45.0, "openstack-hypervisor": 50.0}
SNAP_DEFAULT_SECONDS = 40.0
# Time from a unit's creation to active/idle, per charm.
SETTLE_SECONDS = {
    "sunbeam-machine": 60.0,
    "k8s": 180.0,
    "microceph": 150.0,
    "openstack-hypervisor": 150.0,
    "mysql-k8s": 240.0,
    "rabbitmq-k8s": 150.0,
    "traefik-k8s": 60.0,
    "self-signed-certificates": 30.0,
    "keystone-k8s": 150.0,
    "ovn-central-k8s": 150.0,
}
SETTLE_DEFAULT_SECONDS = 120.0


def default_revision(name: str, channel: str) -> int:
    """A stable store revision for a snap or charm on a channel (differs between channels)."""
    return 100 + zlib.crc32(f"{name}@{channel}".encode()) % 900


def _jitter(key: str) -> float:
    """0.85..1.15, stable per key: operations of different hosts do not finish in lockstep."""
    return 0.85 + (zlib.crc32(key.encode()) % 1000) / 1000 * 0.3


class Lab:
    """The simulated cluster. Build it with `Lab.open(state_dir, ...)`."""

    def __init__(
        self,
        state_dir: Path,
        state: LabState,
        facts: LabFacts,
        *,
        time_scale: float,
        faults: FaultPlan,
        facts_dir: Path | None,
    ) -> None:
        self.state_dir = state_dir
        self.state = state
        self._facts = facts
        self.time_scale = time_scale
        self.faults = faults
        self.facts_dir = facts_dir

    @classmethod
    def open(
        cls,
        state_dir: Path,
        *,
        time_scale: float | None = None,
        faults: str | Iterable[str] | None = None,
        facts_dir: Path | None = None,
    ) -> Lab:
        """Open (or create) the lab kept in `state_dir`; raises UserError on bad options."""
        if time_scale is not None and (time_scale < 0 or time_scale != time_scale):
            raise UserError(
                f"--time-scale {time_scale} is negative; give 0 (instant) or more "
                f"(default {DEFAULT_TIME_SCALE})."
            )
        plan = FaultPlan(parse_faults(faults))
        if facts_dir is not None and not Path(facts_dir).is_dir():
            raise UserError(
                f"--facts {facts_dir} is not a directory; give a directory holding one "
                "<host>.json (probe --json output) per host."
            )
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        state = read_model(state_dir / STATE_FILE, LabState) or LabState()
        facts = read_model(state_dir / FACTS_FILE, LabFacts) or LabFacts()
        assert isinstance(state, LabState) and isinstance(facts, LabFacts)
        return cls(
            state_dir,
            state,
            facts,
            time_scale=DEFAULT_TIME_SCALE if time_scale is None else time_scale,
            faults=plan,
            facts_dir=Path(facts_dir) if facts_dir is not None else None,
        )

    # -- hosts and facts ----------------------------------------------------------------------

    def ensure_hosts(self, answers: Answers) -> None:
        """Create the answers' hosts (keeping what is installed on known ones) and their facts.

        Facts come from `facts_dir/<host>.json` when the lab was opened with one, else from the
        default server profile shaped to the answers (its disks, NICs and address)."""
        net = answers.network.management_cidr
        used = {str(h.address) for h in answers.hosts if h.address is not None}
        for h in answers.hosts:
            known = self.state.hosts.get(h.name)
            if h.address is not None:
                address = str(h.address)
            elif known is not None:
                address = known.address
            else:
                address = self._free_address(answers, used)
                used.add(address)
            if known is None:
                self.state.hosts[h.name] = HostState(name=h.name, address=address)
            else:
                known.address = address
            if self.facts_dir is not None:
                self._facts.hosts[h.name] = self._read_facts(h.name)
            else:
                self._facts.hosts[h.name] = default_facts(
                    h.name,
                    address,
                    prefix=net.prefixlen,
                    osd_devices=h.osd_devices,
                    external_nic=h.external_nic,
                    gateway=str(next(net.hosts())) if net.num_addresses > 2 else None,
                )
        write_atomic(self.state_dir / FACTS_FILE, self._facts.model_dump_json())
        self.save()

    def _free_address(self, answers: Answers, used: set[str]) -> str:
        """An address for the host that runs the installer (answers give it none)."""
        net = answers.network
        for offset, candidate in enumerate(net.management_cidr.hosts()):
            # Skip the first ten: the gateway and infrastructure usually live there.
            if offset < 10 or str(candidate) in used or candidate in net.loadbalancer_range:
                continue
            return str(candidate)
        return str(next(net.management_cidr.hosts()))

    def _read_facts(self, host: str) -> HostFacts:
        assert self.facts_dir is not None
        path = self.facts_dir / f"{host}.json"
        try:
            return HostFacts.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise UserError(
                f"--facts {self.facts_dir} has no facts for host {host}: add {path} "
                f"(`sunbeam-install probe --json` output of {host})."
            ) from None
        except OSError as e:
            raise UserError(f"Facts file {path} cannot be read ({e.strerror}).") from None
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "top level"
            raise UserError(
                f"Facts file {path} is not `probe --json` output ({where}: {first['msg']}); "
                "record it again with `sunbeam-install probe --json`."
            ) from None

    def facts(self) -> dict[str, HostFacts]:
        """Facts of every host the lab knows, by host name."""
        return {
            name: self._facts.hosts[name] for name in self.state.hosts if name in self._facts.hosts
        }

    def host_names(self) -> list[str]:
        return list(self.state.hosts)

    def backends(self) -> Backends:
        from installer.backends.base import Backends
        from installer.lab.backends import LabHosts, LabJuju, LabK8s, LabSnaps

        return Backends(
            snaps=LabSnaps(self), juju=LabJuju(self), k8s=LabK8s(self), hosts=LabHosts(self)
        )

    # -- persistence --------------------------------------------------------------------------

    def save(self) -> None:
        """Write the state atomically (temporary file + rename): a kill never leaves half of it."""
        write_atomic(self.state_dir / STATE_FILE, self.state.model_dump_json())

    # -- time and faults ----------------------------------------------------------------------

    @staticmethod
    def now() -> float:
        # Wall-clock, not monotonic: timestamps are persisted and read by later processes.
        return time.time()

    def scaled(self, seconds: float, key: str) -> float:
        return seconds * _jitter(key) * self.time_scale

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
        try:
            return self.state.hosts[name]
        except KeyError:
            raise BackendError(
                f"host {name} is not in the lab",
                hint="Add it to the answers file; the lab creates the hosts the answers name.",
            ) from None

    def host_by_address(self, address: str) -> HostState:
        target = address.rsplit("@", 1)[-1]
        for h in self.state.hosts.values():
            if target in (h.address, h.name):
                return h
        raise BackendError(
            f"no lab host has the address {target}",
            hint="Check the host addresses in the answers file.",
        )

    def model(self, name: str) -> ModelState:
        try:
            return self.state.models[name]
        except KeyError:
            raise BackendError(
                f"model {name!r} not found", hint="The model is created by an earlier step."
            ) from None

    def app(self, model: str, app: str) -> AppState:
        m = self.model(model)
        try:
            return m.apps[app]
        except KeyError:
            raise BackendError(f"application {app!r} not found in model {model!r}") from None

    # -- units --------------------------------------------------------------------------------

    def new_unit(self, app_name: str, app: AppState, machine: str | None) -> None:
        now = self.now()
        name = f"{app_name}/{app.next_unit}"
        app.next_unit += 1
        app.units[name] = UnitState(
            machine=machine,
            started=now,
            settle_at=now + app.settle_seconds * _jitter(name),
        )

    def busy(self, unit: UnitState, activity: str, seconds: float, key: str) -> None:
        """The unit runs hooks for `seconds` (scaled) from now before it settles again."""
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

    def machine_host(self, model: ModelState, machine: str | None) -> str | None:
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
            u
            for m in self.state.models.values()
            for a in m.apps.values()
            if a.charm == "keystone-k8s"
            for u in a.units.values()
        ]
        if not any(self.unit_status(u, now)[0] == "active" for u in units):
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


def _valid_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def _valid_cidr(text: str) -> bool:
    try:
        ip_network(text, strict=True)
    except ValueError:
        return False
    return True
