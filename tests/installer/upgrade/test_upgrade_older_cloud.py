"""The upgrade's Ceph and Kubernetes phases through the real CLI against the simulated lab.

Sunbeam's 2024.1 and 2025.1 both run the k8s charm 1.32 and Ceph squid (reference
sunbeam-deployment.md §1), so upgrading the 2024.1 cloud Sunbeam builds today reaches neither
phase (test_upgrade_dry_run.py). An older cloud does: Sunbeam's own 2024.1 line ran the k8s
charm on 1.30 and 1.31 and microceph on reef until early 2025 (§9), and this installer builds
one when its answers pin them in `software`. That is how the cloud here is made: a dry-run
install of the three-node example as 2024.1 with the k8s charm pinned to 1.30/beta and
microceph (charm and snap) to reef/candidate, the channels Sunbeam's versions.py itself named
then (§9: k8s was never 1.30/stable there, microceph was reef/candidate); the upgrade then runs
with the same answers minus the pins, as an operator who drops them would.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.backends.base import BackendError
from installer.cli import main
from installer.events import PlanFinished, StepFinished, StepLog, StepStarted, parse_event
from installer.lab import Lab
from manifests.answers import Answers
from tests.installer.upgrade.test_upgrade_dry_run import (
    ROOT,
    assert_everything_on_target,
    write_facts,
)

OLD_K8S, OLD_CEPH = "1.30/beta", "reef/candidate"
PINS = {"k8s": {"channel": OLD_K8S},
        "microceph": {"channel": OLD_CEPH, "config": {"snap-channel": OLD_CEPH}}}
STORAGE = ("node1", "node2", "node3")
MACHINES = "openstack-machines"


class OlderCloud:
    """A dry-run 2024.1 cloud in `tmp` with the k8s charm on 1.30 and Ceph on reef."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.state = tmp / "state"
        data = yaml.safe_load((ROOT / "examples" / "three-node.yaml").read_text())
        data["release"] = "2024.1"
        self.answers_file = tmp / "answers-2024.1.yaml"  # what the upgrade runs with
        self.answers_file.write_text(yaml.safe_dump(data))
        self.pinned_file = tmp / "answers-2024.1-pinned.yaml"  # what built the cloud
        self.pinned_file.write_text(yaml.safe_dump({**data, "software": PINS}))
        self.facts = write_facts(Answers.model_validate(data), tmp / "facts-24.04", "24.04")
        rc = main(["--answers", str(self.pinned_file), "--dry-run", "--yes",
                   "--state-dir", str(self.state), "--time-scale", "0",
                   "--facts", str(self.facts), "--events-file", str(tmp / "install.jsonl")])
        assert rc == 0

    def common(self) -> list[str]:
        return ["--dry-run", "--state-dir", str(self.state), "--time-scale", "0"]

    def upgrade(self, *extra: str, events: str = "upgrade.jsonl", pinned: bool = False) -> int:
        answers = self.pinned_file if pinned else self.answers_file
        return main(["upgrade", "--to", "2025.1", "--yes", *self.common(),
                     "--answers", str(answers), "--facts", str(self.facts),
                     "--events-file", str(self.tmp / events), *extra])

    def events(self, name: str = "upgrade.jsonl") -> list[Any]:
        return [parse_event(line) for line in (self.tmp / name).read_text().splitlines()
                if line.strip()]

    def lab(self) -> Lab:
        return Lab.open(self.state, time_scale=0)

    def k8s_channel(self) -> str | None:
        return self.lab().state.models[MACHINES].apps["k8s"].channel

    def ceph_snaps(self) -> dict[str, str]:
        hosts = self.lab().state.hosts
        return {h: hosts[h].snaps["microceph"].channel for h in STORAGE}


@pytest.fixture
def older(tmp_path: Path) -> OlderCloud:
    cloud = OlderCloud(tmp_path)
    # The lab holds the older cloud: the pins took effect.
    assert cloud.k8s_channel() == OLD_K8S
    assert cloud.ceph_snaps() == dict.fromkeys(STORAGE, OLD_CEPH)
    return cloud


def _at(evs: list[Any], kind: type[StepStarted] | type[StepFinished], step: str) -> int:
    """The index of `step`'s StepStarted or StepFinished event."""
    return next(i for i, e in enumerate(evs) if isinstance(e, kind) and e.step == step)


def _logs(evs: list[Any], step: str) -> list[str]:
    return [e.line for e in evs if isinstance(e, StepLog) and e.step == step]


