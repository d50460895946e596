"""Follow a run that executes in its own process: replay its events file, then tail it.

Every front end is a viewer: the console, `--events jsonl`, `attach` and (through the same
generator) the interactive ones. A viewer reads from where the attempt's events start, polls
for more (a short interval while events come, longer while none do), and ends after the
run's PlanFinished once the process has exited, or when the process is gone without one (killed:
`died`). Several viewers may follow one run: the file is only appended to.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from installer.events import Event, PlanFinished, PlanStarted, StepFinished, StepStarted
from installer.pipeline.launch import Launched, RunFiles, RunProcess, open_private, pid_alive
from installer.pipeline.launch import read_json as _read_json

if TYPE_CHECKING:
    import subprocess

    from installer.runner import RunResult
    from installer.state import StateDir

POLL_MIN = 0.02  # seconds between reads while events come
POLL_MAX = 0.25  # ... and at most, while none do (a long step)


@dataclass
class Follower:
    """One viewer's reading of one attempt of a run."""

    files: RunFiles
    offset: int
    state: StateDir
    pid: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    finished: PlanFinished | None = None  # the run's PlanFinished, once read
    record: dict[str, Any] | None = None  # the process's exit record, once it ended
    died: bool = False  # the process ended without PlanFinished
    detached: bool = False  # the viewer stopped following; the run goes on
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def of_launched(cls, launched: Launched, state: StateDir) -> Follower:
        return cls(launched.files, launched.offset, state, launched.pid, launched.proc)

    @classmethod
    def of_process(cls, process: RunProcess, state: StateDir) -> Follower:
        return cls(process.files, process.offset, state, process.pid)

    def alive(self) -> bool:
        """Whether the run's process still runs: our child's status when we started it, else
        its lock (a process killed with -9 lets go of it) and its pid."""
        if self.proc is not None:
            return self.proc.poll() is None
        if self.pid is None:
            record = _read_json(self.files.process)  # written once the process is up
            pid = (record or {}).get("pid")
            self.pid = pid if isinstance(pid, int) else None
        return self.state.is_locked() and (self.pid is None or pid_alive(self.pid))

    def detach(self) -> None:
        """Stop following (the run goes on); `events` ends at its next look."""
        self.detached = True
        self._wake.set()

    def stop_run(self) -> bool:
        """Ask the run's process to stop as Ctrl-C would (it journals the run as interrupted);
        False when there is no process to ask."""
        if self.pid is None:
            self.alive()  # reads the pid from the process record
        if self.pid is None or not self.alive():
            return False
        try:
            os.kill(self.pid, signal.SIGINT)
        except ProcessLookupError:
            return False
        return True

    async def events(self) -> AsyncIterator[Event]:
        """The attempt's events, as they are appended, until the run ended (or `detach`)."""
        from installer.events import parse_event

        fd = await self._open()
        if fd is None:
            return
        pending = b""
        poll = POLL_MIN
        try:
            os.lseek(fd, self.offset, os.SEEK_SET)
            while not self.detached:
                was_alive = self.alive()
                chunk = os.read(fd, 1 << 16)
                if chunk:
                    poll = POLL_MIN
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        try:
                            event = parse_event(line)
                        except ValueError:
                            continue  # not an event (cannot happen unless the file was edited)
                        if isinstance(event, PlanFinished):
                            self.finished = event
                        yield event
                        if self.detached:
                            return
                    continue
                if not was_alive:
                    break  # everything it wrote before it ended has been read
                await self._sleep(poll)
                if self.finished is None:  # after PlanFinished the process exits at once
                    poll = min(POLL_MAX, poll * 1.5)
        finally:
            os.close(fd)
        if not self.detached:
            self._ended()

    async def _open(self) -> int | None:
        """The events file, once the process created it; None when it ended without."""
        while not self.detached:
            was_alive = self.alive()
            try:
                return open_private(self.files.events, os.O_RDONLY)
            except FileNotFoundError:
                if not was_alive:
                    self._ended()
                    return None
            await self._sleep(POLL_MIN)
        return None

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def wait_ended(self) -> None:
        """Until the run's process has exited (it was asked to stop)."""
        poll = POLL_MIN
        while self.alive():
            await asyncio.sleep(poll)
            poll = min(POLL_MAX, poll * 1.5)
        self._ended()

    def _ended(self) -> None:
        if self.proc is not None:
            self.proc.wait()  # reap our child
        self.record = _read_json(self.files.exit)
        self.died = self.finished is None

    @property
    def error(self) -> str | None:
        """Why the process stopped before its first step, when it said."""
        error = (self.record or {}).get("error")
        return str(error) if error else None

    @property
    def notes(self) -> list[str]:
        notes = (self.record or {}).get("notes") or []
        return [str(n) for n in notes]


