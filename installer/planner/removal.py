"""What a converge removes (installer/planner/converge.py): the steps for everything the deployed
answers have and the new ones do not.

- A disabled feature (or a storage role gone from every host): its applications, and the
  integrations between applications that both stay. Juju removes an application's own
  relations with it.
- A host, or a role of a host, gone: only with `allow_removal`, and safely. A compute host's
  Nova service is disabled first (refused while guests run there); a storage host's OSDs leave
  only when Ceph says it is safe; then the host's units, then its machine.

Offers cannot be withdrawn by this version: a change that would remove one is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from installer.planner.build import auth_url
from installer.planner.changes import Change, ConvergeRefused, Refusal, unit_hosts
from installer.steps.remove import (
    DisableCompute,
    RemoveApplication,
    RemoveMachine,
    RemoveOsds,
    RemoveRelation,
    RemoveUnit,
)
from manifests.release import MACHINE_MODEL

if TYPE_CHECKING:
    from installer.plan import Step
    from installer.planner.deployment import Deployment
    from manifests.answers import Answers

PROG = "sunbeam-install"
# Units that go last from a host: the rest of its units are placed on what they prepare.
_LAST = ("sunbeam-machine",)


class RemovalRefused(ConvergeRefused):
    """A removal that is not allowed (no --allow-removal) or not supported."""


def removals(target: Answers, deployed: Answers, tdep: Deployment, ddep: Deployment, *,
             allow_removal: bool) -> tuple[list[Step], list[Change]]:
    """The removal steps from `deployed` to `target` (their deployments `ddep`, `tdep`), and
    the lines of the difference that say so; RemovalRefused for what may not be removed."""
    out: list[Step] = []
    refused: list[Refusal] = []

    gone_offers = sorted(set(ddep.offers) - set(tdep.offers))
    if gone_offers:
        refused.append(Refusal(("features",), (
            f"the offer(s) {', '.join(gone_offers)} would be withdrawn (a feature or role "
            "that offers them is gone); this version does not remove offers: keep "
            "the feature, or `juju remove-offer` by hand first.")))

    # A disabled feature's applications (principal or subordinate, any model).
    gone_apps = [a for a in ddep.apps.values() if a.name not in tdep.apps]
    kept_relations = {(r.model, frozenset((r.a, r.b))) for r in tdep.relations}
    for r in ddep.relations:
        if (r.model, frozenset((r.a, r.b))) in kept_relations:
            continue
        ends = [ep.split(":", 1)[0] for ep in (r.a, r.b)]
        if any(e in ddep.apps and e not in tdep.apps for e in ends):
            continue  # goes with its application
        step = RemoveRelation(id=f"juju.remove-relation:{r.a}/{r.b}",
                              title=f"Remove the integration {r.a} / {r.b} ({r.model} model)",
                              model=r.model, a=r.a, b=r.b)
        out.append(step)
    for app in gone_apps:
        if app.model == MACHINE_MODEL and app.spec.subordinate_to is None and \
                not allow_removal:
            hosts = ", ".join(app.hosts)
            refused.append(Refusal(("hosts",), (
                f"{app.name} would leave {hosts}: removing roles from hosts needs "
                "--allow-removal.")))
            continue
        out.append(RemoveApplication(id=f"juju.remove-application:{app.name}",
                                     title=f"Remove {app.name} ({app.model} model)",
                                     model=app.model, app=app.name))

    # Hosts and roles.
    target_hosts = {h.name for h in target.hosts}
    gone_hosts = [h for h in deployed.hosts if h.name not in target_hosts]
    removed_apps = {a.name for a in gone_apps}
    gone_units = sorted(set(unit_hosts(ddep)) - set(unit_hosts(tdep)))
    gone_units = [(a, h) for a, h in gone_units if a not in removed_apps]
    if (gone_hosts or gone_units) and not allow_removal:
        what = ", ".join(h.name for h in gone_hosts) or ", ".join(
            f"{a} on {h}" for a, h in gone_units)
        refused.append(Refusal(("hosts",), (
            f"{what} would be removed from the cloud: removing hosts or roles needs "
            f"--allow-removal (guests and OSDs are checked first).")))
    if refused:
        raise RemovalRefused(refused)

    first = deployed.hosts_with("control")[0].name
    units_by_host: dict[str, list[str]] = {}
    for name, host in gone_units:
        units_by_host.setdefault(host, []).append(name)
    for host, apps in units_by_host.items():
        before: list[str] = []
        if "openstack-hypervisor" in apps:
            before.append(_add(out, DisableCompute(
                id=f"compute.disable@{host}", host=first, compute_host=host,
                auth_url=auth_url(deployed),
                title=f"Check {host} runs no guests and disable its compute service")))
        if "microceph" in apps:
            ceph = next((h.name for h in target.hosts_with("storage") if h.name != host), host)
            before.append(_add(out, RemoveOsds(
                id=f"ceph.remove-osds@{host}", host=ceph, osd_host=host,
                title=f"Take the OSDs of {host} out of Ceph once it is safe")))
        units = [a for a in apps if a not in _LAST]
        removed = [_add(out, RemoveUnit(id=f"juju.remove-unit:{a}@{host}", host=host,
                                        needs=tuple(before), model=MACHINE_MODEL, app=a,
                                        title=f"Remove the {a} unit on {host}"))
                   for a in units]
        last = [_add(out, RemoveUnit(id=f"juju.remove-unit:{a}@{host}", host=host,
                                     needs=tuple(removed or before), model=MACHINE_MODEL, app=a,
                                     title=f"Remove the {a} unit on {host}"))
                for a in apps if a in _LAST]
        if host not in target_hosts:
            _add(out, RemoveMachine(id=f"juju.remove-machine@{host}", host=host,
                                    needs=tuple(last or removed or before), model=MACHINE_MODEL,
                                    title=f"Remove {host} from the {MACHINE_MODEL} model"))
    return out, [Change(step.id, step.title) for step in out]


def _add(out: list[Step], step: Step) -> str:
    out.append(step)
    return step.id
