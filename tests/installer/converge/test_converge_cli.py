"""Converge a deployed dry-run cloud to a changed answers file, through the CLI as an operator
does: only what differs runs, the result is what a fresh install of the file deploys, and
changes a converge cannot make are refused where they are written."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from installer.cli import main
from installer.exits import Exit
from installer.journal import Journal
from installer.planner.deployment import deployment
from installer.planner.live import deployed_bundle, planned_bundle
from manifests.loader import load_answers, load_answers_text
from manifests.release import K8S_MODEL, MACHINE_MODEL, load_release
from tests.installer.converge.helpers import (
    answers_doc,
    copy_state,
    events,
    finished_ok,
    host,
    install_three_node,
    lab_bundle,
    lab_live,
    run,
    started,
    write,
)

NEW = ("node4", "node5")


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A dry-run three-node cloud, installed once (each test converges a copy), and the events
    of its install."""
    base = tmp_path_factory.mktemp("three")
    evs = base / "install.jsonl"
    return install_three_node(base, events=evs), evs


def five_compute() -> dict[str, object]:
    doc = answers_doc("three-node.yaml")
    hosts = doc["hosts"]
    assert isinstance(hosts, list)
    hosts += [host("node4", "10.20.0.14", ["compute"]), host("node5", "10.20.0.15", ["compute"])]
    return doc


def test_two_new_compute_hosts_run_only_their_steps_and_match_a_fresh_install(
        three: tuple[Path, Path], tmp_path: Path) -> None:
    state = copy_state(three[0], tmp_path / "state")
    first = started(events(three[1]))
    five = write(tmp_path / "five.yaml", five_compute())
    evs = tmp_path / "converge.jsonl"
    assert run(state, five, events=evs) == 0

    converge = events(evs)
    ran = started(converge)
    assert converge[0].kind == "converge"
    # Only the new hosts' steps start, and the final wait they need; nothing of the first run.
    assert ran, "the converge started no step"
    assert {s for s, e in ran.items() if e.host not in NEW} == {"wait.active"}
    assert not (set(ran) - {"wait.active"}) & set(first)
    assert {"juju.add-machine@node4", "juju.add-machine@node5",
            "juju.add-unit:openstack-hypervisor@node4",
            "juju.add-unit:openstack-hypervisor@node5"} <= set(ran)
    assert finished_ok(converge) == set(ran)
    # The new hosts join side by side: both start before either is a machine.
    order = [(type(e).__name__, e.step) for e in converge]
    first_done = min(order.index(("StepFinished", f"juju.add-machine@{h}")) for h in NEW)
    assert all(order.index(("StepStarted", f"juju.add-machine@{h}")) < first_done for h in NEW)

    # The cloud as the lab's Juju shows it is the one a fresh five-node install builds.
    fresh = tmp_path / "fresh"
    assert run(fresh, five) == 0
    assert lab_bundle(state) == lab_bundle(fresh)
    answers = load_answers(five)
    assert lab_bundle(state)[MACHINE_MODEL]["applications"]["openstack-hypervisor"]["hosts"] \
        == ["node1", "node2", "node3", "node4", "node5"]
    planned = planned_bundle(deployment(answers, load_release(answers.release)))
    assert deployed_bundle(lab_live(state)) == planned


