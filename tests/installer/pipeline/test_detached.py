"""Issue 16, items 1-3: a headless run executes in its own process and outlives its console;
`attach` follows it from anywhere, several at once; Ctrl-C detaches, twice stops it.

Every wait is for a milestone of the run (its pid in the state dir, an event in its events
file, a line a viewer printed); the run is held where a test needs it by SIGSTOP or by the
lab's `hang` fault, never by sleeping. Timeouts are guards only.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.cli import main
from installer.events import PlanFinished, StepStarted, parse_event
from installer.exits import Exit
from installer.journal import Journal
from installer.pipeline.launch import last_run_process
from tests.installer.pipeline.runproc import (
    GUARD,
    held_milestone,
    read_until,
    run_pid,
    wait_for,
)
from tests.procs import alive

ROOT = Path(__file__).resolve().parents[3]
SINGLE = ROOT / "examples" / "single-node.yaml"
HELD = "ceph.add-osd@node1"  # a step in the middle of the single-node plan
ENV = dict(os.environ, PYTHONPATH=str(ROOT), TERM="dumb")


SPAWNED: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _no_run_left_behind(tmp_path: Path) -> Iterator[None]:
    """A failed test must not leave a held run (or its viewers) running: stop them."""
    yield
    process = last_run_process(tmp_path / "state")
    if process is not None and process.pid is not None and process.exit is None \
            and alive(process.pid):
        os.kill(process.pid, signal.SIGKILL)
    while SPAWNED:
        proc = SPAWNED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def cli(*argv: str, stdout: int = subprocess.PIPE,
        stdin: Any = None) -> subprocess.Popen[bytes]:
    """`sunbeam-install ARGV` as a process of its own (a terminal of its own, in effect)."""
    proc = subprocess.Popen([sys.executable, "-m", "installer", *argv], cwd=ROOT, env=ENV,
                            stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    SPAWNED.append(proc)
    return proc


def install_argv(state: Path, *extra: str) -> list[str]:
    return ["--answers", str(SINGLE), "--dry-run", "--yes", "--state-dir", str(state),
            "--time-scale", "0", *extra]


def wait_held(state: Path, proc: subprocess.Popen[bytes]) -> None:
    """Until the run hangs in HELD with every other step it can finish finished (a stop then
    cancels HELD only)."""
    wait_for(events_file(state), f'"{HELD}","event":"StepStarted"', 1, proc)
    wait_for(events_file(state), '"StepFinished"', held_milestone(SINGLE, HELD), proc)


def events_file(state: Path) -> Path:
    process = last_run_process(state)
    assert process is not None
    return process.files.events


def outcome(state: Path) -> str | None:
    with Journal.open(state / "journal.sqlite") as j:
        run = j.last_run()
        assert run is not None
        return run.outcome


def test_closing_the_terminal_leaves_the_run_going_and_two_viewers_see_every_event(
        tmp_path: Path) -> None:
    state = tmp_path / "state"
    viewer, master = pty.fork()
    if viewer == 0:  # the child: an operator's SSH terminal running the install
        try:
            os.chdir(ROOT)
            os.execve(sys.executable, [sys.executable, "-m", "installer",
                                       *install_argv(state)], ENV)
        finally:
            os._exit(127)
    try:
        pid = run_pid(state)
        assert pid != viewer
        os.kill(pid, signal.SIGSTOP)  # held (not finished) while the terminal goes away
        os.close(master)  # the SSH session drops: the terminal hangs up
        master = -1
        _, status = os.waitpid(viewer, 0)
        viewer = 0
        assert os.WIFSIGNALED(status) or os.WEXITSTATUS(status) != 0, status
        assert alive(pid), "closing the terminal stopped the run"

        # Two operators attach from other terminals while the run is still held.
        first = cli("attach", "--dry-run", "--state-dir", str(state), "--events", "jsonl")
        second = cli("attach", "--dry-run", "--state-dir", str(state), "--events", "jsonl")
        os.kill(pid, signal.SIGCONT)
        out1, err1 = first.communicate(timeout=GUARD)
        out2, err2 = second.communicate(timeout=GUARD)
    finally:
        if master >= 0:
            os.close(master)
        if viewer:
            os.kill(viewer, signal.SIGKILL)
            os.waitpid(viewer, 0)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    written = events_file(state).read_bytes()
    # Every event the run wrote, in order, for each viewer: the same lines.
    assert out1 == written and out2 == written
    events = [parse_event(line) for line in written.splitlines()]
    assert isinstance(events[-1], PlanFinished) and events[-1].outcome == "done"
    assert outcome(state) == "done"


def test_ctrl_c_detaches_the_console_and_the_run_finishes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    viewer = cli(*install_argv(state))
    pid = run_pid(state, viewer)
    os.kill(pid, signal.SIGSTOP)  # so it cannot end before the console detaches
    try:
        viewer.send_signal(signal.SIGINT)
        out, err = viewer.communicate(timeout=GUARD)
        assert viewer.returncode == Exit.INTERRUPTED, (out, err)
        assert b"press it again within 2 s" in err
        attach = f"sunbeam-install attach --dry-run --state-dir {state}".encode()
        assert b"Detached: the run goes on" in err and attach in err
        assert b"Interrupted with" not in out and b"resume" not in out
        assert alive(pid) and outcome(state) is None
    finally:
        os.kill(pid, signal.SIGCONT)
    # The run goes on without any console; `attach` brings it back, to its end.
    follower = cli("attach", "--dry-run", "--state-dir", str(state))
    out, err = follower.communicate(timeout=GUARD)
    assert follower.returncode == 0, err
    assert b"Done:" in out and b"Dashboard:" in out
    assert outcome(state) == "done"
    assert not alive(pid)


def test_status_names_the_live_run_its_pid_and_attach(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    viewer = cli(*install_argv(state, "--faults", f"{HELD}=hang"), stdout=subprocess.DEVNULL)
    pid = run_pid(state, viewer)
    try:
        assert main(["status", "--dry-run", "--state-dir", str(state), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)["run"]
        assert data["live"] is True and data["pid"] == pid and data["outcome"] == "running"
        assert main(["status", "--dry-run", "--state-dir", str(state)]) == 0
        out = capsys.readouterr().out
        assert f"live in its own process (pid {pid})" in out
        assert f"sunbeam-install attach --dry-run --state-dir {state}" in out
    finally:
        os.kill(pid, signal.SIGTERM)  # the run's process stops as for Ctrl-C
        viewer.communicate(timeout=GUARD)
    assert viewer.returncode == Exit.INTERRUPTED
    assert main(["status", "--dry-run", "--state-dir", str(state), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["run"]
    assert data["live"] is False and data["pid"] is None and data["outcome"] == "interrupted"


def test_ctrl_c_twice_in_an_attached_console_stops_the_run_then_resume_finishes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    starter = cli(*install_argv(state, "--faults", f"{HELD}=hang"))
    pid = run_pid(state, starter)
    wait_held(state, starter)
    attached = cli("attach", "--dry-run", "--state-dir", str(state))
    shown = bytearray()
    read_until(attached.stdout, f"start  {HELD}".encode(), attached, shown)
    attached.send_signal(signal.SIGINT)
    said = bytearray()
    read_until(attached.stderr, b"press it again", attached, said)
    attached.send_signal(signal.SIGINT)
    out, err = attached.communicate(timeout=GUARD)
    out, err = bytes(shown) + out, bytes(said) + err
    assert attached.returncode == Exit.INTERRUPTED, (out, err)
    assert b"Stopping the run" in err
    assert b"Interrupted with" in out
    assert f"Continue with: sunbeam-install resume --dry-run --state-dir {state}".encode() in out
    # The console that started it followed the same run to the same end.
    _, s_err = starter.communicate(timeout=GUARD)
    assert starter.returncode == Exit.INTERRUPTED, s_err
    assert not alive(pid) and outcome(state) == "interrupted"

    capsys.readouterr()
    assert main(["resume", "--state-dir", str(state), "--time-scale", "0"]) == 0
    assert "Done:" in capsys.readouterr().out
    assert outcome(state) == "done"


def test_ctrl_c_in_a_jsonl_viewer_stops_the_run(tmp_path: Path) -> None:
    state = tmp_path / "state"
    viewer = cli(*install_argv(state, "--faults", f"{HELD}=hang", "--events", "jsonl"))
    seen = bytearray()
    read_until(viewer.stdout, f'"step":"{HELD}","event":"StepStarted"'.encode(), viewer, seen)
    pid = run_pid(state, viewer)
    wait_held(state, viewer)
    viewer.send_signal(signal.SIGINT)
    out, err = viewer.communicate(timeout=GUARD)
    assert viewer.returncode == Exit.INTERRUPTED, err
    lines = (bytes(seen) + out).splitlines()
    last = parse_event(lines[-1])
    assert isinstance(last, PlanFinished) and last.outcome == "interrupted"
    assert b"press it again" not in err
    assert not alive(pid) and outcome(state) == "interrupted"


def test_attach_without_a_run_says_so(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attach", "--dry-run", "--state-dir", str(tmp_path / "none")]) == Exit.INVALID
    assert "nothing to attach to" in capsys.readouterr().err


def test_the_run_files_hold_no_secret(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The request, events, process and exit files and the argv of the run's process carry no
    password: it re-reads them from the state dir."""
    password, proxy_password = "Adm1n-Secret-Pa55", "Pr0xy-Secret-Pa55"
    pw = tmp_path / "admin-password"
    pw.write_text(password + "\n")
    pw.chmod(0o600)
    answers = yaml.safe_load(SINGLE.read_text())
    answers["identity"]["admin_password_file"] = str(pw)
    answers["proxy"] = {"http": f"http://ops:{proxy_password}@10.20.0.5:3128",
                        "https": f"http://ops:{proxy_password}@10.20.0.5:3128",
                        "no_proxy": "localhost,127.0.0.1,10.20.0.0/24,node1,.svc"}
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers))
    state = tmp_path / "state"
    code = main(["--answers", str(path), "--dry-run", "--yes", "--state-dir", str(state),
                 "--time-scale", "0"])
    assert code == 0, capsys.readouterr()
    runs = state / "runs"
    files = sorted(runs.iterdir())
    assert {f.name.split(".", 1)[1] for f in files if f.name != "last.json"} == {
        "request.json", "events.jsonl", "process.json", "exit.json", "output"}
    assert (runs / "last.json").exists()
    for f in files:
        assert oct(f.stat().st_mode & 0o777) == "0o600", f
        text = f.read_text()
        assert password not in text and proxy_password not in text, f
    assert oct(runs.stat().st_mode & 0o777) == "0o700"
    request = json.loads(next(runs.glob("*.request.json")).read_text())
    assert not any(str(v).startswith("http") for v in request["settings"].values())


