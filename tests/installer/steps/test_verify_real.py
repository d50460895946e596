"""The verify plans on the REAL host backend (LocalHostBackend: asyncio subprocesses) running
the fake `openstack` client (tests/fakes/fake_openstack.py), a fake `curl` (downloads write the
file, probes print a status code) and a fake `ping` on PATH, through the real runner.

What this proves beyond the lab: the command lines verify runs are ones the client parses
(its options per command, multi-word nouns and verbs), and the output formats it reads (JSON of
endpoint list, compute service list, server show, floating ip create/list) are the client's.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from installer.backends.base import Backends
from installer.backends.ssh import LocalHostBackend
from installer.events import Event, StepFinished
from installer.journal import Journal
from installer.planner import auth_url
from installer.planner.verify import verify_plans
from installer.runner import RunOptions, RunResult, run_plan
from installer.secrets import Secrets
from installer.steps.identity import ADMIN_PASSWORD, admin_env
from installer.steps.verify import CleanupImage, ImageCheck
from manifests.loader import load_answers
from manifests.release import load_release
from tests.fakes.fake_openstack import install_fake_openstack

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "Adm1n-pw-for-the-verify-test"
FAKE_CURL = """#!/bin/sh
# A download (-o FILE) writes FILE; a probe (-o /dev/null -w FMT) prints a status code.
out=""; while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
if [ "$out" = /dev/null ]; then printf 300; else echo cirros > "$out"; fi
"""
FAKE_PING = "#!/bin/sh\necho '3 packets transmitted, 3 received, 0% packet loss'\n"


def _exe(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


class _Ctx:
    """Enough of a StepContext for admin_env (the fixture creates the external network)."""

    def secret(self, name: str) -> str:
        return PASSWORD


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    answers = load_answers(ROOT / "examples" / "three-node.yaml")
    bin_dir = tmp_path / "bin"
    state_file = tmp_path / "cloud.json"
    state_file.write_text(json.dumps({
        "models": {"openstack": {"applications": {
            app: {"charm": f"{app}-k8s"}
            for app in ("keystone", "nova", "neutron", "glance", "placement")}}},
        "keystone_admin_sha256": hashlib.sha256(PASSWORD.encode()).hexdigest(),
        "openstack": {"auth_url": auth_url(answers), "compute_hosts": ["node1", "node2"]},
    }))
    install_fake_openstack(bin_dir, state_file)
    _exe(bin_dir / "curl", FAKE_CURL)
    _exe(bin_dir / "ping", FAKE_PING)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    env = {**os.environ, **admin_env(_Ctx(), auth_url(answers))}  # type: ignore[arg-type]
    ext = answers.network.external
    assert ext is not None
    for argv in (["network", "create", "external-network", "--external", "--share",
                  "--provider-network-type", "flat", "--provider-physical-network",
                  "physnet1"],
                 ["subnet", "create", "external-subnet", "--network", "external-network",
                  "--subnet-range", str(ext.cidr), "--gateway", str(ext.gateway),
                  "--allocation-pool",
                  f"start={ext.allocation_range.start},end={ext.allocation_range.end}",
                  "--no-dhcp"]):
        subprocess.run([str(bin_dir / "openstack"), *argv], env=env, check=True,
                       capture_output=True)
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(mode=0o700)
    return {"answers": answers, "state": state_file, "tmp": tmp_path,
            "secrets": Secrets(secrets_dir), "image_file": str(tmp_path / "cirros.img")}


async def _run(cloud: dict[str, Any], **plan_options: Any) -> tuple[RunResult, RunResult,
                                                                      list[Event]]:
    answers = cloud["answers"]
    secrets: Secrets = cloud["secrets"]
    secrets.use(ADMIN_PASSWORD, PASSWORD)
    checks, cleanup = verify_plans(answers, poll=0.01, **plan_options)
    for step in (*checks.steps, *cleanup.steps):
        if isinstance(step, ImageCheck | CleanupImage):
            step.image_file = cloud["image_file"]  # not the snap's directory of this machine
    hosts = LocalHostBackend(is_root=True)
    backends = Backends(snaps=None, juju=None, k8s=None, hosts=hosts)  # type: ignore[arg-type]
    events: list[Event] = []
    journal = Journal.open(cloud["tmp"] / "verify.sqlite")
    run = journal.start_run(kind="verify", answers_snapshot="{}", answers_path=None,
                            dry_run=False, steps=[(s.id, s.title, s.host)
                                                  for s in (*checks.steps, *cleanup.steps)])
    common: dict[str, Any] = {"answers": answers, "release": load_release(answers.release),
                              "backends": backends, "journal": journal, "run_id": run.id,
                              "emit": events.append, "secrets": secrets, "kind": "verify",
                              "options": RunOptions(backoff=0.01)}
    try:
        first = await run_plan(checks, **common)
        second = await run_plan(cleanup, **common)
    finally:
        journal.close()
    return first, second, events


def _cloud_state(cloud: dict[str, Any]) -> dict[str, Any]:
    return json.loads(Path(cloud["state"]).read_text())


async def test_verify_on_the_real_host_backend_passes_and_cleans_up(
        cloud: dict[str, Any]) -> None:
    checks, cleanup, events = await _run(cloud)
    failures = [(f.step, f.error, f.log_tail[-3:]) for f in checks.failures]
    assert checks.outcome == "done", failures
    assert cleanup.outcome == "done", [(f.step, f.error) for f in cleanup.failures]
    state = _cloud_state(cloud)
    os_state = state["openstack"]
    for table in ("routers", "images", "flavors", "security_groups", "keypairs", "servers",
                  "floating_ips"):
        assert not os_state.get(table), (table, os_state.get(table))
    assert set(os_state["networks"]) == {"external-network"}
    assert not Path(cloud["image_file"]).exists()
    calls = [" ".join(c) for c in state["openstack_calls"]]
    # The instance was polled through BUILD to ACTIVE, then reached over a floating IP.
    assert sum(c.startswith("server show sunbeam-install-verify-server -f json")
               for c in calls) >= 3
    assert any(c.startswith("floating ip create --description sunbeam-install-verify")
               for c in calls)
    # Nothing secret left this process: the password is in no call and no event.
    assert PASSWORD not in json.dumps(state)
    assert not any(PASSWORD in e.model_dump_json() for e in events)
    # The private key the client printed was neither logged nor put in an event.
    assert not any("PRIVATE KEY" in e.model_dump_json() for e in events)
    done = {e.step for e in events if isinstance(e, StepFinished) and e.outcome == "done"}
    assert {"verify.endpoints", "verify.reach", "verify.cleanup:server"} <= done


async def test_a_down_compute_service_fails_its_check_with_a_hint(
        cloud: dict[str, Any]) -> None:
    state = _cloud_state(cloud)
    state["openstack"]["compute_hosts"] = []
    Path(cloud["state"]).write_text(json.dumps(state))
    checks, cleanup, _ = await _run(cloud)
    assert checks.outcome == "failed"
    failed = {f.step: f for f in checks.failures}
    assert set(failed) == {"verify.compute-services"}
    assert "no nova-compute service takes new instances" in failed[
        "verify.compute-services"].error
    assert failed["verify.compute-services"].hint
    assert cleanup.outcome == "done"  # what the other checks created is gone
    os_state = _cloud_state(cloud)["openstack"]
    assert not os_state.get("images") and not os_state.get("routers")
    assert set(os_state["networks"]) == {"external-network"}
