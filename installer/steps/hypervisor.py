"""The hypervisor (openstack-hypervisor snap): host-local network settings."""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import Step, StepContext, StepFailed

EXTERNAL_NIC_KEY = "network.external-nic"


@dataclass(eq=False, kw_only=True)
class ExternalNic(Step):
    """Tell the hypervisor on this host which NIC carries the external (provider) network.

    A per-host value (NIC names differ between hosts), so it is snap configuration on the host
    rather than charm configuration shared by every unit."""

    nic: str
    snap: str = "openstack-hypervisor"

    async def done(self, ctx: StepContext) -> bool:
        config = await ctx.backends.snaps.get_config(self._h(), self.snap, [EXTERNAL_NIC_KEY])
        return config.get(EXTERNAL_NIC_KEY) == self.nic

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"snap set {self.snap} {EXTERNAL_NIC_KEY}={self.nic}")
        await ctx.backends.snaps.set_config(self._h(), self.snap, {EXTERNAL_NIC_KEY: self.nic})

    def _h(self) -> str:
        if self.host is None:
            raise StepFailed(f"step {self.id} names no host", hint="This is a bug in the plan.")
        return self.host
