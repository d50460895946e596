"""Juju: the controller, machines, clouds and models, applications, relations and offers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from installer.plan import JUJU, Step, StepContext, StepFailed, wait_timeout
from installer.steps import machine_of, unit_on


class JujuStep(Step):
    """A step that talks to the Juju controller only: it holds the JUJU resource."""

    @property
    def resources(self) -> tuple[str, ...]:
        return (JUJU,)


@dataclass(eq=False, kw_only=True)
class Bootstrap(JujuStep):
    """`juju bootstrap CLOUD CONTROLLER [--model-default K=V ...]` on the first control host.

    `model_defaults` apply to every model of the controller, its own included: Sunbeam's
    BootstrapJujuStep passes the proxy this way (reference §5.1 plan4)."""

    cloud: str  # manual/ubuntu@10.20.0.11
    controller: str
    model_defaults: Mapping[str, object] = field(default_factory=dict)

    async def done(self, ctx: StepContext) -> bool:
        return self.controller in await ctx.backends.juju.controllers()

    async def run(self, ctx: StepContext) -> None:
        ctx.progress(f"bootstrapping {self.controller} on {self.cloud}", None)
        if self.model_defaults:
            await ctx.backends.juju.bootstrap(
                self.cloud, self.controller, log=ctx.log, model_defaults=dict(self.model_defaults)
            )
        else:
            await ctx.backends.juju.bootstrap(self.cloud, self.controller, log=ctx.log)


@dataclass(eq=False, kw_only=True)
class AddMachine(Step):
    """`juju add-machine ssh:[user@]ADDRESS`: the host becomes a machine of `model`.

    It holds its host, not the controller: Juju's manual provisioning spends its minutes on the
    host over SSH (packages, the agent); the controller sees one machine record, then the new
    agent's login, which it rate-limits itself (agent-ratelimit-max/-rate)."""

    model: str
    address: str
    ssh_user: str | None = None

    async def done(self, ctx: StepContext) -> bool:
        status = await ctx.backends.juju.status(self.model)
        return self.host is not None and machine_of(status, self.host) is not None

    async def run(self, ctx: StepContext) -> None:
        machine = await ctx.backends.juju.add_machine(
            self.model, self.address, self.ssh_user, log=ctx.log
        )
        ctx.log(f"{self.host} is machine {machine} of model {self.model}")


@dataclass(eq=False, kw_only=True)
class Deploy(JujuStep):
    """`juju deploy CHARM APP` with the release's channel, revision and config.

    In a machine model the units go to the machines of `hosts` (one each); on Kubernetes
    `units` pods are created."""

    model: str
    app: str
    charm: str
    channel: str
    revision: int | None = None
    config: Mapping[str, object] = field(default_factory=dict)
    trust: bool = False
    units: int = 1
    hosts: tuple[str, ...] = ()
    base: str | None = None

    async def done(self, ctx: StepContext) -> bool:
        return self.app in (await ctx.backends.juju.status(self.model, (self.app,))).apps

    async def run(self, ctx: StepContext) -> None:
        juju = ctx.backends.juju
        to: list[str] = []
        if self.hosts:
            status = await juju.status(self.model)
            for host in self.hosts:
                machine = machine_of(status, host)
                if machine is None:
                    raise StepFailed(
                        f"{host} is not a machine of model {self.model}, so {self.app} "
                        "cannot be placed on it",
                        hint=f"`juju machines -m {self.model}`; add {host} and resume.",
                    )
                to.append(machine)
        rev = f" --revision {self.revision}" if self.revision else ""
        where = f" --to {','.join(to)}" if to else f" -n {self.units}"
        ctx.log(f"juju deploy {self.charm} {self.app} --channel {self.channel}{rev}{where}")
        await juju.deploy(
            self.model,
            self.app,
            self.charm,
            channel=self.channel,
            revision=self.revision,
            config=dict(self.config),
            trust=self.trust,
            num_units=max(self.units, len(to)),
            to=to,
            base=self.base,
        )


@dataclass(eq=False, kw_only=True)
class AddUnit(JujuStep):
    """`juju add-unit APP --to MACHINE`: one more unit of a machine charm, on `host`."""

    model: str
    app: str

    async def done(self, ctx: StepContext) -> bool:
        # The application's units come with the machines they are on: enough for unit_on.
        status = await ctx.backends.juju.status(self.model, (self.app,))
        return self.host is not None and unit_on(status, self.app, self.host) is not None

    async def run(self, ctx: StepContext) -> None:
        status = await ctx.backends.juju.status(self.model)  # every machine: this host's too
        machine = machine_of(status, self.host or "")
        if machine is None:
            raise StepFailed(
                f"{self.host} is not a machine of model {self.model}",
                hint=f"`juju machines -m {self.model}`; add {self.host} and resume.",
            )
        ctx.log(f"juju add-unit {self.app} --to {machine}")
        await ctx.backends.juju.add_unit(self.model, self.app, to=machine)


