"""The Kubernetes API of the lab: its nodes and load-balancer pools."""

from __future__ import annotations

import asyncio
import time
import zlib
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

from installer.backends.base import BackendError, ProgressFn
from installer.lab.cluster import LabCluster
from installer.lab.state import ModelState
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

    # -- read-only views for `inspect` (the shapes of installer/backends/diagnostics.py) -------

    def pods(self, namespace: str) -> list[dict[str, Any]]:
        """The pods of `namespace`: Juju names a Kubernetes model's namespace after the model,
        with one pod per unit (`keystone-0` for keystone/0) and the model operator's pod."""
        from installer.backends.diagnostics import pod_summary

        self._require_cluster()
        m = self._namespace_model(namespace)
        nodes = sorted(h for h, ready in self.lab.k8s_nodes().items() if ready)
        now = self.lab.now()
        out = [pod_summary(
            f"modeloperator-{zlib.crc32(namespace.encode()):08x}", phase="Running",
            node=_node_for(namespace, nodes), started=None,
            containers=[{"name": "juju-operator", "ready": True, "restarts": 0,
                         "state": "running"}],
            conditions=[{"type": "Ready", "status": "True", "reason": None, "message": None}],
        )]
        for app_name, app in m.apps.items():
            workload_container = app.charm.removesuffix("-k8s")
            for unit_name, unit in app.units.items():
                workload, _agent, message = self.lab.app_unit_status(
                    m.name, app_name, unit, now)
                pod = unit_name.replace("/", "-")
                phase, state, ready = _pod_state(workload)
                containers = [
                    {"name": "charm", "ready": workload != "maintenance", "restarts": 0,
                     "state": "running" if workload != "maintenance" else state},
                    {"name": workload_container, "ready": ready,
                     "restarts": 3 if workload == "error" else 0, "state": state},
                ]
                out.append(pod_summary(
                    pod, phase=phase, node=_node_for(pod, nodes), started=_iso(unit.started),
                    containers=containers,
                    conditions=[{"type": "Ready", "status": str(ready),
                                 "reason": None if ready else "ContainersNotReady",
                                 "message": None if ready else message or None}],
                ))
        return out

    def events(self, namespace: str) -> list[dict[str, Any]]:
        """The events of `namespace`'s pods: scheduled and started, then a failing readiness
        probe for a pod not ready and a restart back-off for a unit in error."""
        from installer.backends.diagnostics import event_summary

        out = []
        for pod in self.pods(namespace):
            name, node, started = pod["name"], pod["node"], pod["started"]
            out.append(event_summary(
                type_="Normal", reason="Scheduled", obj=f"Pod/{name}",
                message=f"Successfully assigned {namespace}/{name} to {node}", count=1,
                last=started))
            for c in pod["containers"]:
                if c["state"] == "running":
                    out.append(event_summary(
                        type_="Normal", reason="Started", obj=f"Pod/{name}",
                        message=f"Started container {c['name']}", count=1, last=started))
                    if not c["ready"]:
                        out.append(event_summary(
                            type_="Warning", reason="Unhealthy", obj=f"Pod/{name}",
                            message=f"Readiness probe failed: container {c['name']} is not "
                            "ready", count=1, last=started))
                elif c["restarts"]:
                    out.append(event_summary(
                        type_="Warning", reason="BackOff", obj=f"Pod/{name}",
                        message=f"Back-off restarting failed container {c['name']} in pod "
                        f"{name}", count=c["restarts"], last=started))
                else:
                    out.append(event_summary(
                        type_="Normal", reason="Pulling", obj=f"Pod/{name}",
                        message=f"Pulling the image of container {c['name']}", count=1,
                        last=started))
        return out

    def _namespace_model(self, namespace: str) -> ModelState:
        m = self.lab.state.models.get(namespace)
        if m is None or m.kind != "k8s":
            raise BackendError(f'namespaces "{namespace}" not found',
                               hint="The Kubernetes model is created by an earlier step.")
        return m


def _pod_state(workload: str) -> tuple[str, str, bool]:
    """(phase, workload container state, ready) of a unit's pod by the unit's workload status."""
    if workload == "maintenance":
        return "Pending", "waiting: ContainerCreating", False
    if workload == "error":
        return "Running", "waiting: CrashLoopBackOff", False
    if workload == "waiting":
        return "Running", "running", False
    return "Running", "running", True  # active, or blocked on a relation: the pod itself runs


def _node_for(pod: str, nodes: list[str]) -> str | None:
    return nodes[zlib.crc32(pod.encode()) % len(nodes)] if nodes else None


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _valid_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
