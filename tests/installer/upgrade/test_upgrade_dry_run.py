"""The upgrade through the real CLI against the simulated lab: install 2024.1, upgrade to
2025.1; refusals; a failing hypervisor refresh reverted on its host; a failing charm refresh;
kill -9 in the middle and continue."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.cli import main
from installer.events import PlanFinished, StepFinished, StepLog, StepStarted, parse_event
from installer.exits import Exit
from installer.journal import Journal
from installer.lab import Lab, default_facts
from installer.state import StateDir
from manifests.answers import Answers
from manifests.release import load_release
from tests.installer.pipeline.runproc import run_pid

ROOT = Path(__file__).resolve().parents[3]
TARGET = load_release("2025.1")
# Application names as Sunbeam names them (keystone, not keystone-k8s).
CONTROL_PLANE_ORDER = ["keystone", "glance", "placement", "nova", "neutron", "cinder", "horizon"]



def write_facts(answers: Answers, out: Path, version: str) -> Path:
    """Lab facts of the answers' hosts running Ubuntu `version` (2024.1 and 2025.1 both run on
    24.04 in Sunbeam; 22.04 facts show a host that would block them)."""
    out.mkdir()
    for h in answers.hosts:
        f = default_facts(h.name, str(h.address), prefix=answers.network.management_cidr.prefixlen,
                          osd_devices=h.osd_devices, external_nic=h.external_nic)
        os_info = f.os.model_copy(update={"version": version,
                                          "pretty_name": f"Ubuntu {version} LTS"})
        (out / f"{h.name}.json").write_text(f.model_copy(update={"os": os_info}).model_dump_json())
    return out


class Cloud:
    """A dry-run cloud installed with 2024.1 in `tmp`."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.state = tmp / "state"
        data = yaml.safe_load((ROOT / "examples" / "three-node.yaml").read_text())
        data["release"] = "2024.1"
        self.answers_file = tmp / "answers-2024.1.yaml"
        self.answers_file.write_text(yaml.safe_dump(data))
        answers = Answers.model_validate(data)
        self.facts22 = write_facts(answers, tmp / "facts-22.04", "22.04")
        self.facts24 = write_facts(answers, tmp / "facts-24.04", "24.04")
        rc = main(["--answers", str(self.answers_file), "--dry-run", "--yes",
                   "--state-dir", str(self.state), "--time-scale", "0",
                   "--facts", str(self.facts24), "--events-file", str(tmp / "install.jsonl")])
        assert rc == 0

    def common(self) -> list[str]:
        return ["--dry-run", "--state-dir", str(self.state), "--time-scale", "0"]

    def upgrade(self, *extra: str, events: str = "upgrade.jsonl") -> int:
        return main(["upgrade", "--to", "2025.1", "--yes", *self.common(),
                     "--facts", str(self.facts24), "--events-file", str(self.tmp / events),
                     *extra])

    def events(self, name: str = "upgrade.jsonl") -> list[Any]:
        return [parse_event(line) for line in (self.tmp / name).read_text().splitlines()
                if line.strip()]

    def show(self, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
        capsys.readouterr()
        assert main(["upgrade", "--show", "--json", *self.common()]) == 0
        return json.loads(capsys.readouterr().out)

    def lab(self) -> Lab:
        return Lab.open(self.state, time_scale=0)

    def password(self) -> str:
        """The admin password keystone-k8s generated, which the install kept 0600."""
        password = StateDir(self.state).secrets().load_admin_password(None)
        assert password is not None
        return password


@pytest.fixture
def cloud(tmp_path: Path) -> Cloud:
    return Cloud(tmp_path)


def assert_everything_on_target(data: dict[str, Any]) -> None:
    deployed = data["deployed"]
    assert deployed["release"] == "2025.1"
    assert deployed["channels_release"] == "2025.1"
    for app in deployed["apps"]:
        if app["charm"] in TARGET.all_charm_names():
            assert app["channel"] == TARGET.charm(app["charm"]).channel, app["app"]
            assert all(u["workload"] == "active" for u in app["units"]), app["app"]
    assert deployed["snaps"], "no snap was detected"
    for snap in deployed["snaps"]:
        assert snap["channel"] == TARGET.all_snaps()[snap["name"]].channel, snap


def test_install_2024_1_then_upgrade_to_2025_1(cloud: Cloud,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    before = cloud.show(capsys)
    assert before["deployed"]["release"] == "2024.1"
    assert next(t for t in before["targets"] if t["supported"])["release"] == "2025.1"

    assert cloud.upgrade() == 0
    out = capsys.readouterr().out
    assert "2024.1/stable" in out and "-> 2025.1/stable" in out  # the diff was shown
    evs = cloud.events()
    assert evs[0].kind == "upgrade"
    assert isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "done"

    # The control plane went in OpenStack's order, each after the previous one finished.
    started = {e.step: i for i, e in enumerate(evs) if isinstance(e, StepStarted)}
    finished = {e.step: i for i, e in enumerate(evs) if isinstance(e, StepFinished)}
    cp = [f"upgrade.charm:{a}" for a in CONTROL_PLANE_ORDER]
    assert sorted(cp, key=started.__getitem__) == cp
    for before_step, after_step in itertools.pairwise(cp):
        assert finished[before_step] < started[after_step]
    # ...and the hosts only after the whole control plane.
    cp_done = max(i for i, e in enumerate(evs) if isinstance(e, StepFinished)
                  and e.step.split(":", 1)[-1] in TARGET.charms)
    snaps = [i for i, e in enumerate(evs) if isinstance(e, StepStarted)
             and e.step.startswith("upgrade.snap:")]
    assert snaps and min(snaps) > cp_done

    # 2024.1 and 2025.1 share k8s 1.32 and Ceph squid (Sunbeam's versions.py): neither moves.
    # An older cloud reaches those phases: test_upgrade_older_cloud.py.
    assert not [s for s in started if "k8s" in s or "microceph" in s or "ceph-" in s]
    # The hypervisors' snap moves to 2025.1 with the release.
    assert {f"upgrade.snap:openstack-hypervisor@{h}" for h in ("node1", "node2", "node3")} \
        <= set(started)
    assert cloud.lab().state.ceph_flags == []

    after = cloud.show(capsys)
    assert_everything_on_target(after)
    # The journal records the run as an upgrade, and `status` reports it finished.
    with Journal.open(StateDir(cloud.state).journal_path) as j:
        run = j.last_run()
        assert run is not None and (run.kind, run.outcome) == ("upgrade", "done")
        assert Answers.model_validate_json(run.answers_snapshot).release == "2025.1"
    capsys.readouterr()
    assert main(["status", "--json", *cloud.common()[:3]]) == 0
    status = json.loads(capsys.readouterr().out)["run"]
    assert (status["kind"], status["outcome"]) == ("upgrade", "done")
    # Upgrading again finds nothing to do.
    assert cloud.upgrade(events="again.jsonl") == 0
    assert "nothing to upgrade" in capsys.readouterr().out


def test_unsupported_target_is_refused_and_changes_nothing(
        cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    rc = main(["upgrade", "--to", "2026.1", "--yes", *cloud.common()])
    assert rc == 1
    err = capsys.readouterr().err
    assert "Cannot upgrade to 2026.1" in err and "not one this installer ships" in err
    with Journal.open(StateDir(cloud.state).journal_path) as j:
        run = j.last_run()
        assert run is not None and run.kind == "install"


def test_hosts_still_on_the_old_ubuntu_block_the_upgrade(
        cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    # Sunbeam needs 24.04 for both releases: a host found on 22.04 blocks the upgrade.
    rc = main(["upgrade", "--to", "2025.1", "--yes", *cloud.common(),
               "--facts", str(cloud.facts22)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "node1 runs Ubuntu 22.04 LTS; OpenStack 2025.1 needs Ubuntu 24.04" in err
    assert cloud.lab().state.hosts["node1"].snaps["openstack-hypervisor"].channel == \
        "2024.1/stable"


def test_failed_hypervisor_refresh_is_reverted_on_its_host_then_continued(
        cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    fault = "snap.refresh:openstack-hypervisor@node2=fail"
    assert cloud.upgrade("--faults", fault) == 3
    report = capsys.readouterr().out
    assert "upgrade.snap:openstack-hypervisor@node2" in report and "resume" in report
    hosts = cloud.lab().state.hosts
    # node2 went back to what it ran; node1 (before it) is upgraded; node3 was not started.
    assert hosts["node2"].snaps["openstack-hypervisor"].channel == "2024.1/stable"
    assert hosts["node1"].snaps["openstack-hypervisor"].channel == "2025.1/stable"
    assert hosts["node3"].snaps["openstack-hypervisor"].channel == "2024.1/stable"
    logs = [e.line for e in cloud.events() if isinstance(e, StepLog)
            and e.step == "upgrade.snap:openstack-hypervisor@node2"]
    assert any(line.startswith("snap revert openstack-hypervisor") for line in logs)
    with Journal.open(StateDir(cloud.state).journal_path) as j:
        summary = j.summary()
        assert summary is not None and summary.run.kind == "upgrade"
        [failed] = summary.failed
        assert failed.step_id == "upgrade.snap:openstack-hypervisor@node2"
        assert "reverted to 2024.1/stable" in (failed.error or "")

    # Without the fault, the same command continues the run (as `resume` would).
    assert cloud.upgrade(events="continue.jsonl") == 0
    evs = cloud.events("continue.jsonl")
    assert evs[0].already_done > 0
    started = {e.step for e in evs if isinstance(e, StepStarted)}
    assert "upgrade.charm:keystone" not in started  # finished steps are not redone
    assert "upgrade.snap:openstack-hypervisor@node2" in started
    assert_everything_on_target(cloud.show(capsys))


def test_resume_command_continues_a_failed_upgrade(cloud: Cloud,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert cloud.upgrade("--faults", "snap.refresh:openstack-hypervisor@node2=fail") == 3
    assert main(["resume", *cloud.common(), "--events-file", str(cloud.tmp / "r.jsonl")]) == 0
    assert_everything_on_target(cloud.show(capsys))


def test_failed_charm_refresh_names_the_application_and_the_way_back(
        cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    assert cloud.upgrade("--faults", "juju.refresh:glance=fail") == 3
    report = capsys.readouterr().out
    assert "upgrade.charm:glance" in report
    assert "juju refresh glance -m openstack --channel 2024.1/stable" in report
    started = {e.step for e in cloud.events() if isinstance(e, StepStarted)}
    assert "upgrade.charm:keystone" in started
    assert "upgrade.charm:placement" not in started  # the upgrade stopped at glance


def _order(evs: list[Any], *steps: str) -> list[int]:
    """Indexes of each step's StepStarted and StepFinished, in the order given."""
    out: list[int] = []
    for step in steps:
        out += [next(i for i, e in enumerate(evs) if isinstance(e, kind) and e.step == step)
                for kind in (StepStarted, StepFinished)]
    return out


def test_one_at_a_time_disables_each_compute_host_while_it_is_refreshed(
        cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    fault = "snap.refresh:openstack-hypervisor@node2=fail"
    assert cloud.upgrade("--one-at-a-time", "--faults", fault) == 3
    # node1 went disable -> refresh -> enable, one step after the other.
    evs = cloud.events()
    order = _order(evs, "upgrade.compute-disable@node1", "upgrade.snap:openstack-hypervisor@node1",
                   "upgrade.compute-enable@node1", "upgrade.compute-disable@node2")
    assert order == sorted(order)
    # The run stopped at node2's refresh: node2 stays out of scheduling, with the reason, and
    # the lab's `openstack compute service list` says so; node1 is back, node3 untouched.
    lab = cloud.lab()
    assert lab.state.compute_disabled == {"node2": "sunbeam-install upgrade"}
    lines: list[str] = []
    hosts = lab.backends().hosts
    env = {"OS_PASSWORD": cloud.password()}
    listing = asyncio.run(hosts.run(
        "node1", ["openstack", "compute", "service", "list", "--service", "nova-compute",
                  "-f", "value", "-c", "Host", "-c", "Status"], log=lines.append,
        secret_env=env))
    assert listing.returncode == 0
    assert lines == ["node1 enabled", "node2 disabled", "node3 enabled"]

    # Continued without the fault (the stored options keep one at a time): node2 enabled again.
    assert cloud.upgrade(events="continue.jsonl") == 0
    started = {e.step for e in cloud.events("continue.jsonl") if isinstance(e, StepStarted)}
    assert {"upgrade.compute-enable@node2", "upgrade.compute-disable@node3"} <= started
    assert "upgrade.compute-disable@node2" not in started  # finished before: not redone
    assert cloud.lab().state.compute_disabled == {}
    assert_everything_on_target(cloud.show(capsys))


def test_kill_9_during_the_upgrade_then_continue_finishes_it(
        cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-m", "installer", "upgrade", "--to", "2025.1", "--yes",
            "--dry-run", "--state-dir", str(cloud.state), "--time-scale", "0.002",
            "--facts", str(cloud.facts24)]
    first = cloud.tmp / "killed.jsonl"
    proc = subprocess.Popen([*argv, "--events-file", str(first)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        # Midway: after a few control-plane charms, while one is refreshing or settling.
        if first.exists() and first.read_text().count('"StepFinished"') >= 4:
            # The upgrade runs in its own process (the command follows it): kill that.
            os.kill(run_pid(cloud.state, proc), signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.communicate(timeout=60)
    assert proc.returncode == Exit.INTERRUPTED, "the upgrade ended before it could be killed"
    killed = cloud.events("killed.jsonl")
    done_before = {e.step for e in killed if isinstance(e, StepFinished)
                   and e.outcome in ("done", "skipped")}

    second = cloud.tmp / "continued.jsonl"
    result = subprocess.run([*argv, "--events-file", str(second)], cwd=ROOT, env=env,
                            capture_output=True, timeout=90)
    assert result.returncode == 0, result.stderr.decode()
    assert b"continuing the unfinished upgrade run" in result.stderr
    evs = cloud.events("continued.jsonl")
    restarted = {e.step for e in evs if isinstance(e, StepStarted)} & done_before
    assert not restarted, f"finished steps were run again: {sorted(restarted)}"
    assert isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "done"
    assert_everything_on_target(cloud.show(capsys))
