"""OpenStack networking: the external (provider) network for floating IPs."""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import JUJU, Step, StepContext, StepFailed, wait_timeout
from installer.steps.identity import OPENSTACK, run_openstack

PHYSNET = "physnet1"


@dataclass(eq=False, kw_only=True)
class ExternalNetwork(Step):
    """Create the external network and its subnet in Neutron with the `openstack` client."""

    model: str
    auth_url: str
    cidr: str
    gateway: str
    pool_start: str
    pool_end: str
    vlan: int | None = None
    # The answers' network.dns_servers: Sunbeam's external network nameservers (reference §5.2,
    # `sunbeam configure`), the subnet's DNS servers.
    dns_servers: tuple[str, ...] = ()
    network: str = "external-network"
    subnet: str = "external-subnet"
    wait_for: tuple[str, ...] = ("keystone", "neutron")

    @property
    def resources(self) -> tuple[str, ...]:
        return (JUJU, *super().resources)  # Juju, and this host (its SSH connection)

    def _host(self) -> str:
        if self.host is None:
            raise StepFailed(f"step {self.id} names no host", hint="This is a bug in the plan.")
        return self.host

    async def _openstack(self, ctx: StepContext, *args: str) -> int:
        ctx.log("$ " + " ".join((OPENSTACK, *args)))
        result = await run_openstack(ctx, self._host(), self.auth_url, args, log=ctx.log)
        return result.returncode

    async def done(self, ctx: StepContext) -> bool:
        result = await run_openstack(
            ctx,
            self._host(),
            self.auth_url,
            ["subnet", "show", self.subnet, "-f", "value", "-c", "id"],
            log=lambda line: None,
        )
        return result.returncode == 0

    async def run(self, ctx: StepContext) -> None:
        await ctx.backends.juju.wait_settled(
            self.model, list(self.wait_for), progress=ctx.progress, timeout=wait_timeout(ctx)
        )
        if await self._openstack(ctx, "network", "show", self.network, "-f", "value", "-c", "id"):
            provider = (
                ["--provider-network-type", "vlan", "--provider-segment", str(self.vlan)]
                if self.vlan
                else ["--provider-network-type", "flat"]
            )
            rc = await self._openstack(
                ctx,
                "network",
                "create",
                self.network,
                "--external",
                "--share",
                *provider,
                "--provider-physical-network",
                PHYSNET,
            )
            if rc:
                raise StepFailed(
                    f"creating the external network {self.network} failed (exit {rc})",
                    hint="The log above has the client's message.",
                )
        rc = await self._openstack(
            ctx,
            "subnet",
            "create",
            self.subnet,
            "--network",
            self.network,
            "--subnet-range",
            self.cidr,
            "--gateway",
            self.gateway,
            "--allocation-pool",
            f"start={self.pool_start},end={self.pool_end}",
            *(arg for ns in self.dns_servers for arg in ("--dns-nameserver", ns)),
            "--no-dhcp",
        )
        if rc:
            raise StepFailed(
                f"creating the external subnet {self.subnet} ({self.cidr}) failed (exit {rc})",
                hint="The log above has the client's message.",
            )
