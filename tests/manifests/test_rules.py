"""Every static rule of DESIGN.md, broken once, points at the value at fault."""

from __future__ import annotations

import pytest

from manifests.loader import AnswersError, load_answers_text

from ..conftest import EXAMPLES

THREE = (EXAMPLES / "three-node.yaml").read_text()
SINGLE = (EXAMPLES / "single-node.yaml").read_text()
TWELVE = (EXAMPLES / "twelve-node.yaml").read_text()


def only_problem(text: str) -> str:
    with pytest.raises(AnswersError) as e:
        load_answers_text(text, "a.yaml")
    assert len(e.value.problems) == 1, str(e.value)
    return e.value.problems[0].format()


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return n
    raise AssertionError(needle)


def test_control_on_two_hosts() -> None:
    text = THREE.replace(
        "    roles: [control, compute, storage]\n    osd_devices:\n      - "
        "/dev/disk/by-id/wwn-0x5000c500a1b2c321",
        "    roles: [compute, storage]\n    osd_devices:\n      - "
        "/dev/disk/by-id/wwn-0x5000c500a1b2c321",
    )
    p = only_problem(text)
    n = line_of(text, "roles: [control, compute, storage]", 2)
    assert p.startswith(
        f"a.yaml:{n}:12: hosts[1].roles: the control role is on 2 hosts "
        "(node1 and node2); it must be on 1 host, or on 3 or more"
    )


def test_no_control_host() -> None:
    text = SINGLE.replace("roles: [control, compute, storage]", "roles: [compute, storage]")
    p = only_problem(text)
    assert p.startswith(
        f"a.yaml:{line_of(text, '  - name: node1')}:3: hosts: no host has the control role"
    )


def test_no_compute_host() -> None:
    text = SINGLE.replace("roles: [control, compute, storage]", "roles: [control, storage]")
    assert "hosts: no host has the compute role; give it to at least one host" in only_problem(text)


def test_storage_without_devices() -> None:
    text = SINGLE.replace(
        "    osd_devices:                # whole, empty disks for Ceph OSDs "
        "(wiped!); by-id paths survive reboots\n      - "
        "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4\n",
        "",
    )
    p = only_problem(text)
    assert p.startswith(
        f"a.yaml:{line_of(text, 'roles:')}:12: hosts[0].roles: host node1 has "
        "the storage role but no osd_devices"
    )


def test_devices_without_storage_role() -> None:
    text = SINGLE.replace("roles: [control, compute, storage]", "roles: [control, compute]")
    assert (
        "hosts[0].osd_devices: host node1 lists osd_devices but has no storage role"
        in only_problem(text)
    )


def test_external_nic_without_compute_role() -> None:
    text = TWELVE.replace(
        "roles: [storage]\n    osd_devices:                # 4",
        "roles: [storage]\n    external_nic: eno9\n    osd_devices:                # 4",
    )
    assert (
        "hosts[9].external_nic: host sto1 names an external_nic but has no compute role"
        in only_problem(text)
    )


def test_duplicate_host_name() -> None:
    text = THREE.replace("  - name: node3", "  - name: NODE1")
    p = only_problem(text)
    assert p == (
        f"a.yaml:{line_of(text, 'name: NODE1')}:11: hosts[2].name: host name 'NODE1' is "
        "also used by hosts[0]; names must be unique"
    )


def test_duplicate_host_address() -> None:
    text = THREE.replace("address: 10.20.0.13", "address: 10.20.0.11")
    p = only_problem(text)
    assert p == (
        f"a.yaml:{line_of(text, 'address: 10.20.0.11', 2)}:14: hosts[2].address: "
        "address 10.20.0.11 is also used by hosts[0] (node1); addresses must be unique"
    )


def test_address_outside_management_cidr() -> None:
    text = THREE.replace("address: 10.20.0.12", "address: 10.21.0.12")
    assert (
        "hosts[1].address: address 10.21.0.12 of host node2 is outside the management "
        "network 10.20.0.0/24" in only_problem(text)
    )


def test_address_is_network_address() -> None:
    text = THREE.replace("address: 10.20.0.12", "address: 10.20.0.0")
    assert "is the network or broadcast address of 10.20.0.0/24" in only_problem(text)


def test_two_local_hosts() -> None:
    text = THREE.replace("    address: 10.20.0.12\n    ssh_user: ubuntu\n", "").replace(
        "    address: 10.20.0.13\n    ssh_user: ubuntu\n", ""
    )
    assert "hosts[2].name: host node3 has no address, and neither has hosts[1]" in only_problem(
        text
    )


def test_ssh_user_without_address() -> None:
    text = SINGLE.replace("    roles: [control", "    ssh_user: ubuntu\n    roles: [control")
    assert "hosts[0].ssh_user: host node1 has an ssh_user but no address" in only_problem(text)


def test_loadbalancer_range_reversed() -> None:
    text = THREE.replace("10.20.0.200-10.20.0.220", "10.20.0.220-10.20.0.200")
    p = only_problem(text)
    assert p == (
        f"a.yaml:{line_of(text, 'loadbalancer_range')}:23: network.loadbalancer_range: "
        "range 10.20.0.220-10.20.0.200 ends before it starts; write the lower address "
        "first"
    )


