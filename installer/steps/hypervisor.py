"""The hypervisor: the external NIC through the openstack-hypervisor charm's action.

Sunbeam sets the NIC per unit with `set-hypervisor-local-settings` and a bridge mapping
(`br-physnet1:physnet1:eno2`); the charm writes it into its snap. Snap configuration set by hand
would be overwritten by the charm's next configure."""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import JUJU, Step, StepContext, StepFailed
from installer.steps import unit_on

ACTION = "set-hypervisor-local-settings"
SNAP = "openstack-hypervisor"
BRIDGE_MAPPING_KEY = "network.bridge-mapping"  # where the charm keeps it (charm.py:425-449)


@dataclass(eq=False, kw_only=True)
class ExternalNic(Step):
    """Tell the hypervisor unit on this host which NIC carries the external network."""

    model: str
    bridge_mapping: str  # bridge:physnet:nic
    app: str = "openstack-hypervisor"

    @property
    def resources(self) -> tuple[str, ...]:
        return (JUJU, *super().resources)  # Juju, and this host (its SSH connection)

    async def done(self, ctx: StepContext) -> bool:
        # The action reports nothing back; the charm writes the mapping into its snap, which
        # is where to read it (a read only: the charm owns the value).
        if self.host is None:
            return False
        config = await ctx.backends.snaps.get_config(self.host, SNAP, [BRIDGE_MAPPING_KEY])
        return config.get(BRIDGE_MAPPING_KEY) == self.bridge_mapping

    async def run(self, ctx: StepContext) -> None:
        status = await ctx.backends.juju.status(self.model, (self.app,))
        unit = unit_on(status, self.app, self.host or "")
        if unit is None:
            raise StepFailed(
                f"{self.app} has no unit on {self.host}, so its external NIC cannot be set",
                hint=f"`juju status -m {self.model} {self.app}`; add the unit and resume.",
            )
        ctx.log(f"juju run {unit} {ACTION} bridge-mapping='{self.bridge_mapping}'")
        await ctx.backends.juju.run_action(
            self.model, unit, ACTION, {"bridge-mapping": self.bridge_mapping}
        )
