"""What `inspect` reads from the lab: the questions of installer/backends/diagnostics.py, answered
from the simulated cluster in the shapes the real cloud answers them with.

`juju status --format json` is built from the lab's Juju status (what `LabJuju.status` reports
to the steps); the debug-log tail, the pods and events of a Kubernetes model and the snap
changes of a host are synthesised from its models, units and snaps, dated by the units' own
timestamps. Nothing here changes the lab.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from installer.backends.base import BackendError, ModelStatus
from installer.lab.cluster import LabCluster
from installer.lab.juju import LabJuju
from installer.lab.k8s import LabK8s
from installer.lab.snaps import LabSnaps

JUJU_VERSION = "3.6.4"  # what the lab's controller says it runs


class LabDiagnostics:
    """DiagnosticsSource over the lab."""

    def __init__(self, lab: LabCluster) -> None:
        self.lab = lab

    async def models(self) -> list[str]:
        return sorted(self.lab.state.models)

    async def juju_status(self, model: str) -> dict[str, Any]:
        st = await LabJuju(self.lab).status(model)
        return status_json(self.lab, st)

    async def debug_log(self, model: str, lines: int) -> list[str]:
        return debug_log(self.lab, model)[-lines:] if lines > 0 else []

    async def pods(self, namespace: str) -> list[dict[str, Any]]:
        return [dict(p) for p in LabK8s(self.lab).pods(namespace)]

    async def k8s_events(self, namespace: str) -> list[dict[str, Any]]:
        return [dict(e) for e in LabK8s(self.lab).events(namespace)]

    async def snap_changes(self, host: str) -> list[dict[str, Any]]:
        return [dict(c) for c in LabSnaps(self.lab).changes(host)]


def _worst(workloads: list[str]) -> str:
    for status in ("error", "blocked", "waiting", "maintenance"):
        if status in workloads:
            return status
    return "active" if workloads else "unknown"


def status_json(lab: LabCluster, st: ModelStatus) -> dict[str, Any]:
    """`juju status --format json` of one lab model (the keys jubilant and operators read)."""
    m = lab.state.models[st.name]
    machines: dict[str, Any] = {}
    for mid, host in sorted(st.machines.items()):
        address = lab.state.hosts[host].address if host in lab.state.hosts else None
        machines[mid] = {
            "juju-status": {"current": "started"},
            "hostname": host,
            "dns-name": address,
            "ip-addresses": [address] if address else [],
            "base": {"name": "ubuntu", "channel": "24.04"},
        }
    related: dict[str, dict[str, list[str]]] = {}
    for pair in st.relations:
        ends = sorted(pair)
        for i, end in enumerate(ends):
            app, _, ep = end.partition(":")
            other = ends[1 - i].partition(":")[0] if len(ends) == 2 else app
            related.setdefault(app, {}).setdefault(ep, []).append(other)
    apps: dict[str, Any] = {}
    for name, a in st.apps.items():
        state = m.apps[name]
        units = {
            u.name: {
                "workload-status": {"current": u.workload, "message": u.message},
                "juju-status": {"current": u.agent},
                **({"machine": u.machine} if u.machine is not None else {}),
                **({"leader": True} if i == 0 else {}),
            }
            for i, u in enumerate(a.units.values())
        }
        apps[name] = {
            "charm": a.charm,
            "charm-channel": a.channel,
            "charm-rev": a.revision,
            **({"base": {"name": "ubuntu", "channel": state.base.split("@")[-1]}}
               if state.base else {}),
            "scale": len(units),
            "application-status": {"current": _worst([u.workload for u in a.units.values()])},
            "relations": {ep: sorted(set(v)) for ep, v in sorted(related.get(name, {}).items())},
            "units": units,
        }
    return {
        "model": {
            "name": st.name,
            "type": "caas" if m.kind == "k8s" else "iaas",
            "controller": lab.state.controller,
            "cloud": m.cloud,
            "version": JUJU_VERSION,
            "model-status": {"current": "available"},
        },
        "machines": machines,
        "applications": apps,
        "application-endpoints": {alias: {"url": url} for alias, url in st.consumed.items()},
        "offers": {name: {"application": ep.partition(":")[0],
                          "endpoints": {ep.partition(":")[2]: {}}}
                   for name, ep in st.offers.items()},
    }


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")


def debug_log(lab: LabCluster, model: str) -> list[str]:
    """The model's debug log as `juju debug-log` prints it (`entity: time LEVEL module message`),
    oldest first: each machine agent starting, each unit's install and start hooks, the relation
    hooks of its integrations, and what a unit that is not active reports."""
    try:
        m = lab.state.models[model]
    except KeyError:
        raise BackendError(f'model "{model}" not found') from None
    now = lab.now()
    entries: list[tuple[float, str]] = []
    first = min((u.started for a in m.apps.values() for u in a.units.values()), default=now)
    for mid in sorted(m.machines, key=lambda x: int(x) if x.isdigit() else 0):
        entries.append((first, f"machine-{mid}: {_clock(first)} INFO juju.worker.machiner "
                               f'"machine-{mid}" started'))
    uniter = "juju.worker.uniter.operation"
    for app_name, app in m.apps.items():
        eps = sorted({end.partition(":")[2] for pair in m.relations for end in pair
                      if end.partition(":")[0] == app_name})
        for unit_name, unit in app.units.items():
            entity = "unit-" + unit_name.replace("/", "-")
            workload, _agent, message = lab.app_unit_status(model, app_name, unit, now)

            def log(t: float, level: str, module: str, text: str, entity: str = entity) -> None:
                entries.append((t, f"{entity}: {_clock(t)} {level} {module} {text}"))

            log(unit.started, "INFO", "juju.worker.uniter", f'unit "{unit_name}" started')
            log(unit.started, "INFO", uniter,
                'ran "install" hook (via hook dispatching script: dispatch)')
            if workload == "error":
                log(unit.started, "ERROR", uniter,
                    f'hook "install" (via hook dispatching script: dispatch) failed: '
                    f"{message or 'exit status 1'}")
                continue
            if unit.settle_at > now:
                log(unit.started, "INFO", "unit." + unit_name + ".juju-log",
                    unit.activity or "maintenance")
                continue
            for ep in eps:
                log(unit.settle_at, "INFO", uniter,
                    f'ran "{ep}-relation-changed" hook (via hook dispatching script: dispatch)')
            log(unit.settle_at, "INFO", uniter,
                'ran "start" hook (via hook dispatching script: dispatch)')
            if workload != "active":
                log(unit.settle_at, "WARNING", "unit." + unit_name + ".juju-log",
                    f"Status: {workload}: {message}" if message else f"Status: {workload}")
    entries.sort(key=lambda e: e[0])
    return [line for _, line in entries]
