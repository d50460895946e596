"""`probe --save DIR`: never over another machine's file, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.cli import main
from installer.cmd.probe import same_machine, save_facts
from probes.facts import HostFacts
from probes.local import probe_local

FACTS = Path(__file__).resolve().parent.parent / "fixtures" / "facts"


def _facts(name: str, hostname: str) -> HostFacts:
    facts = HostFacts.model_validate_json((FACTS / f"{name}.json").read_text())
    facts.hostname = hostname
    return facts


def test_two_machines_reporting_one_hostname_get_two_files(tmp_path: Path) -> None:
    a, b = _facts("node1", "node"), _facts("node2", "node")
    assert not same_machine(a, b)
    notices = save_facts(tmp_path, {"ubuntu@10.0.0.1": a, "ubuntu@[fd00::2]:2222": b})
    assert HostFacts.model_validate_json((tmp_path / "node.json").read_text()) == a
    other = tmp_path / "node.fd00__2_2222.json"
    assert HostFacts.model_validate_json(other.read_text()) == b
    [notice] = notices
    assert "ubuntu@[fd00::2]:2222 reports hostname node" in notice
    assert "saved from ubuntu@10.0.0.1 in this run" in notice and str(other) in notice


def test_a_file_of_another_machine_is_kept(tmp_path: Path) -> None:
    old = _facts("node1", "node")
    (tmp_path / "node.json").write_text(old.model_dump_json())
    new = _facts("node2", "node")
    [notice] = save_facts(tmp_path, {"10.0.0.9": new})
    assert HostFacts.model_validate_json((tmp_path / "node.json").read_text()) == old
    assert HostFacts.model_validate_json((tmp_path / "node.10.0.0.9.json").read_text()) == new
    assert "already holds another machine's facts" in notice
    # Again: the suffixed file is this machine's now, so it is refreshed, not suffixed twice.
    assert len(save_facts(tmp_path, {"10.0.0.9": new})) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node.10.0.0.9.json", "node.json"]


def test_the_same_machine_again_or_by_another_address_overwrites(tmp_path: Path) -> None:
    a = _facts("node1", "node")
    assert save_facts(tmp_path, {"10.0.0.1": a}) == []
    again = _facts("node1", "node")
    again.memory.available_bytes += 1
    assert save_facts(tmp_path, {"10.0.0.1": again, "10.0.0.2": again}) == []
    assert [p.name for p in tmp_path.iterdir()] == ["node.json"]
    assert HostFacts.model_validate_json((tmp_path / "node.json").read_text()) == again


def test_cli_local_save_keeps_another_machines_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    me = probe_local()
    stranger = _facts("node1", me.hostname)
    assert not same_machine(stranger, me)
    (tmp_path / f"{me.hostname}.json").write_text(stranger.model_dump_json())
    assert main(["probe", "--json", "--save", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert HostFacts.model_validate_json((tmp_path / f"{me.hostname}.json").read_text()) == stranger
    saved = tmp_path / f"{me.hostname}.local.json"
    assert HostFacts.model_validate_json(saved.read_text()).hostname == me.hostname
    assert "probe --save" in err and str(saved) in err
