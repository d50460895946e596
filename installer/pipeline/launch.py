"""Start a journaled run in its own process, detached from the terminal (DESIGN.md "State").

The command does detection, preflight and planning in the foreground, journals the run, then
calls `launch` while it still holds the state dir's lock. The run's process inherits the locked
descriptor (flock belongs to the open file, so the lock passes without a moment in which
another command could take the state dir), reads its inputs from a 0600 request file (no secret
in it nor in argv: it re-reads those from the state dir), and appends every Event as one JSON
line to `<state>/runs/<run-id>.events.jsonl`. The command then only follows that file.

Under systemd (root, real mode, `systemd-run` present and systemd running) the process runs in
a transient scope, `sunbeam-install-<run-id>.scope`: it is exec'd by `systemd-run` itself, so it
keeps the inherited lock, and logind closing the SSH session's cgroup does not take it along.
Otherwise it is a plain child in a new session (no controlling terminal, stdio not the
terminal's); when the command exits it is re-parented to init.

Files of run R in `<state>/runs/` (all 0600, the dir 0700):
  R.request.json   what the process runs (settings, lock descriptor, where events start)
  R.events.jsonl   the Events, appended; a resumed run appends after its earlier attempts
  R.process.json   written by the process at start: its pid and where its events start
  R.exit.json      written by the process at the end: exit code, outcome, notes, or the error
                   that stopped it before its first step
  R.output         the process's stdout and stderr (a crash's traceback lands here)
  last.json        the id of the run started last
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.exits import Exit, UserError
from installer.pipeline.settings import RealEndpoints, RunSettings

if TYPE_CHECKING:
    from installer.pipeline.runs import RunSetup

PROG = "sunbeam-install"
RUNS_DIR = "runs"
LAST = "last.json"  # {"run_id": ...}: the run started last, for `attach` and the TUI
REQUEST_VERSION = 1


@dataclass(frozen=True)
class RunFiles:
    """Where run `run_id` of state dir `state` keeps its process's files."""

    state: Path
    run_id: str

    @property
    def dir(self) -> Path:
        return self.state / RUNS_DIR

    def _file(self, suffix: str) -> Path:
        return self.dir / f"{self.run_id}.{suffix}"

    @property
    def request(self) -> Path:
        return self._file("request.json")

    @property
    def events(self) -> Path:
        return self._file("events.jsonl")

    @property
    def process(self) -> Path:
        return self._file("process.json")

    @property
    def exit(self) -> Path:
        return self._file("exit.json")

    @property
    def output(self) -> Path:
        return self._file("output")


@dataclass
class Launched:
    """A run whose process was started: what a viewer needs to follow it."""

    files: RunFiles
    pid: int
    offset: int  # where this attempt's events start in the events file
    proc: subprocess.Popen[bytes] | None = None
    unit: str | None = None


# --------------------------------------------------------------------------------------------
# Files: created without following links, owner-only.


def open_private(path: Path, flags: int) -> int:
    """A state dir file opened (or created 0600) never through a symbolic link."""
    return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` by `data` as JSON at once (temporary file + rename), 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        os.write(fd, json.dumps(data).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`; None when it is missing or not (yet) whole."""
    try:
        fd = open_private(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            data = json.loads(fh.read(1 << 20))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def ensure_runs_dir(state: Path) -> Path:
    d = state / RUNS_DIR
    d.mkdir(mode=0o700, exist_ok=True)
    os.chmod(d, 0o700)
    return d


# --------------------------------------------------------------------------------------------
# Settings to and from the request file.


def settings_to_json(settings: RunSettings) -> dict[str, Any]:
    """The settings as JSON values (paths as strings, tuples as lists), every field kept."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        return value

    out = {f.name: plain(getattr(settings, f.name)) for f in fields(settings)
           if f.name != "endpoints"}
    out["endpoints"] = {f.name: plain(getattr(settings.endpoints, f.name))
                        for f in fields(settings.endpoints)}
    return out


