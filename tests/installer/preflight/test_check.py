from __future__ import annotations

import inspect
from ipaddress import IPv4Address, IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

import installer.preflight as preflight
from installer.preflight import (
    CHECKS,
    REAL_MODE_CHECKS,
    disks,
    naming,
    network,
    platform,
    proxy,
    resources,
    virtualization,
)
from installer.preflight.proxy import NoProxy
from manifests.iprange import IpRange


def test_every_check_function_is_run():
    modules = [disks, naming, network, platform, proxy, resources, virtualization]
    found = {
        fn
        for m in modules
        for name, fn in vars(m).items()
        if inspect.isfunction(fn)
        and fn.__module__ == m.__name__
        and not name.startswith("_")
        and list(inspect.signature(fn).parameters)[:3] == ["answers", "facts", "release"]
    }
    assert found == set(CHECKS) | set(REAL_MODE_CHECKS)
    assert len(CHECKS) + len(REAL_MODE_CHECKS) == len(found)  # none listed twice


def test_public_api():
    for name in ("check", "Finding", "summarize", "format_finding"):
        assert name in preflight.__all__


BASE = int(IPv4Address("10.0.0.0"))


@settings(max_examples=200, deadline=None)
@given(
    nets=st.lists(st.tuples(st.integers(0, 255), st.integers(24, 32)), max_size=5),
    lo=st.integers(0, 255),
    n=st.integers(0, 40),
)
def test_range_coverage_agrees_with_brute_force(nets, lo, n):
    networks = [IPv4Network((BASE + a, p), strict=False) for a, p in nets]
    hi = min(lo + n, 255)
    rng = IpRange(IPv4Address(BASE + lo), IPv4Address(BASE + hi))
    np = NoProxy.parse(",".join(str(x) for x in networks))
    brute = all(
        any(IPv4Address(BASE + a) in x for x in networks) for a in range(lo, hi + 1)
    )
    assert np.covers_range(rng) is brute
