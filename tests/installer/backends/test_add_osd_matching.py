"""add-osd is never sent twice for one disk: list-disks names an OSD by /dev or by-id."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from installer.backends.base import CommandResult
from installer.steps import ceph


class Juju:
    def __init__(self, osds: list[dict[str, str]]) -> None:
        self.osds = osds
        self.added: list[str] = []

    async def run_action(self, model: str, unit: str, action: str,
                         params: Mapping[str, object] | None = None) -> dict[str, object]:
        if action == "list-disks":
            return {"osds": json.dumps(self.osds)}
        assert action == "add-osd" and params is not None
        self.added.append(str(params["device-id"]))
        return {}


WWN_B = "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"
WWN_C = "/dev/disk/by-id/wwn-0x5000c500a1b2c3d5"
LINKS = {WWN_B: "/dev/sdb", WWN_C: "/dev/sdc"}


class Hosts:
    """`readlink -f` as the storage host answers it, after some login-shell noise."""

    async def run(self, host: str, argv: Sequence[str], *, log: Any, **kw: object
                  ) -> CommandResult:
        assert list(argv[:3]) == ["readlink", "-f", "--"]
        log("Welcome to node2")
        out = [LINKS.get(p, p) for p in argv[3:]]
        for line in out:
            log(line)
        return CommandResult(0, tuple(out))


def _step(devices: tuple[str, ...]) -> ceph.AddOsds:
    return ceph.AddOsds(id="ceph.add-osds@node2", title="OSDs", host="node2",
                        model="openstack-machines", devices=devices)


def _ctx(juju: Juju) -> Any:
    backends = SimpleNamespace(juju=juju, hosts=Hosts())
    return SimpleNamespace(backends=backends, progress=lambda *a: None, log=lambda line: None)


async def test_an_osd_listed_by_dev_name_is_not_added_again_by_id(monkeypatch: Any) -> None:
    async def unit(self: ceph.AddOsds, ctx: Any) -> str:
        return "microceph/0"

    monkeypatch.setattr(ceph.AddOsds, "_unit", unit)
    juju = Juju([{"path": "/dev/sdb", "location": "node2"}])
    step = _step((WWN_B, WWN_C))
    assert not await step.done(_ctx(juju))
    await step.run(_ctx(juju))
    assert juju.added == [WWN_C]


async def test_an_osd_listed_by_id_is_not_added_again_by_dev_name(monkeypatch: Any) -> None:
    async def unit(self: ceph.AddOsds, ctx: Any) -> str:
        return "microceph/0"

    monkeypatch.setattr(ceph.AddOsds, "_unit", unit)
    juju = Juju([{"path": WWN_B, "location": "node2"}])
    step = _step(("/dev/sdb",))
    assert await step.done(_ctx(juju))
    await step.run(_ctx(juju))
    assert juju.added == []
