"""Preflight with its real neighbours: the answers loader's positions (FILE:LINE:COL) and the
simulated lab's facts (what `validate --dry-run` and `--answers --dry-run` check against)."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.lab.lab import Lab
from installer.preflight import check, format_finding, summarize
from manifests.loader import load_answers_file
from manifests.release import load_release

from .conftest import FIXTURES, load_facts

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_findings_point_at_the_line_and_column_of_the_value(tmp_path):
    text = (FIXTURES / "answers" / "preflight-three-node.yaml").read_text()
    text = text.replace("osd_devices: [/dev/nvme0n1]", "osd_devices: [/dev/nvme0n1, /dev/sdz]")
    path = tmp_path / "three.yaml"
    path.write_text(text)
    loaded = load_answers_file(path)
    facts = {n: load_facts(n) for n in ("node1", "node2", "node3")}
    [f] = check(loaded.answers, facts, load_release("2025.1"))
    line_no = next(n for n, line in enumerate(text.splitlines(), 1) if "/dev/sdz" in line)
    col = text.splitlines()[line_no - 1].index("/dev/sdz") + 1
    assert format_finding(f, loaded.locate, str(path)) == (
        f"{path}:{line_no}:{col}: error: OSD device /dev/sdz does not exist on host node3. "
        f"(hint: {f.hint})"
    )


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_shipped_examples_pass_preflight_on_the_lab(example, tmp_path):
    answers = load_answers_file(EXAMPLES / example).answers
    lab = Lab.open(tmp_path / "lab")
    lab.ensure_hosts(answers)
    findings = check(answers, lab.facts(), load_release(answers.release))
    assert summarize(findings)[0] == 0, [format_finding(f) for f in findings]


def test_lab_host_with_a_wrong_device_fails_preflight(tmp_path):
    answers = load_answers_file(EXAMPLES / "three-node.yaml").answers
    lab = Lab.open(tmp_path / "lab")
    lab.ensure_hosts(answers)
    facts = lab.facts()
    host = answers.hosts_with("storage")[0]
    hf = facts[host.name]
    hf.disks = [d for d in hf.disks if not d.matches(host.osd_devices[0])]
    codes = {f.code for f in check(answers, facts, load_release(answers.release))}
    assert "osd-device-not-found" in codes