def test_an_unchanged_file_changes_nothing_and_says_so(
        three: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = copy_state(three[0], tmp_path / "state")
    with Journal.open(state / "journal.sqlite") as j:
        before = [r.id for r in j.runs()]
    capsys.readouterr()
    assert run(state, write(tmp_path / "same.yaml", answers_doc("three-node.yaml"))) == 0
    out = capsys.readouterr().out
    assert "Nothing to change" in out
    with Journal.open(state / "journal.sqlite") as j:
        assert [r.id for r in j.runs()] == before  # no run started


@pytest.mark.parametrize(("field", "value", "says"), [
    ("release", "2024.1", "not moved back to an older release"),  # a downgrade: no upgrade
    ("network.management_cidr", "10.30.0.0/24", "sunbeam configure"),
    ("deployment.name", "other", "new install"),
])
def test_a_change_a_converge_cannot_make_is_refused_where_it_is_written(
        three: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        field: str, value: str, says: str) -> None:
    state = copy_state(three[0], tmp_path / "state")
    doc = answers_doc("three-node.yaml")
    section, _, key = field.rpartition(".")
    target = doc[section] if section else doc
    assert isinstance(target, dict)
    target[key] = value
    if field == "network.management_cidr":  # keep the file valid: hosts and ranges move too
        doc["network"] = {**doc["network"], "loadbalancer_range": "10.30.0.200-10.30.0.220",
                          "dns_servers": ["10.30.0.1"]}
        for i, h in enumerate(doc["hosts"]):
            h["address"] = f"10.30.0.{11 + i}"
    path = write(tmp_path / "changed.yaml", doc)
    capsys.readouterr()
    assert run(state, path) == Exit.INVALID
    err = capsys.readouterr().err
    assert re.search(rf"changed\.yaml:\d+:\d+: {re.escape(field)}: ", err), err
    assert says in err
    assert "Traceback" not in err


def test_deployed_answers_are_kept_private_and_reapply_to_nothing(
        three: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = copy_state(three[0], tmp_path / "state")
    kept = state / "deployed-answers.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    capsys.readouterr()
    assert main(["answers", "--dry-run", "--state-dir", str(state)]) == 0
    text = capsys.readouterr().out
    printed = load_answers_text(text, "answers").answers
    assert printed == load_answers(write(tmp_path / "t.yaml", answers_doc("three-node.yaml")))
    assert run(state, write(tmp_path / "printed.yaml", answers_doc("three-node.yaml"))) == 0
    assert main(["answers", "--dry-run", "--state-dir", str(tmp_path / "none")]) \
        == Exit.PREREQUISITE


def test_plan_and_bundle_show_the_difference_and_full_shows_all(
        three: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = copy_state(three[0], tmp_path / "state")
    five = str(write(tmp_path / "five.yaml", five_compute()))
    capsys.readouterr()
    common = ["--dry-run", "--state-dir", str(state)]
    assert main(["plan", five, *common, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    ids = [s["id"] for s in shown["steps"]]
    assert "juju.add-machine@node4" in ids and "juju.bootstrap" not in ids
    assert len(shown["difference"]["untouched"]) > 100
    assert main(["plan", five, *common, "--full", "--json"]) == 0
    assert "juju.bootstrap" in [s["id"] for s in json.loads(capsys.readouterr().out)["steps"]]
    assert main(["plan", five, "--state-dir", str(state)]) == 0  # not the real cloud's
    shown_out = capsys.readouterr()
    assert "add --dry-run" in shown_out.err and "juju.bootstrap" in shown_out.out
    assert main(["bundle", five, *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(x.startswith(f"~ {MACHINE_MODEL}: openstack-hypervisor") and "node5" in x
               for x in lines), lines
    # Nothing changes in the control plane.
    assert not [x for x in lines if x[2:].startswith(f"{K8S_MODEL}: ")], lines


def test_enabling_then_disabling_a_feature(three: tuple[Path, Path], tmp_path: Path) -> None:
    state = copy_state(three[0], tmp_path / "state")
    doc = answers_doc("three-node.yaml")
    doc["features"] = ["dns", "orchestration", "images-sync"]
    assert run(state, write(tmp_path / "on.yaml", doc)) == 0
    apps = lab_live(state).model(K8S_MODEL).apps
    assert "images-sync" in apps and apps["images-sync"].settled
    doc["features"] = ["dns"]
    evs = tmp_path / "off.jsonl"
    assert run(state, write(tmp_path / "off.yaml", doc), events=evs) == 0
    model = lab_live(state).model(K8S_MODEL)
    assert not {"images-sync", "heat", "heat-mysql-router"} & set(model.apps)
    assert not [r for r in model.relations if any(e.startswith(("heat", "images-sync"))
                                                  for e in r)]
    assert {"juju.remove-application:heat", "juju.remove-application:images-sync"} \
        <= set(started(events(evs)))
    assert "designate" in model.apps  # the feature kept stays


def test_the_state_dir_keeps_owner_only_files(three: tuple[Path, Path]) -> None:
    for root, _dirs, files in os.walk(three[0]):
        for f in files:
            assert stat.S_IMODE(os.stat(Path(root) / f).st_mode) & 0o077 == 0, f


def test_software_overrides_refresh_and_configure_the_application(
        three: tuple[Path, Path], tmp_path: Path) -> None:
    state = copy_state(three[0], tmp_path / "state")
    doc = answers_doc("three-node.yaml")
    doc["software"] = {"keystone-k8s": {"channel": "2025.1/edge", "config": {"debug": True}}}
    evs = tmp_path / "software.jsonl"
    assert run(state, write(tmp_path / "software.yaml", doc), events=evs) == 0
    assert set(started(events(evs))) == {"juju.refresh:keystone", "juju.config:keystone",
                                        "wait.active"}
    bundle = lab_bundle(state)
    keystone = bundle[K8S_MODEL]["applications"]["keystone"]
    assert keystone["channel"] == "2025.1/edge" and keystone["config"]["debug"] is True
    assert keystone["units"] == 3  # refreshed in place, not redeployed


def test_removals_that_are_not_safe_are_refused_before_anything_runs(
        three: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A feature whose offer is consumed cannot be disabled by this version; the control role
    cannot drop below three hosts once it was highly available."""
    state = copy_state(three[0], tmp_path / "state")
    doc = answers_doc("three-node.yaml")
    doc["features"] = ["dns", "orchestration", "vault", "secrets"]
    assert run(state, write(tmp_path / "secrets.yaml", doc)) == 0
    assert "barbican" in lab_live(state).model(K8S_MODEL).offers
    doc["features"] = ["dns", "orchestration"]
    capsys.readouterr()
    assert run(state, write(tmp_path / "off.yaml", doc), "--allow-removal") == Exit.INVALID
    assert "barbican" in capsys.readouterr().err and "barbican" in lab_live(state).model(
        K8S_MODEL).apps

    doc["features"] = ["dns", "orchestration", "vault", "secrets"]
    for h in doc["hosts"][1:]:
        h["roles"] = ["compute", "storage"]  # one control host: valid, but no longer HA
    assert run(state, write(tmp_path / "one.yaml", doc), "--allow-removal") == Exit.INVALID
    assert "keep 3 control hosts" in capsys.readouterr().err
    assert "node3" in lab_live(state).hosts()
