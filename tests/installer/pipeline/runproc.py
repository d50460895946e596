"""Helpers for tests of runs that execute in their own process (installer.pipeline.launch):
find the run's pid in the state dir, read a viewer's output up to a milestone."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path
from typing import IO

from installer.pipeline.launch import last_run_process

GUARD = 120.0  # seconds: a guard against a hung test, never a timing check


def run_pid(state: Path, proc: subprocess.Popen[bytes] | None = None,
            *, after: int | None = None) -> int:
    """The pid of the state dir's running run (its own process, not the viewer); `after`: a
    pid to skip (the previous attempt's)."""
    deadline = time.monotonic() + GUARD
    while True:
        process = last_run_process(state)
        if process is not None and process.pid is not None and process.pid != after \
                and process.exit is None:
            return process.pid
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the viewer ended before its run started: {proc.communicate()}")
        assert time.monotonic() < deadline, "the run's process never started"
        time.sleep(0.01)


def read_until(stream: IO[bytes] | None, marker: bytes, proc: subprocess.Popen[bytes],
               seen: bytearray) -> None:
    """Read `stream` into `seen` until it holds `marker`."""
    assert stream is not None
    fd = stream.fileno()
    deadline = time.monotonic() + GUARD
    while marker not in seen:
        assert time.monotonic() < deadline, f"never saw {marker!r}: {bytes(seen)[-2000:]!r}"
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"ended before {marker!r} (exit {proc.wait()}): "
                                     f"{bytes(seen)[-2000:]!r}")
            seen += chunk


def wait_for(path: Path, text: str, count: int = 1,
             proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until the file `path` holds `text` `count` times (a milestone of the run)."""
    deadline = time.monotonic() + GUARD
    while not (path.exists() and path.read_text().count(text) >= count):
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"ended before {text!r} x{count}: {proc.communicate()}")
        assert time.monotonic() < deadline, f"{path} never held {text!r} x{count}"
        time.sleep(0.01)


def held_milestone(answers: Path, held: str) -> int:
    """How many steps of the install of `answers` finish while step `held` hangs: all but it
    and the steps after it. A test that stops the run waits for them, so that the only step
    the stop cancels is the held one (no other can end as failed while being cancelled)."""
    from installer.planner import plan
    from manifests.loader import load_answers
    from manifests.release import load_release

    loaded = load_answers(answers)
    steps = plan(loaded, load_release(loaded.release)).steps
    after = {held}
    for step in steps:  # the plan is in dependency order
        if after & set(step.needs):
            after.add(step.id)
    return len(steps) - len(after)
