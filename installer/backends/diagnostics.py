"""What `inspect` reads from a real cloud for a bug report; it changes nothing.

Each source answers one question and raises (BackendError, or whatever its client raises) when it
cannot; the caller notes the failure in the bundle's MANIFEST and carries on with the others.

  models / juju_status   `juju models` and `juju status --format json` of each, as Juju prints it
  debug_log              the last lines of `juju debug-log --replay --no-tail` (Sunbeam's inspect
                         runs the same command; `--lines` and `--limit` mean different things
                         across Juju 3.x releases, so the tail is kept here, streamed, bounded)
  pods / k8s_events      the pods and events of a namespace over lightkube, as summaries (a pod's
                         spec carries its environment, which is no business of a bug report)
  snap_changes           snapd's `GET /v2/changes?select=all` of a host (local socket or SSH)

The lab answers the same questions (installer/lab/diagnostics.py) with the same shapes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from installer.backends.base import BackendError, Backends
from installer.backends.commands import capture_command, run_command

if TYPE_CHECKING:
    from installer.backends.k8s import LightkubeK8sBackend
    from installer.backends.snapd import SnapdSnapBackend


class DiagnosticsSource(Protocol):
    """The questions `inspect` asks of a cloud (real or lab)."""

    async def models(self) -> list[str]:
        """Short names of the controller's models."""
        ...

    async def juju_status(self, model: str) -> dict[str, Any]:
        """`juju status --format json` of `model`."""
        ...

    async def debug_log(self, model: str, lines: int) -> list[str]:
        """The last `lines` lines of the model's debug log."""
        ...

    async def pods(self, namespace: str) -> list[dict[str, Any]]:
        """A summary of each pod of `namespace` (`pod_summary` keys)."""
        ...

    async def k8s_events(self, namespace: str) -> list[dict[str, Any]]:
        """A summary of each event of `namespace` (`event_summary` keys)."""
        ...

    async def snap_changes(self, host: str) -> list[dict[str, Any]]:
        """snapd's changes on `host` (`/v2/changes?select=all` results)."""
        ...


def pod_summary(
    name: str,
    *,
    phase: str | None,
    node: str | None,
    started: str | None,
    containers: list[dict[str, Any]],
    conditions: list[dict[str, Any]],
) -> dict[str, Any]:
    """One pod as the bundle shows it, from the real API or the lab."""
    return {"name": name, "phase": phase, "node": node, "started": started,
            "containers": containers, "conditions": conditions}


def event_summary(
    *,
    type_: str | None,
    reason: str | None,
    obj: str,
    message: str | None,
    count: int | None,
    last: str | None,
) -> dict[str, Any]:
    """One Kubernetes event as the bundle shows it."""
    return {"type": type_, "reason": reason, "object": obj, "message": message,
            "count": count, "last": last}


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else None)


