"""The snapd client and SnapBackend against a fake snapd on a real unix socket."""

from __future__ import annotations

import pytest

from installer.backends.base import BackendError, SnapInfo
from installer.backends.snapd import (
    SnapdClient,
    SnapdError,
    SnapdSnapBackend,
    change_error,
    change_progress,
)
from tests.fakes.snapd import FakeSnapd


def _backend(fake: FakeSnapd) -> SnapdSnapBackend:
    return SnapdSnapBackend(
        lambda host: SnapdClient.local(fake.socket_path, where=f"on {host}", poll_interval=0.01)
    )


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float | None]] = []

    def __call__(self, message: str, fraction: float | None) -> None:
        self.calls.append((message, fraction))


async def test_install_reports_download_progress_and_returns_info(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    progress = Progress()
    info = await b.install("node1", "juju", "3.6/stable", classic=False, progress=progress)
    assert info == SnapInfo("juju", "3.6/stable", "29000", classic=False)
    assert (
        "POST",
        "/v2/snaps/juju",
        {"action": "install", "channel": "3.6/stable"},
    ) in fake_snapd.state.requests
    fractions = [f for _, f in progress.calls]
    assert fractions == sorted(fractions)  # monotonic
    assert fractions[-1] == 1.0
    downloads = [m for m, _ in progress.calls if m.startswith('Download snap "juju"')]
    assert any(m.endswith("33%") for m in downloads) and any(m.endswith("66%") for m in downloads)
    await b.aclose()


async def test_info_absent_then_present(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    assert await b.info("node1", "microceph") is None
    await b.install("node1", "microceph", "squid/stable", classic=False, progress=Progress())
    info = await b.info("node1", "microceph")
    assert info is not None and info.channel == "squid/stable"
    await b.aclose()


async def test_classic_install_sends_classic(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    info = await b.install("node1", "k8s", "1.32-classic/stable", classic=True, progress=Progress())
    assert info.classic is True
    posts = [r for r in fake_snapd.state.requests if r[0] == "POST"]
    assert posts[0][2] == {
        "action": "install",
        "channel": "1.32-classic/stable",
        "classic": True,
    }
    await b.aclose()


async def test_needs_classic_is_explained(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    with pytest.raises(SnapdError) as e:
        await b.install("node1", "k8s", "1.32-classic/stable", classic=False, progress=Progress())
    assert e.value.kind == "snap-needs-classic"
    assert e.value.message == "The snap 'k8s' needs classic confinement (on node1)."
    assert e.value.hint and "classic: true" in e.value.hint
    assert not e.value.transient
    await b.aclose()


async def test_not_found_and_bad_channel(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    with pytest.raises(SnapdError) as e:
        await b.install(
            "node1", "no-such-snap", "latest/stable", classic=False, progress=Progress()
        )
    assert e.value.kind == "snap-not-found"
    assert "'no-such-snap' was not found in the store" in e.value.message
    with pytest.raises(SnapdError) as e2:
        await b.install("node1", "juju", "9.9/stable", classic=False, progress=Progress())
    assert e2.value.kind == "snap-channel-not-available"
    assert "'9.9/stable'" in e2.value.message
    await b.aclose()


async def test_change_conflict_is_followed_then_tried_again(fake_snapd: FakeSnapd) -> None:
    fake_snapd.state.conflicts["juju"] = 1
    b = _backend(fake_snapd)
    info = await b.install("node1", "juju", "3.6/stable", classic=False, progress=Progress())
    assert info.revision == "29000"
    await b.aclose()


async def test_change_conflict_that_persists_is_transient(fake_snapd: FakeSnapd) -> None:
    fake_snapd.state.conflicts["juju"] = 10
    b = _backend(fake_snapd)
    with pytest.raises(SnapdError) as e:
        await b.install("node1", "juju", "3.6/stable", classic=False, progress=Progress())
    assert e.value.transient and e.value.kind == "snap-change-conflict"
    assert e.value.message == "Another change is in progress for the snap 'juju' on node1."
    # the retry (what the runner does for transient errors) succeeds once it clears
    fake_snapd.state.conflicts["juju"] = 0
    info = await b.install("node1", "juju", "3.6/stable", classic=False, progress=Progress())
    assert info.revision == "29000"
    await b.aclose()


async def test_install_when_already_installed_is_idempotent(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    await b.install("node1", "juju", "3.6/stable", classic=False, progress=Progress())
    n = len(fake_snapd.state.requests)
    info = await b.install("node1", "juju", "3.6/stable", classic=False, progress=Progress())
    assert info.channel == "3.6/stable"
    assert [r[:2] for r in fake_snapd.state.requests[n:]] == [
        ("GET", "/v2/changes"), ("POST", "/v2/snaps/juju"), ("GET", "/v2/snaps/juju")
    ]
    await b.aclose()


async def test_already_installed_on_another_channel_refreshes(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    await b.install(
        "node1", "openstack-hypervisor", "2024.1/stable", classic=False, progress=Progress()
    )
    info = await b.install(
        "node1", "openstack-hypervisor", "2025.1/stable", classic=False, progress=Progress()
    )
    assert info.channel == "2025.1/stable"
    await b.aclose()


async def test_refresh_revert_and_no_update(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    await b.install(
        "node1", "openstack-hypervisor", "2024.1/stable", classic=False, progress=Progress()
    )
    info = await b.refresh("node1", "openstack-hypervisor", "2025.1/stable", progress=Progress())
    assert info.channel == "2025.1/stable"
    # refreshing to what is there is not an error: the wanted state
    again = await b.refresh("node1", "openstack-hypervisor", "2025.1/stable", progress=Progress())
    assert again == info
    back = await b.revert("node1", "openstack-hypervisor", progress=Progress())
    assert back.channel == "2024.1/stable"
    await b.aclose()


async def test_refresh_of_missing_snap(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    with pytest.raises(SnapdError) as e:
        await b.refresh("node2", "microceph", "squid/stable", progress=Progress())
    assert e.value.message == "The snap 'microceph' is not installed on node2."
    await b.aclose()


async def test_failed_change_names_the_task_error(fake_snapd: FakeSnapd) -> None:
    fake_snapd.state.fail_change["microceph"] = "cannot create user data directory: disk full"
    b = _backend(fake_snapd)
    with pytest.raises(BackendError) as e:
        await b.install("node1", "microceph", "squid/stable", classic=False, progress=Progress())
    assert e.value.message == (
        "snapd on node1 could not install microceph: cannot create user data directory: disk full"
    )
    assert e.value.hint and "snap tasks" in e.value.hint
    await b.aclose()


async def test_set_config_and_read_back(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    await b.install(
        "node1", "openstack-hypervisor", "2025.1/stable", classic=False, progress=Progress()
    )
    await b.set_config(
        "node1", "openstack-hypervisor", {"compute.cpu-mode": "host-model", "node.fqdn": "n1"}
    )
    # snapd keeps dotted keys as nested options
    assert fake_snapd.state.conf["openstack-hypervisor"] == {
        "compute": {"cpu-mode": "host-model"},
        "node": {"fqdn": "n1"},
    }
    assert await b.get_config("node1", "openstack-hypervisor", ["node.fqdn", "unset.key"]) == {
        "node.fqdn": "n1"
    }
    c = b.client("node1")
    assert await c.get_conf("openstack-hypervisor", ["node.fqdn"]) == {"node.fqdn": "n1"}
    with pytest.raises(SnapdError) as e:
        await c.get_conf("openstack-hypervisor", ["nope"])
    assert e.value.kind == "option-not-found"
    await b.aclose()


async def test_connect_and_connect_again(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    await b.install(
        "node1", "openstack-hypervisor", "2025.1/stable", classic=False, progress=Progress()
    )
    await b.connect("node1", "openstack-hypervisor:juju-bin", "juju:juju-bin")
    assert ("openstack-hypervisor", "juju-bin", "juju", "juju-bin") in fake_snapd.state.connections
    await b.connect("node1", "openstack-hypervisor:juju-bin", "juju:juju-bin")  # unchanged: fine
    await b.connect("node1", "openstack-hypervisor:kvm", ":kvm")  # a system slot
    assert ("openstack-hypervisor", "kvm", "core", "kvm") in fake_snapd.state.connections
    with pytest.raises(BackendError) as e:
        await b.connect("node1", "openstack-hypervisor", ":kvm")
    assert "is not of the form snap:plug" in e.value.message
    await b.aclose()


async def test_list_snaps(fake_snapd: FakeSnapd) -> None:
    b = _backend(fake_snapd)
    await b.install("node1", "juju", "3.6/stable", classic=False, progress=Progress())
    assert [s["name"] for s in await b.client("node1").list_snaps()] == ["juju"]
    await b.aclose()


async def test_snapd_not_running_is_transient_and_clear(short_dir) -> None:
    c = SnapdClient.local(str(short_dir / "missing.socket"), where="on node1")
    with pytest.raises(BackendError) as e:
        await c.get_snap("juju")
    assert e.value.message.startswith("Cannot reach snapd on node1")
    assert e.value.transient and e.value.hint and "snapd.socket" in e.value.hint
    await c.aclose()


def test_change_progress_math() -> None:
    change = {
        "summary": "Install x",
        "tasks": [
            {
                "status": "Done",
                "summary": "Ensure prerequisites",
                "progress": {"done": 1, "total": 1},
            },
            {
                "status": "Doing",
                "summary": 'Download snap "x"',
                "progress": {"done": 25, "total": 100},
            },
            {"status": "Do", "summary": "Mount", "progress": {"done": 0, "total": 1}},
            {"status": "Do", "summary": "Start", "progress": {"done": 0, "total": 1}},
        ],
    }
    assert change_progress(change) == ('Download snap "x" 25%', 0.3125)
    assert change_progress({"summary": "s", "tasks": []}) == ("s", None)


def test_change_error_prefers_task_log() -> None:
    assert (
        change_error({"err": "cannot perform\n  the following", "tasks": []})
        == "cannot perform the following"
    )


async def _until(cond: object, what: str) -> None:
    import asyncio

    for _ in range(6000):  # a generous bound; ends as soon as the condition holds
        if cond():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what} did not happen")


async def test_a_retried_install_follows_the_first_change_instead_of_starting_another(
    fake_snapd: FakeSnapd,
) -> None:
    import asyncio

    fake_snapd.state.download_polls = 10**9  # the first attempt's change runs until told
    b = _backend(fake_snapd)
    first = asyncio.ensure_future(
        b.install("node1", "juju", "3.6/stable", classic=False, progress=Progress())
    )
    await _until(lambda: fake_snapd.state.changes, "the first install's change")
    first.cancel()  # the step timed out / was interrupted; snapd's change goes on
    with pytest.raises(asyncio.CancelledError):
        await first
    change = fake_snapd.state.changes["1"]
    with fake_snapd.state.lock:
        change.polls_needed = change.polls + 2  # it ends a little later
    info = await b.install("node1", "juju", "3.6/stable", classic=False, progress=Progress())
    assert info.channel == "3.6/stable"
    assert list(fake_snapd.state.changes) == ["1"]  # no second change was started
    await b.aclose()


async def test_channels_compare_as_snapd_reports_them(fake_snapd: FakeSnapd) -> None:
    from tests.fakes.snapd import StoreSnap

    fake_snapd.state.store["hello"] = StoreSnap(42, channels=("latest/stable",))
    b = _backend(fake_snapd)
    info = await b.install("node1", "hello", "stable", classic=False, progress=Progress())
    assert info.channel == "latest/stable"
    n = len(fake_snapd.state.requests)
    await b.install("node1", "hello", "stable", classic=False, progress=Progress())
    refreshes = [r for r in fake_snapd.state.requests[n:]
                 if r[0] == "POST" and (r[2] or {}).get("action") == "refresh"]
    assert refreshes == []  # `stable` is `latest/stable`: nothing to change
    await b.aclose()


def test_normalize_channel() -> None:
    from installer.backends.snapd import normalize_channel, same_channel

    assert normalize_channel("stable") == "latest/stable"
    assert normalize_channel("3.6") == "3.6/stable"
    assert normalize_channel("edge/fix-1") == "latest/edge/fix-1"
    assert normalize_channel("1.32-classic/stable") == "1.32-classic/stable"
    assert same_channel("latest/stable", "stable") and not same_channel("3.6/edge", "3.6")
