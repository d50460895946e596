"""The lab's backends: SnapBackend, JujuBackend, K8sBackend and HostBackend over one Lab.

Each mutating call checks its preconditions first (the host exists, the model exists, the
machine is there...) and raises BackendError when a step ran before what it needs; so a plan
with a missing dependency fails in the lab as it would on a cloud. State changes happen after
the operation's time has passed, in one synchronous block followed by a save: a cancelled or
killed operation changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from installer.backends.base import (
    AppStatus,
    BackendError,
    CommandResult,
    LogFn,
    ModelStatus,
    ProgressFn,
    SnapInfo,
    UnitStatus,
)
from installer.lab.lab import (
    SECONDS,
    SETTLE_DEFAULT_SECONDS,
    SETTLE_SECONDS,
    SNAP_DEFAULT_SECONDS,
    SNAP_SECONDS,
    Lab,
    _valid_address,
    _valid_cidr,
    default_revision,
)
from installer.lab.state import AppState, ModelState, NetworkState, SnapState, SubnetState
from installer.steps.identity import COMMAND_NOT_FOUND, OPENSTACK, OPENSTACK_CLIENT_SNAP

CEPH_SNAP = "microceph"
CEPH_COMMAND = "microceph.ceph"
# Commands the lab's hosts have when (and only when) their snap is installed.
SNAP_COMMANDS = {OPENSTACK: OPENSTACK_CLIENT_SNAP, CEPH_COMMAND: CEPH_SNAP}
COMPUTE_SERVICE_COLUMNS = ("ID", "Binary", "Host", "Zone", "Status", "State", "Updated At")
CEPH_DEFAULT_FLAGS = ("sortbitwise", "recovery_deletes", "purged_snapdirs", "pglog_hardlimit")
CEPH_SETTABLE_FLAGS = ("noout", "noin", "nodown", "noup", "norebalance", "norecover",
                       "nobackfill", "noscrub", "nodeep-scrub", "pause")


def _info(name: str, s: SnapState) -> SnapInfo:
    return SnapInfo(name=name, channel=s.channel, revision=str(s.revision), classic=s.classic)


def _no_progress(message: str, fraction: float | None) -> None:
    del message, fraction


class LabSnaps:
    """snapd on every lab host."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def _snap(self, host: str, name: str) -> SnapState:
        s = self.lab.host(host).snaps.get(name)
        if s is None:
            raise BackendError(
                f"snap {name!r} is not installed on {host}",
                hint=f"Install it first (`snap install {name}`).",
            )
        return s

    async def info(self, host: str, name: str) -> SnapInfo | None:
        s = self.lab.host(host).snaps.get(name)
        return _info(name, s) if s else None

    async def install(
        self, host: str, name: str, channel: str, *, classic: bool, progress: ProgressFn
    ) -> SnapInfo:
        h = self.lab.host(host)
        if name in h.snaps:
            raise BackendError(f"snap {name!r} is already installed on {host}")
        await self.lab.op(
            f"snap.install:{name}@{host}",
            SNAP_SECONDS.get(name, SNAP_DEFAULT_SECONDS),
            progress=progress,
            phases=(
                f'Download snap "{name}" ({channel})',
                f'Mount snap "{name}"',
                f'Setup snap "{name}" security profiles',
                f'Run install hook of "{name}"',
            ),
        )
        if name in h.snaps:  # another caller won the race while we waited
            raise BackendError(f"snap {name!r} is already installed on {host}")
        h.snaps[name] = SnapState(
            channel=channel, revision=default_revision(name, channel), classic=classic
        )
        self.lab.save()
        return _info(name, h.snaps[name])

    async def refresh(
        self, host: str, name: str, channel: str, *, progress: ProgressFn
    ) -> SnapInfo:
        self._snap(host, name)
        op = f"snap.refresh:{name}@{host}"
        await self.lab.op(
            op,
            SNAP_SECONDS.get(name, SNAP_DEFAULT_SECONDS),
            progress=progress,
            phases=(
                f'Download snap "{name}" ({channel})',
                f'Stop snap "{name}" services',
                f'Mount snap "{name}"',
                f'Run post-refresh hook of "{name}"',
                f'Start snap "{name}" services',
            ),
            fault=False,
        )
        failure: BackendError | None = None
        try:
            self.lab.faults.check(op)
        except BackendError as e:
            if e.transient:
                raise  # refused before anything changed, as a snapd change conflict is
            failure = e
        s = self._snap(host, name)
        revision = default_revision(name, channel)
        if (s.channel, s.revision) != (channel, revision):
            s.previous = (s.channel, s.revision)
            s.channel, s.revision = channel, revision
            self._restarted(host, name)
            self.lab.save()
        if failure is not None:
            # A permanent fault is a failing post-refresh hook: the new revision is mounted,
            # its services do not start; the caller decides whether to revert.
            raise BackendError(f'run hook "post-refresh": {failure.message}', hint=failure.hint)
        return _info(name, s)

    async def revert(self, host: str, name: str, *, progress: ProgressFn) -> SnapInfo:
        s = self._snap(host, name)
        if s.previous is None:
            raise BackendError(
                f"snap {name!r} on {host} has no previous revision to revert to",
                hint="Only a refreshed snap can be reverted.",
            )
        await self.lab.op(
            f"snap.revert:{name}@{host}",
            SECONDS["snap-revert"],
            progress=progress,
            phases=(
                f'Stop snap "{name}" services',
                f'Mount previous revision of "{name}"',
                f'Start snap "{name}" services',
            ),
        )
        s = self._snap(host, name)
        if s.previous is not None:
            (s.channel, s.revision), s.previous = s.previous, None
            self._restarted(host, name)
            self.lab.save()
        return _info(name, s)

    def _restarted(self, host: str, name: str) -> None:
        """A new microceph revision restarts the host's OSDs: down until they rejoin."""
        if name == CEPH_SNAP:
            h = self.lab.host(host)
            h.osds_up_at = self.lab.now() + self.lab.scaled(SECONDS["osd-restart"], host)

    async def set_config(self, host: str, name: str, values: Mapping[str, object]) -> None:
        self._snap(host, name)
        await self.lab.op(f"snap.set-config:{name}@{host}", SECONDS["snap-config"])
        self._snap(host, name).config.update(values)
        self.lab.save()

    async def get_config(self, host: str, name: str, keys: Sequence[str]) -> dict[str, object]:
        config = self._snap(host, name).config
        return {k: config[k] for k in keys if k in config}

    async def connect(self, host: str, plug: str, slot: str) -> None:
        snap = plug.split(":", 1)[0]
        self._snap(host, snap)
        await self.lab.op(f"snap.connect:{plug}@{host}", SECONDS["snap-config"])
        s = self._snap(host, snap)
        if f"{plug} {slot}" not in s.connections:
            s.connections.append(f"{plug} {slot}")
            self.lab.save()


