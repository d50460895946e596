"""The lab's incremental persistence (installer/lab/persist.py): a snapshot plus a journal of the
entities each operation changed, safe against kill -9 at any point."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from installer.exits import UserError
from installer.lab import Lab
from installer.lab.persist import JOURNAL_FILE, read_state
from installer.lab.state import STATE_FILE, LabState, write_atomic
from installer.planner import plan
from manifests.release import load_release
from tests.installer.lab.helpers import ROOT, admin_secret, ctx_for, example, run_sequentially


def _noop(message: str, fraction: float | None = None) -> None:
    pass


def _records(state_dir: Path) -> list[list[list[object]]]:
    lines = (state_dir / JOURNAL_FILE).read_text().splitlines()
    return [json.loads(line) for line in lines[1:]]


async def _installed(tmp_path: Path, name: str = "single-node") -> Lab:
    a = example(name)
    lab = Lab.open(tmp_path, time_scale=0)
    lab.ensure_hosts(a)
    await run_sequentially(plan(a, load_release(a.release)), ctx_for(a, lab.backends()))
    return lab


async def test_a_save_journals_only_what_the_operation_changed(tmp_path: Path) -> None:
    lab = await _installed(tmp_path, "three-node")
    before = len(_records(tmp_path))
    await lab.backends().snaps.set_config("node2", "openstack-hypervisor", {"x.y": "z"})
    records = _records(tmp_path)
    assert len(records) == before + 1
    [(key, value)] = records[-1]  # one entity: the host, not the whole state
    assert key == ["h", "node2"]
    assert isinstance(value, dict)
    assert value["snaps"]["openstack-hypervisor"]["config"]["x.y"] == "z"
    # A read changes nothing and writes nothing.
    await lab.backends().snaps.info("node3", "openstack-hypervisor")
    await lab.backends().juju.status("openstack-machines")
    assert len(_records(tmp_path)) == before + 1


async def test_reopen_sees_every_change_and_compacts_the_journal(tmp_path: Path) -> None:
    lab = await _installed(tmp_path)
    assert _records(tmp_path), "the install was journaled, not rewritten whole"
    expected = lab.state.model_dump()
    again = Lab.open(tmp_path, time_scale=0)
    assert again.state.model_dump() == expected
    assert list(again.state.hosts) == list(lab.state.hosts)  # the order kept too
    assert _records(tmp_path) == []  # folded into the snapshot on open
    assert LabState.model_validate_json((tmp_path / STATE_FILE).read_text()).model_dump() == \
        expected


async def test_a_torn_last_record_is_ignored(tmp_path: Path) -> None:
    lab = await _installed(tmp_path)
    before = lab.state.model_dump()
    # One operation that changes several entities (an application and its units): all or none.
    machines = list(lab.state.models["openstack-machines"].machines)
    await lab.backends().juju.deploy("openstack-machines", "extra", "ubuntu",
                                     channel="latest/stable", to=machines)
    after = lab.state.model_dump()
    assert len(_records(tmp_path)[-1]) > 1
    journal = (tmp_path / JOURNAL_FILE).read_bytes()
    last = journal.rindex(b"\n", 0, len(journal) - 1) + 1  # where the last record starts
    for cut in sorted({1, (len(journal) - last) // 2, len(journal) - last - 1}):
        copy = tmp_path.parent / f"cut{cut}"
        shutil.copytree(tmp_path, copy)
        (copy / JOURNAL_FILE).write_bytes(journal[:last + cut])
        assert Lab.open(copy, time_scale=0).state.model_dump() == before, cut
    assert Lab.open(tmp_path, time_scale=0).state.model_dump() == after


async def test_a_stale_journal_is_not_applied_to_a_newer_snapshot(tmp_path: Path) -> None:
    # A kill between compaction's two renames: the new snapshot holds everything already.
    lab = await _installed(tmp_path)
    await lab.backends().snaps.set_config("node1", "openstack-hypervisor", {"a.b": "c"})
    write_atomic(tmp_path / STATE_FILE, lab.state.model_dump_json())
    lab.state.hosts["node1"].snaps["openstack-hypervisor"].config["a.b"] = "later"
    assert Lab.open(tmp_path, time_scale=0).state.hosts["node1"].snaps[
        "openstack-hypervisor"].config["a.b"] == "c"


async def test_a_damaged_journal_is_a_clear_error(tmp_path: Path) -> None:
    await _installed(tmp_path)
    lines = (tmp_path / JOURNAL_FILE).read_text().splitlines(keepends=True)
    lines[2] = "[[\"u\", \"no-such-model\", \"a\", \"a/0\"], {}]\n"
    (tmp_path / JOURNAL_FILE).write_text("".join(lines))
    with pytest.raises(UserError, match=r"lab.journal is not valid at line 3; remove it"):
        Lab.open(tmp_path)
    lines[2] = "{not json\n"
    (tmp_path / JOURNAL_FILE).write_text("".join(lines))
    with pytest.raises(UserError, match=r"lab.journal is not valid at line 3"):
        Lab.open(tmp_path)


# -- kill -9 at random milestones ---------------------------------------------------------------

# Runs the twelve-node plan step by step in the lab and prints each step's id once it is done:
# an acknowledged change. After argv[2] steps it stops (so the kill always finds it running); it
# runs on meanwhile, so the kill lands anywhere in the steps after the parent's target. A tiny
# compaction threshold makes the snapshot be rewritten often: kills land around compactions too.
CHILD = """
import asyncio, sys
from pathlib import Path
import installer.lab.persist as persist
persist.COMPACT_MIN_BYTES, persist.COMPACT_FACTOR = 20_000, 0
from installer.lab import Lab
from installer.planner import plan
from manifests.release import load_release
from tests.installer.lab.helpers import ctx_for, example

