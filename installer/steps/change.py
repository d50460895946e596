"""Changes to applications already deployed (a converge, installer/planner/converge.py):
scale a Kubernetes application, refresh it to another channel, set its configuration.

Each is idempotent: done() reads the application's live state, so a resumed converge skips
what the first attempt finished."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from installer.plan import StepContext, StepFailed
from installer.steps.juju import JujuStep


@dataclass(eq=False, kw_only=True)
class ScaleApplication(JujuStep):
    """`juju scale-application APP N`: a Kubernetes application's unit count (Sunbeam's
    `resize`, when the control hosts cross a topology threshold)."""

    model: str
    app: str
    units: int

    async def done(self, ctx: StepContext) -> bool:
        a = (await ctx.backends.juju.status(self.model, (self.app,))).apps.get(self.app)
        return a is not None and len(a.units) == self.units

    async def run(self, ctx: StepContext) -> None:
        if (await ctx.backends.juju.status(self.model, (self.app,))).apps.get(self.app) is None:
            raise StepFailed(f"{self.app} is not deployed in model {self.model}",
                             hint=f"`juju status -m {self.model}` shows what is deployed.")
        ctx.log(f"juju scale-application -m {self.model} {self.app} {self.units}")
        await ctx.backends.juju.scale_application(self.model, self.app, self.units)


@dataclass(eq=False, kw_only=True)
class RefreshApplication(JujuStep):
    """`juju refresh APP --channel C [--revision R]`: a changed `software` channel."""

    model: str
    app: str
    channel: str
    revision: int | None = None

    async def done(self, ctx: StepContext) -> bool:
        a = (await ctx.backends.juju.status(self.model, (self.app,))).apps.get(self.app)
        if a is None or a.channel != self.channel:
            return False
        return self.revision is None or a.revision == self.revision

    async def run(self, ctx: StepContext) -> None:
        rev = f" --revision {self.revision}" if self.revision is not None else ""
        ctx.log(f"juju refresh -m {self.model} {self.app} --channel {self.channel}{rev}")
        await ctx.backends.juju.refresh(self.model, self.app, channel=self.channel,
                                        revision=self.revision)


@dataclass(eq=False, kw_only=True)
class ConfigApplication(JujuStep):
    """`juju config APP K=V ...`: changed `software` configuration (or a planner-set option,
    e.g. the load-balancer range). Juju's status does not show configuration, so done() is
    False: setting the same values again is harmless."""

    model: str
    app: str
    config: Mapping[str, object] = field(default_factory=dict)

    async def done(self, ctx: StepContext) -> bool:
        del ctx
        return False

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"juju config -m {self.model} {self.app} {' '.join(sorted(self.config))}")
        await ctx.backends.juju.config(self.model, self.app, dict(self.config))
