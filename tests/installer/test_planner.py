"""The planner: plan shape of the shipped examples, stable ids, minimal needs, features."""

from __future__ import annotations

import json

import pytest

from installer.cli import main
from installer.plan import Plan, PlanError
from installer.planner import plan, plan_summary, plan_to_json
from installer.steps.juju import Deploy
from manifests.answers import Answers
from manifests.release import load_release
from tests.installer.lab.helpers import EXAMPLES, example


def _plan(name: str) -> tuple[Answers, Plan]:
    a = example(name)
    return a, plan(a, load_release(a.release))


def _ancestors(p: Plan) -> dict[str, set[str]]:
    anc: dict[str, set[str]] = {}
    for s in p.steps:  # topological order: needs come first
        anc[s.id] = set(s.needs).union(*(anc[n] for n in s.needs)) if s.needs else set()
    return anc


@pytest.mark.parametrize("name", ["single-node", "three-node", "twelve-node"])
def test_plan_has_the_sunbeam_skeleton(name: str) -> None:
    a, p = _plan(name)
    ids = set(p.ids())
    first = a.hosts_with("control")[0].name
    for expected in (
        f"snap.install:juju@{first}", f"snap.install:lxd@{first}", "juju.bootstrap",
        "juju.add-model:openstack-machines", "juju.deploy:sunbeam-machine",
        "juju.deploy:epa-orchestrator", "juju.deploy:k8s", "k8s.nodes-ready",
        "juju.add-model:openstack", "juju.deploy:keystone",
        # one mysql-router per service (sunbeam-terraform modules/openstack-api/main.tf:46-86)
        "juju.integrate:nova:database/nova-mysql-router:database",
        "juju.integrate:nova-mysql-router:backend-database/mysql:database",
        "keystone.admin-password", "wait.active",
    ):
        assert expected in ids
    for h in a.hosts:  # every host, the first too, is a machine of openstack-machines
        assert f"juju.add-machine@{h.name}" in ids
        assert ("juju.deploy:sunbeam-machine" if h.name == a.hosts[0].name
                else f"juju.add-unit:sunbeam-machine@{h.name}") in ids
    for h in a.hosts_with("storage"):
        assert f"ceph.add-osd@{h.name}" in ids
        assert p[f"ceph.add-osd@{h.name}"].host == h.name
    # The charms install their snaps: the plan installs only juju, lxd and the openstack client.
    # (snap.proxy@HOST sets snapd's proxy where the answers give one: no snap of its own.)
    assert {s.id.split(":")[1].split("@")[0] for s in p.steps
            if s.id.startswith("snap.") and not s.id.startswith("snap.proxy@")} == {
        "juju", "lxd", "openstack"}
    # Every control-plane application of the release core is deployed (storage ones with it).
    release = load_release(a.release)
    for app in release.core:
        assert f"juju.deploy:{app}" in ids
    # wait.active is last and (transitively) needs everything.
    assert p.steps[-1].id == "wait.active"
    assert _ancestors(p)["wait.active"] == ids - {"wait.active"}


def test_step_counts_of_the_examples() -> None:
    counts = [len(_plan(n)[1]) for n in ("single-node", "three-node", "twelve-node")]
    # Sunbeam's graph: ~30 applications and ~80-130 integrations (one step each); the
    # twelve-node example has a proxy, set on each of its 12 hosts' snapd (snap.proxy@HOST).
    assert counts == [149, 189, 260 + 12]


@pytest.mark.parametrize("name", ["single-node", "three-node", "twelve-node"])
def test_the_openstack_client_is_installed_where_it_runs_before_it_runs(name: str) -> None:
    a, p = _plan(name)
    first = a.hosts_with("control")[0].name
    client = f"snap.install:openstack@{first}"  # Sunbeam's snap, with its `openstack` client
    assert p[client].host == first
    assert [s.id for s in p.steps if s.id.startswith("snap.install:openstack@")] == [client]
    anc = _ancestors(p)
    runs_openstack = [s for s in p.steps if s.id in ("keystone.admin-password", "network.external")]
    assert runs_openstack, "no step runs the openstack client"
    for s in runs_openstack:
        assert s.host == first and client in anc[s.id], s.id


