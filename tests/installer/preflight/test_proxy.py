from __future__ import annotations

import pytest

from installer.preflight import proxy
from installer.preflight.proxy import NoProxy
from manifests.iprange import IpRange

from .conftest import at


def codes(findings):
    return sorted(f.code for f in findings)


def test_no_proxy_needed_without_a_proxy(raw3, facts3, answers, release):
    raw3["proxy"] = {"http": None, "https": None, "no_proxy": None}
    assert proxy.no_proxy(answers(raw3), facts3, release) == []


def test_proxy_without_no_proxy_misses_everything(raw3, facts3, answers, release):
    raw3["proxy"]["no_proxy"] = None
    found = proxy.no_proxy(answers(raw3), facts3, release)
    assert codes(found) == [
        "no-proxy-missing-cidr",
        "no-proxy-missing-host",
        "no-proxy-missing-range",
    ]
    assert all(f.severity == "error" and f.path == ["proxy"] for f in found)
    by = {f.code: f for f in found}
    assert "10.20.0.0/24" in by["no-proxy-missing-cidr"].message
    assert "10.20.0.200-10.20.0.220" in by["no-proxy-missing-range"].message
    assert "node1, node2, node3" in by["no-proxy-missing-host"].message


def test_missing_cidr_points_at_no_proxy(raw3, facts3, answers, release):
    raw3["proxy"]["no_proxy"] = "localhost,.example.com,node1,node2,node3"
    found = proxy.no_proxy(answers(raw3), facts3, release)
    assert codes(found) == ["no-proxy-missing-cidr", "no-proxy-missing-range"]
    f = found[0]
    assert f.path == ["proxy", "no_proxy"] and at(raw3, f.path) == raw3["proxy"]["no_proxy"]
    assert f.hint == "Add 10.20.0.0/24 to proxy.no_proxy."
    # The range lies in the management CIDR, so adding it fixes both.
    assert found[1].hint == "Add 10.20.0.0/24 to proxy.no_proxy; it contains the range."


def test_wider_cidr_covers_both(raw3, facts3, answers, release):
    raw3["proxy"]["no_proxy"] = "10.0.0.0/8,node1,node2,node3"
    assert proxy.no_proxy(answers(raw3), facts3, release) == []


def test_range_outside_cidr_gets_exact_cidrs_in_hint(raw3, facts3, answers, release):
    raw3["network"]["loadbalancer_range"] = "10.30.0.200-10.30.0.203"
    raw3["proxy"]["no_proxy"] = "10.20.0.0/24,node1,node2,node3"
    [f] = proxy.no_proxy(answers(raw3), facts3, release)
    assert f.code == "no-proxy-missing-range" and f.hint == "Add 10.30.0.200/30 to proxy.no_proxy."


def test_one_missing_host_is_named_alone(raw3, facts3, answers, release):
    raw3["proxy"]["no_proxy"] = "10.20.0.0/24,node1,node3"
    [f] = proxy.no_proxy(answers(raw3), facts3, release)
    assert f.code == "no-proxy-missing-host"
    assert "host name node2;" in f.message


def test_many_missing_hosts_are_summarised(raw3, facts3, answers, release):
    raw3["hosts"] = [
        {"name": f"n{i}", "address": f"10.20.0.{i + 20}", "roles": ["compute"]} for i in range(30)
    ]
    raw3["proxy"]["no_proxy"] = "10.20.0.0/24"
    [f] = proxy.no_proxy(answers(raw3), {}, release)
    assert "host names n0, n1, n2, n3, n4, n5, n6, n7 and 22 more;" in f.message
    assert "domain" in f.hint and "n29" not in f.hint


def test_proxy_credentials_never_appear(raw3, facts3, answers, release):
    raw3["proxy"]["http"] = "http://alice:s3cr3t-pw@squid.example.com:3128"
    raw3["proxy"]["no_proxy"] = None
    for f in proxy.no_proxy(answers(raw3), facts3, release):
        assert "s3cr3t" not in f.model_dump_json()


@pytest.mark.parametrize(
    ("entries", "name", "covered"),
    [
        ("node1", "node1", True),
        ("NODE1", "node1", True),
        ("node1", "node10", False),
        (".example.com", "node1.example.com", True),
        ("example.com", "node1.example.com", True),
        ("*.example.com", "node1.example.com", True),
        (".example.com", "node1", False),
        ("ample.com", "node1.example.com", False),
        ("*", "anything", True),
        (" node1 , node2 ", "node2", True),
    ],
)
def test_name_coverage(entries, name, covered):
    assert NoProxy.parse(entries).covers_name(name) is covered


@pytest.mark.parametrize(
    ("entries", "rng", "covered"),
    [
        ("10.20.0.0/24", "10.20.0.200-10.20.0.220", True),
        (
            "10.20.0.200/29,10.20.0.208/29,10.20.0.216/30,10.20.0.220",
            "10.20.0.200-10.20.0.220",
            True,
        ),
        ("10.20.0.200/29,10.20.0.216/30,10.20.0.220", "10.20.0.200-10.20.0.220", False),
        ("10.20.0.200/29", "10.20.0.200-10.20.0.220", False),
        ("10.20.0.210", "10.20.0.210-10.20.0.210", True),
        ("fd00::/64", "10.20.0.1-10.20.0.2", False),
    ],
)
def test_range_coverage(entries, rng, covered):
    assert NoProxy.parse(entries).covers_range(IpRange.parse(rng)) is covered
