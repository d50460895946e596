"""`inspect` of a real run: the real diagnostics (juju CLI, lightkube, snapd's REST API, the local
probe) against the fakes of the real protocols that test_plan_real_backends.py wires up: the
fake `juju` executable, the fake Kubernetes API server and a fake snapd on a unix socket.

The cloud is made through the real backends (bootstrap, models, a deployed charm, a snap
installed through snapd); what the fakes answer quotes the admin password and a proxy's
credentials, and the bundle must not. One `juju debug-log` fails: it is noted, not fatal."""

from __future__ import annotations

import asyncio
import json
import stat
import tarfile
from pathlib import Path

from installer.backends.juju import JujuCliBackend
from installer.backends.snapd import SnapdClient
from installer.cmd.status import status_data
from installer.journal import Journal
from installer.pipeline.inspect import collect
from installer.pipeline.settings import RealEndpoints, RunSettings
from installer.planner import K8S_MODEL, MACHINE_MODEL, controller_name
from installer.planner.build import LXD_CHANNEL, LXD_SNAP
from installer.secrets import ADMIN_PASSWORD
from installer.state import StateDir
from tests.installer.test_plan_real_backends import example, make_world, stop_world

PASSWORD = "Adm1n-pw-real-inspect-4Tq"
PROXY_PASSWORD = "Pr0xy-pw-real-inspect-8Lm"


def _no_log(line: str) -> None:
    del line


async def make_cloud(juju: JujuCliBackend, snapd: SnapdClient, kubeconfig: str) -> None:
    """A controller, the machine and Kubernetes models, keystone deployed, a snap installed."""
    await juju.bootstrap("manual/127.0.0.1", str(juju.controller), log=_no_log)
    await juju.add_model(MACHINE_MODEL, "manual")
    await juju.add_k8s_cloud("sunbeam-k8s", kubeconfig)
    await juju.add_model(K8S_MODEL, "sunbeam-k8s")
    await juju.deploy(K8S_MODEL, "keystone", "keystone-k8s", channel="2025.1/stable")
    await snapd.snap_action(LXD_SNAP, "install", channel=LXD_CHANNEL)  # waits for the change
    await snapd.aclose()