async def main() -> None:
    a = example("twelve-node")
    lab = Lab.open(Path(sys.argv[1]), time_scale=0)
    lab.ensure_hosts(a)
    secrets = {}
    if lab.keystone_admin_password() is not None:
        secrets["admin-password"] = lab.keystone_admin_password()
    ctx = ctx_for(a, lab.backends(), secrets)
    print("open", flush=True)
    done = 0
    for step in plan(a, load_release(a.release)).steps:
        if not await step.done(ctx):
            await step.run(ctx)
        print(step.id, flush=True)
        done += 1
        if done == int(sys.argv[2]):
            await asyncio.Event().wait()

asyncio.run(main())
"""


def _consistent(lab: Lab) -> None:
    """The invariants a whole state keeps (an operation half-saved would break one)."""
    for m in lab.state.models.values():
        ids = [int(i) for i in m.machines]
        assert not ids or m.next_machine > max(ids), m.name
        assert set(m.machines.values()) <= set(lab.state.hosts), m.name
        for name, app in m.apps.items():
            numbers = [int(u.split("/")[1]) for u in app.units]
            assert not numbers or app.next_unit > max(numbers), name
            for u in app.units.values():
                assert m.kind != "machine" or u.machine in m.machines, name


async def test_kill_9_at_random_milestones_keeps_every_acknowledged_change(
        tmp_path: Path) -> None:
    a = example("twelve-node")
    steps = plan(a, load_release(a.release)).steps
    rng = random.Random(20261130)
    state = tmp_path / "lab"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    acknowledged: list[str] = []
    for _ in range(6):
        # The kill goes after a random number of steps have acknowledged their changes; the
        # child keeps running meanwhile (up to 8 steps more), so it lands anywhere after.
        target = rng.randint(1, 40)
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(state), str(target + 8)],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"open\n", proc.communicate()[1].decode()
        for _ in range(target):
            line = proc.stdout.readline()
            assert line, proc.communicate()[1].decode()
            acknowledged.append(line.decode().strip())
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL

        lab = Lab.open(state, time_scale=0)  # reads whole, or raises
        _consistent(lab)
        ctx = ctx_for(a, lab.backends(),
                      admin_secret(lab) if lab.keystone_admin_password() else None)
        by_id = {s.id: s for s in steps}
        missing = [sid for sid in dict.fromkeys(acknowledged) if not await by_id[sid].done(ctx)]
        assert not missing, f"acknowledged before the kill but lost: {missing}"
    # And the lab finishes the plan from there.
    lab = Lab.open(state, time_scale=0)
    ctx = ctx_for(a, lab.backends(), admin_secret(lab) if lab.keystone_admin_password() else None)
    await run_sequentially(plan(a, load_release(a.release)), ctx)
    _consistent(Lab.open(state, time_scale=0))


def test_marks_are_kept_per_operation_across_concurrent_saves(tmp_path: Path) -> None:
    """An operation looks its host up, waits its simulated time while other operations save,
    then changes the host and saves: the change reaches the journal."""

    async def run() -> None:
        a = example("three-node")
        lab = Lab.open(tmp_path, time_scale=0.001)
        lab.ensure_hosts(a)
        snaps = lab.backends().snaps
        await asyncio.gather(*(
            snaps.install(h.name, name, "latest/stable", classic=False, progress=_noop)
            for name in ("juju", "k8s", "microceph") for h in a.hosts
        ))

    asyncio.run(run())
    kept = read_state(tmp_path)
    assert kept is not None
    assert all({"juju", "k8s", "microceph"} <= set(h.snaps) for h in kept.hosts.values())


async def test_a_lab_opened_again_elsewhere_still_records_later_changes(tmp_path: Path) -> None:
    """Another process (here another Lab) opened the state dir since and started a new
    journal: this lab's later changes go there, not to a file nobody reads."""
    lab = await _installed(tmp_path)
    Lab.open(tmp_path, time_scale=0)  # compacts: a new snapshot and a new journal file
    await lab.backends().snaps.set_config("node1", "openstack-hypervisor", {"a.b": "late"})
    kept = Lab.open(tmp_path, time_scale=0).state
    assert kept.hosts["node1"].snaps["openstack-hypervisor"].config["a.b"] == "late"
    assert kept.controller == lab.state.controller
