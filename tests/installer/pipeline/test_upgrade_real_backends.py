"""Install 2024.1 and upgrade it to 2025.1 through the use cases, on the REAL backends talking to
the fakes of the real protocols (snapd over a unix socket, the fake `juju` executable, the fake
Kubernetes API), in one process. Detection, preflight and the run share one event loop and one
set of backends per command, closed when the command ends (issue "One core, many front ends")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from installer.events import Event, PlanFinished, StepFinished
from installer.pipeline import RunSettings
from installer.pipeline.install import open_install
from installer.pipeline.runs import execute
from installer.pipeline.settings import RealEndpoints
from installer.pipeline.upgrade import open_upgrade
from installer.upgrade.planner import UpgradeOptions
from installer.upgrade.targets import check_target
from manifests.release import Release, load_release
from tests.fakes.fake_ceph import install_fake_ceph
from tests.fakes.snapd import StoreSnap
from tests.installer.test_plan_real_backends import (
    POLL,
    World,
    example,
    make_world,
    stop_world,
    store,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a real run needs root")


def store_of(*releases: Release) -> dict[str, StoreSnap]:
    """A snap store holding every channel of the given releases (the upgrade refreshes to the
    newer one's): the installer's snaps, LXD and the snaps the machine charms install."""
    merged: dict[str, StoreSnap] = {}
    for r in releases:
        for name, snap in store(r).items():
            have = merged.get(name)
            if have is None:
                merged[name] = snap
            elif snap.channels[0] not in have.channels:
                have.channels = (*have.channels, *snap.channels)
    # The real store carries every Kubernetes minor; the upgrade moves one minor at a time.
    k8s = merged["k8s"]
    k8s.channels = (*k8s.channels, *(f"1.{m}-classic/stable" for m in range(28, 36)
                                     if f"1.{m}-classic/stable" not in k8s.channels))
    return merged


def settings_for(w: World, d: Path) -> RunSettings:
    return RunSettings(
        dry_run=False,
        state_dir=d / "state",
        endpoints=RealEndpoints(
            snapd_socket=w.snapd["node1"].socket_path,
            kubeconfig=str(w.kubeconfig),
            juju_binary=str(w.juju_exe),
            known_hosts=d / "known_hosts",
            poll_interval=POLL,
        ),
    )


def failures(events: list[Event]) -> list[str]:
    return [f"{e.step}: {e.error}" for e in events
            if isinstance(e, StepFinished) and e.outcome == "failed"]


async def test_install_2024_1_then_upgrade_to_2025_1_on_the_real_backends(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = example("single-node").model_copy(update={"release": "2024.1"})
    old, new = load_release("2024.1"), load_release("2025.1")
    w = make_world(short_dir, answers)
    for fake in w.snapd.values():
        fake.state.store.update(store_of(old, new))
        fake.state.commands["microceph"] = install_fake_ceph
    monkeypatch.setenv("PATH", f"{w.snap_bin['node1']}:{os.environ['PATH']}")
    settings = settings_for(w, short_dir)
    try:
        events: list[Event] = []
        async with open_install(settings, answers) as job:
            setup = job.start()
            try:
                result = await execute(setup, events.append, handle_signals=False)
            finally:
                setup.close()
        assert result.outcome == "done", failures(events)

        events = []
        async with open_upgrade(settings) as job:
            deployed = await job.detect()
            assert deployed.release == "2024.1", deployed.notes
            assert check_target("2024.1", "2025.1").supported
            # The preflight judges the facts probed from this machine, the host of the
            # single-node answers: its real OS is all it may object to here.
            errors = {f.code for f in job.preflight(new) if f.severity == "error"}
            assert errors <= {"os-unsupported"}, errors
            options = UpgradeOptions()
            plan = job.plan(new, options)
            assert plan.steps
            setup = job.start(new, options, plan)
            try:
                result = await execute(setup, events.append, handle_signals=False)
            finally:
                setup.close()
        assert result.outcome == "done", failures(events)
        assert isinstance(events[-1], PlanFinished)

        # The snaps on node1 follow 2025.1's channels now, as snapd reports them.
        snaps = w.snapd["node1"].state.installed
        for name, spec in new.snaps.items():
            if name in snaps:
                assert snaps[name]["tracking-channel"] == spec.channel, name
        # Both releases run Ceph squid (sunbeam-deployment.md: MICROCEPH_CHANNEL squid/stable in
        # both): microceph is not refreshed, so Ceph's noout is never set.
        assert old.all_snaps()["microceph"] == new.all_snaps()["microceph"]
        assert not [s.id for s in plan.steps if "ceph-noout" in s.id]
        ceph_file = w.snap_bin["node1"] / "ceph-state.json"
        if ceph_file.exists():
            assert json.loads(ceph_file.read_text())["flags"] == []
        # And a second detection reads 2025.1 from the channels and the journal.
        async with open_upgrade(settings, look_only=True) as job:
            again = await job.detect()
        assert again.release == "2025.1" and again.channels_release == "2025.1"
    finally:
        stop_world(w)
