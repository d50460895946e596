"""The session both interactive modes drive: a prefilled dry-run sees the hosts the lab deploys."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.interactive.install import Session
from installer.pipeline import RunSettings
from manifests.loader import load_answers

from ..conftest import EXAMPLES


@pytest.mark.parametrize("name", ["single-node.yaml", "three-node.yaml"])
async def test_prefilled_dry_run_passes_preflight_like_headless(name: str, tmp_path: Path) -> None:
    # `--answers FILE --tui --dry-run` must find the disks and NICs the file names, as the
    # headless dry-run of the same file does (validate --dry-run: 0 errors).
    answers = load_answers(EXAMPLES / name)
    session = Session(RunSettings(dry_run=True, state_dir=tmp_path, time_scale=0), prefill=answers)
    await session.probe_local()
    for h in answers.hosts:
        if h.address is not None and str(h.address) != "10.20.0.11":
            await session.add_host(f"{h.ssh_user}@{h.address}")
    errors = [n.line() for n in session.validate() if n.severity == "error"]
    assert errors == []
    facts = session.facts_by_host()
    assert sorted(facts) == sorted(h.name for h in answers.hosts)
    for h in answers.hosts:
        for device in h.osd_devices:
            disk = facts[h.name].disk(device)
            assert disk is not None and disk.osd_eligible


def test_dashboard_url_is_horizon_behind_the_load_balancer(tmp_path: Path) -> None:
    session = Session(RunSettings(dry_run=True, state_dir=tmp_path),
                      prefill=load_answers(EXAMPLES / "three-node.yaml"))
    assert session.dashboard_url() == "https://10.20.0.200/openstack-horizon"


def test_session_errors_are_user_errors_with_the_invalid_exit_code() -> None:
    # One error type reaches the front ends: a SessionError is a UserError, code 1 by default.
    from installer.exits import Exit, UserError
    from installer.interactive.notices import SessionError
    from installer.interactive.probing import parse_target

    with pytest.raises(UserError) as raised:
        parse_target("10.20.0.12")
    assert isinstance(raised.value, SessionError)
    assert raised.value.code == Exit.INVALID
    assert "write it as e.g. ubuntu@10.20.0.12" in str(raised.value)
    assert SessionError("x", Exit.PREREQUISITE).code == Exit.PREREQUISITE
