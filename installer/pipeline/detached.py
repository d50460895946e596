"""The run's own process: `python -m installer.pipeline.detached REQUEST`.

Started by `launch.launch` in a new session with no controlling terminal, it takes over the
state dir's lock from the command that journaled the run, reopens the run as `resume` would
(answers from the journal, secrets from the state dir, backends anew), executes it with the
usual SIGINT/SIGTERM handling (interrupted, resumable) and appends each Event, redacted as the
runner emits it, as one JSON line (one write each) to the run's events file. SIGHUP is ignored.
It ends by writing the exit record (code, outcome, notes), then exits with that code.

Not a command line: the one argument is the request file `launch` wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.exits import Exit, UserError, exit_for
from installer.pipeline.launch import (
    REQUEST_VERSION,
    RunFiles,
    open_private,
    read_json,
    settings_from_json,
    write_json,
)

if TYPE_CHECKING:
    from installer.events import Event


class RequestError(Exception):
    """The request cannot be run (a bug or a tampered file): said on stderr, exit 2."""


def adopt_lock(fd: int, what: str) -> None:
    """Make sure the inherited descriptor `fd` holds the state dir's lock, and name this
    process as its holder (for `status` and the refusal another command prints)."""
    try:
        # The same open file as the command's: this succeeds at once when the lock passed.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EBADF):
            raise RequestError(f"the state dir lock was not handed over (fd {fd}: "
                               f"{e.strerror})") from None
        raise
    os.set_inheritable(fd, False)  # not into the backends' subprocesses
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{what}, pid {os.getpid()}".encode(), 0)


class EventsFile:
    """Appends each Event as one JSON line with one write: a reader never sees half of one
    unless the process is killed inside that write."""

    def __init__(self, path: Path) -> None:
        self.fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def __call__(self, event: Event) -> None:
        data = (event.model_dump_json() + "\n").encode()
        while data:
            data = data[os.write(self.fd, data):]

    def close(self) -> None:
        os.close(self.fd)


async def run_request(request: dict[str, Any], files: RunFiles, emit: EventsFile
                      ) -> dict[str, Any]:
    """Reopen and execute the requested run; the exit record."""
    from installer.journal import open_journal
    from installer.pipeline.resume import open_inputs, run_inputs
    from installer.pipeline.runs import execute
    from installer.state import StateDir

    settings = settings_from_json(request["settings"])
    state = StateDir(Path(request["state"])).check()
    if settings.resolved_state_dir() != state.path:
        raise RequestError("the request's settings name another state dir")
    journal = open_journal(state.journal_path)
    try:
        run = journal.get_run(files.run_id)
    finally:
        journal.close()
    if run is None:
        raise RequestError(f"run {files.run_id} is not in the journal")
    async with contextlib.AsyncExitStack() as stack:
        try:
            setup = await open_inputs(run_inputs(settings, state, run), state, stack)
        except UserError as e:
            # Before the first step (e.g. a host that cannot be probed): the viewer says it.
            return {"code": int(e.code), "outcome": None, "error": str(e), "notes": []}
        try:
            result = await execute(setup, emit)
        finally:
            setup.close()
    return {"code": int(exit_for(result.outcome)), "outcome": result.outcome, "error": None,
            "notes": list(setup.notes)}


def main(argv: list[str]) -> int:
    """Run the request in argv[0]; the run's exit code."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # no terminal to lose; never stop for one
    os.umask(0o077)
    if len(argv) != 1:
        print("usage: python -m installer.pipeline.detached REQUEST (started by "
              "sunbeam-install, not by hand)", file=sys.stderr)
        return int(Exit.USAGE)
    path = Path(argv[0])
    request = read_json(path)
    if request is None or request.get("version") != REQUEST_VERSION:
        print(f"{path}: not a run request of this version", file=sys.stderr)
        return int(Exit.USAGE)
    files = RunFiles(Path(request["state"]), str(request["run_id"]))
    if files.request != path:
        print(f"{path}: the request is not where its run keeps it", file=sys.stderr)
        return int(Exit.USAGE)
    try:
        adopt_lock(int(request["lock_fd"]), str(request.get("kind", "run")))
    except RequestError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return int(Exit.PREREQUISITE)
    write_json(files.process, {"pid": os.getpid(), "run_id": files.run_id,
                               "offset": int(request.get("offset", 0)),
                               "unit": request.get("unit"), "started": time.time()})
    emit = EventsFile(files.events)
    try:
        record = asyncio.run(run_request(request, files, emit))
    except RequestError as e:
        record = {"code": int(Exit.USAGE), "outcome": None, "notes": [],
                  "error": f"The run's process could not take the run over: {e}."}
    except KeyboardInterrupt:
        record = {"code": int(Exit.INTERRUPTED), "outcome": "interrupted", "notes": [],
                  "error": "The run was stopped before its first step."}
    except BaseException as e:  # a bug: its traceback goes to the output file
        traceback.print_exc()
        record = {"code": int(Exit.INTERRUPTED), "outcome": None, "notes": [],
                  "error": f"The run's process stopped on an unexpected {type(e).__name__}; "
                           f"its traceback is in {files.output}."}
    finally:
        emit.close()
    record["ended"] = time.time()
    write_json(files.exit, record)
    return int(record["code"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
