"""`bundle --json` of each example against a golden bundle written by hand from the reference.

The golden files in tests/fixtures/bundles/ are data typed from
/work/shared/reference/sunbeam-deployment.md (and sunbeam-charms.md), with the section cited in
each file's header; nothing in them comes from the code under test. The comparison goes through
the command path (installer.cli.main), as an operator would run it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "fixtures" / "bundles"
CASES = ["single-node", "three-node", "twelve-node"]

# Fields of an application the golden files state; an absent `trust` means false, an absent
# `num_units` a subordinate, an absent `to` a Kubernetes application.
FIELDS = ("charm", "channel", "base", "num_units", "to")


def _bundle_json(answers: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["bundle", str(answers), "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)["models"]
    return out


def _relations(b: dict[str, Any]) -> set[frozenset[str]]:
    rels = {frozenset(r) for r in b.get("relations", [])}
    assert len(rels) == len(b.get("relations", [])), "a relation is listed twice"
    return rels


def _compare(golden: dict[str, Any], got: dict[str, Any]) -> list[str]:
    diffs: list[str] = []
    if set(golden) != set(got):
        diffs.append(f"models: golden {sorted(golden)} != bundle {sorted(got)}")
    for model in sorted(set(golden) & set(got)):
        g, b = golden[model], got[model]
        ga, ba = g["applications"], b["applications"]
        for name in sorted(set(ga) - set(ba)):
            diffs.append(f"{model}: application {name} missing")
        for name in sorted(set(ba) - set(ga)):
            diffs.append(f"{model}: application {name} not in the golden bundle")
        for name in sorted(set(ga) & set(ba)):
            want, have = ga[name], ba[name]
            for f in FIELDS:
                if want.get(f) != have.get(f):
                    diffs.append(f"{model}/{name}.{f}: golden {want.get(f)!r} != {have.get(f)!r}")
            if bool(want.get("trust")) != bool(have.get("trust")):
                diffs.append(f"{model}/{name}.trust: golden {bool(want.get('trust'))}")
            for k, v in want.get("options", {}).items():
                if have.get("options", {}).get(k) != v:
                    diffs.append(f"{model}/{name}.options.{k}: golden {v!r} != "
                                 f"{have.get('options', {}).get(k)!r}")
            if want.get("offers", {}) != have.get("offers", {}):
                diffs.append(f"{model}/{name}.offers: golden {want.get('offers')} != "
                             f"{have.get('offers')}")
        gr, br = _relations(g), _relations(b)
        diffs += [f"{model}: relation {sorted(r)} missing" for r in gr - br]
        diffs += [f"{model}: relation {sorted(r)} not in the golden bundle" for r in br - gr]
        if g.get("saas", {}) != b.get("saas", {}):
            diffs.append(f"{model}: saas golden {g.get('saas')} != {b.get('saas')}")
    return diffs


@pytest.mark.parametrize("case", CASES)
def test_bundle_matches_hand_written_golden(case: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    golden = yaml.safe_load((GOLDEN / f"{case}.yaml").read_text())["models"]
    got = _bundle_json(EXAMPLES / f"{case}.yaml", capsys)
    diffs = _compare(golden, got)
    assert not diffs, "\n".join(diffs)


def test_comparison_notices_a_missing_relation(capsys: pytest.CaptureFixture[str]) -> None:
    """The comparison itself is not vacuous: dropping one relation from the bundle is seen."""
    golden = yaml.safe_load((GOLDEN / "single-node.yaml").read_text())["models"]
    got = _bundle_json(EXAMPLES / "single-node.yaml", capsys)
    got["openstack"]["relations"] = [
        r for r in got["openstack"]["relations"]
        if frozenset(r) != frozenset(["nova:placement", "placement:placement"])
    ]
    assert _compare(golden, got) == [
        "openstack: relation ['nova:placement', 'placement:placement'] missing"
    ]
