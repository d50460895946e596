"""systemd-detect-virt, the probe's one subprocess (issue 17, item 6): started before the other
readers so it runs while they read, its answer the one the CPU's facts carry, and never left
running or unreaped."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from probes.readers import collect, cpu

HOSTS = Path(__file__).resolve().parent.parent / "fixtures" / "hosts"


def fake_tool(directory: Path, body: str) -> Path:
    """A `systemd-detect-virt` on PATH that runs `body` (sh) and notes each run."""
    tool = directory / "systemd-detect-virt"
    tool.write_text(f"#!/bin/sh\necho run >> {directory / 'runs'}\n{body}\n")
    tool.chmod(0o755)
    return directory / "runs"


@pytest.fixture
def silent_dmi(monkeypatch: pytest.MonkeyPatch) -> None:
    # A VM whose firmware tells nothing: only systemd-detect-virt can name the hypervisor.
    monkeypatch.setattr(cpu, "_dmi", lambda root: "")


def test_the_early_process_gives_the_answer_and_runs_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, silent_dmi: None) -> None:
    runs = fake_tool(tmp_path, "echo fakevirt")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    detect = cpu.start_detect_virt("/")
    assert detect is not None
    facts = collect.gather("/", detect)
    assert facts["cpu"]["virtualized_by"] == "fakevirt"
    assert runs.read_text().splitlines() == ["run"]  # not started a second time
    assert detect._process.returncode == 0  # reaped


def test_gather_starts_it_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, silent_dmi: None) -> None:
    runs = fake_tool(tmp_path, "echo fakevirt")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert collect.gather("/")["cpu"]["virtualized_by"] == "fakevirt"
    assert runs.read_text().splitlines() == ["run"]


def test_a_process_whose_answer_is_not_read_is_stopped_and_reaped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, silent_dmi: None) -> None:
    fake_tool(tmp_path, "sleep 60")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    detect = cpu.start_detect_virt("/")
    assert detect is not None
    detect.close()
    assert detect._process.returncode is not None


def test_not_started_for_a_fixture_tree_or_known_firmware(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_tool(tmp_path, "echo fakevirt")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert cpu.start_detect_virt(str(HOSTS / "laptop-vm")) is None
    monkeypatch.setattr(cpu, "_dmi", lambda root: "QEMU Standard PC")
    assert cpu.start_detect_virt("/") is None


@pytest.mark.parametrize("host", sorted(p.name for p in HOSTS.iterdir() if p.is_dir()))
def test_the_first_cpu_s_flags_are_those_read_cpu_reads(host: str) -> None:
    # The early start decides on the first CPU's flags read alone; read_cpu on the whole file.
    root = str(HOSTS / host)
    first = cpu._cpuinfo(root)[0]
    assert cpu._first_cpu_flags(root) == set(
        (first.get("flags") or first.get("Features") or "").split())


def test_a_hung_tool_is_bounded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, silent_dmi: None) -> None:
    fake_tool(tmp_path, "sleep 60")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.setattr(cpu, "DETECT_VIRT_TIMEOUT", 0.2)
    detect = cpu.start_detect_virt("/")
    assert detect is not None
    start = time.monotonic()
    assert detect.answer() is None
    assert detect._process.returncode is not None
    assert time.monotonic() - start < 30  # a safety net, not a timing assertion
