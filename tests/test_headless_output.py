"""Issue 14, items 14 and 15: a headless install asks before it installs (as plain mode does),
says when it is a dry run, ends with the dashboard and the password's place, and fits its lines
to the terminal; JSON lines stay as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.cli import main
from installer.events import PlanStarted, StepStarted
from installer.render.console import PlainRenderer, fit_to_terminal

from .conftest import EXAMPLES

THREE = str(EXAMPLES / "three-node.yaml")


def test_headless_dry_run_without_yes_and_no_terminal_says_to_pass_yes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--answers", THREE, "--dry-run", "--state-dir", str(tmp_path / "state")])
    assert code == 1
    captured = capsys.readouterr()
    assert "pass --yes" in captured.err
    assert "simulated lab" in captured.err
    assert not (tmp_path / "state" / "journal").exists()
    assert "done" not in captured.out


def test_headless_dry_run_says_so_and_ends_with_dashboard_and_password(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    code = main(["--answers", THREE, "--dry-run", "--yes", "--state-dir", str(state)])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Dry run: this install runs in the simulated lab")
    tail = lines[-5:]
    assert tail[0] == "Dashboard: https://10.20.0.200/openstack-horizon"
    assert tail[1] == f"Admin password: {state / 'secrets' / 'admin-password'} (mode 0600)"
    assert "admin_domain" in tail[2]
    assert tail[3].startswith(f"openrc: {state / 'openrc'} (source it")
    assert tail[4].startswith("Dry run: this install ran in the simulated lab")
    # The openrc the run wrote: 0600, reads the password file, never holds the password.
    openrc = state / "openrc"
    assert openrc.stat().st_mode & 0o777 == 0o600
    text = openrc.read_text()
    assert f'OS_PASSWORD="$(cat {state / "secrets" / "admin-password"})"' in text
    password = (state / "secrets" / "admin-password").read_text().strip()
    assert password and password not in text


def test_headless_json_lines_stay_json_and_the_words_go_to_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--answers", THREE, "--dry-run", "--yes", "--state-dir",
                 str(tmp_path / "state"), "--events", "jsonl"])
    assert code == 0
    captured = capsys.readouterr()
    for line in captured.out.splitlines():
        json.loads(line)
    assert "Dry run:" in captured.err and "Dashboard:" in captured.err


def test_plain_lines_wrap_at_the_terminal_width() -> None:
    import io

    out = io.StringIO()
    renderer = PlainRenderer(out, width=80)
    renderer(PlanStarted(run_id="r", steps=1, time=0.0, log_path="/var/log/x.log"))
    title = ("Integrate nova-cloud-controller-k8s with openstack-hypervisor-and-friends "
             "(openstack-machines)")
    renderer(StepStarted(step="juju.integrate:nova:openstack-hypervisor", title=title,
                         host=None, time=0.0))
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    start = next(i for i, line in enumerate(lines) if "start" in line)
    assert len(lines) - start > 1  # wrapped, continuations indented under the text
    assert all(line.startswith(" " * 15) for line in lines[start + 1:])
    assert " ".join(part.strip() for part in lines[start:]).endswith(title)
    # Not a terminal: lines stay whole (logs are grepped).
    piped = io.StringIO()
    PlainRenderer(piped)(StepStarted(step="s", title=title, host=None, time=0.0))
    assert len(piped.getvalue().splitlines()) == 1
    assert fit_to_terminal(["x " * 60], piped) == ["x " * 60]
    assert all(len(line) <= 80 for line in fit_to_terminal(["x " * 60], piped, width=80))


def test_other_answers_over_an_unfinished_run_are_asked_about_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 19: a different answers file over an interrupted run asks before it goes on."""
    import yaml

    state = str(tmp_path / "state")
    assert main(["--answers", THREE, "--dry-run", "--yes", "--state-dir", state,
                 "--faults", "ceph.add-osd@node2=fail"]) == 3
    other = tmp_path / "other.yaml"
    data = yaml.safe_load(Path(THREE).read_text())
    data.setdefault("deployment", {})["region"] = "RegionTwo"
    other.write_text(yaml.safe_dump(data))
    capsys.readouterr()
    # Another file, no terminal to ask on: refused before anything runs.
    assert main(["--answers", str(other), "--dry-run", "--state-dir", state]) == 1
    err = capsys.readouterr().err
    assert "did not finish and had other answers" in err and "pass --yes" in err
    # The first run's own answers are not asked about (only the usual confirmation).
    assert main(["--answers", THREE, "--dry-run", "--state-dir", state]) == 1
    err = capsys.readouterr().err
    assert "other answers" not in err and "Run a dry-run install" in err


def test_a_rerun_in_the_lab_says_how_to_start_over(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 18: the README's command run twice does nothing the second time; it says why and
    how to start the lab over, and the README says it too."""
    from installer.state import default_state_dir

    state = tmp_path / "state"
    argv = ["--answers", THREE, "--dry-run", "--yes", "--state-dir", str(state)]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"Everything was already in place in this lab; `rm -rf {state}` starts it over." in out
    readme = (EXAMPLES.parent / "README.md").read_text()
    lab = default_state_dir(dry_run=True, env={"HOME": "/home/me"})
    assert str(lab).replace("/home/me", "~") in readme and "To start the lab\nover" in readme
