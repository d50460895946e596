"""`sunbeam-install verify` through the real CLI, against the simulated lab."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from installer.cli import main
from installer.events import PlanFinished, PlanStarted, StepFinished, parse_event
from installer.exits import Exit
from installer.journal import Journal
from tests.installer.lab.helpers import install_example

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CHECKS = ("verify.endpoints", "verify.compute-services", "verify.network", "verify.image",
          "verify.flavor", "verify.instance", "verify.reach")
CLEANUPS = ("verify.cleanup:server", "verify.cleanup:network", "verify.cleanup:access",
            "verify.cleanup:image", "verify.cleanup:flavor")
# What verify makes in the lab: after it, none of these may hold anything.
VERIFY_TABLES = ("images", "flavors", "routers", "security_groups", "keypairs", "servers",
                 "floating_ips", "host_files")


def verify(state: Path, *extra: str, events: str = "verify.jsonl") -> tuple[int, list[Any]]:
    path = state.parent / events
    code = main(["verify", "--dry-run", "--state-dir", str(state), "--events-file", str(path),
                 *extra])
    evs = [parse_event(line) for line in path.read_text().splitlines() if line.strip()] \
        if path.exists() else []
    return code, evs


def lab_state(state: Path) -> dict[str, Any]:
    """The lab's state as its next command sees it."""
    from installer.lab import Lab

    return json.loads(Lab.open(state).state.model_dump_json())


def assert_nothing_left(state: Path) -> None:
    lab = lab_state(state)
    for table in VERIFY_TABLES:
        assert not lab[table], f"verify left {table}: {lab[table]}"
    assert set(lab["networks"]) <= {"external-network"}
    assert set(lab["subnets"]) <= {"external-subnet"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A three-node dry-run install (with an external network), done once for this module."""
    state = tmp_path_factory.mktemp("verify") / "state"
    install_example(state)
    return state


def test_verify_reports_each_check_and_leaves_nothing_behind(
        installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, evs = verify(installed, "--time-scale", "0.003")
    out = capsys.readouterr().out
    assert code == Exit.OK, out
    assert isinstance(evs[0], PlanStarted) and evs[0].kind == "verify"
    assert evs[0].steps == len(CHECKS) + len(CLEANUPS)
    assert [e for e in evs if isinstance(e, PlanStarted)] == [evs[0]]  # one run for viewers
    assert isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "done"
    finished = {e.step: e.outcome for e in evs if isinstance(e, StepFinished)}
    assert all(finished[c] == "done" for c in CHECKS), finished
    assert set(CLEANUPS) <= set(finished)
    # The instance went through BUILD to ACTIVE, and was reached both ways (external network).
    progress = [getattr(e, "message", "") for e in evs if e.step == "verify.instance"]
    assert any(m.endswith(": BUILD") for m in progress), progress
    assert "Reached: console log shows the login prompt." in out
    assert "answers ping from node1" in out
    assert_nothing_left(installed)


def test_verify_does_not_disturb_status_or_resume(
        installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(installed, "--time-scale", "0")[0] == Exit.OK
    with Journal.open(installed / "journal.sqlite") as journal:
        last = journal.last_run()
    assert last is not None and last.kind == "install" and last.outcome == "done"
    capsys.readouterr()
    assert main(["resume", "--dry-run", "--state-dir", str(installed)]) == Exit.OK
    assert "nothing to resume" in capsys.readouterr().err
    with Journal.open(installed / "verify.sqlite") as journal:
        runs = journal.runs(kind="verify")
    assert runs and runs[0].outcome == "done"


def test_a_fault_in_one_check_fails_with_a_hint_and_still_cleans_up(
        installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fault = "host.run:openstack-server-create@node1=fail"
    code, evs = verify(installed, "--time-scale", "0", "--faults", fault,
                       events="fault.jsonl")
    out = capsys.readouterr().out
    assert code == Exit.STEP_FAILED
    failed = [e for e in evs if isinstance(e, StepFinished) and e.outcome == "failed"]
    assert [e.step for e in failed] == ["verify.instance"]
    assert failed[0].hint is not None and "sunbeam-install verify" in failed[0].hint
    assert "Hint: Remove" in out and "verify --dry-run" in out
    assert "Everything verify created was deleted." in out
    finished = {e.step for e in evs if isinstance(e, StepFinished)}
    assert set(CLEANUPS) <= finished  # the cleanup ran after the failed check
    assert "verify.reach" not in finished
    assert_nothing_left(installed)


def test_a_failed_cleanup_says_what_is_left_and_the_next_verify_removes_it(
        installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = verify(installed, "--time-scale", "0", "--faults",
                     "host.run:openstack-image-delete@node1=fail", events="left.jsonl")
    out = capsys.readouterr().out
    assert code == Exit.STEP_FAILED
    assert "Left in the cloud: Delete the test image" in out
    assert list(lab_state(installed)["images"]) == ["sunbeam-install-verify-cirros"]
    assert verify(installed, "--time-scale", "0", events="again.jsonl")[0] == Exit.OK
    assert_nothing_left(installed)


def test_verify_writes_an_openrc_without_the_password(installed: Path) -> None:
    assert verify(installed, "--time-scale", "0", events="openrc.jsonl")[0] == Exit.OK
    openrc = installed / "openrc"
    assert stat.S_IMODE(openrc.stat().st_mode) == 0o600
    text = openrc.read_text()
    password = (installed / "secrets" / "admin-password").read_text().strip()
    assert password and password not in text
    assert f'OS_PASSWORD="$(cat {installed / "secrets" / "admin-password"})"' in text
    assert "export OS_AUTH_URL=https://10.20.0.200/openstack-keystone/v3" in text
    # The verify's log and events hold no password either.
    for path in [*(installed / "logs").iterdir(), *installed.parent.glob("*.jsonl")]:
        assert password not in path.read_text(), path


def test_verify_before_any_install_says_so(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    assert main(["verify", "--dry-run", "--state-dir", str(state)]) == Exit.PREREQUISITE
    err = capsys.readouterr().err
    assert "There is no installed cloud to verify" in err
    assert "--answers FILE --dry-run" in err
    assert not state.exists()  # nothing created by asking


def test_verify_after_an_unfinished_install_says_to_resume(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    code = main(["--answers", str(EXAMPLES / "single-node.yaml"), "--dry-run", "--yes",
                 "--state-dir", str(state), "--time-scale", "0", "--events-file",
                 str(tmp_path / "i.jsonl"), "--faults", "juju.deploy:nova=fail"])
    assert code == Exit.STEP_FAILED
    capsys.readouterr()
    assert main(["verify", "--dry-run", "--state-dir", str(state)]) == Exit.PREREQUISITE
    err = capsys.readouterr().err
    assert "did not finish (failed)" in err and "resume --dry-run" in err


def test_verify_of_a_dry_run_install_without_dry_run_is_refused(
        installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--state-dir", str(installed)]) == Exit.USAGE
    assert "add --dry-run" in capsys.readouterr().err


def test_single_node_without_external_network_reaches_by_console_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    install_example(state, "single-node.yaml")
    capsys.readouterr()
    code, evs = verify(state, "--time-scale", "0")
    out = capsys.readouterr().out
    assert code == Exit.OK, out
    assert not any(e.step == "verify.reach" and "ping" in getattr(e, "message", "")
                   for e in evs)
    assert "Reached: console log shows the login prompt." in out
    assert "ping" not in out
    assert_nothing_left(state)
    assert os.path.exists(state / "openrc")


@pytest.mark.parametrize("sig", ["SIGINT", "SIGHUP"])
def test_ctrl_c_or_a_closed_terminal_during_a_check_still_cleans_up(installed: Path,
                                                                   sig: str) -> None:
    import signal
    import subprocess
    import sys
    import time

    events = installed.parent / f"interrupted-{sig}.jsonl"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "sunbeam-install"), "verify", "--dry-run",
         "--state-dir", str(installed), "--time-scale", "0", "--events-file", str(events),
         "--faults", "host.run:openstack-console-log@node1=hang"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Wait for the milestone (the hanging check has started), never for a duration.
        deadline = time.monotonic() + 120  # a safety net only
        while '"step":"verify.reach"' not in (events.read_text() if events.exists() else ""):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout
            time.sleep(0.05)
        proc.send_signal(getattr(signal, sig))
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == Exit.INTERRUPTED, out
    evs = [parse_event(line) for line in events.read_text().splitlines() if line.strip()]
    assert isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "interrupted"
    assert {e.step for e in evs if isinstance(e, StepFinished)} >= set(CLEANUPS)
    assert_nothing_left(installed)


def test_verify_while_an_install_runs_says_to_attach(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from installer.state import StateDir

    state = StateDir(tmp_path / "state").ensure()
    with Journal.open(state.journal_path) as journal:
        journal.start_run(kind="install", answers_snapshot="{}", answers_path=None,
                          dry_run=True, steps=[("juju.bootstrap", "Bootstrap", None)])
    with state.lock("install"):  # what a live run holds
        code = main(["verify", "--dry-run", "--state-dir", str(state.path)])
    assert code == Exit.PREREQUISITE
    assert "is still running; follow it with `sunbeam-install attach --dry-run`" in \
        capsys.readouterr().err
