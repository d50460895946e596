"""Host facts are bounded: sizes non-negative and below 2**63, names and labels short, lists of
at most a few thousand; a facts file breaking a bound is refused naming the file and the field,
and a facts file that is not a small regular file is refused without reading it."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from installer.exits import UserError
from installer.interactive.probing import FactsDirProber
from installer.lab import Lab
from manifests.loader import load_answers
from probes.facts import FACTS_FILE_MAX, MAX_ITEMS, HostFacts, facts_problem

from ..conftest import EXAMPLES, FIXTURES

NODE1 = json.loads((FIXTURES / "facts" / "node1.json").read_text())


def _problem(mutate: Any) -> str:
    doc = copy.deepcopy(NODE1)
    mutate(doc)
    with pytest.raises(ValidationError) as e:
        HostFacts.model_validate_json(json.dumps(doc))
    return facts_problem(e.value)


def test_impossible_values_are_refused_naming_the_field() -> None:
    assert _problem(lambda d: d["disks"][0].update(size_bytes=-1)) == (
        "disks[0].size_bytes: Input should be greater than or equal to 0"
    )
    assert _problem(lambda d: d["memory"].update(total_bytes=int("9" * 400))) == (
        "memory.total_bytes: Input should be less than 9223372036854775808"
    )
    assert _problem(lambda d: d["os"].update(pretty_name="U" * 2_000_000)) == (
        "os.pretty_name: String should have at most 256 characters"
    )
    assert _problem(lambda d: d.update(hostname="h" * 256)).startswith(
        "hostname: String should have at most 255 characters"
    )
    assert _problem(lambda d: d["disks"][0].update(model="m" * 257)).startswith("disks[0].model")
    assert _problem(lambda d: d.update(nics=d["nics"] * (MAX_ITEMS // 4 + 1))).startswith(
        f"nics: List should have at most {MAX_ITEMS} items"
    )
    assert _problem(lambda d: d["cpu"].update(threads=-4)).startswith("cpu.threads")
    assert _problem(lambda d: d["nics"][1].update(mtu=2**64)).startswith("nics[1].mtu")


def test_real_facts_fit_the_bounds() -> None:
    for path in (FIXTURES / "facts").glob("*.json"):
        HostFacts.model_validate_json(path.read_bytes())


def test_a_long_probe_error_is_clipped_not_refused() -> None:
    doc = copy.deepcopy(NODE1)
    doc["probe_errors"] = ["disk: OSError: " + "x" * 100_000]
    facts = HostFacts.model_validate(doc)
    assert len(facts.probe_errors[0]) == 1024 and facts.probe_errors[0].startswith("disk: ")


@pytest.fixture
def facts_dir(tmp_path: Path) -> Path:
    d = tmp_path / "facts"
    d.mkdir()
    for p in (FIXTURES / "facts").glob("node*.json"):
        shutil.copy(p, d / p.name)
    return d


def _lab_facts(tmp_path: Path, facts_dir: Path) -> None:
    lab = Lab.open(tmp_path / "state", facts_dir=facts_dir)
    lab.ensure_hosts(load_answers(EXAMPLES / "three-node.yaml"))


def test_a_facts_file_with_impossible_values_names_file_and_field(
    tmp_path: Path, facts_dir: Path
) -> None:
    doc = json.loads((facts_dir / "node2.json").read_text())
    doc["disks"][1]["size_bytes"] = -(2**40)
    (facts_dir / "node2.json").write_text(json.dumps(doc))
    with pytest.raises(UserError) as e:
        _lab_facts(tmp_path, facts_dir)
    assert f"Facts file {facts_dir / 'node2.json'} is not `probe --json` output " in str(e.value)
    assert "(disks[1].size_bytes: Input should be greater than or equal to 0)" in str(e.value)


@pytest.mark.timeout(20)
def test_a_fifo_or_a_huge_file_in_the_facts_dir_is_refused(
    tmp_path: Path, facts_dir: Path
) -> None:
    node2 = facts_dir / "node2.json"
    node2.unlink()
    os.mkfifo(node2)
    with pytest.raises(UserError, match=r"node2.json is a FIFO \(named pipe\), not a regular file"):
        _lab_facts(tmp_path, facts_dir)
    with pytest.raises(UserError, match=r"node2.json' is a FIFO \(named pipe\)"):
        asyncio.run(FactsDirProber(facts_dir).probe_local())
    node2.unlink()
    node2.write_bytes(b" " * (FACTS_FILE_MAX + 1))
    with pytest.raises(UserError, match=r"node2\.json is larger than 4 MiB"):
        _lab_facts(tmp_path, facts_dir)
    with pytest.raises(UserError, match=r"node2\.json' is larger than 4 MiB"):
        asyncio.run(FactsDirProber(facts_dir).probe_local())
    node2.unlink()
    node2.symlink_to("/dev/zero")
    with pytest.raises(UserError, match=r"node2\.json is a character device, not a regular file"):
        _lab_facts(tmp_path, facts_dir)
