"""Ceph (microceph): the OSDs of one storage host."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from installer.backends.base import BackendError
from installer.plan import JUJU, Step, StepContext, StepFailed
from installer.steps import unit_on
from installer.steps.juju import action_json


@dataclass(eq=False, kw_only=True)
class AddOsds(Step):
    """Give the host's `osd_devices` to Ceph (the microceph charm's add-osd action), one by one."""

    model: str
    devices: tuple[str, ...]
    app: str = "microceph"

    @property
    def resources(self) -> tuple[str, ...]:
        return (JUJU, *super().resources)  # Juju, and this host (its SSH connection)

    async def _unit(self, ctx: StepContext) -> str | None:
        status = await ctx.backends.juju.status(self.model, (self.app,))
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

    async def _kernel_names(self, ctx: StepContext, paths: Iterable[str]) -> dict[str, str]:
        """Each device path as the host resolves it (`readlink -f`): list-disks may report an
        OSD by its /dev name where the answers give a by-id link, or the other way round, and
        add-osd must never be sent twice for one disk. Unresolved paths stay as they are."""
        wanted = sorted(set(paths))
        same = {p: p for p in wanted}
        if not wanted or not self.host:
            return same
        lines: list[str] = []
        try:
            result = await ctx.backends.hosts.run(
                self.host, ["readlink", "-f", "--", *wanted], log=lines.append
            )
        except BackendError:
            return same
        # Only the resolved paths: a login shell may print other lines first.
        resolved = [line.strip() for line in lines if line.startswith("/")][-len(wanted):]
        if result.returncode != 0 or len(resolved) != len(wanted):
            return same
        return dict(zip(wanted, resolved, strict=True))

    async def _missing(self, ctx: StepContext, unit: str) -> list[str]:
        """The answers' devices that are not OSDs yet, matched by the disk they name."""
        present = await self._present(ctx, unit)
        names = await self._kernel_names(ctx, [*self.devices, *present])
        have = {names[p] for p in present} | present
        return [d for d in self.devices if d not in have and names[d] not in have]

    async def done(self, ctx: StepContext) -> bool:
        unit = await self._unit(ctx)
        return unit is not None and not await self._missing(ctx, unit)

    async def run(self, ctx: StepContext) -> None:
        unit = await self._unit(ctx)
        if unit is None:
            raise StepFailed(
                f"{self.app} has no unit on {self.host}, so its disks cannot become OSDs",
                hint=f"`juju status -m {self.model} {self.app}`; add the unit and resume.",
            )
        todo = await self._missing(ctx, unit)
        for i, device in enumerate(todo):
            ctx.progress(f"adding OSD {device}", i / len(todo))
            ctx.log(f"juju run {unit} add-osd device-id={device}")
            await ctx.backends.juju.run_action(self.model, unit, "add-osd", {"device-id": device})
        ctx.progress(f"{len(self.devices)} OSDs on {self.host}", 1.0)
