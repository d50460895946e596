"""LightkubeK8sBackend against a fake Kubernetes API server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.backends.base import BackendError
from installer.backends.k8s import LightkubeK8sBackend
from tests.fakes.k8s_api import FakeK8sApi


@pytest.fixture
def api() -> Iterator[FakeK8sApi]:
    fake = FakeK8sApi().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def k8s(api: FakeK8sApi, tmp_path: Path) -> LightkubeK8sBackend:
    return LightkubeK8sBackend(
        str(api.write_kubeconfig(tmp_path / "admin.conf")), poll_interval=0.01
    )


async def test_nodes_ready(api: FakeK8sApi, k8s: LightkubeK8sBackend) -> None:
    api.state.nodes = {"node1": 0, "node2": 5}
    assert await k8s.nodes_ready() == {"node1": True, "node2": False}
    await k8s.aclose()


async def test_wait_nodes_ready_reports_progress(api: FakeK8sApi, k8s: LightkubeK8sBackend) -> None:
    api.state.nodes = {"node1": 0, "node2": 2, "node3": 3}
    api.state.fail_next = 1  # the API is still starting at first
    calls: list[tuple[str, float | None]] = []
    await k8s.wait_nodes_ready(3, progress=lambda m, f: calls.append((m, f)), timeout=20)
    assert calls[0] == ("0/3 nodes ready; waiting for the Kubernetes API", 0.0)
    assert ("1/3 nodes ready; waiting for node2, node3", 0.3333) in calls
    assert calls[-1] == ("3/3 nodes ready", 1.0)
    await k8s.aclose()


async def test_wait_nodes_ready_times_out_naming_nodes(
    api: FakeK8sApi, k8s: LightkubeK8sBackend
) -> None:
    api.state.nodes = {"node1": 0, "node2": 10_000}
    with pytest.raises(BackendError) as e:
        await k8s.wait_nodes_ready(2, progress=lambda m, f: None, timeout=0.2)
    assert "did not become ready within 0.2 s (1 of 2 ready, not ready: node2)" in e.value.message
    await k8s.aclose()


async def test_lb_pool_create_then_update(api: FakeK8sApi, k8s: LightkubeK8sBackend) -> None:
    assert await k8s.lb_pool("sunbeam") is None
    await k8s.set_lb_pool("sunbeam", "10.20.0.200-10.20.0.220")
    assert await k8s.lb_pool("sunbeam") == "10.20.0.200-10.20.0.220"
    pool = api.state.objects[("ipaddresspools", "metallb-system", "sunbeam")]
    assert pool["kind"] == "IPAddressPool" and pool["apiVersion"] == "metallb.io/v1beta1"
    l2 = api.state.objects[("l2advertisements", "metallb-system", "sunbeam")]
    assert l2["spec"] == {"ipAddressPools": ["sunbeam"]}

    await k8s.set_lb_pool("sunbeam", "10.20.0.230-10.20.0.240")
    assert await k8s.lb_pool("sunbeam") == "10.20.0.230-10.20.0.240"
    assert (
        api.state.objects[("ipaddresspools", "metallb-system", "sunbeam")]["metadata"][
            "resourceVersion"
        ]
        == "2"
    )
    patches = [r for r in api.state.requests if r[0] == "PATCH"]
    assert {r[2] for r in patches} == {"application/merge-patch+json"}
    await k8s.aclose()


async def test_pods_and_namespace_health(api: FakeK8sApi, k8s: LightkubeK8sBackend) -> None:
    api.state.pods["openstack"] = {
        "keystone-0": "Running:ready",
        "nova-0": "Running:",
        "mysql-0": "Pending:",
        "job-x": "Succeeded:",
    }
    assert await k8s.pods_ready("openstack") == {
        "keystone-0": True,
        "nova-0": False,
        "mysql-0": False,
        "job-x": True,
    }
    assert await k8s.namespace_health("openstack") == (2, 4)
    assert await k8s.namespace_health("empty") == (0, 0)
    await k8s.aclose()


async def test_wrong_token_is_a_clear_error(api: FakeK8sApi, tmp_path: Path) -> None:
    k8s = LightkubeK8sBackend(str(api.write_kubeconfig(tmp_path / "bad.conf", token="nope")))
    with pytest.raises(BackendError) as e:
        await k8s.nodes_ready()
    assert e.value.message.startswith("Kubernetes refused to list nodes")
    assert "401" in e.value.message and not e.value.transient
    await k8s.aclose()


async def test_missing_kubeconfig(tmp_path: Path) -> None:
    k8s = LightkubeK8sBackend(str(tmp_path / "admin.conf"))
    with pytest.raises(BackendError) as e:
        await k8s.nodes_ready()
    assert e.value.message == f"The kubeconfig {tmp_path / 'admin.conf'} does not exist."
    assert e.value.hint and "k8s status" in e.value.hint


async def test_unreachable_api_is_transient(tmp_path: Path) -> None:
    fake = FakeK8sApi().start()
    conf = fake.write_kubeconfig(tmp_path / "admin.conf")
    fake.stop()  # nothing listens there any more
    k8s = LightkubeK8sBackend(str(conf))
    with pytest.raises(BackendError) as e:
        await k8s.nodes_ready()
    assert e.value.transient and e.value.message.startswith("Cannot reach the Kubernetes API")
    await k8s.aclose()
