"""Units of one application added with one `juju add-unit` (installer/backends/juju_batch.py):
with a send the test controls, then through JujuCliBackend against the fake `juju`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from installer.backends.base import BackendError
from installer.backends.juju_batch import UnitBatcher
from tests.installer.backends.gated import GatedCalls
from tests.installer.backends.test_backend_juju import FakeJuju, _bootstrapped


@dataclass
class Juju(GatedCalls):
    """`send` records each command and waits for the test; `bad` machines make it fail."""

    sent: list[list[str]] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)  # machines with a unit
    partial: bool = True  # a failing batch still adds the good machines' units
    placed_fails: bool = False

    async def send(self, machines: Sequence[str]) -> None:
        self.sent.append(list(machines))
        await self.through_gate()
        wrong = [m for m in machines if m in self.bad]
        if not wrong or self.partial:
            self.units |= {m for m in machines if m not in self.bad}
        if wrong:
            raise BackendError(f"juju add-unit failed: machine {wrong[0]} not found")

    async def placed(self) -> set[str]:
        if self.placed_fails:
            raise BackendError("juju status failed: connection refused", transient=True)
        return set(self.units)

    async def release_all(self) -> None:
        """Let every command through, those sent later too."""
        for _ in range(1000):
            for g in self.gates:
                g.set()
            await asyncio.sleep(0)


async def test_units_asked_for_together_go_in_one_command() -> None:
    j = Juju()
    b = UnitBatcher(j.send, j.placed)
    adds = [asyncio.create_task(b.add(str(m))) for m in range(10)]
    await j.started(1)
    late = [asyncio.create_task(b.add(str(m))) for m in range(10, 15)]  # while it runs
    await asyncio.sleep(0)
    assert len(j.sent) == 1
    await j.release_all()
    await asyncio.gather(*adds, *late)
    assert j.sent == [[str(m) for m in range(10)], [str(m) for m in range(10, 15)]]
    assert j.units == {str(m) for m in range(15)}


async def test_one_bad_machine_fails_its_own_step_only() -> None:
    j = Juju(bad={"3"})
    b = UnitBatcher(j.send, j.placed)
    adds = {m: asyncio.create_task(b.add(m)) for m in ("1", "2", "3", "4")}
    await j.release_all()
    results = dict(zip(adds, await asyncio.gather(*adds.values(), return_exceptions=True),
                       strict=True))
    assert isinstance(results["3"], BackendError) and "machine 3" in results["3"].message
    assert [results[m] for m in ("1", "2", "4")] == [None, None, None]
    # The batch added the good ones (Juju adds unit by unit): none of them is sent again.
    assert j.sent == [["1", "2", "3", "4"], ["3"]]


async def test_after_a_failed_batch_only_units_still_missing_are_sent() -> None:
    j = Juju(bad={"2"}, partial=False)  # the batch added nothing
    b = UnitBatcher(j.send, j.placed)
    adds = [asyncio.create_task(b.add(m)) for m in ("1", "2")]
    await j.release_all()
    results = await asyncio.gather(*adds, return_exceptions=True)
    assert results[0] is None and isinstance(results[1], BackendError)
    assert j.sent == [["1", "2"], ["1"], ["2"]]


async def test_when_what_a_failed_batch_added_is_unknown_nothing_is_sent_again() -> None:
    j = Juju(bad={"2"}, placed_fails=True)
    b = UnitBatcher(j.send, j.placed)
    adds = [asyncio.create_task(b.add(m)) for m in ("1", "2")]
    await j.release_all()
    results = await asyncio.gather(*adds, return_exceptions=True)
    assert all(isinstance(r, BackendError) for r in results)  # retried by their steps
    assert j.sent == [["1", "2"]]  # no second unit on machine 1


async def test_the_command_is_killed_when_no_step_waits_for_it() -> None:
    j = Juju()
    b = UnitBatcher(j.send, j.placed)
    adds = [asyncio.create_task(b.add(m)) for m in ("1", "2")]
    await j.started(1)
    adds[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await adds[0]
    assert j.cancelled == 0
    adds[1].cancel()
    with pytest.raises(asyncio.CancelledError):
        await adds[1]
    assert j.cancelled == 1
    again = asyncio.create_task(b.add("3"))  # and it still works
    await j.release_all()
    await again
    assert j.sent[-1] == ["3"]


async def test_concurrent_add_units_reach_juju_as_one_command(fj: FakeJuju) -> None:
    b = await _bootstrapped(fj)
    await b.add_model("m", "manual")
    for i in range(4):
        await b.add_machine("m", f"10.0.0.{i + 1}", None, log=lambda _: None)
    await b.deploy("m", "hv", "openstack-hypervisor", channel="2025.1/stable", to=["0"])
    await asyncio.gather(*(b.add_unit("m", "hv", to=str(i)) for i in (1, 2, 3)))
    assert fj.calls("add-unit") == [
        ["add-unit", "--model", "sunbeam-controller:m", "hv", "--num-units", "3", "--to", "1,2,3"]
    ]
    st = await b.status("m", ["hv"])
    assert sorted(u.machine or "" for u in st.apps["hv"].units.values()) == ["0", "1", "2", "3"]
    # A machine Juju does not know fails its own call; the other one gets its unit.
    await b.add_machine("m", "10.0.0.5", None, log=lambda _: None)
    results = await asyncio.gather(b.add_unit("m", "hv", to="4"), b.add_unit("m", "hv", to="9"),
                                   return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], BackendError) and "machine 9 not found" in results[1].message
    assert fj.calls("add-unit")[1:] == [
        ["add-unit", "--model", "sunbeam-controller:m", "hv", "--num-units", "2", "--to", "4,9"],
        ["add-unit", "--model", "sunbeam-controller:m", "hv", "--to", "4"],
        ["add-unit", "--model", "sunbeam-controller:m", "hv", "--to", "9"],
    ]
    st = await b.status("m", ["hv"])
    assert sorted(u.machine or "" for u in st.apps["hv"].units.values()) == ["0", "1", "2", "3",
                                                                             "4"]


@pytest.fixture
def fj(tmp_path: Path) -> FakeJuju:
    return FakeJuju(tmp_path)
