from __future__ import annotations

from installer.preflight import check, platform

from .conftest import at


def test_host_without_facts_is_one_error_naming_it(raw3, facts3, answers, release):
    del facts3["node2"]
    [f] = platform.facts_missing(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "facts-missing", "node2")
    assert f.path == ["hosts", 1, "address"] and at(raw3, f.path) == "10.20.0.12"
    assert "ubuntu@10.20.0.12" in f.message
    # The other checks do not repeat it in their own words.
    assert [x.code for x in check(answers(raw3), facts3, release)] == ["facts-missing"]


def test_local_host_without_facts(raw1, answers, release):
    [f] = platform.facts_missing(answers(raw1), {}, release)
    assert "this machine" in f.message and f.path == ["hosts", 0, "name"]


def test_arm64_compute_is_a_warning_and_arm64_control_an_error(raw3, facts3, answers, release):
    raw3["hosts"][2]["roles"] = ["compute", "storage"]
    facts3["node3"].cpu.architecture = "aarch64"
    facts3["node1"].cpu.architecture = "aarch64"
    found = platform.architecture(answers(raw3), facts3, release)
    assert [(f.severity, f.host) for f in found] == [("error", "node1"), ("warning", "node3")]
    assert "aarch64" in found[0].message and "amd64" in found[0].message
    assert found[0].path == ["hosts", 0, "roles"]


def test_other_architectures_are_errors(raw3, facts3, answers, release):
    facts3["node2"].cpu.architecture = "s390x"
    [f] = platform.architecture(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "arch-unsupported", "node2")
    assert "s390x" in f.message


def test_os_must_match_the_release_base(raw3, facts3, answers, release):
    facts3["node1"].os.version = "22.04"
    facts3["node1"].os.pretty_name = "Ubuntu 22.04.5 LTS"
    [f] = platform.os_release(answers(raw3), facts3, release)
    assert (f.severity, f.code) == ("error", "os-unsupported")
    assert f.message == "Host node1 runs Ubuntu 22.04.5 LTS; OpenStack 2025.1 needs Ubuntu 24.04."


def test_os_unknown_is_a_warning(raw3, facts3, answers, release):
    facts3["node2"].os.id = None
    [f] = platform.os_release(answers(raw3), facts3, release)
    assert (f.severity, f.code) == ("warning", "os-unknown")


def test_snapd_checked_in_real_mode_only(raw3, facts3, answers, release):
    facts3["node3"].snapd.present = False
    a = answers(raw3)
    assert check(a, facts3, release) == []
    [f] = check(a, facts3, release, real_mode=True)
    assert (f.severity, f.code, f.host) == ("error", "snapd-missing", "node3")


def test_probe_errors_are_reported_as_info(raw3, facts3, answers, release):
    facts3["node1"].probe_errors = ["disks: /sys/block unreadable", "dmi: permission denied"]
    [f] = platform.probe_errors(answers(raw3), facts3, release)
    assert (f.severity, f.code) == ("info", "probe-incomplete")
    assert "/sys/block unreadable; dmi: permission denied" in f.message
