"""Day-two converges of a dry-run cloud through the CLI: the control plane scales as Sunbeam's
topology rule says, a converge killed with -9 finishes on `resume` without redoing a step,
and a host leaves only when allowed and safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from installer.cli import main
from installer.events import PlanStarted, StepFinished, StepStarted
from installer.exits import Exit
from installer.lab import Lab
from installer.lab.state import ServerState
from installer.pipeline.launch import last_run_process
from installer.planner.deployment import deployment
from installer.planner.live import deployed_bundle, planned_bundle
from manifests.loader import load_answers
from manifests.release import K8S_MODEL, MACHINE_MODEL, load_release
from tests.installer.converge.helpers import (
    ROOT,
    SCALE,
    answers_doc,
    events,
    host,
    lab_live,
    run,
    started,
    write,
)
from tests.installer.pipeline.runproc import GUARD, run_pid, wait_for

# Sunbeam's scale rules (installer/planner/deployment.py scale()) for the applications checked.
HA = ("mysql", "rabbitmq", "ovn-central")
API = ("keystone", "nova", "glance", "neutron", "placement")
INGRESS = ("traefik", "traefik-public")


def units(state: Path) -> dict[str, int]:
    return {a.name: len(a.units) for a in lab_live(state).model(K8S_MODEL).apps.values()}


def test_control_plane_scales_when_control_hosts_cross_sunbeams_thresholds(
        tmp_path: Path) -> None:
    """One control host (topology single) to three (multi): every HA, API and ingress
    application goes from 1 to 3 units, on 3 Kubernetes nodes; then to five control hosts:
    Sunbeam's `multi` rule caps them at 3, so only Kubernetes grows."""
    state = tmp_path / "state"
    single = answers_doc("single-node.yaml")
    assert run(state, write(tmp_path / "one.yaml", single)) == 0
    assert {units(state)[a] for a in (*HA, *API, *INGRESS)} == {1}

    single["hosts"] += [host("node2", "10.20.0.12", ["control", "compute"]),
                        host("node3", "10.20.0.13", ["control", "compute"])]
    evs = tmp_path / "three.jsonl"
    assert run(state, write(tmp_path / "three.yaml", single), events=evs) == 0
    assert {units(state)[a] for a in (*HA, *API, *INGRESS)} == {3}
    assert sum(lab_live(state).k8s_ready for _ in [0]) == 3
    assert {f"juju.scale:{a}" for a in (*HA, *API, *INGRESS)} <= set(started(events(evs)))

    single["hosts"] += [host("node4", "10.20.0.14", ["control"]),
                        host("node5", "10.20.0.15", ["control"])]
    evs = tmp_path / "five.jsonl"
    assert run(state, write(tmp_path / "five.yaml", single), events=evs) == 0
    assert {units(state)[a] for a in (*HA, *API, *INGRESS)} == {3}
    assert not [s for s in started(events(evs)) if s.startswith("juju.scale:")]
    k8s = lab_live(state).model(MACHINE_MODEL).apps["k8s"]
    assert len(k8s.units) == 5 and lab_live(state).k8s_ready == 5


