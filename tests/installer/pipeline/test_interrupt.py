"""Ctrl-C during a long `juju` call: the command exits 130 (resumable) within the interrupt
grace and leaves no `juju` process behind (issue "One core, many front ends", item 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from installer.exits import Exit
from installer.journal import Journal
from tests.procs import alive

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a real run needs root")



def test_sigint_during_a_hung_juju_bootstrap_exits_130_and_kills_juju(
    short_dir: Path,
) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.installer.pipeline.interrupted_install", str(short_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    hung = short_dir / "juju.json.hung"
    try:
        deadline = time.monotonic() + 120  # a guard against a hung test, not a timing check
        while not (hung.exists() and hung.read_text().strip()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "juju bootstrap never started"
            time.sleep(0.02)
        pid = int(hung.read_text().split()[0])
        assert alive(pid)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        # The real run's interrupt grace is 5 s; the bootstrap would hang 60 s.
        assert time.monotonic() - started < 15, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == Exit.INTERRUPTED, (out, err)
    assert "Continue with: sunbeam-install resume" in out
    assert not alive(pid)
    with Journal.open(short_dir / "state" / "journal.sqlite") as j:
        run = j.last_run()
        assert run is not None and run.outcome == "interrupted"
