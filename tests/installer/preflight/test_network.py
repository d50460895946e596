from __future__ import annotations

from installer.preflight import network
from probes.facts import Nic

from .conftest import at


def test_address_not_on_host_is_an_error(raw3, facts3, answers, release):
    raw3["hosts"][1]["address"] = "10.20.0.42"
    [f] = network.address_on_host(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "address-not-on-host", "node2")
    assert f.path == ["hosts", 1, "address"] and at(raw3, f.path) == "10.20.0.42"
    assert "10.20.0.42" in f.message and "10.20.0.12" in f.message
    assert "127.0.0.1" not in f.message  # loopback is not a candidate


def test_address_absent_is_the_local_case_and_skipped(raw1, facts1, answers, release):
    assert "address" not in raw1["hosts"][0]
    assert network.address_on_host(answers(raw1), facts1, release) == []


def test_local_host_without_management_address(raw1, facts1, answers, release):
    raw1["network"]["management_cidr"] = "10.99.0.0/24"
    raw1["network"]["loadbalancer_range"] = "10.99.0.200-10.99.0.210"
    [f] = network.management_address_present(answers(raw1), facts1, release)
    assert (f.severity, f.code) == ("error", "no-management-address")
    assert f.path == ["network", "management_cidr"]
    assert "10.99.0.0/24" in f.message


def test_external_nic_missing(raw3, facts3, answers, release):
    raw3["hosts"][0]["external_nic"] = "eno9"
    [f] = network.external_nic(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "external-nic-not-found", "node1")
    assert f.path == ["hosts", 0, "external_nic"] and at(raw3, f.path) == "eno9"
    assert "eno9" in f.message
    assert "eno2" in f.hint and "eno1" not in f.hint  # eno1 carries addresses


def test_external_nic_with_default_route_is_an_error(raw3, facts3, answers, release):
    raw3["hosts"][2]["external_nic"] = "eno1"
    [f] = network.external_nic(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "external-nic-is-default-route", "node3")
    assert "eno1" in f.message


def test_external_nic_with_management_address_is_a_warning(raw3, facts3, answers, release):
    # The default route leaves through eno3; the management address stays on eno1.
    facts3["node1"].default_route.nic = "eno3"  # type: ignore[union-attr]
    raw3["hosts"][0]["external_nic"] = "eno1"
    [f] = network.external_nic(answers(raw3), facts3, release)
    assert (f.severity, f.code) == ("warning", "external-nic-is-management")
    assert "10.20.0.11" in f.message and "eno1" in f.message


def test_external_nic_under_the_management_bridge(raw3, facts3, answers, release):
    # Management address on br0, whose member is eno2: taking eno2 takes the address with it.
    hf = facts3["node2"]
    eno1 = hf.nic("eno1")
    assert eno1 is not None
    hf.nics.append(Nic(name="br0", kind="bridge", state="up", members=["eno2"], ipv4=eno1.ipv4))
    eno1.ipv4 = []
    hf.nic("eno2").master = "br0"  # type: ignore[union-attr]
    [f] = network.external_nic(answers(raw3), facts3, release)
    assert (f.code, f.host) == ("external-nic-is-management", "node2")
    assert "through br0 (bridge)" in f.message


def test_external_nic_is_the_parent_of_the_default_route_vlan(raw3, facts3, answers, release):
    hf = facts3["node1"]
    hf.nics.append(Nic(name="eno2.100", kind="vlan", vlan_id=100, vlan_parent="eno2"))
    hf.default_route.nic = "eno2.100"  # type: ignore[union-attr]
    [f] = network.external_nic(answers(raw3), facts3, release)
    assert f.code == "external-nic-is-default-route" and "through eno2.100" in f.message


def test_external_nic_without_link_is_a_warning(raw3, facts3, answers, release):
    raw3["hosts"][0]["external_nic"] = "eno3"
    [f] = network.external_nic(answers(raw3), facts3, release)
    assert (f.severity, f.code) == ("warning", "external-nic-no-link")
    assert "eno3" in f.message and "down" in f.message


def test_single_node_external_nic_fine(raw1, facts1, answers, release):
    assert network.external_nic(answers(raw1), facts1, release) == []
    raw1["hosts"][0]["external_nic"] = "enp1s0"  # carries the address and the default route
    [f] = network.external_nic(answers(raw1), facts1, release)
    assert f.code == "external-nic-is-default-route"