@dataclass(eq=False, kw_only=True)
class Integrate(JujuStep):
    """`juju integrate A B` (endpoints written app:endpoint)."""

    model: str
    a: str
    b: str

    async def done(self, ctx: StepContext) -> bool:
        # The whole model: a relation's far end may be a consumed offer, whose endpoint a
        # status filtered to applications might not carry.
        status = await ctx.backends.juju.status(self.model)
        return frozenset((self.a, self.b)) in status.relations

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"juju integrate -m {self.model} {self.a} {self.b}")
        await ctx.backends.juju.integrate(self.model, self.a, self.b)


@dataclass(eq=False, kw_only=True)
class Offer(JujuStep):
    """`juju offer APP:ENDPOINT NAME`: share an endpoint with another model."""

    model: str
    endpoint: str
    name: str

    async def done(self, ctx: StepContext) -> bool:
        return self.name in (await ctx.backends.juju.status(self.model)).offers

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"juju offer -m {self.model} {self.endpoint} {self.name}")
        await ctx.backends.juju.offer(self.model, self.endpoint, self.name)


@dataclass(eq=False, kw_only=True)
class Consume(JujuStep):
    """`juju consume URL ALIAS`: use another model's offer as a local application."""

    model: str
    url: str
    alias: str

    async def done(self, ctx: StepContext) -> bool:
        return self.alias in (await ctx.backends.juju.status(self.model)).consumed

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"juju consume -m {self.model} {self.url} {self.alias}")
        await ctx.backends.juju.consume(self.model, self.url, self.alias)


@dataclass(eq=False, kw_only=True)
class AddK8sCloud(JujuStep):
    """Register the Kubernetes cluster the k8s charm formed as a Juju cloud."""

    name: str
    machine_model: str
    k8s_app: str = "k8s"

    async def done(self, ctx: StepContext) -> bool:
        return self.name in await ctx.backends.juju.clouds()

    async def run(self, ctx: StepContext) -> None:
        juju = ctx.backends.juju
        result = await juju.run_action(
            self.machine_model, f"{self.k8s_app}/leader", "get-kubeconfig"
        )
        kubeconfig = result.get("kubeconfig")
        if not isinstance(kubeconfig, str) or not kubeconfig:
            raise StepFailed(
                f"the {self.k8s_app} charm's get-kubeconfig action returned no kubeconfig",
                hint=f"`juju run {self.k8s_app}/leader get-kubeconfig -m {self.machine_model}`"
                " shows what it says.",
            )
        # The kubeconfig holds a cluster credential: it is passed on, never logged.
        ctx.log(f"juju add-k8s {self.name} (kubeconfig from {self.k8s_app}/leader)")
        await juju.add_k8s_cloud(self.name, kubeconfig)


@dataclass(eq=False, kw_only=True)
class AddModel(JujuStep):
    """`juju add-model NAME CLOUD [--config K=V ...]`.

    `config` is the model's config: the proxy, as Sunbeam's AddJujuModelStep and the
    openstack-plan's model give it (reference §5.1 plan2, §5.4)."""

    name: str
    cloud: str
    config: Mapping[str, object] = field(default_factory=dict)

    async def done(self, ctx: StepContext) -> bool:
        return self.name in await ctx.backends.juju.models()

    async def run(self, ctx: StepContext) -> None:
        settings = "".join(f" --config {k}={v}" for k, v in self.config.items())
        ctx.log(f"juju add-model {self.name} {self.cloud}{settings}")
        if self.config:
            await ctx.backends.juju.add_model(self.name, self.cloud, config=dict(self.config))
        else:
            await ctx.backends.juju.add_model(self.name, self.cloud)


@dataclass(eq=False, kw_only=True)
class WaitSettled(JujuStep):
    """Wait until every unit of the given applications is active and idle."""

    apps: Mapping[str, tuple[str, ...]]  # model -> applications

    async def done(self, ctx: StepContext) -> bool:
        for model, apps in self.apps.items():
            status = await ctx.backends.juju.status(model, apps)
            if not all(a in status.apps and status.apps[a].settled for a in apps):
                return False
        return True

    async def run(self, ctx: StepContext) -> None:
        for model, apps in self.apps.items():
            ctx.log(f"waiting for {len(apps)} applications of model {model} to settle")
            await ctx.backends.juju.wait_settled(
                model, list(apps), progress=ctx.progress, timeout=wait_timeout(ctx)
            )


def action_json(result: Mapping[str, object], key: str) -> object:
    """A JSON-encoded action result field (Juju action results are strings)."""
    raw = result.get(key)
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw
