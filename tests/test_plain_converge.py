"""Plain mode's "Add hosts to a deployed cloud": after a dry-run install of
examples/three-node.yaml, `sunbeam-install --plain` offers it first (the default), asks the
install's questions from the deployed answers, shows the difference, and runs only that; the
lab then has the new machines. An unchanged draft says "nothing to change" and runs nothing."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from installer.cli import main
from installer.pipeline import RunSettings
from installer.plain import LinePrompter
from installer.plain_converge import run_guided_plain
from tests.installer.converge.helpers import install_three_node, lab_live

pytestmark = pytest.mark.timeout(120)  # an incomplete script must fail, not hang

KEEP_ALL = [""] * 30  # Enter keeps every deployed answer (more than the questions left)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_three_node(tmp_path_factory.mktemp("deployed"))


def hosts_of(state: Path) -> set[str]:
    return lab_live(state).hosts()


def runs(state: Path) -> list[str]:
    return sorted(p.name for p in (state / "runs").glob("*.exit.json"))


def test_plain_mode_adds_two_hosts_through_the_cli(deployed: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    state = shutil.copytree(deployed, tmp_path / "state", symlinks=True)
    script = [
        "",  # what to do: adding hosts is the default
        "ubuntu@10.20.0.14", "ubuntu@10.20.0.15", "",  # two new hosts
        "node4", "",  # a host just added is not one of the cloud's to remove; remove none
        "", "", "",  # node1-3 keep their roles
        "2", "2",  # node4, node5: compute
        "",  # use these roles
        *KEEP_ALL,  # networks, storage, features, save path: as deployed; apply: yes
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(script) + "\n"))
    monkeypatch.setenv("TERM", "dumb")
    code = main(["--plain", "--dry-run", "--state-dir", str(state), "--time-scale", "0"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1) Add hosts to a deployed cloud" in out
    assert "Choose 1-2 [add-hosts]: " in out
    assert "Stays as deployed (a converge does not change it): OpenStack release 2025.1" in out
    assert "'node4' is not a host of this cloud (its hosts: node1, node2, node3)." in out
    assert "Hosts: 2 added (node4, node5), 0 removed, 3 kept." in out
    assert "0 removed, 188 untouched" in out
    assert "+ Add node4 as a machine of openstack-machines" in out
    assert "Applying changes: " in out
    assert "Done." in out
    assert hosts_of(state) == {"node1", "node2", "node3", "node4", "node5"}


def test_plain_mode_unchanged_says_nothing_to_change_and_runs_nothing(
        deployed: Path, tmp_path: Path) -> None:
    state = shutil.copytree(deployed, tmp_path / "state", symlinks=True)
    before = runs(state)
    out = io.StringIO()
    stdin = io.StringIO("\n".join(["1", "", "", *KEEP_ALL]) + "\n")
    code = run_guided_plain(RunSettings(dry_run=True, state_dir=state, time_scale=0),
                            prompter=LinePrompter(stdin, out))
    text = out.getvalue()
    assert code == 0, text
    assert "Nothing to change: the cloud already is what the answers describe" in text
    assert "Apply these" not in text
    assert runs(state) == before
    assert hosts_of(state) == {"node1", "node2", "node3"}


def test_plain_mode_removing_a_host_needs_allow_removal(deployed: Path, tmp_path: Path) -> None:
    state = shutil.copytree(deployed, tmp_path / "state", symlinks=True)
    out = io.StringIO()
    # Add node4 as compute, remove node3 (the HA rule refuses 2 control hosts: not this test's
    # point), so give node4 control too; then refuse "allow removal".
    stdin = io.StringIO("\n".join([
        "", "ubuntu@10.20.0.14", "", "node9", "node3", "", "", "", "1,2", "",
        *[""] * 14, "n", *KEEP_ALL]) + "\n")
    code = run_guided_plain(RunSettings(dry_run=True, state_dir=state, time_scale=0),
                            prompter=LinePrompter(stdin, out))
    text = out.getvalue()
    assert "'node9' is not a host of this cloud" in text
    assert "node3 will be removed" in text
    assert "Allow removal of host node3" in text
    assert "Cannot apply:" in text and "needs --allow-removal" in text
    assert code == 1
    assert hosts_of(state) == {"node1", "node2", "node3"}


def test_plain_mode_new_deployment_on_a_deployed_state_dir_is_the_install_interview(
        deployed: Path, tmp_path: Path) -> None:
    state = shutil.copytree(deployed, tmp_path / "state", symlinks=True)
    out = io.StringIO()
    code = run_guided_plain(RunSettings(dry_run=True, state_dir=state, time_scale=0),
                            prompter=LinePrompter(io.StringIO("2\n"), out))
    text = out.getvalue()
    assert "sunbeam-install: guided install (plain mode)" in text
    assert code == 2  # the install's questions, until the input ends