def test_older_cloud_rolls_ceph_with_noout_then_steps_kubernetes_one_minor_at_a_time(
        older: OlderCloud, capsys: pytest.CaptureFixture[str]) -> None:
    assert older.upgrade() == 0
    evs = older.events()
    assert isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "done"
    failed = [e.step for e in evs if isinstance(e, StepFinished) and e.outcome == "failed"]
    assert not failed

    # Ceph: one storage host at a time. noout set in Ceph before the host's microceph refresh;
    # after it, the OSDs back, noout unset and HEALTH_OK before the next host starts.
    previous_healthy: str | None = None
    for h in STORAGE:
        noout, snap, healthy = (f"upgrade.ceph-noout@{h}", f"upgrade.snap:microceph@{h}",
                                f"upgrade.ceph-healthy@{h}")
        if previous_healthy is not None:
            assert _at(evs, StepFinished, previous_healthy) < _at(evs, StepStarted, noout)
        assert _at(evs, StepFinished, noout) < _at(evs, StepStarted, snap)
        assert _at(evs, StepFinished, snap) < _at(evs, StepStarted, healthy)
        assert "sudo microceph.ceph osd set noout" in _logs(evs, noout)
        assert "sudo microceph.ceph osd unset noout" in _logs(evs, healthy)
        assert "Ceph HEALTH_OK" in _logs(evs, healthy)
        previous_healthy = healthy
    assert _at(evs, StepFinished, previous_healthy or "") < _at(
        evs, StepStarted, "upgrade.charm:microceph")

    # Kubernetes after Ceph (Sunbeam's intended order), one minor per refresh, every node
    # Ready between two. The lab refuses a k8s refresh that skips a minor (see below), so a
    # plan that jumped 1.30 -> 1.32 would fail here.
    k8s = ["upgrade.charm:k8s/1.31", "upgrade.k8s-ready/1.31",
           "upgrade.charm:k8s/1.32", "upgrade.k8s-ready/1.32"]
    assert _at(evs, StepFinished, "upgrade.charm:microceph") < _at(evs, StepStarted, k8s[0])
    for before, after in itertools.pairwise(k8s):
        assert _at(evs, StepFinished, before) < _at(evs, StepStarted, after)
    assert any(line.startswith(f"juju refresh k8s -m {MACHINES} --channel 1.31/stable "
                               "(from 1.30/beta") for line in _logs(evs, k8s[0]))
    assert any(line.startswith(f"juju refresh k8s -m {MACHINES} --channel 1.32/stable "
                               "(from 1.31/stable") for line in _logs(evs, k8s[2]))
    # The hypervisors only after Kubernetes.
    assert _at(evs, StepFinished, k8s[-1]) < _at(
        evs, StepStarted, "upgrade.snap:openstack-hypervisor@node1")

    assert older.lab().state.ceph_flags == []
    assert older.k8s_channel() == "1.32/stable"
    assert older.ceph_snaps() == dict.fromkeys(STORAGE, "squid/stable")
    capsys.readouterr()
    assert main(["upgrade", "--show", "--json", *older.common()]) == 0
    assert_everything_on_target(json.loads(capsys.readouterr().out))


def test_ceph_that_stays_degraded_stops_the_upgrade_at_that_storage_host(
        older: OlderCloud, capsys: pytest.CaptureFixture[str]) -> None:
    assert older.upgrade("--faults", "ceph.health=fail") == 3
    report = capsys.readouterr().out
    assert "upgrade.ceph-healthy@node1" in report
    assert "Ceph is still HEALTH_WARN" in report and "PG_DEGRADED" in report
    assert "microceph.ceph health detail" in report  # the hint
    # node1 refreshed; node2 and node3 not started; noout was unset before the health wait
    # (Ceph may rebalance once the host's OSDs are back); Kubernetes not touched yet.
    assert older.ceph_snaps() == {"node1": "squid/stable", "node2": OLD_CEPH, "node3": OLD_CEPH}
    assert older.lab().state.ceph_flags == []
    assert older.k8s_channel() == OLD_K8S
    started = {e.step for e in older.events() if isinstance(e, StepStarted)}
    assert "upgrade.ceph-noout@node2" not in started

    assert older.upgrade(events="continue.jsonl") == 0
    evs = older.events("continue.jsonl")
    started = {e.step for e in evs if isinstance(e, StepStarted)}
    assert "upgrade.snap:microceph@node1" not in started  # finished before: not redone
    assert {"upgrade.ceph-healthy@node1", "upgrade.ceph-noout@node2"} <= started
    assert older.ceph_snaps() == dict.fromkeys(STORAGE, "squid/stable")
    assert older.k8s_channel() == "1.32/stable"


def test_a_failed_storage_refresh_leaves_noout_set_and_its_host_reverted(
        older: OlderCloud, capsys: pytest.CaptureFixture[str]) -> None:
    assert older.upgrade("--faults", "snap.refresh:microceph@node2=fail") == 3
    assert "upgrade.snap:microceph@node2" in capsys.readouterr().out
    # noout was set in the lab's Ceph around node2's refresh and stays set: node2's OSDs are
    # not known to be back, so Ceph must not start moving their data.
    assert older.lab().state.ceph_flags == ["noout"]
    assert older.ceph_snaps() == {"node1": "squid/stable", "node2": OLD_CEPH, "node3": OLD_CEPH}

    assert older.upgrade(events="continue.jsonl") == 0
    assert older.lab().state.ceph_flags == []
    assert older.ceph_snaps() == dict.fromkeys(STORAGE, "squid/stable")


def test_the_lab_refuses_a_kubernetes_refresh_that_skips_a_minor(older: OlderCloud) -> None:
    juju = older.lab().backends().juju
    with pytest.raises(BackendError, match="one minor version at a time") as e:
        asyncio.run(juju.refresh(MACHINES, "k8s", channel="1.32/stable"))
    assert e.value.hint == "Refresh k8s to 1.31 first."
    assert older.k8s_channel() == OLD_K8S  # refused before anything changed
    asyncio.run(juju.refresh(MACHINES, "k8s", channel="1.31/stable"))
    assert older.k8s_channel() == "1.31/stable"


def test_upgrading_with_the_pins_kept_leaves_kubernetes_and_ceph_alone(
        older: OlderCloud) -> None:
    # The answers' pins hold through the upgrade: the OpenStack charms move, k8s and Ceph
    # (the microceph snap with its charm) stay where the operator pinned them.
    assert older.upgrade(pinned=True) == 0
    started = {e.step for e in older.events() if isinstance(e, StepStarted)}
    assert "upgrade.charm:keystone" in started
    assert not [s for s in started if "k8s" in s or "microceph" in s or ".ceph-" in s]
    assert older.k8s_channel() == OLD_K8S
    assert older.ceph_snaps() == dict.fromkeys(STORAGE, OLD_CEPH)
