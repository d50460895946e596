"""The interfaces steps use to change the world. The lab and the real backends implement them.

Every method is async. Progress and log lines go through the callbacks the step passes, so the
runner turns them into StepProgress / StepLog events. A failure raises BackendError; one that is
worth retrying (a snapd change conflict, a Juju API hiccup) has `transient=True`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

ProgressFn = Callable[[str, float | None], None]  # (message, fraction 0..1 or None)
LogFn = Callable[[str], None]


class BackendError(Exception):
    """An operation failed. `hint` tells the operator what to do about it."""

    def __init__(self, message: str, *, hint: str | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.transient = transient


@dataclass(frozen=True)
class SnapInfo:
    name: str
    channel: str
    revision: str
    classic: bool = False


@dataclass
class UnitStatus:
    name: str  # keystone-k8s/0
    workload: str  # active, waiting, blocked, maintenance, error, unknown
    agent: str  # idle, executing, allocating, error
    message: str = ""
    machine: str | None = None


@dataclass
class AppStatus:
    name: str
    charm: str
    channel: str | None
    revision: int | None
    units: dict[str, UnitStatus] = field(default_factory=dict)

    @property
    def settled(self) -> bool:
        """Every unit active and idle (an app with no units is not settled)."""
        return bool(self.units) and all(
            u.workload == "active" and u.agent == "idle" for u in self.units.values()
        )


@dataclass
class ModelStatus:
    name: str
    apps: dict[str, AppStatus] = field(default_factory=dict)
    machines: dict[str, str] = field(default_factory=dict)  # machine id -> hostname
    relations: set[frozenset[str]] = field(default_factory=set)  # {"a:ep", "b:ep"}
    offers: dict[str, str] = field(default_factory=dict)  # offer name -> "app:endpoint"
    # Remote applications consumed from offers (juju status "application-endpoints"):
    # local alias -> offer URL ("controller:admin/model.offer").
    consumed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    output_tail: tuple[str, ...] = ()


class SnapBackend(Protocol):
    async def info(self, host: str, name: str) -> SnapInfo | None: ...
    async def install(
        self, host: str, name: str, channel: str, *, classic: bool, progress: ProgressFn
    ) -> SnapInfo: ...
    async def refresh(
        self, host: str, name: str, channel: str, *, progress: ProgressFn
    ) -> SnapInfo: ...
    async def revert(self, host: str, name: str, *, progress: ProgressFn) -> SnapInfo: ...
    async def set_config(self, host: str, name: str, values: Mapping[str, object]) -> None: ...
    async def get_config(self, host: str, name: str, keys: Sequence[str]) -> dict[str, object]:
        """Values of `keys` (snapd GET /v2/snaps/{name}/conf?keys=...); unset keys are absent."""
        ...

    async def connect(self, host: str, plug: str, slot: str) -> None: ...


class JujuBackend(Protocol):
    async def controllers(self) -> list[str]: ...
    async def bootstrap(
        self, cloud: str, controller: str, *, log: LogFn,
        model_defaults: Mapping[str, object] | None = None,
    ) -> None: ...
    async def clouds(self) -> list[str]: ...
    async def add_k8s_cloud(self, name: str, kubeconfig: str) -> None: ...
    async def models(self) -> list[str]: ...
    async def add_model(
        self, name: str, cloud: str, *, config: Mapping[str, object] | None = None
    ) -> None: ...
    async def add_machine(
        self, model: str, address: str, ssh_user: str | None, *, log: LogFn
    ) -> str: ...
    async def status(self, model: str, apps: Collection[str] | None = None) -> ModelStatus:
        """The status of `model`. With `apps`, only those applications are in `apps` of the
        answer (and maybe only the machines and relations that concern them): ask for what the
        caller reads, so a thousand-host model is not read whole for one application."""
        ...
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
    ) -> None: ...
    async def add_unit(self, model: str, app: str, *, to: str) -> None: ...
    async def refresh(
        self, model: str, app: str, *, channel: str, revision: int | None = None
    ) -> None: ...
    async def config(self, model: str, app: str, values: Mapping[str, object]) -> None: ...
    async def integrate(self, model: str, a: str, b: str) -> None: ...
    async def offer(self, model: str, endpoint: str, name: str) -> None: ...
    async def consume(self, model: str, url: str, alias: str) -> None: ...
    async def run_action(
        self, model: str, unit: str, action: str, params: Mapping[str, object] | None = None
    ) -> dict[str, object]: ...
    async def wait_settled(
        self, model: str, apps: Sequence[str], *, progress: ProgressFn, timeout: float
    ) -> None: ...
    # -- day two (a converge: installer/planner/converge.py) ----------------------------------
    async def scale_application(self, model: str, app: str, units: int) -> None:
        """`juju scale-application APP N` (Kubernetes models only)."""
        ...
    async def remove_unit(self, model: str, unit: str) -> None:
        """`juju remove-unit UNIT` (its subordinates go with it)."""
        ...
    async def remove_machine(self, model: str, machine: str) -> None:
        """`juju remove-machine ID` (a machine without units)."""
        ...
    async def remove_application(self, model: str, app: str) -> None:
        """`juju remove-application APP` (its units and relations go with it)."""
        ...
    async def remove_relation(self, model: str, a: str, b: str) -> None:
        """`juju remove-relation A B` (endpoints written app:endpoint)."""
        ...


class K8sBackend(Protocol):
    async def nodes_ready(self) -> dict[str, bool]: ...
    async def wait_nodes_ready(
        self, count: int, *, progress: ProgressFn, timeout: float
    ) -> None: ...
    async def lb_pool(self, name: str) -> str | None: ...
    async def set_lb_pool(self, name: str, address_range: str) -> None: ...


class HostBackend(Protocol):
    async def run(
        self,
        host: str,
        argv: Sequence[str],
        *,
        sudo: bool = False,
        log: LogFn,
        timeout: float | None = None,
        secret_env: Mapping[str, str] | None = None,
    ) -> CommandResult: ...


@dataclass
class Backends:
    """What one run's steps talk to."""

    snaps: SnapBackend
    juju: JujuBackend
    k8s: K8sBackend
    hosts: HostBackend
    # Connections and clients to close when the command ends (the real backends' SSH
    # connections, HTTP clients); bound to the loop they were opened on.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        """Close what the backends opened; each closer runs even when another fails."""
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                await close()
        self.closers.clear()