def _revive(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Field values of dataclass `cls` from JSON, paths and tuples restored by annotation."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data or f.name == "endpoints":
            continue
        value, hint = data[f.name], str(hints[f.name])
        if value is not None and "Path" in hint:
            value = Path(value)
        elif isinstance(value, list) and "tuple" in hint:
            value = tuple(value)
        out[f.name] = value
    return out


def settings_from_json(data: dict[str, Any]) -> RunSettings:
    """The settings `settings_to_json` wrote."""
    endpoints = RealEndpoints(**_revive(RealEndpoints, data.get("endpoints") or {}))
    return RunSettings(**_revive(RunSettings, data), endpoints=endpoints)


# --------------------------------------------------------------------------------------------
# Starting the process.


def systemd_run(settings: RunSettings) -> str | None:
    """The `systemd-run` that puts the run into a transient scope: for a real run as root with
    systemd running (sd_booted: /run/systemd/system exists); None otherwise (the lab needs no
    unit, and without systemd there is none to ask)."""
    if settings.dry_run or os.geteuid() != 0 or not os.path.isdir("/run/systemd/system"):
        return None
    return shutil.which("systemd-run")


def systemd_available(settings: RunSettings) -> bool:
    return systemd_run(settings) is not None


def run_command(request: Path, run_id: str, *, systemd: str | None) -> list[str]:
    """The argv of the run's process: the `installer.pipeline.detached` module of this Python
    (-P: the working directory is not put on the import path, it may be anyone's); under
    `systemd` (the path of systemd-run) exec'd by it in the scope sunbeam-install-RUN.scope."""
    argv = [sys.executable, "-P", "-m", "installer.pipeline.detached", str(request)]
    if systemd:
        argv = [systemd, "--scope", "--quiet", "--collect",
                f"--unit={PROG}-{run_id}", f"--description={PROG} run {run_id}", "--", *argv]
    return argv


def launch_setup(setup: RunSetup, lock_fd: int) -> Launched:
    """Close the journaled run `setup` in this process and start it in its own (`launch`)."""
    setup.close()
    return launch(setup.state.path, setup.run_id, setup.kind, setup.settings, lock_fd)


def launch(state: Path, run_id: str, kind: str, settings: RunSettings, lock_fd: int) -> Launched:
    """Start journaled run `run_id` in its own process, handing it the lock held as `lock_fd`.

    The caller still holds the lock and lets go of it after this returns (the process keeps
    it). An error to start the process is a UserError (exit 4)."""
    files = RunFiles(state, run_id)
    ensure_runs_dir(state)
    try:
        offset = os.lstat(files.events).st_size
    except FileNotFoundError:
        offset = 0
    for stale in (files.process, files.exit):  # an earlier attempt's (a resumed run)
        stale.unlink(missing_ok=True)
    systemd = systemd_run(settings)
    unit = f"{PROG}-{run_id}.scope" if systemd else None
    write_json(files.request, {
        "version": REQUEST_VERSION, "run_id": run_id, "kind": kind, "state": str(state),
        "settings": settings_to_json(settings), "lock_fd": lock_fd, "offset": offset,
        "unit": unit, "requested": time.time(),
    })
    write_json(files.dir / LAST, {"run_id": run_id})
    out = open_private(files.output, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        proc = subprocess.Popen(  # our own module, no shell
            run_command(files.request, run_id, systemd=systemd),
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, pass_fds=(lock_fd,),
            start_new_session=True, close_fds=True,
        )
    except OSError as e:
        raise UserError(f"Cannot start the run's process ({e.strerror}); the run {run_id} is "
                        f"journaled: `{PROG} resume` starts it.", Exit.PREREQUISITE) from None
    finally:
        os.close(out)
    return Launched(files, proc.pid, offset, proc, unit)


# --------------------------------------------------------------------------------------------
# Finding a run's process afterwards (`attach`, `status`).


@dataclass
class RunProcess:
    """The process of a run, as it recorded itself."""

    files: RunFiles
    pid: int | None
    offset: int
    unit: str | None
    exit: dict[str, Any] | None  # the exit record, once it ended

    @property
    def exit_code(self) -> int | None:
        code = (self.exit or {}).get("code")
        return int(code) if isinstance(code, int) else None


def run_process(state: Path, run_id: str) -> RunProcess | None:
    """What run `run_id`'s process recorded; None when it had none (started in-process by an
    older version or front end) or has not started yet."""
    files = RunFiles(state, run_id)
    request = read_json(files.request)
    if request is None:
        return None
    record = read_json(files.process) or {}
    pid = record.get("pid")
    offset = record.get("offset", request.get("offset", 0))
    return RunProcess(files, pid if isinstance(pid, int) else None,
                      offset if isinstance(offset, int) else 0, request.get("unit"),
                      read_json(files.exit))


def pid_alive(pid: int | None) -> bool:
    """Whether process `pid` exists (a zombie counts until it is reaped)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def last_run_process(state: Path) -> RunProcess | None:
    """The process of the last run started in its own process in this state dir (None: none
    was). Read from `runs/last.json`, not from the journal: polling it must not contend with a
    run's writes."""
    last = read_json(state / RUNS_DIR / LAST)
    run_id = (last or {}).get("run_id")
    return run_process(state, run_id) if isinstance(run_id, str) else None


def live_run_process(state: Path) -> RunProcess | None:
    """The last run's process when it runs now (its lock held, its pid there, no exit record)."""
    from installer.state import StateDir

    process = last_run_process(state)
    if process is None or process.exit is not None:
        return None
    if not (StateDir(state).is_locked() and pid_alive(process.pid)):
        return None
    return process
