"""The runner with the real JujuCliBackend against the fake `juju`: step deadlines and cancel.

A wait that runs out of time must report what the backend waited for, not the runner's generic
"did not finish"; an interrupted step must leave no `juju` process behind, and promptly.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.events import StepFinished
from installer.plan import WAIT_MARGIN_MAX, WAIT_MARGIN_MIN, wait_timeout
from tests.installer.backends.juju_runs import juju_backend, juju_run, wait_step
from tests.installer.backends.test_backend_juju import FakeJuju
from tests.procs import alive

ROOT = Path(__file__).resolve().parents[3]
CONTROLLER = "sunbeam-controller"
BLOCKED = "(database) integration missing"



async def _deployed(fj: FakeJuju) -> None:
    """A controller and model `m` with keystone deployed (one unit)."""
    b = juju_backend(str(fj.exe), CONTROLLER)
    await b.bootstrap("manual", CONTROLLER, log=lambda _: None)
    await b.add_model("m", "manual")
    await b.deploy("m", "keystone", "keystone-k8s", channel="2025.1/stable")


def _hung_pids(fj: FakeJuju) -> list[int]:
    path = Path(f"{fj.state_file}.hung")
    text = path.read_text() if path.exists() else ""
    return [int(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


async def _first_hung_pid(fj: FakeJuju, within: float = 30.0) -> int:
    """The pid of the first `juju` call that hangs, once it hangs (the fake writes it)."""
    deadline = time.monotonic() + within
    while not (pids := _hung_pids(fj)):
        assert time.monotonic() < deadline, "no juju call hung"
        await asyncio.sleep(0.02)
    return pids[0]


@pytest.fixture
def fj(tmp_path: Path) -> Iterator[FakeJuju]:
    fake = FakeJuju(tmp_path)
    yield fake
    # A failed test must not leave a sleeping fake behind (it is this test's own process).
    for pid in _hung_pids(fake):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [(3600.0, 3600.0 - WAIT_MARGIN_MAX), (100.0, 95.0), (10.0, 10.0 - WAIT_MARGIN_MIN),
     (2.0, 1.0), (0.0, 0.0)],
)
def test_a_backend_wait_gets_the_remaining_time_less_a_bounded_margin(
    remaining: float, expected: float
) -> None:
    class Ctx:
        def remaining(self) -> float:
            return remaining

    assert wait_timeout(Ctx()) == pytest.approx(expected)  # type: ignore[arg-type]


async def test_a_wait_out_of_time_reports_the_backends_detail(fj: FakeJuju, tmp_path: Path) -> None:
    await _deployed(fj)
    fj.update(blocked_units={"keystone/0": BLOCKED})
    run = juju_run(tmp_path, juju_backend(str(fj.exe), CONTROLLER),
                   [wait_step("m", "keystone", timeout=4.0)])
    result = await asyncio.wait_for(run.runner.run(), 30)
    run.journal.close()
    assert result.outcome == "failed"
    finished = [e for e in run.events if isinstance(e, StepFinished)]
    assert len(finished) == 1 and finished[0].outcome == "failed"
    error = finished[0].error or ""
    assert f"keystone/0 (blocked/idle: {BLOCKED})" in error, error
    assert "did not finish within" not in error
    assert finished[0].hint and "juju status -m m" in finished[0].hint


async def test_cancelling_a_juju_call_kills_its_process(fj: FakeJuju) -> None:
    await _deployed(fj)
    fj.update(hang={"status": 60})
    task = asyncio.create_task(juju_backend(str(fj.exe), CONTROLLER).status("m"))
    pid = await _first_hung_pid(fj)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    assert time.monotonic() - started < 5
    assert not alive(pid)


async def test_an_interrupted_run_leaves_no_juju_running(fj: FakeJuju, tmp_path: Path) -> None:
    await _deployed(fj)
    fj.update(hang={"status": 60})
    run = juju_run(tmp_path, juju_backend(str(fj.exe), CONTROLLER),
                   [wait_step("m", "keystone", timeout=600.0)], interrupt_grace=0.5)
    task = asyncio.create_task(run.runner.run())
    pid = await _first_hung_pid(fj)
    started = time.monotonic()
    run.runner.interrupt()
    result = await asyncio.wait_for(task, 20)
    run.journal.close()
    assert time.monotonic() - started < 5  # 0.5 s of grace, then a SIGTERM the fake obeys
    assert result.outcome == "interrupted"
    assert not alive(pid)


async def test_sigint_stops_a_run_and_its_juju_within_seconds(
    fj: FakeJuju, tmp_path: Path
) -> None:
    await _deployed(fj)
    fj.update(hang={"status": 60})
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.installer.backends.juju_runs", str(run_dir), str(fj.exe),
         CONTROLLER, "m", "keystone", "600"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        pid = await _first_hung_pid(fj, within=60)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.to_thread(proc.communicate, timeout=30)
        assert time.monotonic() - started < 5, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"outcome": "interrupted"}
    assert not alive(pid)
