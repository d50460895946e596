"""K8sBackend over lightkube, with the kubeconfig the k8s snap writes.

Load-balancer pool: Canonical Kubernetes (the `k8s` snap, 1.32 in the 2025.1 release) implements
its load-balancer feature with MetalLB (k8s-snap's default feature set maps LoadBalancer to
MetalLB; Cilium does networking and ingress). So the pool is a MetalLB ``IPAddressPool``
(metallb.io/v1beta1) in ``metallb-system``, announced in L2 mode by an ``L2Advertisement`` of the
same name, which is what `loadbalancer_range` ("Kubernetes L2 pool") means. Both are handled as
lightkube generic resources (no CRD models needed).

lightkube 1.x runs on httpx2; it is imported only when a real run builds this backend.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from installer.backends.base import BackendError, ProgressFn

if TYPE_CHECKING:
    from lightkube import AsyncClient

# Where the k8s snap writes the cluster admin's kubeconfig (`k8s config` prints the same).
K8S_SNAP_KUBECONFIG = "/etc/kubernetes/admin.conf"
LB_NAMESPACE = "metallb-system"


def _api_error_message(e: Exception) -> str:
    status = getattr(e, "status", None)
    msg = getattr(status, "message", None) if status is not None else None
    return str(msg or e)


class LightkubeK8sBackend:
    """The real K8sBackend. `client` may be given (tests pass one with their own config).

    The kubeconfig file exists only on a control host (the k8s snap writes it there). When the
    installer runs elsewhere, `kubeconfig_source` (if given) supplies the kubeconfig's text
    instead: the real-mode factory asks the k8s charm (`juju run k8s/leader get-kubeconfig`),
    the same source the Juju k8s cloud is registered from. The text is kept in memory only.
    """

    def __init__(
        self,
        kubeconfig: str = K8S_SNAP_KUBECONFIG,
        *,
        lb_namespace: str = LB_NAMESPACE,
        poll_interval: float = 3.0,
        client: AsyncClient | None = None,
        kubeconfig_source: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.lb_namespace = lb_namespace
        self.poll_interval = poll_interval
        self.kubeconfig_source = kubeconfig_source
        self._client = client

    async def _ensure_client(self) -> AsyncClient:
        """The client, built from the kubeconfig file or else from `kubeconfig_source`."""
        if (
            self._client is None
            and self.kubeconfig_source is not None
            and not os.path.exists(self.kubeconfig)
        ):
            import yaml
            from lightkube import AsyncClient, KubeConfig
            from lightkube.core.exceptions import ConfigError

            text = await self.kubeconfig_source()
            try:
                data = yaml.safe_load(text)
                if not isinstance(data, dict):
                    raise ValueError("not a mapping")
                config = KubeConfig.from_dict(data)
                self._client = AsyncClient(config=config, field_manager="sunbeam-install")
            except (ConfigError, yaml.YAMLError, ValueError, KeyError, TypeError) as e:
                raise BackendError(
                    f"The kubeconfig the k8s charm returned cannot be used: {type(e).__name__}.",
                    hint="Check `juju run k8s/leader get-kubeconfig` in the machine model, or "
                    "give the kubeconfig's path.",
                ) from None
            return self._client
        return self._get_client()

    def _get_client(self) -> AsyncClient:
        if self._client is None:
            from lightkube import AsyncClient, KubeConfig
            from lightkube.core.exceptions import ConfigError

            if not os.path.exists(self.kubeconfig):
                raise BackendError(
                    f"The kubeconfig {self.kubeconfig} does not exist.",
                    hint="Kubernetes is not bootstrapped on this host yet (`sudo k8s status`), "
                    "or give the kubeconfig's path.",
                    transient=True,  # the k8s snap writes it during bootstrap
                )
            try:
                config = KubeConfig.from_file(self.kubeconfig)
                self._client = AsyncClient(config=config, field_manager="sunbeam-install")
            except (ConfigError, OSError, ValueError) as e:
                raise BackendError(
                    f"The kubeconfig {self.kubeconfig} cannot be used: {e}.",
                    hint="Regenerate it with `sudo k8s config > FILE` and point at that file.",
                ) from None
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _guard(self, what: str, coro: Any) -> Any:
        """Await a lightkube call; API and connection errors become BackendError."""
        import httpx2
        from lightkube.core.exceptions import ApiError

        try:
            return await coro
        except ApiError as e:
            code = getattr(e.status, "code", 0) or 0
            raise BackendError(
                f"Kubernetes refused to {what}: {_api_error_message(e)} (HTTP {code}).",
                hint="Check the cluster with `sudo k8s status` and `sudo k8s kubectl get nodes`.",
                transient=code in (429, 500, 502, 503, 504),
            ) from None
        except httpx2.TransportError as e:
            raise BackendError(
                f"Cannot reach the Kubernetes API to {what} ({e or type(e).__name__}).",
                hint="Check that the k8s snap's services run: `sudo k8s status`.",
                transient=True,
            ) from None

    # -- nodes -------------------------------------------------------------------------------

    async def nodes_ready(self) -> dict[str, bool]:
        from lightkube.resources.core_v1 import Node

        client = await self._ensure_client()

        async def collect() -> dict[str, bool]:
            out: dict[str, bool] = {}
            async for node in client.list(Node):
                name = node.metadata.name if node.metadata and node.metadata.name else "?"
                conds = (node.status.conditions if node.status else None) or []
                out[name] = any(c.type == "Ready" and c.status == "True" for c in conds)
            return out

        result: dict[str, bool] = await self._guard("list nodes", collect())
        return result

    async def wait_nodes_ready(self, count: int, *, progress: ProgressFn, timeout: float) -> None:
        """Wait until at least `count` nodes are Ready; an unreachable API is waited out."""
        deadline = time.monotonic() + timeout
        last: tuple[str, float | None] | None = None
        last_error: BackendError | None = None
        nodes: dict[str, bool] = {}
        while True:
            try:
                nodes = await self.nodes_ready()
                last_error = None
            except BackendError as e:
                if not e.transient:
                    raise
                last_error = e
            ready = sorted(n for n, ok in nodes.items() if ok)
            if last_error is None and len(ready) >= count:
                progress(f"{len(ready)}/{count} nodes ready", 1.0)
                return
            waiting = sorted(n for n, ok in nodes.items() if not ok)
            message = f"{len(ready)}/{count} nodes ready"
            if last_error is not None:
                message += "; waiting for the Kubernetes API"
            elif waiting:
                message += f"; waiting for {', '.join(waiting[:3])}"
            report = (message, round(min(len(ready) / count, 1.0), 4) if count else None)
            if report != last:
                progress(*report)
                last = report
            now = time.monotonic()
            if now >= deadline:
                detail = (
                    last_error.message
                    if last_error
                    else (
                        f"{len(ready)} of {count} ready"
                        + (f", not ready: {', '.join(waiting)}" if waiting else "")
                    )
                )
                raise BackendError(
                    f"Kubernetes nodes did not become ready within {timeout:g} s ({detail}).",
                    hint="Check `sudo k8s status` and `sudo k8s kubectl describe nodes` on the "
                    "control hosts.",
                )
            await asyncio.sleep(min(self.poll_interval, deadline - now))

    # -- load balancer pool ------------------------------------------------------------------

    @staticmethod
    def _resources() -> tuple[Any, Any]:
        from lightkube.generic_resource import create_namespaced_resource

        pool = create_namespaced_resource(
            "metallb.io", "v1beta1", "IPAddressPool", "ipaddresspools"
        )
        l2 = create_namespaced_resource(
            "metallb.io", "v1beta1", "L2Advertisement", "l2advertisements"
        )
        return pool, l2

    async def lb_pool(self, name: str) -> str | None:
        """The pool's address range(s), comma-separated, or None when there is no such pool."""
        pool_res, _ = self._resources()
        client = await self._ensure_client()
        try:
            obj = await self._guard(
                f"read the address pool {name}",
                _reraise_404(client.get(pool_res, name, namespace=self.lb_namespace)),
            )
        except _NotFound:
            return None
        addresses = (obj.get("spec") or {}).get("addresses") or []
        return ",".join(str(a) for a in addresses) or None

    async def set_lb_pool(self, name: str, address_range: str) -> None:
        """Create or update the pool `name` to hand out `address_range`, announced over L2."""
        from lightkube.models.meta_v1 import ObjectMeta
        from lightkube.types import PatchType

        pool_res, l2_res = self._resources()
        client = await self._ensure_client()
        ns = self.lb_namespace
        pool_spec = {"addresses": [address_range], "autoAssign": True}
        l2_spec = {"ipAddressPools": [name]}
        for res, spec, kind in (
            (pool_res, pool_spec, "address pool"),
            (l2_res, l2_spec, "L2 advertisement"),
        ):
            try:
                await self._guard(
                    f"read the {kind} {name}", _reraise_404(client.get(res, name, namespace=ns))
                )
                exists = True
            except _NotFound:
                exists = False
            if exists:
                await self._guard(
                    f"update the {kind} {name}",
                    client.patch(
                        res, name, {"spec": spec}, namespace=ns, patch_type=PatchType.MERGE
                    ),
                )
            else:
                obj = res(metadata=ObjectMeta(name=name, namespace=ns), spec=spec)
                await self._guard(f"create the {kind} {name}", client.create(obj))

    # -- namespace health (progress while the control plane comes up) ------------------------

    async def pods_ready(self, namespace: str) -> dict[str, bool]:
        """Each pod of `namespace` -> all its containers ready (a Succeeded pod counts ready)."""
        from lightkube.resources.core_v1 import Pod

        client = await self._ensure_client()

        async def collect() -> dict[str, bool]:
            out: dict[str, bool] = {}
            async for pod in client.list(Pod, namespace=namespace):
                name = pod.metadata.name if pod.metadata and pod.metadata.name else "?"
                st = pod.status
                phase = st.phase if st else None
                statuses = (st.containerStatuses if st else None) or []
                out[name] = phase == "Succeeded" or (
                    phase == "Running" and bool(statuses) and all(c.ready for c in statuses)
                )
            return out

        result: dict[str, bool] = await self._guard(f"list the pods of {namespace}", collect())
        return result

    async def namespace_health(self, namespace: str) -> tuple[int, int]:
        """(ready pods, all pods) of `namespace`: the control plane's progress in numbers."""
        pods = await self.pods_ready(namespace)
        return sum(pods.values()), len(pods)


class _NotFound(Exception):
    pass


async def _reraise_404(coro: Any) -> Any:
    from lightkube.core.exceptions import ApiError

    try:
        return await coro
    except ApiError as e:
        if getattr(e.status, "code", None) == 404:
            raise _NotFound() from None
        raise
