"""The planner: answers + release manifest -> the deployment Sunbeam would build, and the DAG of
steps that installs it.

`deployment.py` says what is deployed (applications per model, units, placement, integrations,
offers; `bundle()` prints it as Juju bundles); `build.py` turns it into steps in Sunbeam's order.
"""

from __future__ import annotations

from dataclasses import fields

from installer.plan import Plan, PlanError, Step
from installer.planner.build import auth_url, build, k8s_cloud_name
from installer.planner.deployment import (
    CONTROLLER,
    bundle,
    control_plane_apps,
    deployment,
    enabled_features,
)
from installer.secrets import redact_url_credentials, redact_url_credentials_in
from manifests.answers import Answers
from manifests.release import K8S_MODEL, MACHINE_MODEL, Release

__all__ = [
    "CONTROLLER",
    "K8S_MODEL",
    "MACHINE_MODEL",
    "auth_url",
    "bundle",
    "control_plane_apps",
    "controller_name",
    "deployment",
    "enabled_features",
    "k8s_cloud_name",
    "plan",
    "plan_summary",
    "plan_to_json",
    "step_kind",
]


def controller_name(answers: Answers) -> str:
    """Sunbeam's controller name, whatever the deployment is called."""
    del answers
    return CONTROLLER


def plan(answers: Answers, release: Release) -> Plan:
    """The install plan of `answers` with `release`; PlanError when it cannot be planned."""
    if answers.release != release.release:
        raise PlanError(
            f"The answers ask for release {answers.release} but the manifest is "
            f"{release.release}; load the manifest the answers name."
        )
    return build(answers, release)


_KINDS = {
    "SnapInstall": "snap.install", "SnapRefresh": "snap.refresh", "SnapConfig": "snap.set",
    "Bootstrap": "juju.bootstrap", "AddMachine": "juju.add-machine", "AddModel": "juju.add-model",
    "AddK8sCloud": "juju.add-k8s", "Deploy": "juju.deploy", "AddUnit": "juju.add-unit",
    "Integrate": "juju.integrate", "Offer": "juju.offer", "Consume": "juju.consume",
    "WaitSettled": "juju.wait-active", "NodesReady": "k8s.nodes-ready",
    "AddOsds": "juju.run:microceph/add-osd",
    "ExternalNic": "juju.run:openstack-hypervisor/set-hypervisor-local-settings",
    "AdminPassword": "openstack.admin-password", "ExternalNetwork": "openstack.external-network",
}
_BASE_FIELDS = {"id", "title", "needs", "host", "timeout"}


def step_kind(step: Step) -> str:
    return _KINDS.get(type(step).__name__, type(step).__name__)


def _params(step: Step) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in fields(step):
        if f.name in _BASE_FIELDS:
            continue
        value = getattr(step, f.name)
        if isinstance(value, tuple):
            value = list(value)
        elif hasattr(value, "items"):
            value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
        out[f.name] = value
    if step.host is not None:
        out["host"] = step.host
    # Proxy URLs may carry credentials: shown as `***@` (the step itself keeps the real value).
    redacted = redact_url_credentials_in(out)
    assert isinstance(redacted, dict)
    return redacted


def plan_to_json(p: Plan) -> dict[str, object]:
    """`{"steps": [{"id", "kind", "title", "host", "needs": [...], "params": {...}}, ...]}`."""
    return {
        "steps": [
            {"id": s.id, "kind": step_kind(s), "title": s.title, "host": s.host,
             "needs": list(s.needs), "params": _params(s)}
            for s in p.steps
        ]
    }


def plan_summary(p: Plan, answers: Answers | None = None) -> str:
    """The plan as a person reads it: numbered steps in run order, each with what it waits for."""
    number = {s.id: i for i, s in enumerate(p.steps, 1)}
    hosts = sorted({s.host for s in p.steps if s.host})
    depth = p.critical_path({s.id: 1.0 for s in p.steps})
    head = f"{len(p)} steps on {len(hosts)} host{'s' if len(hosts) != 1 else ''}"
    if answers is not None:
        head += f", OpenStack {answers.release}"
    lines = [f"Plan: {head}; the longest chain is {depth:.0f} steps.", ""]
    width = len(str(len(p)))
    for i, s in enumerate(p.steps, 1):
        lines.append(redact_url_credentials(f"{i:>{width}}. {s.title}  [{s.id}]"))
        if s.needs:
            after = ", ".join(str(number[n]) for n in sorted(s.needs, key=number.__getitem__))
            lines.append(f"{'':>{width}}  after {after}")
    return "\n".join(lines)