class RealDiagnostics:
    """DiagnosticsSource over the real backends' own clients (`from_backends`)."""

    def __init__(
        self,
        *,
        juju_binary: str,
        controller: str | None,
        k8s: LightkubeK8sBackend | None,
        snaps: SnapdSnapBackend | None,
    ) -> None:
        self.juju_binary = juju_binary
        self.controller = controller
        self.k8s = k8s
        self.snaps = snaps

    @classmethod
    def from_backends(cls, backends: Backends) -> RealDiagnostics:
        """The diagnostics of the clouds `real_backends()` talks to (the same juju binary and
        controller, Kubernetes client and snapd clients, SSH connections included)."""
        from installer.backends.juju import JujuCliBackend
        from installer.backends.k8s import LightkubeK8sBackend
        from installer.backends.snapd import SnapdSnapBackend

        juju = backends.juju
        if not isinstance(juju, JujuCliBackend):
            raise TypeError("RealDiagnostics needs the real Juju backend")
        k8s = backends.k8s if isinstance(backends.k8s, LightkubeK8sBackend) else None
        snaps = backends.snaps if isinstance(backends.snaps, SnapdSnapBackend) else None
        return cls(juju_binary=juju.cli_binary, controller=juju.controller, k8s=k8s, snaps=snaps)

    # -- juju ----------------------------------------------------------------------------------

    def _model(self, model: str) -> str:
        return f"{self.controller}:{model}" if self.controller and ":" not in model else model

    async def _juju_json(self, *args: str) -> Any:
        try:
            out = await capture_command([self.juju_binary, *args])
        except (FileNotFoundError, PermissionError) as e:
            raise BackendError(f"The juju command {self.juju_binary!r} cannot be run "
                               f"({e.strerror or type(e).__name__}).") from None
        if out.returncode != 0:
            raise BackendError(f"juju {args[0]} failed: {_last_line(out.stderr or out.stdout)}")
        try:
            return json.loads(out.stdout or "{}")
        except ValueError:
            raise BackendError(f"juju {args[0]} printed output that is not JSON.") from None

    async def models(self) -> list[str]:
        args = ["models", "--format", "json"]
        if self.controller:
            args += ["--controller", self.controller]
        data = await self._juju_json(*args)
        return sorted(
            str(m.get("short-name") or str(m.get("name", "")).split("/")[-1])
            for m in (data or {}).get("models") or []
        )

    async def juju_status(self, model: str) -> dict[str, Any]:
        data = await self._juju_json("status", "--format", "json", "--model", self._model(model))
        if not isinstance(data, dict):
            raise BackendError(f"juju status of {model} is not a JSON object.")
        return data

    async def debug_log(self, model: str, lines: int) -> list[str]:
        argv = [self.juju_binary, "debug-log", "--model", self._model(model), "--replay",
                "--no-tail"]
        # Streamed: a replayed log of a day-long install is large; only the tail is kept.
        result = await run_command(argv, tail=lines)
        if result.returncode != 0:
            last = result.output_tail[-1] if result.output_tail else f"exit {result.returncode}"
            raise BackendError(f"juju debug-log of {model} failed: {last}")
        return list(result.output_tail)

    # -- kubernetes ----------------------------------------------------------------------------

    def _k8s(self) -> LightkubeK8sBackend:
        if self.k8s is None:
            raise BackendError("no Kubernetes client for this cloud")
        return self.k8s

    async def pods(self, namespace: str) -> list[dict[str, Any]]:
        from lightkube.resources.core_v1 import Pod

        k8s = self._k8s()
        client = await k8s._ensure_client()

        async def collect() -> list[dict[str, Any]]:
            out = []
            async for pod in client.list(Pod, namespace=namespace):
                meta, st, spec = pod.metadata, pod.status, pod.spec
                containers = [
                    {"name": c.name, "ready": c.ready, "restarts": c.restartCount,
                     "state": _container_state(c.state)}
                    for c in (st.containerStatuses if st else None) or []
                ]
                conditions = [
                    {"type": c.type, "status": c.status, "reason": c.reason,
                     "message": c.message}
                    for c in (st.conditions if st else None) or []
                ]
                out.append(pod_summary(
                    meta.name if meta and meta.name else "?",
                    phase=st.phase if st else None,
                    node=spec.nodeName if spec else None,
                    started=_iso(st.startTime) if st else None,
                    containers=containers, conditions=conditions,
                ))
            return out

        pods: list[dict[str, Any]] = await k8s._guard(f"list the pods of {namespace}", collect())
        return pods

    async def k8s_events(self, namespace: str) -> list[dict[str, Any]]:
        from lightkube.resources.core_v1 import Event

        k8s = self._k8s()
        client = await k8s._ensure_client()

        async def collect() -> list[dict[str, Any]]:
            out = []
            async for ev in client.list(Event, namespace=namespace):
                involved = ev.involvedObject
                out.append(event_summary(
                    type_=ev.type, reason=ev.reason,
                    obj=f"{involved.kind or '?'}/{involved.name or '?'}",
                    message=ev.message, count=ev.count,
                    last=_iso(ev.lastTimestamp or ev.eventTime),
                ))
            return out

        events: list[dict[str, Any]] = await k8s._guard(
            f"list the events of {namespace}", collect())
        return events

    # -- snapd ---------------------------------------------------------------------------------

    async def snap_changes(self, host: str) -> list[dict[str, Any]]:
        if self.snaps is None:
            raise BackendError("no snapd client for this cloud")
        env = await self.snaps.client(host).request("GET", "/v2/changes",
                                                    params={"select": "all"})
        return [c for c in env.get("result") or [] if isinstance(c, dict)]


def _container_state(state: Any) -> str | None:
    """`running`, `waiting: CrashLoopBackOff`, `terminated: Error` from a ContainerState."""
    if state is None:
        return None
    for name in ("running", "waiting", "terminated"):
        part = getattr(state, name, None)
        if part is not None:
            reason = getattr(part, "reason", None)
            return f"{name}: {reason}" if reason else name
    return None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"
