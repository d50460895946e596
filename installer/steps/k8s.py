"""Kubernetes: the nodes the k8s charm forms, and the load-balancer pool for API endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import Step, StepContext, wait_timeout


@dataclass(eq=False, kw_only=True)
class NodesReady(Step):
    """Wait until `count` Kubernetes nodes are Ready."""

    count: int

    async def done(self, ctx: StepContext) -> bool:
        return sum((await ctx.backends.k8s.nodes_ready()).values()) >= self.count

    async def run(self, ctx: StepContext) -> None:
        await ctx.backends.k8s.wait_nodes_ready(
            self.count, progress=ctx.progress, timeout=wait_timeout(ctx)
        )


@dataclass(eq=False, kw_only=True)
class LoadBalancerPool(Step):
    """The L2 address pool Kubernetes gives LoadBalancer services (the OpenStack endpoints)."""

    name: str
    address_range: str  # START-END

    async def done(self, ctx: StepContext) -> bool:
        return await ctx.backends.k8s.lb_pool(self.name) == self.address_range

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"load-balancer pool {self.name}: {self.address_range}")
        await ctx.backends.k8s.set_lb_pool(self.name, self.address_range)
