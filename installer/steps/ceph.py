"""Ceph (microceph): the OSDs of one storage host."""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import Step, StepContext, StepFailed
from installer.steps import unit_on
from installer.steps.juju import action_json


@dataclass(eq=False, kw_only=True)
class AddOsds(Step):
    """Give the host's `osd_devices` to Ceph (the microceph charm's add-osd action), one by one."""

    model: str
    devices: tuple[str, ...]
    app: str = "microceph"

    async def _unit(self, ctx: StepContext) -> str | None:
        status = await ctx.backends.juju.status(self.model)
        return unit_on(status, self.app, self.host or "")

    async def _present(self, ctx: StepContext, unit: str) -> set[str]:
        result = await ctx.backends.juju.run_action(self.model, unit, "list-disks")
        osds = action_json(result, "osds")
        if not isinstance(osds, list):
            return set()
        return {
            str(o.get("path"))
            for o in osds
            if isinstance(o, dict) and o.get("location") == self.host
        }

    async def done(self, ctx: StepContext) -> bool:
        unit = await self._unit(ctx)
        return unit is not None and set(self.devices) <= await self._present(ctx, unit)

    async def run(self, ctx: StepContext) -> None:
        unit = await self._unit(ctx)
        if unit is None:
            raise StepFailed(
                f"{self.app} has no unit on {self.host}, so its disks cannot become OSDs",
                hint=f"`juju status -m {self.model} {self.app}`; add the unit and resume.",
            )
        present = await self._present(ctx, unit)
        todo = [d for d in self.devices if d not in present]
        for i, device in enumerate(todo):
            ctx.progress(f"adding OSD {device}", i / len(todo))
            ctx.log(f"juju run {unit} add-osd device-id={device}")
            await ctx.backends.juju.run_action(self.model, unit, "add-osd", {"device-id": device})
        ctx.progress(f"{len(self.devices)} OSDs on {self.host}", 1.0)