def test_ids_and_needs_are_stable() -> None:
    a = example("twelve-node")
    release = load_release(a.release)
    assert plan_to_json(plan(a, release)) == plan_to_json(plan(a, release))


@pytest.mark.parametrize("name", ["single-node", "three-node", "twelve-node"])
def test_needs_are_minimal(name: str) -> None:
    """No step names a need that another of its needs already implies (transitive reduction)."""
    _, p = _plan(name)
    anc = _ancestors(p)
    for s in p.steps:
        for n in s.needs:
            others = set().union(*(anc[m] for m in s.needs if m != n))
            assert n not in others, f"{s.id} needs {n} twice over"
        assert len(set(s.needs)) == len(s.needs)


def test_hosts_proceed_independently() -> None:
    _, p = _plan("twelve-node")
    anc = _ancestors(p)
    # OSDs of one storage host never wait for another's.
    for h in ("sto1", "sto2", "sto3"):
        others = {f"ceph.add-osd@{o}" for o in ("sto1", "sto2", "sto3") if o != h}
        assert not anc[f"ceph.add-osd@{h}"] & others
    # cmp5's hypervisor waits for nothing of cmp6.
    assert not {x for x in anc["juju.add-unit:openstack-hypervisor@cmp5"] if x.endswith("@cmp6")}
    # Its unit needs the application and its machine; the application comes after the
    # control plane as in Sunbeam (plan2), but no other host's unit.
    assert set(p["juju.add-unit:openstack-hypervisor@cmp5"].needs) == {
        "juju.deploy:openstack-hypervisor", "juju.add-machine@cmp5"}
    # Storage hosts' microceph units wait for no compute host.
    assert not {x for x in anc["juju.add-unit:microceph@sto2"] if "cmp" in x}


def test_scales_follow_sunbeams_rules() -> None:
    # steps/openstack.py compute_*_scale: 1 node single; 3 control hosts multi -> 3 of each.
    for name, units in (("single-node", 1), ("three-node", 3), ("twelve-node", 3)):
        _, p = _plan(name)
        for app in ("keystone", "traefik", "mysql", "keystone-mysql-router"):
            d = p[f"juju.deploy:{app}"]
            assert isinstance(d, Deploy) and d.units == units, (name, app)
        ca = p["juju.deploy:certificate-authority"]
        assert isinstance(ca, Deploy) and ca.units == 1


def test_features_add_their_charms_and_required_features() -> None:
    # caas requires secrets and loadbalancer (caas/feature.py:649-654); secrets requires vault.
    # Sunbeam enables them with it; this installer refuses and names them all (README,
    # `features`), and deploys what the answers list once they do.
    a = example("single-node").model_copy(update={"features": ["caas"]})
    with pytest.raises(PlanError, match=r"Feature 'caas' needs secrets, loadbalancer, vault; add"):
        plan(a, load_release(a.release))
    a = a.model_copy(update={"features": ["caas", "secrets", "loadbalancer", "vault"]})
    p = plan(a, load_release(a.release))
    for app in ("magnum", "octavia", "barbican", "vault"):
        assert f"juju.deploy:{app}" in p
    assert "juju.deploy:heat" not in p  # orchestration was the 2024 requirement, no longer
    assert "juju.integrate:barbican:vault-kv/vault:vault-kv" in p
    assert "juju.integrate:octavia:barbican-service/barbican:barbican-service" in p
    assert "juju.deploy:designate" not in p
    # Integrations only between deployed applications.
    assert not [i for i in p.ids() if i.startswith("juju.integrate:designate")]


