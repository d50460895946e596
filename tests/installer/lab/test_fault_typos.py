"""A `--faults` item that can match no operation is refused, not ignored (issue 13, item 9)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from installer.cli import main
from installer.exits import Exit
from installer.lab.faults import FaultPlan, FaultSpecError, parse_faults, unmatchable

ROOT = Path(__file__).resolve().parents[3]
HOSTS = ["node1", "node2", "node3"]


def install(tmp_path: Path, faults: str) -> int:
    return main(["--answers", str(ROOT / "examples" / "three-node.yaml"), "--dry-run", "--yes",
                 "--state-dir", str(tmp_path / "state"), "--time-scale", "0",
                 "--events-file", os.devnull, "--faults", faults])


def test_a_typo_in_the_host_is_refused_up_front_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert install(tmp_path, "ceph.add-osd@nod2=fail") == Exit.USAGE
    err = capsys.readouterr().err
    assert "'ceph.add-osd@nod2=fail'" in err and "'nod2'" in err
    assert "node1, node2, node3" in err and "ceph.add-osd@HOST" in err  # the forms are listed


def test_the_same_fault_spelled_right_fails_its_step(tmp_path: Path) -> None:
    assert install(tmp_path, "ceph.add-osd@node2=fail") == Exit.STEP_FAILED


@pytest.mark.parametrize("pattern, why", [
    ("ceph.add-osd@nod2", "no host of the lab is 'nod2'"),
    ("ceph.add-osd", "needs an @HOST"),
    ("juju.deplyo:nova-k8s", "is no lab operation"),
    ("juju.bootstrap:x", "takes no :TARGET"),
    ("juju.deploy:nova-k8s@node1", "takes no @HOST"),
    ("snap.install@node1", "needs a :TARGET"),
    ("jujo.*", "is no lab operation"),
])
def test_unmatchable_patterns_say_why(pattern: str, why: str) -> None:
    assert why in (unmatchable(pattern, HOSTS) or "")


@pytest.mark.parametrize("pattern", [
    "ceph.add-osd@node2", "snap.install:*@node3", "juju.integrate:nova-k8s:*", "juju.*",
    "juju.deploy:*-k8s", "ceph.health", "host.run:openstack-network-create@node1",
    "snap.install:juju@node?", "ceph.add-osd*", "juju.add-unit:k8s@node2",
])
def test_documented_patterns_pass(pattern: str) -> None:
    assert unmatchable(pattern, HOSTS) is None


def test_refuse_unmatchable_names_every_bad_item() -> None:
    plan = FaultPlan(parse_faults("ceph.add-osd@nod2=fail,juju.deploy:nova-k8s=hang,k8s.nope=fail"))
    with pytest.raises(FaultSpecError) as e:
        plan.refuse_unmatchable(HOSTS)
    message = str(e.value)
    assert "nod2" in message and "k8s.nope" in message and "nova-k8s=hang" not in message


def test_a_fault_whose_target_matches_nothing_is_reported_after_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `nova-k9s` is a well-formed target on no host: it cannot be refused up front, so the run
    # says afterwards that it never fired (on the report stream, not on a JSON stdout).
    code = main(["--answers", str(ROOT / "examples" / "single-node.yaml"), "--dry-run", "--yes",
                 "--state-dir", str(tmp_path / "s"), "--time-scale", "0", "--events", "jsonl",
                 "--faults", "juju.deploy:nova-k9s=fail"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "the fault 'juju.deploy:nova-k9s=fail' matched no operation of this run" in out.err
    assert "nova-k9s" not in out.out
