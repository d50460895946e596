"""The lab cloud's resources as `sunbeam-install verify` meets them: servers go BUILD then
ACTIVE with the lab's clock, the console shows a login prompt later, and Neutron's and Nova's
refusals make a cleanup in the wrong order fail as on a cloud."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.lab import Lab
from installer.lab.hosts import LabHosts
from tests.installer.lab.helpers import install_example

HOST = "node1"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_example(tmp_path_factory.mktemp("cloud") / "state")


class Client:
    """The `openstack` client (and curl, ping) on node1 of a lab, as the admin."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.hosts = LabHosts(lab)
        password = lab.keystone_admin_password()
        assert password is not None
        self.env = {"OS_PASSWORD": password}

    async def __call__(self, *argv: str) -> tuple[list[str], int]:
        lines: list[str] = []
        result = await self.hosts.run(HOST, list(argv), log=lines.append, secret_env=self.env)
        return lines, result.returncode

    async def ok(self, *argv: str) -> list[str]:
        lines, rc = await self(*argv)
        assert rc == 0, lines
        return lines


@pytest.fixture
def client(installed: Path, tmp_path: Path) -> Client:
    # Each test on its own copy of the installed lab.
    import shutil

    copy = tmp_path / "state"
    shutil.copytree(installed, copy)
    # Commands take 3 ms; a server builds in about 40 ms and boots in 30 ms more (jittered by
    # at most 15%). Tests that look at those stages stop the lab's clock instead of sleeping.
    return Client(Lab.open(copy, time_scale=0.001))


async def _network_with_router(os: Client) -> None:
    await os.ok("openstack", "network", "create", "t-net")
    await os.ok("openstack", "subnet", "create", "t-sub", "--network", "t-net",
                "--subnet-range", "192.168.5.0/24")
    await os.ok("openstack", "router", "create", "t-router")
    await os.ok("openstack", "router", "set", "--external-gateway", "external-network",
                "t-router")
    await os.ok("openstack", "router", "add", "subnet", "t-router", "t-sub")


async def _server(os: Client, *groups: str) -> None:
    await os.ok("curl", "-fsSL", "-o", "/var/tmp/c.img", "https://example.invalid/c.img")
    await os.ok("openstack", "image", "create", "t-img", "--disk-format", "qcow2",
                "--container-format", "bare", "--file", "/var/tmp/c.img")
    await os.ok("openstack", "flavor", "create", "--ram", "512", "--vcpus", "1", "--disk", "4",
                "t-flavor")
    await os.ok("openstack", "server", "create", "--flavor", "t-flavor", "--image", "t-img",
                "--network", "t-net", *(w for g in groups for w in ("--security-group", g)),
                "t-vm")


async def _status(os: Client) -> str:
    row = json.loads((await os.ok("openstack", "server", "show", "t-vm", "-f", "json"))[0])
    return str(row["status"])


async def test_a_server_builds_then_boots_with_the_lab_clock(
        client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    now = client.lab.now()
    monkeypatch.setattr(client.lab, "now", lambda: now)
    await _network_with_router(client)
    await _server(client)
    assert await _status(client) == "BUILD"
    assert await client.ok("openstack", "console", "log", "show", "t-vm") == []
    monkeypatch.setattr(client.lab, "now", lambda: now + 0.05)  # built, not booted
    assert await _status(client) == "ACTIVE"
    console = await client.ok("openstack", "console", "log", "show", "t-vm")
    assert console and not any("login:" in line for line in console)
    monkeypatch.setattr(client.lab, "now", lambda: now + 1.0)
    console = await client.ok("openstack", "console", "log", "show", "t-vm")
    assert any(line.endswith("login: ") for line in console)


async def test_cleanup_in_the_wrong_order_is_refused_as_by_neutron(client: Client) -> None:
    await _network_with_router(client)
    await _server(client)
    lines, rc = await client("openstack", "network", "delete", "t-net")
    assert rc == 1 and "ports still in use" in lines[0]
    lines, rc = await client("openstack", "router", "delete", "t-router")
    assert rc == 1 and "still has ports" in lines[0]
    lines, rc = await client("openstack", "subnet", "delete", "t-sub")
    assert rc == 1 and "IP allocation" in lines[0]
    await client.ok("openstack", "server", "delete", "--wait", "t-vm")
    await client.ok("openstack", "router", "remove", "subnet", "t-router", "t-sub")
    await client.ok("openstack", "router", "delete", "t-router")
    await client.ok("openstack", "network", "delete", "t-net")
    assert "t-sub" not in client.lab.state.subnets  # went with its network


async def test_ping_needs_a_floating_ip_an_active_server_and_icmp_let_in(
        client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    await _network_with_router(client)
    await client.ok("openstack", "security", "group", "create", "t-sg")
    await _server(client, "t-sg")
    fip = json.loads((await client.ok("openstack", "floating", "ip", "create",
                                      "external-network", "-f", "json"))[0])
    address = fip["floating_ip_address"]
    await client.ok("openstack", "server", "add", "floating", "ip", "t-vm", address)
    monkeypatch.setattr(client.lab, "now", lambda: 2e10)  # long after it booted
    assert (await client("ping", "-c", "3", address))[1] == 1  # no ICMP rule yet
    await client.ok("openstack", "security", "group", "rule", "create", "--ingress",
                    "--protocol", "icmp", "t-sg")
    assert (await client("ping", "-c", "3", address))[1] == 0
    lines, rc = await client("openstack", "security", "group", "delete", "t-sg")
    assert rc == 1 and "in use" in lines[0]


async def test_without_an_enabled_compute_service_a_server_goes_to_error(
        client: Client) -> None:
    for host in ("node1", "node2", "node3"):
        await client.ok("openstack", "compute", "service", "set", "--disable", host,
                        "nova-compute")
    await _network_with_router(client)
    await _server(client)
    row = json.loads((await client.ok("openstack", "server", "show", "t-vm", "-f", "json"))[0])
    assert row["status"] == "ERROR"
    assert "No valid host" in row["fault"]["message"]


async def test_an_image_needs_its_file_on_the_host(client: Client) -> None:
    lines, rc = await client("openstack", "image", "create", "t-img", "--file", "/nope.img")
    assert rc == 1 and "No such file" in lines[0]
    await client.ok("curl", "-fsSL", "-o", "/nope.img", "https://example.invalid/x")
    await client.ok("openstack", "image", "create", "t-img", "--file", "/nope.img")
    await client.ok("rm", "-f", "/nope.img")
    assert not client.lab.state.host_files
