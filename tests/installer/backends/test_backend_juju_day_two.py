"""JujuCliBackend's day-two operations (a converge) against the fake `juju` executable: the
commands it runs and what Juju's status shows after them."""

from __future__ import annotations

import pytest

from installer.backends.base import BackendError
from installer.backends.juju import JujuCliBackend
from tests.installer.backends.test_backend_juju import FakeJuju, _bootstrapped, fj  # noqa: F401

KUBECONFIG = "apiVersion: v1\nclusters: []\nusers:\n- name: u\n  user: {token: T}\n"


async def _k8s_model(fj: FakeJuju) -> JujuCliBackend:  # noqa: F811
    b = await _bootstrapped(fj)
    await b.add_k8s_cloud("k8s", KUBECONFIG)
    await b.add_model("openstack", "k8s")
    return b


async def test_scale_a_kubernetes_application_up_and_down(fj: FakeJuju) -> None:  # noqa: F811
    b = await _k8s_model(fj)
    await b.deploy("openstack", "keystone", "keystone-k8s", channel="2025.1/stable",
                   num_units=1)
    await b.scale_application("openstack", "keystone", 3)
    assert sorted((await b.status("openstack")).apps["keystone"].units) == [
        "keystone/0", "keystone/1", "keystone/2"]
    await b.scale_application("openstack", "keystone", 2)
    assert sorted((await b.status("openstack")).apps["keystone"].units) == [
        "keystone/0", "keystone/1"]
    assert fj.calls("scale-application")[-1] == [
        "scale-application", "--model", "sunbeam-controller:openstack", "keystone", "2"]


async def test_remove_units_then_the_machine_then_an_application(
        fj: FakeJuju) -> None:  # noqa: F811
    b = await _bootstrapped(fj)
    fj.update(hostnames={"10.20.0.11": "node1", "10.20.0.12": "node2"})
    await b.add_model("machines", "manual")
    for address in ("10.20.0.11", "10.20.0.12"):
        await b.add_machine("machines", address, "ubuntu", log=lambda _: None)
    await b.deploy("machines", "microceph", "microceph", channel="squid/stable", to=["0"])
    await b.add_unit("machines", "microceph", to="1")
    with pytest.raises(BackendError) as e:
        await b.remove_machine("machines", "1")
    assert "hosting units" in e.value.message  # units first, then the machine
    await b.remove_unit("machines", "microceph/1")
    await b.remove_machine("machines", "1")
    st = await b.status("machines")
    assert list(st.apps["microceph"].units) == ["microceph/0"]
    assert "1" not in st.machines
    assert "--no-prompt" in fj.calls("remove-unit")[0]
    await b.remove_application("machines", "microceph")
    assert "microceph" not in (await b.status("machines")).apps


async def test_remove_a_relation(fj: FakeJuju) -> None:  # noqa: F811
    b = await _k8s_model(fj)
    await b.deploy("openstack", "keystone", "keystone-k8s", channel="2025.1/stable")
    await b.deploy("openstack", "rabbitmq", "rabbitmq-k8s", channel="3.12/stable")
    await b.integrate("openstack", "keystone:amqp", "rabbitmq:amqp")
    assert frozenset(("keystone:amqp", "rabbitmq:amqp")) in (
        await b.status("openstack")).relations
    await b.remove_relation("openstack", "keystone:amqp", "rabbitmq:amqp")
    assert not (await b.status("openstack")).relations
    with pytest.raises(BackendError):
        await b.remove_relation("openstack", "keystone:amqp", "rabbitmq:amqp")
