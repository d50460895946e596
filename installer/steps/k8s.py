"""Kubernetes: the nodes the k8s charm forms, and the load-balancer pool for API endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import K8S, Step, StepContext, wait_timeout


class K8sStep(Step):
    """A step that talks to the Kubernetes API server only: it holds the K8S resource."""

    @property
    def resources(self) -> tuple[str, ...]:
        return (K8S,)


@dataclass(eq=False, kw_only=True)
class NodesReady(K8sStep):
    """Wait until `count` Kubernetes nodes are Ready."""

    count: int

    async def done(self, ctx: StepContext) -> bool:
        return sum((await ctx.backends.k8s.nodes_ready()).values()) >= self.count

    async def run(self, ctx: StepContext) -> None:
        await ctx.backends.k8s.wait_nodes_ready(
            self.count, progress=ctx.progress, timeout=wait_timeout(ctx)
        )


@dataclass(eq=False, kw_only=True)
class LoadBalancerPool(K8sStep):
    """The L2 address pool Kubernetes gives LoadBalancer services (the OpenStack endpoints)."""

    name: str
    address_range: str  # START-END

    async def done(self, ctx: StepContext) -> bool:
        return await ctx.backends.k8s.lb_pool(self.name) == self.address_range

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"load-balancer pool {self.name}: {self.address_range}")
        await ctx.backends.k8s.set_lb_pool(self.name, self.address_range)