def test_a_viewer_of_a_killed_run_says_so_and_exits_130(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    viewer = cli(*install_argv(state, "--faults", f"{HELD}=hang"))
    pid = run_pid(state, viewer)
    wait_held(state, viewer)
    os.kill(pid, signal.SIGKILL)
    out, err = viewer.communicate(timeout=GUARD)
    assert viewer.returncode == Exit.INTERRUPTED, err
    assert b"ended before the run did" in out
    assert f"Continue with: sunbeam-install resume --dry-run --state-dir {state}".encode() in out
    # Afterwards, attach tells the same.
    capsys.readouterr()
    deadline = time.monotonic() + GUARD
    while alive(pid):  # the kernel releases the lock as the process dies
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert main(["attach", "--dry-run", "--state-dir", str(state)]) == Exit.INTERRUPTED
    assert "ended before the run did" in capsys.readouterr().out


def test_held_step_is_in_the_plan() -> None:
    from installer.planner import plan
    from manifests.loader import load_answers
    from manifests.release import load_release

    answers = load_answers(SINGLE)
    ids = [s.id for s in plan(answers, load_release(answers.release)).steps]
    assert HELD in ids and ids.index(HELD) not in (0, len(ids) - 1)
    assert isinstance(StepStarted(step=HELD, title="t"), StepStarted)


def test_an_error_of_the_run_process_before_its_first_step_is_the_commands(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What stops the run's process before its first step (here: the lab cannot open its
    --facts dir) is said by the command that follows it, with its exit code."""
    state = str(tmp_path / "state")
    assert main([*install_argv(Path(state)), "--faults", f"{HELD}=fail"]) == Exit.STEP_FAILED
    capsys.readouterr()
    missing = tmp_path / "no-such-facts"
    code = main(["resume", "--state-dir", state, "--facts", str(missing)])
    err = capsys.readouterr().err
    assert code == Exit.INVALID, err
    assert f"--facts {missing} is not a directory" in err and "Traceback" not in err


def test_the_run_process_command_line() -> None:
    from installer.pipeline import RunSettings
    from installer.pipeline.launch import run_command, systemd_available

    plain = run_command(Path("/s/runs/r.request.json"), "r", systemd=None)
    assert plain == [sys.executable, "-P", "-m", "installer.pipeline.detached",
                     "/s/runs/r.request.json"]
    scoped = run_command(Path("/s/runs/r.request.json"), "r", systemd="/usr/bin/systemd-run")
    assert scoped[:2] == ["/usr/bin/systemd-run", "--scope"]
    assert "--unit=sunbeam-install-r" in scoped
    assert scoped[scoped.index("--") + 1:] == plain
    assert not systemd_available(RunSettings(dry_run=True))  # the lab never needs a unit
    # Not a command for people: without its request it says so.
    result = subprocess.run([sys.executable, "-m", "installer.pipeline.detached"], cwd=ROOT,
                            env=ENV, capture_output=True, timeout=GUARD)
    assert result.returncode == Exit.USAGE and b"started by sunbeam-install" in result.stderr


def test_plain_mode_follows_its_run_and_ctrl_c_detaches_or_stops_it(tmp_path: Path) -> None:
    """The line-prompt installer starts the run the same way; Ctrl-C there acts as in headless
    mode: once, the console detaches (the run goes on); twice, the run stops."""
    state = tmp_path / "state"
    enter = tmp_path / "enter"
    enter.write_text("\n" * 60)  # every question's default

    def plain() -> subprocess.Popen[bytes]:
        with enter.open("rb") as stdin:
            return cli("--plain", *install_argv(state), "--faults", f"{HELD}=hang",
                       stdin=stdin)

    first = plain()
    pid = run_pid(state, first)
    wait_held(state, first)
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=GUARD)
    assert first.returncode == Exit.INTERRUPTED, (out, err)
    assert b"press it again" in out and b"Detached: the install goes on" in out
    assert f"attach --dry-run --state-dir {state}".encode() in out
    assert alive(pid) and outcome(state) is None
    os.kill(pid, signal.SIGINT)  # stop the held run; the next one takes the state dir
    deadline = time.monotonic() + GUARD
    while alive(pid):
        assert time.monotonic() < deadline
        time.sleep(0.01)

    second = plain()
    pid = run_pid(state, second)
    wait_held(state, second)
    second.send_signal(signal.SIGINT)
    said = bytearray()
    read_until(second.stdout, b"press it again", second, said)
    second.send_signal(signal.SIGINT)
    out, err = second.communicate(timeout=GUARD)
    assert second.returncode == Exit.INTERRUPTED, (out, err)
    assert b"Stopping the run" in bytes(said) + out
    assert not alive(pid) and outcome(state) == "interrupted"
