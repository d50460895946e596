"""The lab's `juju` client: its controller, clouds, models, machines, applications and actions."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Collection, Mapping, Sequence

from installer.backends.base import (
    BackendError,
    LogFn,
    ModelStatus,
    ProgressFn,
)
from installer.lab.charms import meta
from installer.lab.cluster import LabCluster
from installer.lab.state import AppState, ModelState
from installer.lab.store import default_revision
from installer.lab.timing import SECONDS, SETTLE_DEFAULT_SECONDS, SETTLE_SECONDS


class LabJuju:
    """The `juju` client of the lab's controller."""

    def __init__(self, lab: LabCluster) -> None:
        self.lab = lab

    # -- reads --------------------------------------------------------------------------------

    async def controllers(self) -> list[str]:
        return [self.lab.state.controller] if self.lab.state.controller else []

    async def clouds(self) -> list[str]:
        return list(self.lab.state.clouds)

    async def models(self) -> list[str]:
        return list(self.lab.state.models)

    async def status(self, model: str, apps: Collection[str] | None = None) -> ModelStatus:
        """The model's status (only `apps`, when given), from the lab's status index: shared
        with other callers, so read-only."""
        return self.lab.status_index.model_status(model, apps)

    # -- controller, clouds, models, machines -------------------------------------------------

    def _require_controller(self) -> None:
        if not self.lab.state.controller:
            raise BackendError("no Juju controller", hint="Bootstrap the controller first.")

    async def bootstrap(
        self, cloud: str, controller: str, *, log: LogFn,
        model_defaults: Mapping[str, object] | None = None,
    ) -> None:
        if self.lab.state.controller:
            raise BackendError(f"controller {self.lab.state.controller!r} already exists")
        kind, _, target = cloud.partition("/")
        if kind == "localhost":
            # LXD on the machine that runs juju (Sunbeam's bootstrap): the host with lxd.
            lxd_hosts = [h for h in self.lab.state.hosts.values() if "lxd" in h.snaps]
            if not lxd_hosts:
                raise BackendError(
                    "ERROR cloud localhost: LXD is not installed",
                    hint="Install the lxd snap on the host that bootstraps the controller.",
                )
            host = lxd_hosts[0]
        elif kind != "manual" or not target:
            raise BackendError(
                f"the lab bootstraps manual clouds (manual/[user@]host) or localhost, not {cloud!r}"
            )
        else:
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
        st.model_defaults = dict(model_defaults or {})
        if kind == "localhost":
            st.clouds[kind] = "lxd"  # the controller is an LXD container: no host is a machine
            st.models["controller"] = ModelState(
                name="controller", cloud=kind, kind="machine", machines={}, next_machine=1,
                config=dict(st.model_defaults),
            )
        else:
            st.clouds[kind] = "manual"
            st.models["controller"] = ModelState(
                name="controller", cloud=kind, kind="machine", machines={"0": host.name},
                next_machine=1, config=dict(st.model_defaults),
            )
            self.lab.touch_machine("controller", "0")
        self.lab.touch_model("controller")
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

    async def add_model(
        self, name: str, cloud: str, *, config: Mapping[str, object] | None = None
    ) -> None:
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
            name=name, cloud=cloud, kind="k8s" if kind == "k8s" else "machine",
            config={**self.lab.state.model_defaults, **(config or {})},
        )
        self.lab.touch_model(name)
        self.lab.save()

    async def add_machine(
        self, model: str, address: str, ssh_user: str | None, *, log: LogFn
    ) -> str:
        m = self.lab.model(model)
        host = self.lab.host_by_address(address)
        if self.lab.provisioned(host.name):
            raise BackendError(f"{host.name} ({host.address}) is already provisioned")
        target = f"{ssh_user}@{host.address}" if ssh_user else host.address
        log(f"Provisioning manual machine ssh:{target}")
        await self.lab.op(f"juju.add-machine@{host.name}", SECONDS["add-machine"])
        log("Installing the Juju machine agent")
        if self.lab.provisioned(host.name):
            raise BackendError(f"{host.name} ({host.address}) is already provisioned")
        machine = str(m.next_machine)
        m.next_machine += 1
        m.machines[machine] = host.name
        self.lab.touch_model(model)
        self.lab.touch_machine(model, machine)
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
        info = meta(charm)
        subordinate = info is not None and info.subordinate
        if subordinate:
            if to or num_units:
                raise BackendError(
                    f"ERROR cannot use --num-units or --to with subordinate application {app}"
                )
        elif m.kind == "machine":
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
        for i in range(0 if subordinate else max(num_units, len(to))):
            self.lab.new_unit(model, app, state, to[i] if i < len(to) else None)
            self._charm_snap(m, charm, state, to[i] if i < len(to) else None)
        m.apps[app] = state
        self.lab.touch_app(model, app)
        self.lab.save()

    async def add_unit(self, model: str, app: str, *, to: str) -> None:
        m = self.lab.model(model)
        a = self.lab.app(model, app)
        if m.kind == "machine":
            self._placement(m, [to])
            if to in self.lab.unit_machines(model, app):
                raise BackendError(f"{app} already has a unit on machine {to}")
        host = m.machines.get(to, to)
        await self.lab.op(f"juju.add-unit:{app}@{host}", SECONDS["add-unit"])
        a = self.lab.app(model, app)
        if m.kind == "machine" and to in self.lab.unit_machines(model, app):
            raise BackendError(f"{app} already has a unit on machine {to}")
        machine = to if m.kind == "machine" else None
        self.lab.new_unit(model, app, a, machine)
        self._charm_snap(m, a.charm, a, machine)
        for sub, principal_ep in self._subordinates_of(m, app):
            # Only the new unit needs a subordinate beside it.
            self._follow(m, sub, principal_ep, only=machine)
        self.lab.save()

    async def refresh(
        self, model: str, app: str, *, channel: str, revision: int | None = None
    ) -> None:
        a = self.lab.app(model, app)
        if a.charm == "k8s":
            _check_k8s_skew(app, a.channel, channel)
        await self.lab.op(f"juju.refresh:{app}", SECONDS["refresh"])
        a = self.lab.app(model, app)
        a.channel, a.revision = channel, revision or default_revision(a.charm, channel)
        self.lab.touch_app(model, app)
        for name in a.units:
            settle = SETTLE_SECONDS.get(a.charm, SETTLE_DEFAULT_SECONDS) * 0.5
            self.lab.busy(model, app, name, "upgrading the charm", settle, name)
        self.lab.save()

    async def config(self, model: str, app: str, values: Mapping[str, object]) -> None:
        self.lab.app(model, app)
        await self.lab.op(f"juju.config:{app}", SECONDS["config"])
        a = self.lab.app(model, app)
        a.config.update(values)
        self.lab.touch_app(model, app)
        for name in a.units:
            self.lab.busy(model, app, name, "applying the configuration",
                          SECONDS["relation-settle"], name)
        self.lab.save()

    def _endpoint_app(self, m: ModelState, endpoint: str) -> str:
        app = endpoint.split(":", 1)[0]
        if app not in m.apps and app not in m.consumed:
            raise BackendError(f"application {app!r} not found in model {m.name!r}")
        return app

    def _endpoint_meta(self, m: ModelState, endpoint: str) -> tuple[str, str] | None:
        """(role, interface) of `app:endpoint` as its charm declares it; None if the lab does
        not model the charm. BackendError with Juju's message when the endpoint does not exist."""
        app, _, ep = endpoint.partition(":")
        if app in m.consumed:  # a remote application: the offered endpoint of its charm
            path = m.consumed[app].split(":", 1)[-1].rsplit("/", 1)[-1]
            src_model, _, offer = path.partition(".")
            src = self.lab.model(src_model)
            offered = src.offers.get(offer, "")
            if offered.split(":", 1)[1:] != [ep]:
                raise BackendError(f'ERROR application "{app}" has no "{ep}" relation')
            src_app, _, src_ep = offered.partition(":")
            return self._endpoint_meta(src, f"{src_app}:{src_ep}")
        info = meta(m.apps[app].charm)
        if info is None:
            return None
        if ep not in info.endpoints:
            raise BackendError(
                f'ERROR application "{app}" has no "{ep}" relation',
                hint=f"`juju info {m.apps[app].charm}` lists its endpoints.",
            )
        return info.endpoints[ep]

    def _check_wiring(self, m: ModelState, a: str, b: str) -> None:
        end_a, end_b = self._endpoint_meta(m, a), self._endpoint_meta(m, b)
        if end_a is None or end_b is None:
            return
        (role_a, if_a), (role_b, if_b) = end_a, end_b
        if if_a != if_b or role_a == role_b:
            raise BackendError(
                f'ERROR no relations found: {a} ({role_a} {if_a}) and {b} ({role_b} {if_b}) '
                "do not share an interface",
                hint="Check the integration's endpoints against the charms' metadata.",
            )

    def _subordinates_of(self, m: ModelState, principal: str) -> list[tuple[str, str]]:
        """(subordinate app, principal endpoint) of the subordinates related to `principal`."""
        out = []
        for x, y in m.relations:
            for mine, other in ((x, y), (y, x)):
                app, _, ep = other.partition(":")
                info = meta(m.apps[app].charm) if app in m.apps else None
                if mine.split(":", 1)[0] == principal and info is not None \
                        and info.subordinate and ep in info.container_scoped:
                    out.append((app, mine))
        return out

    def _follow(
        self, m: ModelState, sub: str, principal_ep: str, *, only: str | None = None
    ) -> None:
        """A subordinate has one unit beside each unit of its principal (`only`: beside the
        principal's unit on that machine, just added)."""
        state = m.apps[sub]
        have = self.lab.unit_machines(m.name, sub)
        if only is not None:
            machines: list[str | None] = [only]
        else:
            principal = m.apps[principal_ep.split(":", 1)[0]]
            machines = [u.machine for u in principal.units.values()]
        for machine in machines:
            if machine not in have:
                self.lab.new_unit(m.name, sub, state, machine)
                self._charm_snap(m, state.charm, state, machine)

    def _charm_snap(self, m: ModelState, charm: str, app: AppState, machine: str | None) -> None:
        """A machine charm installs its snap (charm config snap-channel) on its machine."""
        from installer.lab.state import SnapState

        info = meta(charm)
        host = self.lab.machine_host(m, machine)
        if info is None or info.snap is None or host is None:
            return
        h = self.lab.host(host)
        if info.snap not in h.snaps:
            channel = str(app.config.get("snap-channel") or "latest/stable")
            h.snaps[info.snap] = SnapState(
                channel=channel, revision=default_revision(info.snap, channel)
            )

    async def integrate(self, model: str, a: str, b: str) -> None:
        m = self.lab.model(model)
        apps = [self._endpoint_app(m, a), self._endpoint_app(m, b)]
        pair = tuple(sorted((a, b)))
        if pair in m.relations:
            raise BackendError(f"relation {a} {b} already exists")
        self._check_wiring(m, a, b)
        await self.lab.op(f"juju.integrate:{a}/{b}", SECONDS["integrate"])
        if pair in m.relations:
            raise BackendError(f"relation {a} {b} already exists")
        m.relations.append((pair[0], pair[1]))
        self.lab.touch_model(model)
        for app in apps:
            for sub, principal_ep in self._subordinates_of(m, app):
                self._follow(m, sub, principal_ep)
        for app, ep in zip(apps, (a, b), strict=True):
            state = m.apps.get(app)
            if state is None:
                continue  # a consumed (remote) application: its units live elsewhere
            for name in state.units:
                self.lab.busy(
                    model,
                    app,
                    name,
                    f"configuring the {ep.partition(':')[2] or app} relation",
                    SECONDS["relation-settle"],
                    name + ep,
                )
        self.lab.save()

    async def offer(self, model: str, endpoint: str, name: str) -> None:
        m = self.lab.model(model)
        app = endpoint.split(":", 1)[0]
        self.lab.app(model, app)
        self._endpoint_meta(m, endpoint)
        if name in m.offers:
            raise BackendError(f"offer {name!r} already exists in model {model!r}")
        await self.lab.op(f"juju.offer:{name}", SECONDS["offer"])
        m.offers[name] = endpoint
        self.lab.touch_model(model)
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
        self.lab.touch_model(model)
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
        if a.charm == "openstack-hypervisor" and action == "set-hypervisor-local-settings":
            unknown = set(params) - {"external-nic", "bridge-mapping", "spice-proxy-address",
                                     "ip-address", "pci-excluded-devices", "ovs-dpdk-ports"}
            if unknown:
                raise BackendError(f"action {action}: unknown parameters {sorted(unknown)}")
            await self.lab.op(f"hypervisor.local-settings@{host}", SECONDS["action"])
            snap = self.lab.host(host or "").snaps.get("openstack-hypervisor")
            if snap is not None and "bridge-mapping" in params:
                snap.config["network.bridge-mapping"] = params["bridge-mapping"]
                self.lab.save()
            return {}  # the charm sets no results
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
        facts = self.lab.host_facts(host)
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
        self.lab.model(model)
        for app in apps:
            self.lab.app(model, app)
        await self.lab.op(f"juju.wait-settled:{model}", 0.0)
        deadline = time.monotonic() + timeout
        while True:
            # One summary per application, shared by every waiter on it and recomputed only
            # when one of its units changes: a poll costs the number of applications.
            now = self.lab.now()
            summaries = self.lab.status_index.summaries(model, apps)
            for app, s in zip(apps, summaries, strict=True):
                if s.problem is not None and s.problem[0] == "wiring":
                    _, name, shown, missing = s.problem
                    # Its hooks are done and only a relation would change it: the plan made
                    # none, so it would wait forever. Say which.
                    raise BackendError(
                        f"unit {name} stays {shown}: the {app}:{missing.split(': ')[-1]}"
                        f" relation is missing ({missing})",
                        hint=f"`juju status -m {model} {app}` shows it; integrate "
                        "the missing relation and resume.",
                    )
                if s.problem is not None:
                    _, name, message = s.problem
                    raise BackendError(
                        f"unit {name} is in error: {message}",
                        hint=f"`juju debug-log -m {model} --include {name}` shows why.",
                    )
            total = sum(s.total for s in summaries)
            pending = sum(s.pending for s in summaries)
            if not pending:
                progress(f"{total} unit{'s' if total != 1 else ''} of {len(apps)} "
                         f"application{'s' if len(apps) != 1 else ''} active", 1.0)
                return
            settle_at, first, what = min(s.first for s in summaries if s.first is not None)
            progress(
                f"{total - pending}/{total} units active; {first} {what}",
                (total - pending) / total if total else None,
            )
            if time.monotonic() >= deadline:
                raise BackendError(
                    f"{pending} units of {', '.join(apps)} not active after {timeout:.0f} s "
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

    # -- day two: scale and removal (a converge; added by the converge work) -------------------

    async def scale_application(self, model: str, app: str, units: int) -> None:
        m = self.lab.model(model)
        if m.kind != "k8s":
            raise BackendError(f"ERROR scale-application is only for Kubernetes models; "
                               f"{model!r} is a machine model")
        self.lab.app(model, app)
        await self.lab.op(f"juju.scale:{app}", SECONDS["add-unit"])
        a = self.lab.app(model, app)
        while len(a.units) < units:
            self.lab.new_unit(model, app, a, None)
        for name in sorted(a.units, key=lambda u: int(u.rpartition("/")[2]))[units:]:
            del a.units[name]
            self.lab.touch_unit(model, app, name)
        self.lab.touch_app(model, app)
        self.lab.save()

    async def remove_unit(self, model: str, unit: str) -> None:
        m = self.lab.model(model)
        app, _, _ = unit.partition("/")
        a = self.lab.app(model, app)
        if unit not in a.units:
            raise BackendError(f"ERROR unit {unit!r} not found in model {model!r}")
        await self.lab.op(f"juju.remove-unit:{unit}", SECONDS["add-unit"])
        machine = a.units[unit].machine
        gone = [(app, unit)]
        if machine is not None:  # its subordinates go with it
            for sub, _ep in self._subordinates_of(m, app):
                gone += [(sub, u) for u, s in m.apps[sub].units.items() if s.machine == machine]
        for name, u in gone:
            m.apps[name].units.pop(u, None)
            self.lab.touch_unit(model, name, u)
        self.lab.save()

    async def remove_machine(self, model: str, machine: str) -> None:
        m = self.lab.model(model)
        if machine not in m.machines:
            raise BackendError(f"ERROR machine {machine} not found in model {model!r}")
        used = [u for a in m.apps.values() for u, s in a.units.items() if s.machine == machine]
        if used:
            raise BackendError(f"ERROR machine {machine} is hosting units {', '.join(used)}")
        await self.lab.op(f"juju.remove-machine:{machine}", SECONDS["add-unit"])
        del m.machines[machine]
        self.lab.touch_machine(model, machine)
        self.lab.save()

    async def remove_application(self, model: str, app: str) -> None:
        m = self.lab.model(model)
        self.lab.app(model, app)
        await self.lab.op(f"juju.remove-application:{app}", SECONDS["deploy"])
        offered = [o for o, ep in m.offers.items() if ep.split(":", 1)[0] == app]
        if offered:
            raise BackendError(f"ERROR cannot remove application {app!r}: it is offered as "
                               f"{', '.join(offered)}")
        m.relations = [r for r in m.relations
                       if app not in (r[0].split(":", 1)[0], r[1].split(":", 1)[0])]
        del m.apps[app]
        self.lab.touch_app(model, app)
        self.lab.touch_model(model)
        self.lab.save()

    async def remove_relation(self, model: str, a: str, b: str) -> None:
        m = self.lab.model(model)
        pair = tuple(sorted((a, b)))
        if pair not in m.relations:
            raise BackendError(f"ERROR relation {a} {b} not found")
        await self.lab.op(f"juju.remove-relation:{a}/{b}", SECONDS["integrate"])
        m.relations.remove((pair[0], pair[1]))
        self.lab.touch_model(model)
        self.lab.save()


def _k8s_minor(channel: str | None) -> tuple[int, int] | None:
    """(major, minor) of a k8s charm channel such as 1.31/stable; None when it names none."""
    track = (channel or "").split("/", 1)[0].split("-", 1)[0]
    parts = track.split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _check_k8s_skew(app: str, current: str | None, channel: str) -> None:
    """Kubernetes upgrades one minor version at a time (its version-skew policy): the lab
    refuses a k8s refresh that would skip one, as a cluster would fail it, so a plan that
    jumps from 1.30 to 1.32 fails in the lab too."""
    have, want = _k8s_minor(current), _k8s_minor(channel)
    if have is None or want is None or have[0] != want[0] or want[1] <= have[1] + 1:
        return
    raise BackendError(
        f"cannot refresh {app} from {current} to {channel}: Kubernetes upgrades one minor "
        "version at a time",
        hint=f"Refresh {app} to {have[0]}.{have[1] + 1} first.",
    )
