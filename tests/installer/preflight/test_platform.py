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


def test_facts_missing_names_the_ssh_port(raw3, facts3, answers, release):
    raw3["hosts"][1]["ssh_port"] = 2222
    del facts3["node2"]
    [f] = platform.facts_missing(answers(raw3), facts3, release)
    assert "ubuntu@10.20.0.12:2222" in f.message and "probe ubuntu@10.20.0.12:2222" in f.hint


def test_remote_host_without_passwordless_sudo_curl_or_python3(raw3, facts3, answers, release):
    facts3["node2"].sudo_nopasswd = False
    facts3["node3"].has_curl = False
    facts3["node3"].has_python3 = False
    found = platform.remote_tools(answers(raw3), facts3, release)
    assert [(f.severity, f.code, f.host) for f in found] == [
        ("error", "sudo-not-passwordless", "node2"),
        ("error", "tool-missing", "node3"),
        ("error", "tool-missing", "node3"),
    ]
    assert "sudo -n true" in found[0].message and "NOPASSWD" in found[0].hint
    assert found[0].path == ["hosts", 1, "ssh_user"] and at(raw3, found[0].path) == "ubuntu"
    assert "curl" in found[1].message and "apt install curl" in found[1].hint
    assert "python3" in found[2].message and "apt install python3-minimal" in found[2].hint
    # Part of the real preflight, not of the lab's.
    codes = [f.code for f in check(answers(raw3), facts3, release, real_mode=True)]
    assert "sudo-not-passwordless" in codes
    assert "sudo-not-passwordless" not in [f.code for f in check(answers(raw3), facts3, release)]


def test_remote_tools_unknown_or_local_are_not_findings(raw3, facts3, answers, release):
    for hf in facts3.values():  # facts files from before these fields: unknown, not missing
        assert hf.sudo_nopasswd is None and hf.has_curl is None and hf.has_python3 is None
    assert platform.remote_tools(answers(raw3), facts3, release) == []
    raw3["hosts"][1].pop("address")  # this machine: the install runs as root there
    raw3["hosts"][1].pop("ssh_user")
    facts3["node2"].sudo_nopasswd = False
    assert platform.remote_tools(answers(raw3), facts3, release) == []


def test_a_real_install_refuses_an_ssh_port_juju_cannot_use() -> None:
    # juju add-machine ssh:[user@]host has no port (juju CLI reference, add-machine): the port
    # is used to probe and drive the host, but the real install must refuse it, not ignore it.
    from pathlib import Path

    from installer.preflight.platform import juju_ssh_port
    from manifests.loader import load_answers

    answers = load_answers(Path(__file__).resolve().parents[3] / "examples" / "three-node.yaml")
    hosts = [h.model_copy(update={"ssh_port": 2222}) if h.name == "node2" else h
             for h in answers.hosts]
    found = juju_ssh_port(answers.model_copy(update={"hosts": hosts}), {}, None)  # type: ignore[arg-type]
    assert [(f.code, f.host, f.path) for f in found] == [
        ("ssh-port-for-juju", "node2", ["hosts", 1, "ssh_port"])]
    assert juju_ssh_port(answers, {}, None) == []  # type: ignore[arg-type]
