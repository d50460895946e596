"""The Kubernetes API of the lab: its nodes and load-balancer pools."""

from __future__ import annotations

import asyncio
import time
from ipaddress import ip_address

from installer.backends.base import BackendError, ProgressFn
from installer.lab.cluster import LabCluster
from installer.lab.timing import SECONDS


class LabK8s:
    """The Kubernetes API of the cluster the k8s charm forms on the control hosts."""

    def __init__(self, lab: LabCluster) -> None:
        self.lab = lab

    async def nodes_ready(self) -> dict[str, bool]:
        return self.lab.k8s_nodes()

    async def wait_nodes_ready(self, count: int, *, progress: ProgressFn, timeout: float) -> None:
        await self.lab.op("k8s.wait-nodes-ready", 0.0)
        deadline = time.monotonic() + timeout
        while True:
            nodes = self.lab.k8s_nodes()
            ready = sum(nodes.values())
            progress(
                f"{ready}/{count} Kubernetes nodes ready", min(ready / count, 1.0) if count else 1.0
            )
            if ready >= count:
                return
            if time.monotonic() >= deadline:
                missing = sorted(h for h, r in nodes.items() if not r)
                raise BackendError(
                    f"{ready} of {count} Kubernetes nodes ready after {timeout:.0f} s"
                    + (f" (not ready: {', '.join(missing)})" if missing else ""),
                    hint="`sudo k8s status` on a control host shows what the nodes wait for.",
                )
            await asyncio.sleep(min(0.25, max(self.lab.time_scale * 5, 0.001)))

    def _require_cluster(self) -> None:
        if not any(self.lab.k8s_nodes().values()):
            raise BackendError(
                "the Kubernetes API is not reachable: no node is ready",
                hint="Wait for the k8s units to be active.",
            )

    async def lb_pool(self, name: str) -> str | None:
        self._require_cluster()
        return self.lab.state.lb_pools.get(name)

    async def set_lb_pool(self, name: str, address_range: str) -> None:
        self._require_cluster()
        start, sep, end = address_range.partition("-")
        if not sep or not _valid_address(start) or not _valid_address(end):
            raise BackendError(f"load-balancer range {address_range!r} is not START-END")
        await self.lab.op(f"k8s.set-lb-pool:{name}", SECONDS["lb-pool"])
        self.lab.state.lb_pools[name] = address_range
        self.lab.save()


def _valid_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
