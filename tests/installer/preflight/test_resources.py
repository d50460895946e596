from __future__ import annotations

import pytest

from installer.preflight import resources
from installer.preflight._common import GIB

from .conftest import at

# The truth changed these tests: Sunbeam's only hardware check is 4 logical CPUs and MemTotal of
# 16,000,000 kB on every node, and it only warns (snap-openstack core/checks.py:448-472); it
# checks no disk space, so our free-disk figure is advice (a warning that says it is ours).


def test_ram_below_sunbeams_minimum_is_a_warning(raw3, facts3, answers, release):
    facts3["node2"].memory.total_bytes = 8 * GIB
    [f] = resources.ram(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("warning", "ram-below-minimum", "node2")
    assert f.path == ["hosts", 1]
    assert f.message == (
        "Host node2 has 8 GiB of RAM; a control, compute and storage host of a multi-node "
        "cloud needs at least 15.3 GiB."
    )
    assert at(raw3, f.path)["name"] == "node2"


def test_ram_of_sixteen_gb_is_accepted(raw1, facts1, answers, release):
    # Sunbeam compares MemTotal (kB) with 16,000,000: 15.3 GiB passes, 15.0 GiB does not.
    facts1["sunbeam-vm"].memory.total_bytes = int(15.3 * GIB)
    assert resources.ram(answers(raw1), facts1, release) == []
    facts1["sunbeam-vm"].memory.total_bytes = int(15.0 * GIB)
    [f] = resources.ram(answers(raw1), facts1, release)
    assert f.severity == "warning" and "needs at least 15.3 GiB" in f.message


def test_cores_minimum_is_four_logical_cpus_for_every_role(raw3, facts3, answers, release):
    facts3["node1"].cpu.cores, facts3["node1"].cpu.threads = 2, 2
    [f] = resources.cores(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("warning", "cores-below-minimum", "node1")
    assert "2 CPUs" in f.message and "at least 4" in f.message
    facts3["node1"].cpu.cores, facts3["node1"].cpu.threads = 6, 12
    assert resources.cores(answers(raw3), facts3, release) == []


def test_single_node_minimum_applies_to_a_lone_host(raw1, facts1, answers, release):
    facts1["sunbeam-vm"].cpu.threads = facts1["sunbeam-vm"].cpu.cores = 4
    assert resources.cores(answers(raw1), facts1, release) == []


def test_free_disk_below_minimum(raw3, facts3, answers, release):
    facts3["node2"].free_space[0].free_bytes = 30 * GIB
    [f] = resources.free_disk(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("warning", "disk-below-minimum", "node2")
    assert "30 GiB free under /var/snap" in f.message and "100 GiB" in f.message
    assert "Sunbeam itself checks no disk space" in f.message


def test_free_disk_unknown_is_a_warning(raw3, facts3, answers, release):
    facts3["node1"].free_space = []
    [f] = resources.free_disk(answers(raw3), facts3, release)
    assert (f.severity, f.code) == ("warning", "free-disk-unknown")


@pytest.mark.parametrize("check", [resources.ram, resources.cores, resources.free_disk])
def test_silent_on_healthy_hosts(check, raw3, facts3, answers, release):
    assert check(answers(raw3), facts3, release) == []
