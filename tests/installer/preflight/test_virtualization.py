from __future__ import annotations

from installer.preflight import virtualization

from .conftest import at


def test_emulated_compute_host_is_a_warning(raw3, facts3, answers, release):
    cpu = facts3["node2"].cpu
    cpu.virtualization, cpu.kvm_usable = "emulated", False
    cpu.virtualization_reason = "/dev/kvm is missing"
    [f] = virtualization.kvm(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("warning", "kvm-unavailable", "node2")
    assert f.message == (
        "Compute host node2 has no usable KVM, so its guests will be emulated and run very slowly."
    )
    assert f.hint.startswith("The probe found: /dev/kvm is missing. Enable VT-x or AMD-V")
    assert f.path == ["hosts", 1, "roles"] and "compute" in at(raw3, f.path)


def test_nested_guest_gets_a_nested_virtualization_hint(raw1, facts1, answers, release):
    facts1["sunbeam-vm"].cpu.virtualization = "emulated"
    [f] = virtualization.kvm(answers(raw1), facts1, release)
    assert "nested virtualization" in f.hint


def test_unavailable_on_compute_is_an_error(raw3, facts3, answers, release):
    cpu = facts3["node3"].cpu
    cpu.architecture, cpu.virtualization = "s390x", "unavailable"
    cpu.virtualization_reason = "no OpenStack hypervisor is built for s390x"
    [f] = virtualization.kvm(answers(raw3), facts3, release)
    assert (f.severity, f.code, f.host) == ("error", "virtualization-unavailable", "node3")
    assert "node3 (s390x) cannot run guests" in f.message and "fail to boot" in f.message
    assert "no OpenStack hypervisor is built for s390x" in f.hint


def test_non_compute_host_needs_no_kvm(raw3, facts3, answers, release):
    raw3["hosts"][2]["roles"] = ["control", "storage"]
    facts3["node3"].cpu.virtualization = "unavailable"
    assert virtualization.kvm(answers(raw3), facts3, release) == []


def test_silent_with_kvm(raw3, facts3, answers, release):
    assert virtualization.kvm(answers(raw3), facts3, release) == []