class LabJuju:
    """The `juju` client of the lab's controller."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    # -- reads --------------------------------------------------------------------------------

    async def controllers(self) -> list[str]:
        return [self.lab.state.controller] if self.lab.state.controller else []

    async def clouds(self) -> list[str]:
        return list(self.lab.state.clouds)

    async def models(self) -> list[str]:
        return list(self.lab.state.models)

    async def status(self, model: str) -> ModelStatus:
        m = self.lab.model(model)
        now = self.lab.now()
        apps: dict[str, AppStatus] = {}
        for name, app in m.apps.items():
            units = {}
            for unit_name, unit in app.units.items():
                workload, agent, message = self.lab.unit_status(unit, now)
                units[unit_name] = UnitStatus(unit_name, workload, agent, message, unit.machine)
            apps[name] = AppStatus(name, app.charm, app.channel, app.revision, units)
        return ModelStatus(
            name=model,
            apps=apps,
            machines=dict(m.machines),
            relations={frozenset(r) for r in m.relations},
            offers=dict(m.offers),
            consumed=dict(m.consumed),
        )

    # -- controller, clouds, models, machines -------------------------------------------------

    def _require_controller(self) -> None:
        if not self.lab.state.controller:
            raise BackendError("no Juju controller", hint="Bootstrap the controller first.")

    async def bootstrap(self, cloud: str, controller: str, *, log: LogFn) -> None:
        if self.lab.state.controller:
            raise BackendError(f"controller {self.lab.state.controller!r} already exists")
        kind, _, target = cloud.partition("/")
        if kind != "manual" or not target:
            raise BackendError(
                f"the lab bootstraps only manual clouds (manual/[user@]host), not {cloud!r}"
            )
        host = self.lab.host_by_address(target)
        if "juju" not in host.snaps:
            raise BackendError(
                f"juju is not installed on {host.name}", hint="Install the juju snap first."
            )
        lines = (
            f"Creating Juju controller {controller!r} on {cloud}",
            "Looking for packaged Juju agent version for amd64",
            f"Installing Juju agent on bootstrap instance {host.address}",
            "Running machine configuration script...",
            f"Bootstrap agent now started; contacting Juju controller at {host.address}",
            f"Bootstrap complete, controller {controller!r} is now available",
        )
        first = True
        for line in lines:
            log(line)
            if first:
                await self.lab.op("juju.bootstrap", SECONDS["bootstrap"] / len(lines))
                first = False
            else:
                await asyncio.sleep(self.lab.scaled(SECONDS["bootstrap"] / len(lines), line))
        if self.lab.state.controller:
            raise BackendError(f"controller {self.lab.state.controller!r} already exists")
        st = self.lab.state
        st.controller, st.controller_host = controller, host.name
        st.clouds[kind] = "manual"
        st.models["controller"] = ModelState(
            name="controller", cloud=kind, kind="machine", machines={"0": host.name}, next_machine=1
        )
        self.lab.save()

    async def add_k8s_cloud(self, name: str, kubeconfig: str) -> None:
        self._require_controller()
        if name in self.lab.state.clouds:
            raise BackendError(f"cloud {name!r} already exists")
        if "server" not in kubeconfig:
            raise BackendError("the kubeconfig names no API server", hint="Check the k8s charm.")
        if not any(self.lab.k8s_nodes().values()):
            raise BackendError("no Kubernetes node is ready", hint="Wait for the k8s units.")
        await self.lab.op(f"juju.add-k8s-cloud:{name}", SECONDS["add-k8s-cloud"])
        self.lab.state.clouds[name] = "k8s"  # the kubeconfig (a credential) is not kept
        self.lab.save()

    async def add_model(self, name: str, cloud: str) -> None:
        self._require_controller()
        if name in self.lab.state.models:
            raise BackendError(f"model {name!r} already exists")
        kind = self.lab.state.clouds.get(cloud)
        if kind is None:
            raise BackendError(f"cloud {cloud!r} not found", hint="Add the cloud first.")
        await self.lab.op(f"juju.add-model:{name}", SECONDS["add-model"])
        if name in self.lab.state.models:
            raise BackendError(f"model {name!r} already exists")
        self.lab.state.models[name] = ModelState(
            name=name, cloud=cloud, kind="k8s" if kind == "k8s" else "machine"
        )
        self.lab.save()

    async def add_machine(
        self, model: str, address: str, ssh_user: str | None, *, log: LogFn
    ) -> str:
        m = self.lab.model(model)
        host = self.lab.host_by_address(address)
        for other in self.lab.state.models.values():
            if host.name in other.machines.values():
                raise BackendError(f"{host.name} ({host.address}) is already provisioned")
        target = f"{ssh_user}@{host.address}" if ssh_user else host.address
        log(f"Provisioning manual machine ssh:{target}")
        await self.lab.op(f"juju.add-machine@{host.name}", SECONDS["add-machine"])
        log("Installing the Juju machine agent")
        for other in self.lab.state.models.values():
            if host.name in other.machines.values():
                raise BackendError(f"{host.name} ({host.address}) is already provisioned")
        machine = str(m.next_machine)
        m.next_machine += 1
        m.machines[machine] = host.name
        self.lab.save()
        log(f"created machine {machine}")
        return machine

    # -- applications -------------------------------------------------------------------------

    def _placement(self, m: ModelState, to: Sequence[str]) -> None:
        for machine in to:
            if machine not in m.machines:
                raise BackendError(f"machine {machine!r} not found in model {m.name!r}")

    async def deploy(
        self,
        model: str,
        app: str,
        charm: str,
        *,
        channel: str,
        revision: int | None = None,
        config: Mapping[str, object] | None = None,
        trust: bool = False,
        num_units: int = 1,
        to: Sequence[str] = (),
        base: str | None = None,
    ) -> None:
        m = self.lab.model(model)
        if app in m.apps or app in m.consumed:
            raise BackendError(f"application {app!r} already exists in model {model!r}")
        if m.kind == "machine":
            if not to:
                raise BackendError(
                    f"cannot deploy {app} to model {model!r} without machines: a manual cloud "
                    "provisions none; place the units with to="
                )
            self._placement(m, to)
        elif to:
            raise BackendError(f"model {model!r} is on Kubernetes: units take no machines")
        await self.lab.op(f"juju.deploy:{app}", SECONDS["deploy"])
        if app in m.apps:
            raise BackendError(f"application {app!r} already exists in model {model!r}")
        state = AppState(
            charm=charm,
            channel=channel,
            revision=revision or default_revision(charm, channel),
            base=base,
            trust=trust,
            config=dict(config or {}),
            settle_seconds=self.lab.scaled(SETTLE_SECONDS.get(charm, SETTLE_DEFAULT_SECONDS), app),
        )
        for i in range(max(num_units, len(to))):
            self.lab.new_unit(app, state, to[i] if i < len(to) else None)
        m.apps[app] = state
        self.lab.save()

    async def add_unit(self, model: str, app: str, *, to: str) -> None:
        m = self.lab.model(model)
        a = self.lab.app(model, app)
        if m.kind == "machine":
            self._placement(m, [to])
            if any(u.machine == to for u in a.units.values()):
                raise BackendError(f"{app} already has a unit on machine {to}")
        host = m.machines.get(to, to)
        await self.lab.op(f"juju.add-unit:{app}@{host}", SECONDS["add-unit"])
        a = self.lab.app(model, app)
        if m.kind == "machine" and any(u.machine == to for u in a.units.values()):
            raise BackendError(f"{app} already has a unit on machine {to}")
        self.lab.new_unit(app, a, to if m.kind == "machine" else None)
        self.lab.save()

    async def refresh(
        self, model: str, app: str, *, channel: str, revision: int | None = None
    ) -> None:
        a = self.lab.app(model, app)
        await self.lab.op(f"juju.refresh:{app}", SECONDS["refresh"])
        a = self.lab.app(model, app)
        a.channel, a.revision = channel, revision or default_revision(a.charm, channel)
        for name, unit in a.units.items():
            settle = SETTLE_SECONDS.get(a.charm, SETTLE_DEFAULT_SECONDS) * 0.5
            self.lab.busy(unit, "upgrading the charm", settle, name)
        self.lab.save()

    async def config(self, model: str, app: str, values: Mapping[str, object]) -> None:
        self.lab.app(model, app)
        await self.lab.op(f"juju.config:{app}", SECONDS["config"])
        a = self.lab.app(model, app)
        a.config.update(values)
        for name, unit in a.units.items():
            self.lab.busy(unit, "applying the configuration", SECONDS["relation-settle"], name)
        self.lab.save()

    def _endpoint_app(self, m: ModelState, endpoint: str) -> str:
        app = endpoint.split(":", 1)[0]
        if app not in m.apps and app not in m.consumed:
            raise BackendError(f"application {app!r} not found in model {m.name!r}")
        return app

    async def integrate(self, model: str, a: str, b: str) -> None:
        m = self.lab.model(model)
        apps = [self._endpoint_app(m, a), self._endpoint_app(m, b)]
        pair = tuple(sorted((a, b)))
        if pair in m.relations:
            raise BackendError(f"relation {a} {b} already exists")
        await self.lab.op(f"juju.integrate:{a}/{b}", SECONDS["integrate"])
        if pair in m.relations:
            raise BackendError(f"relation {a} {b} already exists")
        m.relations.append((pair[0], pair[1]))
        for app, ep in zip(apps, (a, b), strict=True):
            state = m.apps.get(app)
            if state is None:
                continue  # a consumed (remote) application: its units live elsewhere
            for name, unit in state.units.items():
                self.lab.busy(
                    unit,
                    f"configuring the {ep.partition(':')[2] or app} relation",
                    SECONDS["relation-settle"],
                    name + ep,
                )
        self.lab.save()

    async def offer(self, model: str, endpoint: str, name: str) -> None:
        m = self.lab.model(model)
        app = endpoint.split(":", 1)[0]
        self.lab.app(model, app)
        if name in m.offers:
            raise BackendError(f"offer {name!r} already exists in model {model!r}")
        await self.lab.op(f"juju.offer:{name}", SECONDS["offer"])
        m.offers[name] = endpoint
        self.lab.save()

    async def consume(self, model: str, url: str, alias: str) -> None:
        m = self.lab.model(model)
        # [controller:][user/]model.offer
        path = url.split(":", 1)[1] if ":" in url else url
        source_model, _, offer = path.rsplit("/", 1)[-1].partition(".")
        src = self.lab.model(source_model)
        if offer not in src.offers:
            raise BackendError(f"offer {url!r} not found", hint="Create the offer first.")
        if alias in m.apps or alias in m.consumed:
            raise BackendError(f"application {alias!r} already exists in model {model!r}")
        await self.lab.op(f"juju.consume:{alias}", SECONDS["consume"])
        m.consumed[alias] = url
        self.lab.save()

    # -- actions ------------------------------------------------------------------------------

    def _unit(self, model: str, unit: str) -> tuple[ModelState, str, str]:
        m = self.lab.model(model)
        app, _, number = unit.partition("/")
        a = self.lab.app(model, app)
        if number == "leader":
            if not a.units:
                raise BackendError(f"application {app!r} has no units")
            unit = min(a.units, key=lambda u: int(u.split("/")[1]))
        elif unit not in a.units:
            raise BackendError(f"unit {unit!r} not found in model {model!r}")
        return m, app, unit

    async def run_action(
        self, model: str, unit: str, action: str, params: Mapping[str, object] | None = None
    ) -> dict[str, object]:
        m, app, unit = self._unit(model, unit)
        a = m.apps[app]
        params = dict(params or {})
        host = self.lab.machine_host(m, a.units[unit].machine)
        if a.charm == "microceph" and action == "list-disks":
            assert host is not None
            osds = [
                {"osd": i, "location": host, "path": d}
                for i, d in enumerate(self.lab.host(host).osds)
            ]
            return {"osds": json.dumps(osds)}
        if a.charm == "microceph" and action == "add-osd":
            assert host is not None
            return await self._add_osd(host, unit, str(params.get("device-id", "")))
        if a.charm == "k8s" and action == "get-kubeconfig":
            await self.lab.op("k8s.get-kubeconfig", SECONDS["action"])
            return {"kubeconfig": self.lab.kubeconfig()}
        if a.charm == "keystone-k8s" and action == "get-admin-password":
            await self.lab.op("keystone.get-admin-password", SECONDS["action"])
            password = self.lab.keystone_admin_password()
            if password is None:
                raise BackendError(
                    "keystone is not bootstrapped yet: no admin password",
                    hint=f"Wait for {app} to be active: `juju status {app}`.",
                )
            return {"password": password}
        raise BackendError(
            f"action {action!r} is not defined on application {app!r}",
            hint=f"`juju actions {app}` lists its actions.",
        )

    async def _add_osd(self, host: str, unit: str, device: str) -> dict[str, object]:
        facts = self.lab.facts().get(host)
        disk = facts.disk(device) if facts else None
        if disk is None:
            raise BackendError(
                f"{device or 'no device'} is not a disk of {host}",
                hint=f"Check osd_devices of {host}: `sunbeam-install probe` lists its disks.",
            )
        h = self.lab.host(host)
        if any(disk.matches(d) for d in h.osds):
            raise BackendError(f"{device} on {host} is already an OSD")
        if not disk.osd_eligible:
            raise BackendError(
                f"{device} on {host} cannot hold an OSD: {disk.ineligible_reason}",
                hint=f"Choose another disk in osd_devices of {host}.",
            )
        await self.lab.op(f"ceph.add-osd@{host}", SECONDS["add-osd"])
        h.osds.append(device)
        self.lab.save()
        return {"result": f"added {device} as osd.{len(h.osds) - 1} on {host}"}

    async def wait_settled(
        self, model: str, apps: Sequence[str], *, progress: ProgressFn, timeout: float
    ) -> None:
        m = self.lab.model(model)
        for app in apps:
            self.lab.app(model, app)
        await self.lab.op(f"juju.wait-settled:{model}", 0.0)
        deadline = time.monotonic() + timeout
        while True:
            now = self.lab.now()
            pending: list[tuple[float, str, str]] = []
            total = 0
            for app in apps:
                for name, unit in m.apps[app].units.items():
                    total += 1
                    workload, _, message = self.lab.unit_status(unit, now)
                    if workload == "error":
                        raise BackendError(
                            f"unit {name} is in error: {message}",
                            hint=f"`juju debug-log -m {model} --include {name}` shows why.",
                        )
                    if workload != "active":
                        pending.append((unit.settle_at, name, f"{workload}: {message}"))
            if not pending:
                progress(f"{total} units of {len(apps)} applications active", 1.0)
                return
            pending.sort()
            settle_at, first, what = pending[0]
            progress(
                f"{total - len(pending)}/{total} units active; {first} {what}",
                (total - len(pending)) / total if total else None,
            )
            if time.monotonic() >= deadline:
                raise BackendError(
                    f"{len(pending)} units of {', '.join(apps)} not active after {timeout:.0f} s "
                    f"(first: {first} {what})",
                    hint=f"`juju status -m {model}` shows what they wait for.",
                )
            # Sleep until the next unit settles (or changes phase), at most 0.25 s so the
            # progress line moves and the deadline is honoured.
            await asyncio.sleep(
                min(
                    max(settle_at - now, 0.0) + 0.001, 0.25, max(deadline - time.monotonic(), 0.001)
                )
            )


class LabK8s:
    """The Kubernetes API of the cluster the k8s charm forms on the control hosts."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    async def nodes_ready(self) -> dict[str, bool]:
        return self.lab.k8s_nodes()

    async def wait_nodes_ready(self, count: int, *, progress: ProgressFn, timeout: float) -> None:
        await self.lab.op("k8s.wait-nodes-ready", 0.0)
        deadline = time.monotonic() + timeout
        while True:
            nodes = self.lab.k8s_nodes()
            ready = sum(nodes.values())
            progress(
                f"{ready}/{count} Kubernetes nodes ready", min(ready / count, 1.0) if count else 1.0
            )
            if ready >= count:
                return
            if time.monotonic() >= deadline:
                missing = sorted(h for h, r in nodes.items() if not r)
                raise BackendError(
                    f"{ready} of {count} Kubernetes nodes ready after {timeout:.0f} s"
                    + (f" (not ready: {', '.join(missing)})" if missing else ""),
                    hint="`sudo k8s status` on a control host shows what the nodes wait for.",
                )
            await asyncio.sleep(min(0.25, max(self.lab.time_scale * 5, 0.001)))

    def _require_cluster(self) -> None:
        if not any(self.lab.k8s_nodes().values()):
            raise BackendError(
                "the Kubernetes API is not reachable: no node is ready",
                hint="Wait for the k8s units to be active.",
            )

    async def lb_pool(self, name: str) -> str | None:
        self._require_cluster()
        return self.lab.state.lb_pools.get(name)

    async def set_lb_pool(self, name: str, address_range: str) -> None:
        self._require_cluster()
        start, sep, end = address_range.partition("-")
        if not sep or not _valid_address(start) or not _valid_address(end):
            raise BackendError(f"load-balancer range {address_range!r} is not START-END")
        await self.lab.op(f"k8s.set-lb-pool:{name}", SECONDS["lb-pool"])
        self.lab.state.lb_pools[name] = address_range
        self.lab.save()


