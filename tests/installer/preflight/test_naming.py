from __future__ import annotations

from installer.preflight import naming

from .conftest import at


def test_answers_name_differs_from_the_hosts_own_name(raw3, facts3, answers, release):
    facts3["node2"].hostname = "compute-7"
    facts3["node2"].fqdn = "compute-7.maas"
    [f] = naming.hostname(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "hostname-mismatch", "node2")
    assert f.path == ["hosts", 1, "name"] and at(raw3, f.path) == "node2"
    assert "compute-7.maas" in f.message and "compute-7" in f.message
    assert "Binding failed for port" in f.hint and "hostnamectl set-hostname node2" in f.hint


def test_answers_may_use_short_name_or_fqdn(raw3, facts3, answers, release):
    raw3["hosts"][0]["name"] = "node1.example.com"
    raw3["hosts"][1]["name"] = "NODE2"
    facts = {
        "node1.example.com": facts3["node1"],
        "NODE2": facts3["node2"],
        "node3": facts3["node3"],
    }
    assert naming.hostname(answers(raw3), facts, release) == []


def test_fqdn_resolving_to_loopback(raw3, facts3, answers, release):
    facts3["node3"].fqdn_resolves_to = ["127.0.1.1"]
    [f] = naming.fqdn(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "fqdn-mismatch", "node3")
    assert f.path == ["hosts", 2, "address"] and at(raw3, f.path) == "10.20.0.13"
    assert f.message == (
        "FQDN node3.example.com of host node3 resolves to 127.0.1.1 (a loopback address, usually "
        "the 127.0.1.1 line of /etc/hosts); it must resolve to 10.20.0.13."
    )
    assert "OVN" in f.hint


def test_fqdn_resolving_elsewhere(raw3, facts3, answers, release):
    facts3["node1"].fqdn_resolves_to = ["10.20.0.99"]
    [f] = naming.fqdn(answers(raw3), facts3, release)
    assert "resolves to 10.20.0.99; it must resolve to 10.20.0.11" in f.message


def test_fqdn_unresolved(raw3, facts3, answers, release):
    facts3["node1"].fqdn_resolves_to = []
    [f] = naming.fqdn(answers(raw3), facts3, release)
    assert (f.severity, f.code) == ("error", "fqdn-unresolved")
    assert "10.20.0.11 node1.example.com node1`" in f.hint
    facts3["node1"].fqdn = None
    [f] = naming.fqdn(answers(raw3), facts3, release)
    assert "`10.20.0.11 node1`" in f.hint


def test_local_host_uses_the_address_in_the_management_cidr(raw1, facts1, answers, release):
    assert naming.fqdn(answers(raw1), facts1, release) == []
    facts1["sunbeam-vm"].fqdn_resolves_to = ["127.0.1.1"]
    [f] = naming.fqdn(answers(raw1), facts1, release)
    assert "must resolve to 192.168.122.50" in f.message
    assert f.path == ["hosts", 0, "name"]


def test_any_of_several_resolved_addresses_may_match(raw3, facts3, answers, release):
    facts3["node1"].fqdn_resolves_to = ["192.0.2.1", "10.20.0.11"]
    assert naming.fqdn(answers(raw3), facts3, release) == []
