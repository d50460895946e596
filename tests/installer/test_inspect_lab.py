"""The lab's answers to `inspect` when something is wrong: a unit in error shows as a pod in
back-off with its events, an ERROR line in the debug log and an application in error in
`juju status`; a namespace or host that is not there is an error the bundle notes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from installer.backends.base import BackendError
from installer.cli import main
from installer.lab import Lab
from installer.lab.diagnostics import LabDiagnostics
from installer.planner import K8S_MODEL

ROOT = Path(__file__).resolve().parents[2]
FAILURE = "hook failed: install: keystone-manage bootstrap exited 1"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    tmp = tmp_path_factory.mktemp("lab")
    rc = main(["--answers", str(ROOT / "examples" / "single-node.yaml"), "--dry-run", "--yes",
               "--state-dir", str(tmp / "state"), "--time-scale", "0", "--events", "jsonl",
               "--events-file", str(tmp / "events.jsonl")])
    assert rc == 0
    lab = Lab.open(tmp / "state", time_scale=0)
    # In memory only: what inspect would read from a lab whose keystone unit failed.
    lab.state.models[K8S_MODEL].apps["keystone"].units["keystone/0"].error = FAILURE
    return lab


def test_a_unit_in_error_shows_everywhere(lab: Lab) -> None:
    d = LabDiagnostics(lab)
    pods = {p["name"]: p for p in asyncio.run(d.pods(K8S_MODEL))}
    keystone = pods["keystone-0"]
    assert keystone["phase"] == "Running"
    workload = next(c for c in keystone["containers"] if c["name"] == "keystone")
    assert workload == {"name": "keystone", "ready": False, "restarts": 3,
                        "state": "waiting: CrashLoopBackOff"}
    assert keystone["conditions"][0]["message"] == FAILURE
    events = asyncio.run(d.k8s_events(K8S_MODEL))
    backoff = [e for e in events if e["reason"] == "BackOff"]
    assert [e["object"] for e in backoff] == ["Pod/keystone-0"]
    log = asyncio.run(d.debug_log(K8S_MODEL, 1000))
    assert any(ln.startswith("unit-keystone-0: ") and " ERROR " in ln and FAILURE in ln
               for ln in log)
    assert len(asyncio.run(d.debug_log(K8S_MODEL, 5))) == 5
    status = asyncio.run(d.juju_status(K8S_MODEL))
    app = status["applications"]["keystone"]
    assert app["application-status"]["current"] == "error"
    assert app["units"]["keystone/0"]["workload-status"] == {"current": "error",
                                                             "message": FAILURE}


def test_what_is_not_there_is_an_error(lab: Lab) -> None:
    d = LabDiagnostics(lab)
    with pytest.raises(BackendError, match='namespaces "kube-nope" not found'):
        asyncio.run(d.pods("kube-nope"))
    with pytest.raises(BackendError, match="host node9 is not in the lab"):
        asyncio.run(d.snap_changes("node9"))
    with pytest.raises(BackendError, match='model "nope" not found'):
        asyncio.run(d.debug_log("nope", 10))
    host = lab.host_names()[0]
    summaries = [c["summary"] for c in asyncio.run(d.snap_changes(host))]
    assert 'Install "openstack-hypervisor" snap from "2025.1/stable" channel' in summaries