class LabHosts:
    """Commands on the lab's hosts. Only the commands the steps use are simulated."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    async def run(
        self,
        host: str,
        argv: Sequence[str],
        *,
        sudo: bool = False,
        log: LogFn,
        timeout: float | None = None,
        secret_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        h = self.lab.host(host)
        if not argv:
            raise BackendError("no command to run")
        if argv[0] == "sh" and len(argv) == 3 and argv[1] == "-c":
            # Steps use `sh -c` to put a secret from the environment into a command's
            # arguments without it appearing on the command line they log.
            words = _expand_script(argv[2], secret_env or {})
            if words is None:
                line = "sh: the lab simulates one simple command with $VARIABLES only"
                log(line)
                return CommandResult(2, (line,))
            return await self.run(host, words, sudo=sudo, log=log, timeout=timeout,
                                  secret_env=secret_env)
        # A snap's command exists only where the snap is installed: else the shell says so.
        snap = SNAP_COMMANDS.get(argv[0])
        if snap is not None and snap not in h.snaps:
            line = f"sh: 1: {argv[0]}: not found"
            log(line)
            return CommandResult(COMMAND_NOT_FOUND, (line,))
        words = [argv[0], *(w for w in argv[1:3] if not w.startswith("-"))][:3]
        if snap is None:
            words = words[:1]
        cli = "ceph-cli" if argv[0] == CEPH_COMMAND else "openstack-cli"
        await self.lab.op(f"host.run:{'-'.join(words)}@{host}", SECONDS[cli])
        if argv[0] == OPENSTACK:
            lines, rc = self._openstack(list(argv[1:]), dict(secret_env or {}))
        elif argv[0] == CEPH_COMMAND:
            lines, rc = self._ceph(list(argv[1:]))
        elif argv[0] == "true":
            lines, rc = [], 0
        elif argv[0] == "hostname":
            lines, rc = [host], 0
        else:
            lines, rc = [f"{argv[0]}: command not found (the lab does not simulate it)"], 127
        for line in lines:
            log(line)
        return CommandResult(rc, tuple(lines[-20:]))

    # -- Ceph (the microceph snap's `microceph.ceph`) -----------------------------------------

    def _ceph(self, args: list[str]) -> tuple[list[str], int]:
        st = self.lab.state
        if args[:1] == ["health"]:
            return [json.dumps(self._ceph_health())], 0
        if args[:2] == ["osd", "dump"]:
            osds = [d for h in st.hosts.values() for d in h.osds]
            return [json.dumps({"epoch": len(osds) + len(st.ceph_flags) + 1,
                                "flags": ",".join([*st.ceph_flags, *CEPH_DEFAULT_FLAGS]),
                                "osds": [{"osd": i, "up": 1, "in": 1}
                                         for i in range(len(osds))]})], 0
        if len(args) == 3 and args[0] == "osd" and args[1] in ("set", "unset"):
            flag = args[2]
            if flag not in CEPH_SETTABLE_FLAGS:
                return [f"Invalid command: {flag} not in {'|'.join(CEPH_SETTABLE_FLAGS)}"], 22
            if args[1] == "set" and flag not in st.ceph_flags:
                st.ceph_flags.append(flag)
            elif args[1] == "unset" and flag in st.ceph_flags:
                st.ceph_flags.remove(flag)
            self.lab.save()
            return [f"{flag} is {args[1]}"], 0
        return [f"microceph.ceph {' '.join(args)}: not simulated by the lab"], 22

    def _ceph_health(self) -> dict[str, object]:
        """`ceph health --format json`: HEALTH_OK, or HEALTH_WARN with the checks that fail."""
        st, now = self.lab.state, self.lab.now()
        checks: dict[str, object] = {}

        def warn(code: str, message: str, count: int) -> None:
            checks[code] = {"severity": "HEALTH_WARN",
                            "summary": {"message": message, "count": count}, "muted": False}

        if st.ceph_flags:
            warn("OSDMAP_FLAGS", f"{','.join(st.ceph_flags)} flag(s) set", len(st.ceph_flags))
        down = sum(len(h.osds) for h in st.hosts.values() if h.osds_up_at > now)
        if down:
            warn("OSD_DOWN", f"{down} osds down", down)
        try:
            self.lab.faults.check("ceph.health")
        except BackendError as e:
            # A fault here is a cluster that stays degraded (transient: for N queries).
            warn("PG_DEGRADED", "Degraded data redundancy: 42/1260 objects degraded (3.333%), "
                 f"7 pgs degraded ({e.message})", 7)
        return {"status": "HEALTH_WARN" if checks else "HEALTH_OK", "checks": checks,
                "mutes": []}

    # -- OpenStack (the openstackclients snap's `openstack`) ----------------------------------

    def _openstack(self, args: list[str], env: dict[str, str]) -> tuple[list[str], int]:
        st = self.lab.state
        keystone = any(
            a.charm == "keystone-k8s" for m in st.models.values() for a in m.apps.values()
        )
        if not keystone:
            return [
                "Failed to discover available identity versions when contacting the "
                "auth URL. (keystone is not deployed)"
            ], 1
        if not self.lab.check_password(env):
            return ["The request you have made requires authentication. (HTTP 401)"], 1
        if len(args) < 2:
            return ["usage: openstack NOUN VERB ..."], 2
        noun, verb, rest = args[0], args[1], args[2:]
        opts = _options(rest)
        name = next((a for a in rest if not a.startswith("-") and a not in opts.values()), None)
        if noun == "token" and verb == "issue":
            return ["token issued"], 0
        if (noun, verb) == ("user", "set"):
            return self._user_set(rest, opts, name)
        if (noun, verb) == ("compute", "service"):
            return self._compute_service(rest)
        tables: dict[str, Mapping[str, BaseModel]] = {"network": st.networks, "subnet": st.subnets}
        table = tables.get(noun)
        if table is None or name is None:
            return [f"openstack {noun} {verb}: not simulated by the lab"], 2
        if verb == "show":
            if name not in table:
                return [f"No {noun.capitalize()} found for {name}"], 1
            return [table[name].model_dump_json()], 0
        if verb != "create":
            return [f"openstack {noun} {verb}: not simulated by the lab"], 2
        if name in table:
            return [f"Conflict: {noun} {name} already exists"], 1
        if noun == "network":
            segment = opts.get("--provider-segment")
            st.networks[name] = NetworkState(
                name=name,
                provider_type=str(opts.get("--provider-network-type", "flat")),
                physical_network=opts.get("--provider-physical-network"),
                segment=int(segment) if segment and segment.isdigit() else None,
                external="--external" in rest,
            )
        else:
            network, cidr = opts.get("--network"), opts.get("--subnet-range", "")
            if network not in st.networks:
                return [f"No Network found for {network}"], 1
            if not _valid_cidr(cidr):
                return [f"Invalid subnet range {cidr!r}"], 1
            pool = opts.get("--allocation-pool")
            st.subnets[name] = SubnetState(
                name=name,
                network=network,
                cidr=cidr,
                gateway=opts.get("--gateway"),
                pool=pool.replace("start=", "").replace(",end=", "-") if pool else None,
            )
        self.lab.save()
        return [f"created {noun} {name}"], 0

    def _user_set(
        self, rest: list[str], opts: dict[str, str], name: str | None
    ) -> tuple[list[str], int]:
        """`openstack user set [--domain admin_domain] --password PW admin`: keystone has one
        user the lab knows, the admin (its password is kept as a digest only)."""
        password = opts.get("--password")
        if name != "admin" or opts.get("--domain", "admin_domain") != "admin_domain":
            return [f"No user with a name or ID of '{name}' exists."], 1
        if "--password" not in rest or not password:
            return ["openstack user set: not simulated by the lab without --password"], 2
        self.lab.set_admin_password(password)
        return [], 0

    def _compute_services(self) -> dict[str, str]:
        """Nova's compute services: one `nova-compute` per host running a hypervisor unit,
        registered once nova-k8s is deployed; host -> status (enabled | disabled)."""
        st = self.lab.state
        if not any(a.charm == "nova-k8s" for m in st.models.values() for a in m.apps.values()):
            return {}
        out: dict[str, str] = {}
        for m in st.models.values():
            for a in m.apps.values():
                if a.charm != "openstack-hypervisor":
                    continue
                for u in a.units.values():
                    host = self.lab.machine_host(m, u.machine)
                    if host is not None:
                        out[host] = "disabled" if host in st.compute_disabled else "enabled"
        return out

    def _compute_service(self, args: list[str]) -> tuple[list[str], int]:
        """`openstack compute service list [--host H] [--service S] [-f F] [-c COL ...]` and
        `openstack compute service set (--enable | --disable [--disable-reason R]) HOST S`."""
        st = self.lab.state
        services = self._compute_services()
        action, rest = (args[0], args[1:]) if args else ("", [])
        if action == "list":
            parsed = _parse(rest, (), ("--host", "--service", "-f", "-c"))
            if isinstance(parsed, str):
                return [f"openstack compute service list: error: {parsed}"], 2
            opts, _ = parsed
            columns = opts.get("-c") or list(COMPUTE_SERVICE_COLUMNS)
            unknown = [c for c in columns if c not in COMPUTE_SERVICE_COLUMNS]
            if unknown:
                return [f"No column named {unknown[0]!r}"], 1
            rows = [
                {"ID": str(i + 1), "Binary": "nova-compute", "Host": host, "Zone": "nova",
                 "Status": status, "State": "up", "Updated At": "2025-05-01T12:00:00.000000"}
                for i, (host, status) in enumerate(sorted(services.items()))
                if host in opts.get("--host", [host])
                and "nova-compute" in opts.get("--service", ["nova-compute"])
            ]
            fmt = (opts.get("-f") or ["table"])[-1]
            if fmt == "json":
                return [json.dumps([{c: r[c] for c in columns} for r in rows])], 0
            if fmt == "value":
                return [" ".join(r[c] for c in columns) for r in rows], 0
            return [" | ".join(columns), *(" | ".join(r[c] for c in columns) for r in rows)], 0
        if action == "set":
            parsed = _parse(rest, ("--enable", "--disable"), ("--disable-reason",))
            if isinstance(parsed, str):
                return [f"openstack compute service set: error: {parsed}"], 2
            opts, words = parsed
            if len(words) != 2:
                return ["openstack compute service set: error: the following arguments are "
                        "required: <host>, <service>"], 2
            host, service = words
            if "--enable" in opts and "--disable" in opts:
                return ["openstack compute service set: error: argument --disable: not "
                        "allowed with argument --enable"], 2
            if "--disable-reason" in opts and "--disable" not in opts:
                return ["Cannot specify option --disable-reason without --disable specified."], 1
            if service != "nova-compute" or host not in services:
                return [f"Compute service {service} of host {host} failed to set."], 1
            if "--disable" in opts:
                st.compute_disabled[host] = (opts.get("--disable-reason") or [""])[-1]
            elif "--enable" in opts:
                st.compute_disabled.pop(host, None)
            self.lab.save()
            return [], 0
        return [f"openstack compute service {action}: not simulated by the lab"], 2


def _parse(
    args: list[str], flags: Sequence[str], valued: Sequence[str]
) -> tuple[dict[str, list[str]], list[str]] | str:
    """Options (each with its values; a flag has none) and positional words of a command
    line, or the client's complaint about an option it does not know."""
    opts: dict[str, list[str]] = {}
    words: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in flags:
            opts.setdefault(a, [])
        elif a in valued:
            if i + 1 >= len(args):
                return f"argument {a}: expected one argument"
            opts.setdefault(a, []).append(args[i + 1])
            i += 1
        elif a.startswith("-"):
            return f"unrecognized arguments: {a}"
        else:
            words.append(a)
        i += 1
    return opts, words


def _expand_script(script: str, env: Mapping[str, str]) -> list[str] | None:
    """The argv of `sh -c SCRIPT` for one simple command whose words are literals or a bare
    or double-quoted `$NAME` (taken from `env`); None for anything more (pipes, lists...)."""
    import re
    import shlex

    if any(c in script for c in ";|&<>`\n") or "$(" in script:
        return None
    try:
        words = shlex.split(script)
    except ValueError:
        return None
    out: list[str] = []
    for w in words:
        m = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", w)
        if m:
            out.append(env.get(m.group(1), ""))
        elif "$" in w:
            return None
        else:
            out.append(w)
    return out or None


def _options(args: list[str]) -> dict[str, str]:
    """`--key value` pairs of an openstack command line (flags without a value are skipped)."""
    out: dict[str, str] = {}
    for i, a in enumerate(args):
        if a.startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--"):
            out[a] = args[i + 1]
    return out
