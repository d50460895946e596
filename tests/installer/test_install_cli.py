"""Headless install, resume and status through the real CLI, against the simulated lab."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from installer.cli import main
from installer.events import PlanFinished, PlanStarted, StepFinished, StepStarted, parse_event
from installer.exits import Exit, UserError
from installer.lab import Lab
from installer.pipeline import RunSettings
from installer.pipeline.backends import real_mode_gate
from installer.pipeline.settings import RealEndpoints
from installer.state import StateDir
from tests.installer.pipeline.runproc import read_until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PASSWORD = "Known-Pa55word-4-tests"



def cli(*argv: str) -> int:
    return main(list(argv))


def read_events(path: Path) -> list:  # type: ignore[type-arg]
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            out.append(parse_event(line))
    return out


def install(tmp: Path, example: str = "three-node.yaml", *extra: str,
            events: str = "events.jsonl") -> int:
    return cli("--answers", str(EXAMPLES / example), "--dry-run", "--yes",
               "--state-dir", str(tmp / "state"), "--time-scale", "0",
               "--events-file", str(tmp / events), *extra)


def assert_well_ordered(evs: list, plan_needs: dict[str, tuple[str, ...]] | None = None) -> None:  # type: ignore[type-arg]
    assert isinstance(evs[0], PlanStarted)
    assert isinstance(evs[-1], PlanFinished)
    started: dict[str, int] = {}
    finished: dict[str, int] = {}
    for i, e in enumerate(evs):
        if isinstance(e, StepStarted):
            assert e.step not in finished, f"{e.step} started after it finished"
            started.setdefault(e.step, i)
        elif isinstance(e, StepFinished):
            assert e.step in started, f"{e.step} finished without starting"
            finished[e.step] = i
        elif e.step is not None:
            assert e.step in started and e.step not in finished, e
    assert set(started) == set(finished)
    if plan_needs:
        for sid, needs in plan_needs.items():
            for n in needs:
                assert finished[n] < started[sid], f"{sid} started before its need {n} finished"


@pytest.mark.parametrize("example", ["single-node.yaml", "three-node.yaml", "twelve-node.yaml"])
def test_examples_install_end_to_end_in_dry_run(tmp_path: Path, example: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from installer.planner import plan as make_plan
    from manifests.loader import load_answers
    from manifests.release import load_release

    rc = install(tmp_path, example)
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    evs = read_events(tmp_path / "events.jsonl")
    answers = load_answers(EXAMPLES / example)
    plan = make_plan(answers, load_release(answers.release))
    assert {e.step for e in evs if isinstance(e, StepFinished)} == set(plan.ids())
    assert_well_ordered(evs, {s.id: s.needs for s in plan.steps})
    assert evs[-1].outcome == "done" and evs[-1].pending == 0
    assert "Done:" in out
    # The console renderer (not a TTY here) printed plain lines too.
    assert "\x1b" not in out and "done   " in out

    assert cli("status", "--state-dir", str(tmp_path / "state"), "--json") == 0
    data = json.loads(capsys.readouterr().out)["run"]
    assert data["outcome"] == "done" and data["steps"]["pending"] == 0
    assert data["dry_run"] is True and Path(data["log_path"]).is_file()


def test_jsonl_to_stdout_keeps_stdout_pure_json(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli("--answers", str(EXAMPLES / "single-node.yaml"), "--dry-run", "--yes",
             "--state-dir", str(tmp_path / "state"), "--time-scale", "0", "--events", "jsonl")
    out, err = capsys.readouterr()
    assert rc == 0, err
    evs = [parse_event(line) for line in out.splitlines()]
    assert isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "done"
    assert "Done:" in err


def test_transient_faults_are_retried_and_the_run_succeeds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = install(tmp_path, "three-node.yaml", "--faults", "juju.deploy:nova=transient:2")
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    retried = [e for e in read_events(tmp_path / "events.jsonl")
               if isinstance(e, StepStarted) and e.attempt > 1]
    assert retried, "the faulted deploy was not retried"
    assert max(e.attempt for e in retried) == 3
    assert len({e.step for e in retried}) == 1


def test_permanent_fault_exits_3_with_the_message_and_resume_finishes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = install(tmp_path, "three-node.yaml", "--faults", "ceph.add-osd@node2=fail")
    out, err = capsys.readouterr()
    assert rc == Exit.STEP_FAILED, out + err
    evs = read_events(tmp_path / "events.jsonl")
    failed = [e for e in evs if isinstance(e, StepFinished) and e.outcome == "failed"]
    assert len(failed) == 1 and "node2" in failed[0].step
    step = failed[0].step
    assert f"Step {step}" in out and f"failed: {failed[0].error}" in out
    assert failed[0].hint and f"Hint: {failed[0].hint}" in out
    assert "Log: " in out and "sunbeam-install resume --dry-run" in out

    assert cli("status", "--state-dir", str(tmp_path / "state")) == 0
    status = capsys.readouterr().out
    assert f"Failed: {step}" in status and "failed" in status and "Log: " in status

    finished_before = {e.step for e in evs if isinstance(e, StepFinished)
                       and e.outcome in ("done", "skipped")}
    rc = cli("resume", "--state-dir", str(tmp_path / "state"),
             "--events-file", str(tmp_path / "resume.jsonl"))
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    evs2 = read_events(tmp_path / "resume.jsonl")
    assert_well_ordered(evs2)
    restarted = {e.step for e in evs2 if isinstance(e, StepStarted)} & finished_before
    assert not restarted, f"finished steps started again: {sorted(restarted)[:5]}"
    assert step in {e.step for e in evs2 if isinstance(e, StepStarted)}
    assert evs2[0].already_done == len(finished_before)  # type: ignore[union-attr]

    assert cli("resume", "--state-dir", str(tmp_path / "state"), "--events", "jsonl") == 0
    # Said to the operator on stderr: with --events jsonl, stdout carries only JSON lines.
    out = capsys.readouterr()
    assert "nothing to resume" in out.err and out.out == ""


def test_known_password_never_reaches_state_files_or_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pw = tmp_path / "admin-password"
    pw.write_text(PASSWORD + "\n")
    pw.chmod(0o600)
    answers = yaml.safe_load((EXAMPLES / "three-node.yaml").read_text())
    answers["identity"] = {"admin_password_file": str(pw)}
    f = tmp_path / "answers.yaml"
    f.write_text(yaml.safe_dump(answers))
    rc = cli("--answers", str(f), "--dry-run", "--yes", "--state-dir", str(tmp_path / "state"),
             "--time-scale", "0", "--events-file", str(tmp_path / "state" / "events.jsonl"),
             "--faults", "juju.deploy:keystone=transient:1")
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert PASSWORD not in out and PASSWORD not in err
    files = [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files) and any(p.suffix == ".sqlite" for p in files)
    for p in files:
        assert PASSWORD.encode() not in p.read_bytes(), f"the password leaked into {p}"
    # The file stays the only copy, and the admin logs in with it: the install set it through
    # the Identity API over the password keystone-k8s generated, which no longer logs in.
    assert not (StateDir(tmp_path / "state").secrets_dir / "admin-password").exists()
    lab = Lab.open(tmp_path / "state", time_scale=0)
    generated = lab.keystone_admin_password()
    assert generated is not None

    def login(password: str) -> int:
        return asyncio.run(lab.backends().hosts.run(
            "node1", ["openstack", "token", "issue"], log=lambda line: None,
            secret_env={"OS_PASSWORD": password})).returncode

    assert login(PASSWORD) == 0 and login(generated) == 1


def test_generated_password_only_in_its_0600_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert install(tmp_path, "single-node.yaml") == 0
    out, err = capsys.readouterr()
    state = StateDir(tmp_path / "state")
    secret_file = state.secrets_dir / "admin-password"
    password = secret_file.read_text().strip()
    # It is the password keystone-k8s generated: what its get-admin-password action returns.
    lab = Lab.open(tmp_path / "state", time_scale=0)
    result = asyncio.run(lab.backends().juju.run_action(
        "openstack", "keystone/leader", "get-admin-password"))
    assert result == {"password": password}
    assert len(password) >= 20 and (secret_file.stat().st_mode & 0o777) == 0o600
    assert password not in out and password not in err
    for p in (tmp_path / "state").rglob("*"):
        if p.is_file() and p != secret_file:
            assert password.encode() not in p.read_bytes(), f"the password leaked into {p}"
        if p.is_file():
            assert p.stat().st_mode & 0o077 == 0, f"{p} is readable by others"
        elif p.is_dir():
            assert p.stat().st_mode & 0o077 == 0, f"{p} is open to others"


def facts_dir(tmp: Path, **cpu: object) -> Path:
    """`probe --json`-style facts of the three-node example's hosts, node2's CPU changed."""
    from installer.lab.profile import default_facts
    from manifests.loader import load_answers

    d = tmp / "facts"
    d.mkdir()
    for h in load_answers(EXAMPLES / "three-node.yaml").hosts:
        f = default_facts(h.name, str(h.address), osd_devices=h.osd_devices,
                          external_nic=h.external_nic)
        if h.name == "node2":
            f = f.model_copy(update={"cpu": f.cpu.model_copy(update=cpu)})
        (d / f"{h.name}.json").write_text(f.model_dump_json())
    return d


def test_warnings_need_yes_without_a_terminal(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    facts = facts_dir(tmp_path, virtualization="emulated")
    base = ["--answers", str(EXAMPLES / "three-node.yaml"), "--dry-run", "--facts", str(facts),
            "--state-dir", str(tmp_path / "state"), "--time-scale", "0"]
    rc = cli(*base)
    out, err = capsys.readouterr()
    assert rc == Exit.INVALID, out + err
    assert "warning:" in err and "node2" in err and "pass --yes" in err
    assert not (tmp_path / "state" / "journal.sqlite").exists()  # nothing ran
    assert cli(*base, "--yes") == 0
    assert "warning:" in capsys.readouterr().err


def test_preflight_errors_exit_1_before_anything_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = facts_dir(tmp_path, virtualization="unavailable")
    rc = cli("--answers", str(EXAMPLES / "three-node.yaml"), "--dry-run", "--yes", "--facts",
             str(facts), "--state-dir", str(tmp_path / "state"), "--time-scale", "0")
    out, err = capsys.readouterr()
    assert rc == Exit.INVALID, out + err
    assert "error:" in err and "node2" in err and "preflight found" in err
    assert not (tmp_path / "state" / "journal.sqlite").exists()


def test_invalid_answers_exit_1_with_file_line_col(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text('version: 1\nrelease: "2025.1"\nhosts: []\nnetwork: {}\n')
    rc = cli("--answers", str(f), "--dry-run", "--yes", "--state-dir", str(tmp_path / "s"))
    err = capsys.readouterr().err
    assert rc == Exit.INVALID
    assert f"{f}:3:" in err
    assert "Traceback" not in err


def test_a_second_install_is_refused_while_one_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = StateDir(tmp_path / "state").ensure()
    with state.lock("install"):
        rc = install(tmp_path, "single-node.yaml")
        rc_resume = cli("resume", "--state-dir", str(state.path))
    err = capsys.readouterr().err
    assert rc == Exit.PREREQUISITE
    assert rc_resume in (Exit.PREREQUISITE, Exit.INVALID)
    assert "Another sunbeam-install run" in err and "wait for it to finish" in err


def test_bad_parallel_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert install(tmp_path, "single-node.yaml", "--parallel", "0") == Exit.USAGE
    assert "--parallel 0 is too small" in capsys.readouterr().err


def test_real_mode_gate_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(UserError) as e:
        real_mode_gate(RunSettings(dry_run=False, endpoints=RealEndpoints(
            snapd_socket=str(tmp_path / "snapd.socket"))))
    assert e.value.code == Exit.PREREQUISITE
    assert "snapd" in str(e.value) and "--dry-run" in str(e.value)


def test_status_and_resume_without_a_journal(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("status", "--state-dir", str(tmp_path)) == 0
    assert "No run is recorded" in capsys.readouterr().out
    assert cli("status", "--state-dir", str(tmp_path), "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"run": None}
    assert cli("resume", "--state-dir", str(tmp_path)) == Exit.INVALID
    assert "There is no run to resume" in capsys.readouterr().err


def _spawn(tmp: Path, *argv: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "installer", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_finished_steps(path: Path, count: int, proc: subprocess.Popen[bytes],
                             timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count('"StepFinished"') >= count:
            return
        if proc.poll() is not None:
            pytest.fail(f"the install ended early: {proc.communicate()}")
        time.sleep(0.02)
    pytest.fail("no progress")


def test_sigint_exits_130_and_the_run_is_resumable(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    proc = _spawn(tmp_path, "--answers", str(EXAMPLES / "three-node.yaml"), "--dry-run", "--yes",
                  "--state-dir", str(tmp_path / "state"), "--time-scale", "0.003",
                  "--events-file", str(events))
    _wait_for_finished_steps(events, 5, proc)
    # The run is in its own process: a first Ctrl-C asks, a second one (after the question,
    # as a person would press it) stops the run.
    proc.send_signal(signal.SIGINT)
    said = bytearray()
    read_until(proc.stderr, b"press it again", proc, said)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    err = bytes(said) + err
    assert proc.returncode == Exit.INTERRUPTED, (out, err)
    assert b"Stopping the run" in err
    assert b"Interrupted with" in out and b"resume --dry-run" in out
    evs = read_events(events)
    assert isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "interrupted"
    finished = {e.step for e in evs if isinstance(e, StepFinished)}

    proc = _spawn(tmp_path, "resume", "--state-dir", str(tmp_path / "state"),
                  "--time-scale", "0", "--events-file", str(tmp_path / "resume.jsonl"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    evs2 = read_events(tmp_path / "resume.jsonl")
    assert not ({e.step for e in evs2 if isinstance(e, StepStarted)} & finished)
    assert isinstance(evs2[-1], PlanFinished) and evs2[-1].outcome == "done"
