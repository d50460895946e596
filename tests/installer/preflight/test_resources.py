from __future__ import annotations

import pytest

from installer.preflight import resources
from installer.preflight._common import GIB

from .conftest import at


def test_ram_between_half_and_minimum_is_a_warning_naming_both(raw3, facts3, answers, release):
    facts3["node2"].memory.total_bytes = 24 * GIB
    [f] = resources.ram(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("warning", "ram-below-minimum", "node2")
    assert f.path == ["hosts", 1]
    assert f.message == (
        "Host node2 has 24 GiB of RAM; a control, compute and storage host of a multi-node "
        "cloud needs at least 32 GiB."
    )
    assert at(raw3, f.path)["name"] == "node2"


def test_ram_below_half_the_minimum_is_an_error(raw3, facts3, answers, release):
    facts3["node3"].memory.total_bytes = 8 * GIB
    [f] = resources.ram(answers(raw3), facts3, release)
    assert (f.severity, f.host) == ("error", "node3")
    assert "8 GiB" in f.message


def test_ram_a_little_under_nominal_is_accepted(raw1, facts1, answers, release):
    # A 16 GiB machine reports ~15.6 GiB in MemTotal; the single-node minimum is 16 GiB.
    facts1["sunbeam-vm"].memory.total_bytes = int(15.3 * GIB)
    assert resources.ram(answers(raw1), facts1, release) == []
    facts1["sunbeam-vm"].memory.total_bytes = int(15.0 * GIB)
    [f] = resources.ram(answers(raw1), facts1, release)
    assert "single-node cloud needs at least 16 GiB" in f.message


def test_cores_minimum_uses_the_role_requirement(raw3, facts3, answers, release):
    facts3["node1"].cpu.cores, facts3["node1"].cpu.threads = 6, 12
    [f] = resources.cores(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("warning", "cores-below-minimum", "node1")
    assert "12 CPUs" in f.message and "at least 16" in f.message
    facts3["node1"].cpu.cores, facts3["node1"].cpu.threads = 4, 4
    [f] = resources.cores(answers(raw3), facts3, release)
    assert f.severity == "error"


def test_single_node_minimum_applies_to_a_lone_host(raw1, facts1, answers, release):
    facts1["sunbeam-vm"].cpu.threads = facts1["sunbeam-vm"].cpu.cores = 4
    assert resources.cores(answers(raw1), facts1, release) == []  # single node needs 4, not 16


def test_free_disk_below_minimum(raw3, facts3, answers, release):
    facts3["node2"].free_space[0].free_bytes = 300 * GIB
    [f] = resources.free_disk(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("warning", "disk-below-minimum", "node2")
    assert "300 GiB free under /var/snap" in f.message and "500 GiB" in f.message


def test_free_disk_unknown_is_a_warning(raw3, facts3, answers, release):
    facts3["node1"].free_space = []
    [f] = resources.free_disk(answers(raw3), facts3, release)
    assert (f.severity, f.code) == ("warning", "free-disk-unknown")


@pytest.mark.parametrize("check", [resources.ram, resources.cores, resources.free_disk])
def test_silent_on_healthy_hosts(check, raw3, facts3, answers, release):
    assert check(answers(raw3), facts3, release) == []