def _spawn(*argv: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "installer", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_kill_9_during_a_converge_then_resume_finishes_without_redoing_a_step(
        tmp_path: Path) -> None:
    state = tmp_path / "state"
    doc = answers_doc("three-node.yaml")
    assert run(state, write(tmp_path / "three.yaml", doc)) == 0
    doc["hosts"] += [host("node4", "10.20.0.14", ["compute"]),
                     host("node5", "10.20.0.15", ["compute", "storage"])]
    doc["hosts"][-1]["osd_devices"] = ["/dev/disk/by-id/wwn-0x5000c500a1b2c351"]
    five = write(tmp_path / "five.yaml", doc)
    common = ["--dry-run", "--state-dir", str(state), "--time-scale", SCALE]
    # The hypervisor of node5 hangs: the converge cannot end before the kill.
    held = "juju.add-unit:openstack-hypervisor@node5"
    proc = _spawn("--answers", str(five), "--yes", *common, "--faults", f"{held}=hang")
    pid = run_pid(state, proc)
    process = last_run_process(state)
    assert process is not None and process.pid == pid
    events_file = process.files.events
    wait_for(events_file, f'"{held}","event":"StepStarted"', 1, proc)
    wait_for(events_file, '"juju.add-unit:openstack-hypervisor@node4","event":"StepFinished"',
             1, proc)
    os.kill(pid, signal.SIGKILL)
    proc.communicate(timeout=GUARD)
    assert proc.returncode == Exit.INTERRUPTED

    first = events(events_file)
    done_first = {e.step for e in first if isinstance(e, StepFinished) and e.outcome == "done"}
    assert done_first and held not in done_first
    assert main(["resume", *common]) == 0
    attempts: list[list[object]] = []
    for e in events(events_file):
        if isinstance(e, PlanStarted):
            attempts.append([])
        attempts[-1].append(e)
    assert len(attempts) == 2 and isinstance(attempts[1][0], PlanStarted)
    assert attempts[1][0].kind == "converge"
    again = {e.step for e in attempts[1] if isinstance(e, StepStarted)}
    assert not again & done_first, sorted(again & done_first)
    assert held in again
    answers = load_answers(five)
    assert deployed_bundle(lab_live(state)) == planned_bundle(
        deployment(answers, load_release(answers.release)))


def _guest(state: Path, name: str, on: str) -> None:
    lab = Lab.open(state, time_scale=0.0, faults=[], facts_dir=None)
    lab.state.servers[name] = ServerState(
        name=name, id=f"id-{name}", flavor="m1.tiny", image="cirros", network="demo",
        host=on, address="192.168.0.9", active_at=0.0, login_at=0.0)
    lab.save()


def _no_guests(state: Path) -> None:
    lab = Lab.open(state, time_scale=0.0, faults=[], facts_dir=None)
    lab.state.servers.clear()
    lab.save()


def test_removing_a_host_needs_allow_removal_no_guests_and_safe_osds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    doc = answers_doc("three-node.yaml")
    doc["hosts"] += [host("node4", "10.20.0.14", ["compute", "storage"]),
                     host("node5", "10.20.0.15", ["compute"])]
    doc["hosts"][3]["osd_devices"] = ["/dev/disk/by-id/wwn-0x5000c500a1b2c341"]
    assert run(state, write(tmp_path / "five.yaml", doc)) == 0
    lab = Lab.open(state, time_scale=0.0, faults=[], facts_dir=None)
    assert lab.state.hosts["node4"].osds

    doc["hosts"] = doc["hosts"][:3]
    three = write(tmp_path / "three.yaml", doc)
    capsys.readouterr()
    assert run(state, three) == Exit.INVALID
    assert "--allow-removal" in capsys.readouterr().err

    _guest(state, "web1", on="node5")
    assert run(state, three, "--allow-removal") == Exit.STEP_FAILED
    err = capsys.readouterr()
    assert "node5 still runs 1 guest(s): web1" in err.out + err.err
    assert "node5" in lab_live(state).hosts()  # nothing of node5 was removed

    _no_guests(state)
    common = ["--dry-run", "--state-dir", str(state), "--time-scale", SCALE]
    assert main(["resume", *common]) == 0
    live = lab_live(state)
    assert not {"node4", "node5"} & live.hosts()
    shape = deployed_bundle(live)
    assert not [a for a, e in shape[MACHINE_MODEL]["applications"].items()
                if {"node4", "node5"} & set(e["hosts"])]
    answers = load_answers(three)
    assert shape == planned_bundle(deployment(answers, load_release(answers.release)))
    lab = Lab.open(state, time_scale=0.0, faults=[], facts_dir=None)
    assert not lab.state.hosts["node4"].osds  # purged, once Ceph said it was safe
    assert "node5" in lab.state.compute_disabled


def test_osds_stay_when_ceph_says_removing_them_is_not_safe(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Three storage hosts and a fourth: the fourth may leave; then one of the three may not
    (the pools need three hosts), which is refused before any unit goes."""
    state = tmp_path / "state"
    doc = answers_doc("three-node.yaml")
    doc["hosts"] += [host("node4", "10.20.0.14", ["storage"])]
    doc["hosts"][3]["osd_devices"] = ["/dev/disk/by-id/wwn-0x5000c500a1b2c341"]
    assert run(state, write(tmp_path / "four.yaml", doc)) == 0
    doc["hosts"][2]["roles"] = ["control", "compute"]  # node3 leaves Ceph: 2 OSD hosts would
    doc["hosts"][2].pop("osd_devices")                 # be left beside node4... 3: allowed
    doc["hosts"][3]["roles"] = ["storage"]
    path = write(tmp_path / "less.yaml", doc)
    capsys.readouterr()
    assert run(state, path, "--allow-removal") == 0
    lab = Lab.open(state, time_scale=0.0, faults=[], facts_dir=None)
    assert not lab.state.hosts["node3"].osds
    assert "microceph" not in {a for a, e in deployed_bundle(lab_live(state))[MACHINE_MODEL][
        "applications"].items() if "node3" in e["hosts"]}

    doc["hosts"][1]["roles"] = ["control", "compute"]  # node2 too: 2 OSD hosts left
    doc["hosts"][1].pop("osd_devices")
    capsys.readouterr()
    assert run(state, write(tmp_path / "fewer.yaml", doc), "--allow-removal") \
        == Exit.STEP_FAILED
    out = capsys.readouterr()
    assert "not ok to stop" in out.out + out.err
    lab = Lab.open(state, time_scale=0.0, faults=[], facts_dir=None)
    assert lab.state.hosts["node2"].osds  # still there


def test_one_run_replaces_a_compute_host_with_a_new_one(tmp_path: Path) -> None:
    """node5 leaves and node6 joins in the same converge: the lab's status must show the machine
    that is there now, not one it remembered from before the removal (in one process, a machine
    removed and another added leave the count of machines as it was)."""
    state = tmp_path / "state"
    doc = answers_doc("three-node.yaml")
    doc["hosts"] += [host("node4", "10.20.0.14", ["compute"]),
                     host("node5", "10.20.0.15", ["compute"])]
    assert run(state, write(tmp_path / "five.yaml", doc)) == 0
    doc["hosts"][4] = host("node6", "10.20.0.16", ["compute"])
    assert run(state, write(tmp_path / "swapped.yaml", doc), "--allow-removal") == 0
    live = lab_live(state)
    assert {"node1", "node2", "node3", "node4", "node6"} == live.hosts()
    answers = load_answers(tmp_path / "swapped.yaml")
    assert deployed_bundle(live) == planned_bundle(
        deployment(answers, load_release(answers.release)))