def test_inspect_of_a_real_run(short_dir: Path) -> None:
    answers = example("single-node")
    host = answers.hosts[0].name
    w = make_world(short_dir, answers)
    try:
        socket = str(short_dir / f"{host}.sock")
        juju = JujuCliBackend(cli_binary=str(w.juju_exe), controller=controller_name(answers))
        snapd = SnapdClient.local(socket, poll_interval=0.01)
        asyncio.run(make_cloud(juju, snapd, w.kubeconfig.read_text()))
        leak = f"password {PASSWORD} proxy http://squid:{PROXY_PASSWORD}@proxy:3128"
        state_juju = w.juju
        state_juju["debug_log"] = {m: [f"machine-0: 12:00:02 INFO juju.worker {leak}"]
                                   for m in ("controller", MACHINE_MODEL, K8S_MODEL)}
        state_juju["fail"] = {"debug-log": "ERROR cannot open the log stream: EOF"}
        w.juju_state.write_text(json.dumps(state_juju))
        w.k8s.state.pods = {K8S_MODEL: {"keystone-0": "Running:ready",
                                        "modeloperator-5df": "Running:ready"}}
        w.k8s.state.events = {K8S_MODEL: [{
            "involvedObject": {"kind": "Pod", "name": "keystone-0"}, "type": "Warning",
            "reason": "Unhealthy", "message": f"Readiness probe failed: {leak}", "count": 2,
            "lastTimestamp": "2026-11-30T12:00:00Z"}]}

        # The state dir of a real run: its journal, its log, its kept secrets.
        state = StateDir(short_dir / "state").ensure()
        secrets = state.secrets()
        secrets.set(ADMIN_PASSWORD, PASSWORD)
        secrets.set("proxy-http", f"http://squid:{PROXY_PASSWORD}@proxy:3128")
        with Journal.open(state.journal_path) as journal:
            run = journal.start_run(kind="install", answers_snapshot=answers.model_dump_json(),
                                    answers_path=None, dry_run=False,
                                    steps=[("juju.bootstrap", "Bootstrap", None)],
                                    log_dir=state.logs_dir)
        state.log_path(run.id).write_text(f"12:00:00 INFO a step logged {leak}\n")

        settings = RunSettings(dry_run=False, state_dir=state.path, endpoints=RealEndpoints(
            snapd_socket=socket, kubeconfig=str(w.kubeconfig), juju_binary=str(w.juju_exe),
            poll_interval=0.01))
        summary = status_data(state.path)
        assert summary is not None and summary["run_id"] == run.id
        out = short_dir / "real.tar.gz"
        result = asyncio.run(collect(settings, summary=summary, out=out))
    finally:
        stop_world(w)

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    got: dict[str, bytes] = {}
    with tarfile.open(out, "r:gz") as tar:
        for m in tar.getmembers():
            assert m.isfile() and stat.S_IMODE(m.mode) == 0o600, m.name
            f = tar.extractfile(m)
            assert f is not None
            got[m.name.split("/", 1)[1]] = f.read()
    for name, data in got.items():
        for secret in (PASSWORD, PROXY_PASSWORD):
            assert secret.encode() not in data, f"{secret} in {name}"

    # juju status as the CLI printed it, for each model of the controller.
    models = ("controller", MACHINE_MODEL, K8S_MODEL)
    assert {f"juju/status-{m}.json" for m in models} <= set(got)
    k8s_status = json.loads(got[f"juju/status-{K8S_MODEL}.json"])
    assert k8s_status["applications"]["keystone"]["charm"] == "keystone-k8s"
    # One debug-log failed (the fake fails the first): noted with the CLI's reason.
    failed_logs = [(what, why) for what, why in result.failed if "debug-log" in what]
    assert len(failed_logs) == 1, result.failed
    assert "cannot open the log stream" in failed_logs[0][1]
    logs = [n for n in got if n.startswith("juju/debug-log-")]
    assert len(logs) == len(models) - 1
    manifest = got["MANIFEST"].decode()
    assert failed_logs[0][0] in manifest.split("not collected:", 1)[1]
    for name in logs:  # the tail as juju printed it, its secrets redacted
        text = got[name].decode()
        assert text.endswith("machine-0: 12:00:02 INFO juju.worker password ******** proxy "
                             "http://***@proxy:3128\n"), text
    if f"juju/debug-log-{K8S_MODEL}.txt" in got:
        assert "unit-keystone-0: 12:00:01 INFO" in got[f"juju/debug-log-{K8S_MODEL}.txt"].decode()
    # Pods and events over lightkube; the event's secrets redacted.
    pods = {p["name"]: p for p in json.loads(got["k8s/pods.json"])}
    assert pods["keystone-0"]["phase"] == "Running"
    assert pods["keystone-0"]["containers"][0]["ready"] is True
    (event,) = json.loads(got["k8s/events.json"])
    assert event["reason"] == "Unhealthy" and event["object"] == "Pod/keystone-0"
    assert "********" in event["message"] and "http://***@proxy:3128" in event["message"]
    # snapd's changes on the host, over its socket.
    changes = json.loads(got[f"snaps/{host}.changes.json"])
    assert any(c["kind"] == "install-snap" and c["status"] == "Done" for c in changes)
    # This machine's probe facts; the run's log, redacted; the answers.
    assert json.loads(got[f"facts/{host}.json"])["hostname"]
    assert b"********" in got[f"logs/{run.id}.log"]
    assert json.loads(got["answers.json"])["deployment"]["name"] == answers.deployment.name
    assert json.loads(got["status.json"])["run_id"] == run.id