class ResultOf:
    """The RunResult of a run, put together from its events (for the closing report)."""

    def __init__(self) -> None:
        self.run_id = ""
        self.already_done = 0
        self.log_path: str | None = None
        self.titles: dict[str, str] = {}
        self.failed: dict[str, StepFinished] = {}
        self.finished: PlanFinished | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, PlanStarted):
            self.run_id, self.already_done = event.run_id, event.already_done
            self.log_path = event.log_path
        elif isinstance(event, StepStarted):
            self.titles[event.step] = event.title
        elif isinstance(event, StepFinished):
            if event.outcome == "failed":
                self.failed[event.step] = event
            else:
                self.failed.pop(event.step, None)
        elif isinstance(event, PlanFinished):
            self.finished = event

    def result(self, *, died: bool = False) -> RunResult:
        """The run's result; `died`: it ended without its PlanFinished (interrupted)."""
        from installer.runner import FailedStep, RunResult

        f = self.finished
        failures = [FailedStep(step, self.titles.get(step, step), e.error or "", e.hint,
                               list(e.log_tail)) for step, e in self.failed.items()]
        if f is None:
            return RunResult(self.run_id, "interrupted" if died else "failed",
                             failed=len(failures), already_done=self.already_done,
                             failures=failures, log_path=self.log_path)
        return RunResult(self.run_id, f.outcome, done=f.done, skipped=f.skipped,
                         failed=f.failed, pending=f.pending, already_done=self.already_done,
                         duration=f.duration, failures=failures, log_path=self.log_path)



@dataclass
class RunControl:
    """A front end's say over the run it follows (`followed`): leave it running or stop it."""

    follower: Follower | None = None
    detach_requested: bool = False
    detached_pid: int | None = None  # the run's process, when it was left running

    def detach(self) -> None:
        """Stop following; the run goes on in its own process (`attach` follows it again)."""
        self.detached_pid = self.live_pid
        self.detach_requested = True
        if self.follower is not None:
            self.follower.detach()

    def stop(self) -> bool:
        """Ask the run to stop (journaled interrupted); the events go on to its PlanFinished."""
        return self.follower is not None and self.follower.stop_run()

    @property
    def live_pid(self) -> int | None:
        """The pid of the run's process while it runs."""
        f = self.follower
        return f.pid if f is not None and f.alive() else None


async def followed(follower: Follower, control: RunControl | None = None
                   ) -> AsyncGenerator[Event, None]:
    """The events `follower` reads. Closing this early (a front end quits) stops the run and
    waits for its process to journal it as interrupted, as an in-process run was cancelled;
    unless `control.detach()` was called first, which leaves it running."""
    control = control if control is not None else RunControl()
    control.follower = follower
    if control.detach_requested:
        follower.detach()
    try:
        async for event in follower.events():
            yield event
    finally:
        if not control.detach_requested and follower.finished is None and follower.alive():
            follower.stop_run()
            await follower.wait_ended()


def follow_launched(launched: Launched, state: StateDir,
                    control: RunControl | None = None) -> AsyncGenerator[Event, None]:
    """`followed` for a run this process just started."""
    return followed(Follower.of_launched(launched, state), control)


def attach_events(process: RunProcess, state: StateDir,
                  control: RunControl | None = None) -> AsyncGenerator[Event, None]:
    """`followed` for a run another command started (the TUI opening on a live run)."""
    return followed(Follower.of_process(process, state), control)


DETACH_AFTER = 2.0  # seconds a first Ctrl-C waits for a second one before detaching


class CtrlC:
    """Ctrl-C in a viewer that can ask (a console): the first one asks, a second one within
    DETACH_AFTER stops the run, else the viewer detaches and the run goes on. `ask` False
    (JSON lines on stdout: a program reads them) stops at once. Before the run's process
    exists there is nothing to detach from: `before_start` is called instead."""

    def __init__(self, control: RunControl, *, ask: bool, say: Callable[[str], None],
                 before_start: Callable[[], None] | None = None) -> None:
        self.control, self.ask, self.say = control, ask, say
        self.before_start = before_start
        self.first: float | None = None
        self.stopping = False
        self.timer: asyncio.TimerHandle | None = None

    def __call__(self) -> None:
        now = time.monotonic()
        if self.stopping:
            return
        if self.control.follower is None and self.before_start is not None:
            self.stopping = True
            self.before_start()
            return
        if not self.ask or (self.first is not None and now - self.first <= DETACH_AFTER):
            if self.timer is not None:
                self.timer.cancel()
            self.stopping = True
            if self.control.stop():
                self.say("Stopping the run: the steps under way are given a moment to finish, "
                         "then it is journaled as interrupted (resumable).")
            return
        self.first = now
        self.say(f"Ctrl-C: press it again within {DETACH_AFTER:.0f} s to stop the run; "
                 "otherwise this console detaches and the run goes on.")
        self.timer = asyncio.get_running_loop().call_later(DETACH_AFTER, self._detach)

    def _detach(self) -> None:
        if not self.stopping:
            self.control.detach()


@contextlib.contextmanager
def sigint_calls(handler: Callable[[], None]) -> Iterator[None]:
    """SIGINT calls `handler` on the running loop (when this thread may take signals)."""
    loop = asyncio.get_running_loop()
    installed = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, handler)
        installed = True
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