def test_unknown_feature_is_a_clear_error() -> None:
    a = example("single-node").model_copy(update={"features": ["teleport"]})
    with pytest.raises(PlanError, match=r"Feature 'teleport' is not in release 2025.1; choose"):
        plan(a, load_release(a.release))


def test_software_overrides_apply() -> None:
    a = example("twelve-node")
    p = plan(a, load_release(a.release))
    nova = p["juju.deploy:nova"]
    assert isinstance(nova, Deploy) and nova.config["cpu-allocation-ratio"] == 4.0
    override = {"keystone-k8s": {"channel": "2025.1/edge", "revision": 321}}
    b = Answers.model_validate({**a.model_dump(mode="json"), "software": override})
    keystone = plan(b, load_release(b.release))["juju.deploy:keystone"]
    assert isinstance(keystone, Deploy)
    assert (keystone.channel, keystone.revision) == ("2025.1/edge", 321)
    assert "2025.1/edge, revision 321" in keystone.title


def test_external_network_only_when_configured() -> None:
    _, single = _plan("single-node")
    assert "network.external" not in single
    assert not [i for i in single.ids() if i.startswith("hypervisor.external-nic")]
    _, twelve = _plan("twelve-node")
    assert "keystone.admin-password" in twelve["network.external"].needs
    assert "VLAN 120" in twelve["network.external"].title
    assert {f"hypervisor.external-nic@cmp{i}" for i in range(1, 7)} <= set(twelve.ids())
    nic = twelve["hypervisor.external-nic@cmp1"]
    # Sunbeam's bridge mapping through the charm's action (steps/configure.py:527-589).
    assert nic.bridge_mapping.startswith("br-physnet1:physnet1:")  # type: ignore[attr-defined]


def test_cross_model_relations() -> None:
    _, p = _plan("three-node")
    assert "juju.offer:keystone-credentials" in p
    # The offer implies the consuming model exists: no separate need.
    assert p["juju.consume:keystone-credentials@openstack-machines"].needs == (
        "juju.offer:keystone-credentials",)
    assert (
        "juju.integrate:openstack-hypervisor:amqp/rabbitmq:amqp" in p
        and "juju.integrate:cinder-volume-ceph:ceph/microceph:ceph" in p  # same model
        and "juju.integrate:glance:ceph/microceph:ceph" in p  # consumed in openstack
        and "juju.integrate:cinder:storage-backend/cinder-volume:storage-backend" in p
    )


def test_plan_json_and_summary() -> None:
    a, p = _plan("three-node")
    data = plan_to_json(p)
    assert data["steps"][0] == {  # type: ignore[index]
        "id": "snap.install:juju@node1", "kind": "snap.install",
        "title": "Install the juju snap (3.6/stable) on node1", "host": "node1", "needs": [],
        "params": {"snap": "juju", "channel": "3.6/stable", "classic": False, "host": "node1"},
    }
    deploy = next(s for s in data["steps"] if s["id"] == "juju.deploy:keystone")  # type: ignore[union-attr,index]
    assert deploy["kind"] == "juju.deploy"
    assert deploy["params"]["charm"] == "keystone-k8s" and deploy["params"]["units"] == 3
    assert deploy["params"]["model"] == "openstack"
    text = plan_summary(p, a)
    assert text.startswith("Plan: 189 steps on 3 hosts, OpenStack 2025.1")
    assert ("Deploy keystone (keystone-k8s 2025.1/stable, 3 units)  [juju.deploy:keystone]"
            in text)


def test_plan_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(EXAMPLES / "single-node.yaml"), "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert len(steps) == 149 and steps[-1]["id"] == "wait.active"
    assert main(["plan", str(EXAMPLES / "three-node.yaml")]) == 0
    assert "[juju.bootstrap]" in capsys.readouterr().out


def test_plan_command_bad_file(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "a.yaml"
    bad.write_text('version: 1\nrelease: "2025.1"\nhosts: []\n')
    assert main(["plan", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3:8: hosts:" in err and "Traceback" not in err
