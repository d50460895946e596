"""JujuCliBackend against a fake `juju` executable (tests/fakes/fake_juju.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from installer.backends.base import BackendError
from installer.backends.juju import JujuCliBackend
from tests.fakes.fake_juju import install_fake_juju


class FakeJuju:
    def __init__(self, tmp: Path) -> None:
        self.state_file = tmp / "juju-state.json"
        self.exe = install_fake_juju(tmp / "bin", self.state_file)

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text())

    def update(self, **values: Any) -> None:
        s = self.state if self.state_file.exists() else {}
        s.update(values)
        self.state_file.write_text(json.dumps(s))

    def calls(self, cmd: str) -> list[list[str]]:
        return [c for c in self.state["calls"] if c and c[0] == cmd]


@pytest.fixture
def fj(tmp_path: Path) -> FakeJuju:
    return FakeJuju(tmp_path)


def backend(fj: FakeJuju, **kw: Any) -> JujuCliBackend:
    kw.setdefault("poll_interval", 0.01)
    return JujuCliBackend(cli_binary=str(fj.exe), **kw)


async def _bootstrapped(fj: FakeJuju) -> JujuCliBackend:
    b = backend(fj)
    await b.bootstrap("manual", "sunbeam-controller", log=lambda _: None)
    return b


async def test_bootstrap_streams_and_sets_the_controller(fj: FakeJuju) -> None:
    b = backend(fj)
    assert await b.controllers() == []
    lines: list[str] = []
    await b.bootstrap("manual", "sunbeam-controller", log=lines.append)
    assert lines[0] == 'Creating Juju controller "sunbeam-controller" on manual'
    assert lines[-1].startswith("Bootstrap complete")
    assert await b.controllers() == ["sunbeam-controller"]
    assert b.controller == "sunbeam-controller"


async def test_bootstrap_failure_names_the_error(fj: FakeJuju) -> None:
    b = backend(fj)
    with pytest.raises(BackendError) as e:
        await b.bootstrap("nowhere", "c1", log=lambda _: None)
    assert 'unknown cloud "nowhere"' in e.value.message


async def test_clouds_add_k8s_and_models(fj: FakeJuju, tmp_path: Path) -> None:
    b = await _bootstrapped(fj)
    assert "k8s" not in await b.clouds()
    kubeconfig = "apiVersion: v1\nclusters: []\nusers:\n- name: u\n  user: {token: SECRET}\n"
    await b.add_k8s_cloud("k8s", kubeconfig)
    assert "k8s" in await b.clouds()
    call = fj.calls("add-k8s")[0]
    assert call == ["add-k8s", "k8s", "--controller", "sunbeam-controller"]
    assert "SECRET" not in " ".join(call)  # the token went on stdin
    assert fj.state["clouds"]["k8s"]["kubeconfig"] == kubeconfig
    await b.add_k8s_cloud("k8s", kubeconfig)  # again: already there, fine
    path = tmp_path / "kc.yaml"
    path.write_text(kubeconfig)
    await b.add_k8s_cloud("k8s-2", str(path))  # a path goes through KUBECONFIG
    assert fj.state["clouds"]["k8s-2"]["kubeconfig"] == kubeconfig

    assert await b.models() == ["controller"]
    await b.add_model("openstack", "k8s")
    await b.add_model("openstack", "k8s")  # idempotent
    await b.add_model("openstack-machines", "manual")
    assert await b.models() == ["controller", "openstack", "openstack-machines"]


async def test_add_machine_returns_the_id_and_is_idempotent(fj: FakeJuju) -> None:
    b = await _bootstrapped(fj)
    fj.update(hostnames={"10.20.0.11": "node1", "10.20.0.12": "node2"})
    await b.add_model("machines", "manual")
    lines: list[str] = []
    assert await b.add_machine("machines", "10.20.0.11", "ubuntu", log=lines.append) == "0"
    assert "created machine 0" in lines
    assert fj.calls("add-machine")[0] == [
        "add-machine",
        "--model",
        "sunbeam-controller:machines",
        "ssh:ubuntu@10.20.0.11",
    ]
    assert await b.add_machine("machines", "10.20.0.12", None, log=lines.append) == "1"
    assert await b.add_machine("machines", "10.20.0.11", "ubuntu", log=lines.append) == "0"
    assert len(fj.calls("add-machine")) == 2
    st = await b.status("machines")
    assert st.machines == {"0": "node1", "1": "node2"}  # id -> hostname, as steps expect


async def test_deploy_status_and_wait_settled(fj: FakeJuju) -> None:
    b = await _bootstrapped(fj)
    fj.update(settle_after=3)
    await b.add_model("machines", "manual")
    await b.add_machine("machines", "10.20.0.11", "ubuntu", log=lambda _: None)
    await b.deploy(
        "machines",
        "microceph",
        "microceph",
        channel="squid/stable",
        revision=130,
        config={"snap-channel": "squid/stable", "enable-rgw": False},
        trust=True,
        to=["0"],
        base="ubuntu@24.04",
    )
    call = fj.calls("deploy")[0]
    assert call[:4] == ["deploy", "--model", "sunbeam-controller:machines", "microceph"]
    for flag in (
        ["--channel", "squid/stable"],
        ["--revision", "130"],
        ["--to", "0"],
        ["--base", "ubuntu@24.04"],
        ["--config", "enable-rgw=false"],
    ):
        assert any(call[i : i + 2] == flag for i in range(len(call))), flag
    assert "--trust" in call
    await b.deploy("machines", "microceph", "microceph", channel="squid/stable")  # exists: fine

    st = await b.status("machines")
    app = st.apps["microceph"]
    assert (app.charm, app.channel, app.revision) == ("microceph", "squid/stable", 130)
    assert app.units["microceph/0"].machine == "0"
    assert not app.settled

    progress: list[tuple[str, float | None]] = []
    await b.wait_settled(
        "machines", ["microceph"], progress=lambda m, f: progress.append((m, f)), timeout=30
    )
    assert progress[-1] == ("1/1 units active", 1.0)
    assert any("microceph/0 maintenance: installing charm software" in m for m, _ in progress)
    assert (await b.status("machines")).apps["microceph"].settled


async def test_wait_settled_times_out_with_the_units_named(fj: FakeJuju) -> None:
    b = await _bootstrapped(fj)
    await b.add_model("m", "manual")
    fj.update(settle_after=10_000)
    await b.deploy("m", "keystone", "keystone-k8s", channel="2025.1/stable", num_units=2)
    with pytest.raises(BackendError) as e:
        await b.wait_settled("m", ["keystone", "glance"], progress=lambda m, f: None, timeout=0.3)
    assert "did not settle within 0.3 s" in e.value.message
    assert "keystone/0" in e.value.message


async def test_unit_in_error_fails_after_grace(fj: FakeJuju) -> None:
    b = await _bootstrapped(fj)
    b.error_grace = 0.05
    await b.add_model("m", "manual")
    fj.update(error_units=["nova/0"])
    await b.deploy("m", "nova", "nova-k8s", channel="2025.1/stable")
    with pytest.raises(BackendError) as e:
        await b.wait_settled("m", ["nova"], progress=lambda m, f: None, timeout=30)
    assert e.value.message.startswith("The unit nova/0 has been in error")
    assert 'hook failed: "install"' in e.value.message
    assert e.value.hint and "debug-log" in e.value.hint


async def test_add_unit_refresh_config(fj: FakeJuju) -> None:
    b = await _bootstrapped(fj)
    await b.add_model("m", "manual")
    await b.add_machine("m", "10.0.0.1", None, log=lambda _: None)
    await b.add_machine("m", "10.0.0.2", None, log=lambda _: None)
    await b.deploy("m", "hv", "openstack-hypervisor", channel="2024.1/stable", to=["0"])
    await b.add_unit("m", "hv", to="1")
    st = await b.status("m")
    assert sorted(st.apps["hv"].units) == ["hv/0", "hv/1"]
    assert st.apps["hv"].units["hv/1"].machine == "1"
    await b.refresh("m", "hv", channel="2025.1/stable")
    st = await b.status("m")
    assert st.apps["hv"].channel == "2025.1/stable" and st.apps["hv"].revision == 101
    await b.refresh("m", "hv", channel="2025.1/stable", revision=101)  # already there: fine
    await b.config("m", "hv", {"debug": True, "cpu-mode": "host-model", "ratio": 1.5})
    assert fj.state["models"]["sunbeam-controller:m"]["applications"]["hv"]["config"] == {
        "debug": "true",
        "cpu-mode": "host-model",
        "ratio": "1.5",
    }
    with pytest.raises(BackendError) as e:
        await b.config("m", "hv", {"bad": ["a", "list"]})
    assert "bad=['a', 'list']" in e.value.message


async def test_integrate_offer_consume_and_relations(fj: FakeJuju) -> None:
    b = await _bootstrapped(fj)
    await b.add_model("openstack", "manual")
    await b.add_model("machines", "manual")
    await b.deploy("openstack", "keystone", "keystone-k8s", channel="2025.1/stable")
    await b.deploy("openstack", "mysql", "mysql-k8s", channel="8.0/stable")
    await b.integrate("openstack", "keystone:database", "mysql:database")
    await b.integrate("openstack", "keystone:database", "mysql:database")  # exists: fine
    st = await b.status("openstack")
    assert st.relations == {frozenset({"keystone:database", "mysql:database"})}

    await b.offer("openstack", "keystone:identity-credentials", "keystone-creds")
    await b.offer("openstack", "keystone:identity-credentials", "keystone-creds")  # fine
    st = await b.status("openstack")
    assert st.offers == {"keystone-creds": "keystone:identity-credentials"}
    with pytest.raises(BackendError):
        await b.offer("openstack", "keystone", "x")

    await b.deploy("machines", "hv", "openstack-hypervisor", channel="2025.1/stable")
    await b.consume("machines", "sunbeam-controller:admin/openstack.keystone-creds", "keystone")
    await b.consume("machines", "sunbeam-controller:admin/openstack.keystone-creds", "keystone")
    await b.integrate("machines", "hv:identity-credentials", "keystone")
    st = await b.status("machines")
    assert frozenset({"hv:identity-credentials", "keystone:identity-credentials"}) in st.relations
    assert st.consumed == {"keystone": "sunbeam-controller:admin/openstack.keystone-creds"}


async def test_run_action_results_and_failure(fj: FakeJuju) -> None:
    b = await _bootstrapped(fj)
    await b.add_model("m", "manual")
    await b.deploy("m", "microceph", "microceph", channel="squid/stable")
    fj.update(action_results={"add-osd": {"status": "success"}})
    result = await b.run_action("m", "microceph/0", "add-osd", {"device-id": "/dev/sdb"})
    assert result["status"] == "success"
    assert fj.state["actions"][-1] == {
        "unit": "microceph/0",
        "action": "add-osd",
        "params": {"device-id": "/dev/sdb"},
    }
    fj.update(action_fail={"add-osd": "device /dev/sdc is mounted"})
    with pytest.raises(BackendError) as e:
        await b.run_action("m", "microceph/0", "add-osd", {"device-id": "/dev/sdc"})
    assert (
        e.value.message
        == "The juju action add-osd on microceph/0 failed: device /dev/sdc is mounted"
    )
    with pytest.raises(BackendError) as e2:
        await b.run_action("m", "microceph/7", "add-osd")
    assert "microceph/7" in e2.value.message


async def test_cli_errors_map_to_clear_and_transient_errors(fj: FakeJuju) -> None:
    b = await _bootstrapped(fj)
    await b.add_model("m", "manual")
    fj.update(
        fail={
            "deploy:nova-k8s": "ERROR cannot connect to API: dial tcp 10.0.0.1:17070: "
            "connect: connection refused"
        }
    )
    with pytest.raises(BackendError) as e:
        await b.deploy("m", "nova", "nova-k8s", channel="2025.1/stable")
    assert e.value.transient
    assert e.value.message.startswith("juju deploy nova failed: cannot connect to API")
    await b.deploy("m", "nova", "nova-k8s", channel="2025.1/stable")  # the retry works
    with pytest.raises(BackendError) as e2:
        await b.status("nope")
    assert not e2.value.transient and "model sunbeam-controller:nope not found" in e2.value.message


async def test_missing_juju_binary(tmp_path: Path) -> None:
    b = JujuCliBackend(cli_binary=str(tmp_path / "no-juju"))
    with pytest.raises(BackendError) as e:
        await b.controllers()
    assert (
        "was not found" in e.value.message and e.value.hint and "snap install juju" in e.value.hint
    )


async def test_a_timed_out_action_is_not_transient_and_names_its_task(tmp_path: Path) -> None:
    """A retry would send the action again while the first may still run (add-osd twice)."""
    juju = tmp_path / "juju"
    juju.write_text(
        "#!/bin/sh\n"
        "echo 'Running operation 7 with 1 task' >&2\n"
        "echo '  - task 8 on unit-microceph-0' >&2\n"
        "echo 'ERROR timed out waiting for results from: task 8' >&2\n"
        "exit 1\n"
    )
    juju.chmod(0o755)
    b = JujuCliBackend(cli_binary=str(juju), controller="c")
    with pytest.raises(BackendError) as e:
        await b.run_action("m", "microceph/0", "add-osd", {"device-id": "/dev/sdb"})
    assert not e.value.transient
    assert "task 8" in e.value.message and "juju show-task 8" in (e.value.hint or "")


async def _machine_with_a_subordinate(fj: FakeJuju) -> JujuCliBackend:
    b = await _bootstrapped(fj)
    await b.add_model("m", "manual")
    await b.add_machine("m", "10.0.0.1", None, log=lambda _: None)
    await b.deploy("m", "sunbeam-machine", "sunbeam-machine", channel="2025.1/stable", to=["0"])
    await b.deploy("m", "epa-orchestrator", "epa-orchestrator", channel="2025.1/stable",
                   num_units=0)
    await b.integrate("m", "sunbeam-machine:sunbeam-machine", "epa-orchestrator:sunbeam-machine")
    await b.deploy("m", "hv", "openstack-hypervisor", channel="2025.1/stable", to=["0"])
    return b


@pytest.mark.parametrize("drops_principals", [False, True])
async def test_status_of_some_applications_asks_juju_for_those_only(
    fj: FakeJuju, drops_principals: bool
) -> None:
    b = await _machine_with_a_subordinate(fj)
    fj.update(filter_drops_principals=drops_principals)
    before = len(fj.calls("status"))
    st = await b.status("m", ["epa-orchestrator"])
    assert set(st.apps) == {"epa-orchestrator"}
    unit = st.apps["epa-orchestrator"].units["epa-orchestrator/0"]
    assert unit.machine == "0"  # found under its principal's unit
    asked = fj.calls("status")[before:]
    assert asked[0][5:] == ["epa-orchestrator"]  # `juju status ... APP`
    if drops_principals:  # a Juju leaving the principal out is asked again with it
        assert [c[5:] for c in asked] == [["epa-orchestrator"],
                                          ["epa-orchestrator", "sunbeam-machine"]]
    else:
        assert len(asked) == 1
    assert set((await b.status("m")).apps) == {"sunbeam-machine", "epa-orchestrator", "hv"}


async def test_a_change_of_ours_is_seen_by_the_next_status(fj: FakeJuju) -> None:
    b = await _machine_with_a_subordinate(fj)
    b.poll_interval = 3600.0  # answers would be reused for an hour, but for our own changes
    await b.add_machine("m", "10.0.0.2", None, log=lambda _: None)
    assert (await b.status("m", ["hv"])).apps["hv"].units.keys() == {"hv/0"}
    calls = len(fj.calls("status"))
    assert (await b.status("m", ["hv"])).apps["hv"].units.keys() == {"hv/0"}
    assert len(fj.calls("status")) == calls  # reused: nothing changed
    await b.add_unit("m", "hv", to="1")
    assert (await b.status("m", ["hv"])).apps["hv"].units.keys() == {"hv/0", "hv/1"}
