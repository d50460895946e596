"""Pilot tests of the guided installer's screens at 80x24, on recorded host facts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static

from installer.interactive.install import Session
from screens.app import InstallerApp, create_app
from tests.screens.conftest import SIZE


def text_of(app: InstallerApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def until(pilot: Pilot[int], cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for background work (probes, validation) without fixed sleeps."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


async def type_into(pilot: Pilot[int], selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*list(text))


async def to_hosts(pilot: Pilot[int], *targets: str) -> None:
    app = pilot.app
    assert isinstance(app, InstallerApp)
    await pilot.press("enter")
    await until(pilot, lambda: app.current == "hosts" and bool(app.session.ready_hosts()))
    for t in targets:
        await type_into(pilot, "#target", t)
        await pilot.press("enter")
    await until(pilot, lambda: all(e.state != "probing" for e in app.session.hosts.values()))


async def test_welcome_shows_dry_run_and_enter_goes_to_hosts(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        assert app.current == "welcome"
        assert "DRY RUN" in text_of(app, "#dry-run")
        await pilot.press("enter")
        assert app.current == "hosts"


async def test_hosts_probe_local_at_once_and_add_remote(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot, "ubuntu@10.20.0.12", "ubuntu@10.20.0.13")
        table = app.screen.query_one("#hosts", DataTable)
        assert table.row_count == 3
        names = [str(table.get_row_at(i)[0]) for i in range(3)]
        assert names == ["node1", "node2", "node3"]
        assert "ready" in str(table.get_row_at(1)[-1])
        assert [h.name for h in session.draft.hosts] == ["node1", "node2", "node3"]


async def test_hosts_bad_target_message_and_failed_probe_with_retry(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot)
        await type_into(pilot, "#target", "ubuntu@10.20.0.999")
        assert "is not an IP address" in text_of(app, "#target-error")
        await type_into(pilot, "#target", "ubuntu@10.20.0.99")
        await pilot.press("enter")
        await until(pilot, lambda: session.hosts["ubuntu@10.20.0.99"].state == "failed")
        table = app.screen.query_one("#hosts", DataTable)
        assert "failed" in str(table.get_row_at(1)[-1])
        # The failed host does not become part of the answers.
        assert [h.name for h in session.draft.hosts] == ["node1"]
        table.focus()
        table.move_cursor(row=1)
        # The reason in full under the table (the cell is too narrow at 80 columns).
        await until(pilot, lambda: "No recorded facts for 10.20.0.99" in text_of(
            app, "#host-detail"))
        assert "add 10.20.0.99.json to the facts directory" in text_of(app, "#host-detail")
        # It is not dropped from the later screens without a word: Next says why not.
        await pilot.press("ctrl+n")
        assert app.current == "hosts"
        assert "10.20.0.99 failed: r retries, Delete removes it" in text_of(app, "#why")
        await pilot.press("r")
        await until(pilot, lambda: session.hosts["ubuntu@10.20.0.99"].state == "failed")
        await pilot.press("delete")
        assert table.row_count == 1
        assert text_of(app, "#nav-status").endswith(". 1 host ready")


async def test_roles_suggested_for_three_and_rules_block_two_control(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot, "ubuntu@10.20.0.12", "ubuntu@10.20.0.13")
        await pilot.press("ctrl+n")
        assert app.current == "roles"
        assert all(h.roles == ["control", "compute", "storage"] for h in session.draft.hosts)
        table = app.screen.query_one("#roles", DataTable)
        table.move_cursor(row=1, column=1)  # node2, control
        await pilot.press("space")
        assert session.draft.hosts[1].roles == ["compute", "storage"]
        assert "✗ Control on 1 host or at least 3 (now 2)" in text_of(app, "#rules")
        await pilot.press("ctrl+n")
        assert app.current == "roles"
        # Item 7: the reason whole, above Next (no toast over it), gone once fixed.
        why = text_of(app, "#why")
        assert why == "Roles are not complete yet: control on 1 host or at least 3 (now 2)."
        assert len(app._notifications) == 0  # no toast covering Next
        await pilot.press("d")
        assert "✗" not in text_of(app, "#rules")
        await until(pilot, lambda: not app.screen.query_one("#why").display)
        await pilot.press("ctrl+n")
        assert app.current == "network"


async def test_network_validates_as_you_type_and_blocks_next(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot, "ubuntu@10.20.0.12", "ubuntu@10.20.0.13")
        await pilot.press("ctrl+n", "ctrl+n")
        assert app.current == "network"
        assert app.screen.query_one("#management-cidr", Input).value == "10.20.0.0/24"
        await type_into(pilot, "#management-cidr", "10.20.0.1/24")
        assert "has host bits set; the network is 10.20.0.0/24" in text_of(
            app, "#management-cidr-field .field-error")
        await type_into(pilot, "#lb-range", "10.20.0.200-10.20.0")
        assert "is not a range of IP addresses" in text_of(app, "#lb-range-field .field-error")
        await pilot.press("ctrl+n")
        assert app.current == "network"
        await type_into(pilot, "#management-cidr", "10.20.0.0/24")
        # Well formed but not fitting the rest: the answers file's own rules, as you type.
        await type_into(pilot, "#lb-range", "10.20.0.220-10.20.0.200")
        assert "ends before it starts; write the lower address first" in text_of(
            app, "#lb-range-field .field-error")
        await type_into(pilot, "#lb-range", "10.20.1.200-10.20.1.220")
        assert "is not inside the management network 10.20.0.0/24" in text_of(
            app, "#lb-range-field .field-error")
        await pilot.press("ctrl+n")
        assert app.current == "network"
        await type_into(pilot, "#lb-range", "10.20.0.5-10.20.0.20")
        assert "contains the address 10.20.0.12 of host node2" in text_of(
            app, "#lb-range-field .field-error")
        await type_into(pilot, "#management-cidr", "10.30.0.0/24")
        assert "of host node2 is outside the management network 10.30.0.0/24" in text_of(
            app, "#management-cidr-field .field-error")
        await type_into(pilot, "#management-cidr", "10.20.0.0/24")
        await type_into(pilot, "#lb-range", "10.20.0.200-10.20.0.220")
        assert text_of(app, "#lb-range-field .field-error") == ""
        assert text_of(app, "#management-cidr-field .field-error") == ""
        await pilot.press("ctrl+n")
        assert app.current == "storage"
        assert session.draft.loadbalancer_range == "10.20.0.200-10.20.0.220"


async def test_network_external_nic_table_marks_management_nic(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot)
        await pilot.press("ctrl+n", "ctrl+n")
        app.screen.query_one("#external").focus()
        await pilot.press("space")
        assert session.draft.external_enabled
        table = app.screen.query_one("#nics", DataTable)
        assert table.display
        assert str(table.get_row_at(0)[1]) == "eno1 *"  # carries the management address
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("space")
        assert session.draft.hosts[0].external_nic == "eno2"
        assert str(table.get_row_at(1)[-1]) == "(•)"


async def test_storage_greys_ineligible_and_requires_a_disk(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot, "ubuntu@10.20.0.14")
        await pilot.press("ctrl+n", "ctrl+n")
        await type_into(pilot, "#lb-range", "10.20.0.200-10.20.0.220")
        await pilot.press("ctrl+n")
        assert app.current == "storage"
        table = app.screen.query_one("#disks", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        root = rows[0]
        assert "It holds the root filesystem." in str(root[-1])
        assert root[2].style == "dim"
        await pilot.press("space")  # on the root disk: refused
        assert session.draft.hosts[0].osd_devices == []
        node4_sdc = next(r for r in rows if str(r[1]) == "node4" and "0003" in str(r[4]))
        assert "It has partitions (sdc1)." in str(node4_sdc[-1])
        await pilot.press("ctrl+n")
        assert app.current == "storage"
        assert "has no disk selected" in text_of(app, "#why")
        table.move_cursor(row=1)
        await pilot.press("space")
        table.move_cursor(row=4)
        await pilot.press("a")
        assert session.draft.hosts[0].osd_devices == ["/dev/disk/by-id/wwn-0x5000c500a0290002"]
        assert session.draft.hosts[1].osd_devices == ["/dev/disk/by-id/wwn-0x5000c500a02c0002"]
        await pilot.press("enter")
        assert app.current == "options"


async def test_back_help_and_quit_confirmation(session: Session) -> None:
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot)
        await pilot.press("ctrl+n")
        assert app.current == "roles"
        await pilot.press("escape")
        assert app.current == "hosts"
        await pilot.press("f1")
        assert "Help: Hosts" in str(app.screen.query_one("#dialog Static").render())
        await pilot.press("escape")
        assert app.current == "hosts" and app.screen.__class__.__name__ == "HostsScreen"
        await pilot.press("ctrl+q")
        assert app.screen.__class__.__name__ == "ConfirmQuit"
        await pilot.press("n")
        assert app.screen.__class__.__name__ == "HostsScreen"
        await pilot.press("ctrl+q", "y")
    assert app.return_value == 0


async def _prefilled_to_review(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, InstallerApp)
    await to_hosts(pilot, "ubuntu@10.20.0.12", "ubuntu@10.20.0.13")
    for _ in range(5):
        await pilot.press("ctrl+n")
    assert app.current == "review"
    await until(pilot, lambda: getattr(app.screen, "checked", False), timeout=20)


async def test_review_saves_an_answers_file_headless_accepts(session: Session,
                                                             tmp_path: Path) -> None:
    from manifests.loader import load_answers

    answers_in = load_answers(Path("examples/three-node.yaml"))
    # Point the example's disks at the recorded facts' disks, keeping everything else.
    facts = {f.stem: f for f in (Path(__file__).parent / "facts").glob("node*.json")}
    del facts
    app = create_app(session, prefill=answers_in)
    async with app.run_test(size=SIZE) as pilot:
        await _prefilled_to_review(pilot)
        path = tmp_path / "out" / "answers.yaml"
        await type_into(pilot, "#save-path", str(path))
        await pilot.press("enter")
        assert "Saved to" in text_of(app, "#save-result")
    loaded = load_answers(path)
    assert loaded == session.draft.to_answers()
    assert loaded.network == answers_in.network
    assert [h.name for h in loaded.hosts] == ["node1", "node2", "node3"]
    assert (path.stat().st_mode & 0o777) == 0o600


async def test_review_blocks_install_on_errors(session: Session) -> None:
    from manifests.loader import load_answers

    app = create_app(session, prefill=load_answers(Path("examples/three-node.yaml")))
    async with app.run_test(size=SIZE) as pilot:
        await _prefilled_to_review(pilot)
        findings = text_of(app, "#findings")
        # The example's disks are not on the recorded hosts: preflight says so and blocks.
        assert "error" in findings
        assert app.screen.query_one("#next", Button).disabled
        await pilot.press("ctrl+n")
        assert app.current == "review"


def test_no_color_is_respected(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert create_app(session).no_color
    monkeypatch.setenv("TERM", "linux")
    app = create_app(session)
    assert app.linux_console


async def test_linux_console_uses_ansi_theme(session: Session) -> None:
    app = create_app(session, linux_console=True)
    async with app.run_test(size=SIZE):
        assert app.theme == "ansi-dark"


async def to_review(pilot: Pilot[int]) -> None:
    """The one-host install up to Review, its checks done: suggested roles, a load-balancer
    range, the first eligible disk, default options."""
    app = pilot.app
    await to_hosts(pilot)
    await pilot.press("ctrl+n", "ctrl+n")  # roles: suggested (all three on node1)
    await type_into(pilot, "#lb-range", "10.20.0.200-10.20.0.220")
    await pilot.press("ctrl+n")
    table = app.screen.query_one("#disks", DataTable)
    table.focus()
    table.move_cursor(row=1)
    await pilot.press("space", "enter")  # storage: the first eligible disk
    await pilot.press("ctrl+n")  # options: defaults
    assert getattr(app, "current", None) == "review"
    await until(pilot, lambda: getattr(app.screen, "checked", False), timeout=20)


async def test_full_dry_run_install_through_the_tui(session: Session) -> None:
    pytest.importorskip("installer.planner")
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_review(pilot)
        findings = text_of(app, "#findings")
        assert " error: " not in f" {findings}", findings
        if app.screen.query_one("#accept").display:
            app.screen.query_one("#accept").focus()
            await pilot.press("space")
        await pilot.press("ctrl+n")
        assert app.current in ("progress", "done")  # time scale 0: it may be over already
        # Current before its widgets are mounted: wait for the summary too.
        await until(pilot, lambda: app.current == "done" and bool(app.screen.query("#summary")),
                    timeout=60)
        summary = text_of(app, "#summary")
        assert "The cloud is deployed." in summary
        assert "https://10.20.0.200/" in summary
        assert session.last_outcome == "done"
        await pilot.press("enter")
    assert app.return_value == 0


async def test_this_machine_is_marked_and_delete_removes_it_and_recounts(
        session: Session) -> None:
    # Items 6 and 20: this machine's row says so; Delete on it removes it (and says so), and
    # the count under the table follows every Delete.
    app = create_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await to_hosts(pilot, "ubuntu@10.20.0.12")
        table = app.screen.query_one("#hosts", DataTable)
        assert "this machine" in str(table.get_row_at(0)[-1])
        assert text_of(app, "#nav-status") == "2 hosts ready"
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("delete")
        assert table.row_count == 1
        assert [h.name for h in session.draft.hosts] == ["node2"]
        assert text_of(app, "#nav-status").endswith(". 1 host ready")