def test_loadbalancer_range_outside_management() -> None:
    text = THREE.replace("10.20.0.200-10.20.0.220", "10.20.1.200-10.20.1.220")
    assert (
        "network.loadbalancer_range: range 10.20.1.200-10.20.1.220 is not inside the "
        "management network 10.20.0.0/24" in only_problem(text)
    )


def test_loadbalancer_range_contains_host() -> None:
    text = THREE.replace("10.20.0.200-10.20.0.220", "10.20.0.10-10.20.0.11")
    assert (
        "load-balancer range 10.20.0.10-10.20.0.11 contains the address 10.20.0.11 of host "
        "node1" in only_problem(text)
    )


def test_gateway_outside_external_cidr() -> None:
    text = THREE.replace("gateway: 172.16.2.1 ", "gateway: 172.16.3.1 ")
    p = only_problem(text)
    assert p.startswith(
        f"a.yaml:{line_of(text, 'gateway:')}:14: network.external.gateway: "
        "gateway 172.16.3.1 is outside the external network 172.16.2.0/24"
    )


def test_gateway_inside_allocation_range() -> None:
    text = THREE.replace("gateway: 172.16.2.1 ", "gateway: 172.16.2.150 ")
    assert (
        "network.external.gateway: gateway 172.16.2.150 is inside the allocation range"
        in only_problem(text)
    )


def test_allocation_range_reversed() -> None:
    text = THREE.replace("172.16.2.100-172.16.2.200", "172.16.2.200-172.16.2.100")
    assert (
        "network.external.allocation_range: range 172.16.2.200-172.16.2.100 ends before it "
        "starts" in only_problem(text)
    )


def test_allocation_range_outside_external_cidr() -> None:
    text = THREE.replace("172.16.2.100-172.16.2.200", "172.16.2.100-172.16.3.10")
    assert (
        "network.external.allocation_range: range 172.16.2.100-172.16.3.10 is not inside "
        "the external network" in only_problem(text)
    )


def test_ranges_overlap() -> None:
    text = (
        THREE.replace("cidr: 172.16.2.0/24 ", "cidr: 10.20.0.0/24 ")
        .replace("gateway: 172.16.2.1 ", "gateway: 10.20.0.1 ")
        .replace("172.16.2.100-172.16.2.200", "10.20.0.210-10.20.0.230")
    )
    with pytest.raises(AnswersError) as e:
        load_answers_text(text, "a.yaml")
    msgs = str(e.value)
    assert (
        "range 10.20.0.210-10.20.0.230 overlaps the load-balancer range "
        "10.20.0.200-10.20.0.220" in msgs
    )
    assert "external network 10.20.0.0/24 overlaps the management network 10.20.0.0/24" in msgs


def test_allocation_range_contains_host() -> None:
    text = (
        TWELVE.replace("203.0.113.50-203.0.113.250", "10.30.0.20-10.30.0.29")
        .replace("cidr: 203.0.113.0/24", "cidr: 10.30.0.0/27")
        .replace("gateway: 203.0.113.1 ", "gateway: 10.30.0.1 ")
    )
    with pytest.raises(AnswersError) as e:
        load_answers_text(text, "a.yaml")
    assert (
        "allocation range 10.30.0.20-10.30.0.29 contains the address 10.30.0.21 of host "
        "cmp1" in str(e.value)
    )


def test_unknown_feature() -> None:
    text = THREE.replace("features: [dns, orchestration]", "features: [dns, billing]")
    p = only_problem(text)
    assert p.startswith(
        f"a.yaml:{line_of(text, 'features:')}:17: features[1]: unknown feature "
        "'billing' for release 2025.1; known features: caas, dns"
    )


def test_feature_missing_requirement() -> None:
    text = THREE.replace("features: [dns, orchestration]", "features: [secrets]")
    assert (
        "features[0]: feature 'secrets' needs the feature 'vault'; add vault to features"
        in only_problem(text)
    )


# No "feature not in the older release" case: Sunbeam's features are the same in 2024.1 and
# 2025.1 (../shared/reference/sunbeam-deployment.md §3: the feature sources are identical in
# both stable branches; images-sync and resource-optimization are in both, M24:82-86,
# M24:115-119), so the 2024.1 and 2025.1 manifests list the same features and no feature is
# unknown to 2024.1 alone. An unknown feature is still refused (the unknown-feature cases).


def test_duplicate_feature() -> None:
    text = THREE.replace("features: [dns, orchestration]", "features: [dns, dns]")
    assert "features[1]: feature 'dns' is listed twice" in only_problem(text)


def test_software_override_of_unknown_charm() -> None:
    text = THREE.replace("software: {}", "software:\n  keystone:\n    channel: 2025.1/edge")
    p = only_problem(text)
    assert p.startswith(
        f"a.yaml:{line_of(text, '    channel: 2025.1/edge')}:5: "
        "software.keystone: charm 'keystone' is not part of release 2025.1"
    )
