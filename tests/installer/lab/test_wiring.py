"""The lab checks the wiring as Juju and the charms do: a plan missing one mandatory
integration leaves the install failed, naming the relation; wrong endpoints are refused.

The mandatory relations and messages are the charms' own (sunbeam-charms stable/2025.1
ops-sunbeam/ops_sunbeam/charm.py:90-114 and relation_handlers.py:128-143: "(<relation>)
integration missing"; mysql-router-k8s src/relations/database_requires.py:21-28; cinder-volume
src/charm.py:279-285 "Waiting for backends"), as /work/shared/reference/sunbeam-charms.md §1
records them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.backends.base import BackendError
from installer.lab import Lab
from installer.plan import Plan
from installer.planner import plan
from manifests.release import load_release
from tests.installer.lab.helpers import ctx_for, example, run_sequentially


def _without(p: Plan, step_id: str) -> Plan:
    assert step_id in p, step_id
    steps = [s for s in p.steps if s.id != step_id]
    for s in steps:
        s.needs = tuple(n for n in s.needs if n != step_id)
    return Plan(steps, kind=p.kind)


@pytest.mark.parametrize(
    ("removed", "message"),
    [
        # keystone-k8s: database is mandatory (charmcraft.yaml:164).
        ("juju.integrate:keystone:database/keystone-mysql-router:database",
         "keystone/0 stays blocked: (database) integration missing"),
        # nova-k8s: placement is mandatory (charmcraft.yaml:118).
        ("juju.integrate:nova:placement/placement:placement",
         "nova/0 stays blocked: (placement) integration missing"),
        # mysql-router: the app is blocked "Missing relation: backend-database", its unit waits.
        ("juju.integrate:glance-mysql-router:backend-database/mysql:database",
         "glance-mysql-router/0 stays waiting: the glance-mysql-router:backend-database "
         "relation is missing (Missing relation: backend-database)"),
        # openstack-hypervisor: nova-service is mandatory (charmcraft.yaml:240), cross-model.
        ("juju.integrate:openstack-hypervisor:nova-service/nova:nova-service",
         "openstack-hypervisor/0 stays blocked: (nova-service) integration missing"),
        # cinder-volume without its backend subordinate waits for backends.
        ("juju.integrate:cinder-volume-ceph:cinder-volume/cinder-volume:cinder-volume",
         "cinder-volume/0 stays waiting: (workload) Waiting for backends"),
    ],
)
async def test_a_missing_mandatory_integration_fails_the_install_naming_it(
    tmp_path: Path, removed: str, message: str
) -> None:
    a = example("single-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    p = _without(plan(a, load_release(a.release)), removed)
    with pytest.raises(BackendError) as e:
        await run_sequentially(p, ctx_for(a, lab.backends()))
    assert message in e.value.message


async def test_the_whole_plan_settles(tmp_path: Path) -> None:
    a = example("single-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    outcome = await run_sequentially(plan(a, load_release(a.release)), ctx_for(a, lab.backends()))
    assert outcome["wait.active"] in ("done", "skipped")  # time scale 0: settled at once
    # Subordinates got a unit beside their principal's; the charms installed their snaps.
    assert len(lab.app("openstack-machines", "epa-orchestrator").units) == 1
    assert len(lab.app("openstack-machines", "cinder-volume-ceph").units) == 1
    node = lab.state.hosts[a.hosts[0].name]
    assert {"microceph", "openstack-hypervisor", "cinder-volume", "k8s"} <= set(node.snaps)
    assert node.snaps["openstack-hypervisor"].channel == "2025.1/stable"


async def test_endpoints_that_do_not_exist_or_do_not_match_are_refused(tmp_path: Path) -> None:
    a = example("single-node")
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    p = plan(a, load_release(a.release))
    ctx = ctx_for(a, lab.backends())
    for step in p.steps:  # the applications, without their integrations
        if not step.id.startswith(("juju.deploy:", "juju.add-", "juju.bootstrap", "snap.",
                                   "k8s.")):
            continue
        if not await step.done(ctx):
            await step.run(ctx)
    juju = lab.backends().juju
    # keystone has no certificates endpoint (a relation Sunbeam never makes).
    with pytest.raises(BackendError, match='application "keystone" has no "certificates" relation'):
        await juju.integrate("openstack", "keystone:certificates",
                             "certificate-authority:certificates")
    # identity-credentials (keystone-credentials) is not identity-service (keystone).
    with pytest.raises(BackendError, match="no relations found"):
        await juju.integrate("openstack", "horizon:identity-credentials",
                             "keystone:identity-service")
