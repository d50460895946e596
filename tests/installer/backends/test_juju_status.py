"""The shared `juju status` source of one model (installer/backends/juju_status.py), driven
with a fetch the test controls: who shares which command, and what is never given out again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import jubilant
import pytest

from installer.backends.base import BackendError
from installer.backends.juju_status import StatusSource, Wanted
from tests.installer.backends.gated import GatedCalls

APPS = ("keystone", "nova", "glance")


def status_json(apps: Wanted, tag: int) -> dict[str, Any]:
    """`juju status --format json [APP...]` of a model with APPS (one unit each); `tag` is the
    unit's message, so a test can tell answers apart."""
    chosen = [a for a in APPS if apps is None or a in apps]
    return {
        "model": {"name": "m", "type": "iaas", "controller": "c", "cloud": "lxd",
                  "version": "3.6.4", "model-status": {"current": "available"}},
        "machines": {},
        "applications": {
            a: {"charm": f"{a}-k8s", "charm-origin": "charmhub", "charm-name": f"{a}-k8s",
                "charm-rev": 1, "exposed": False,
                "units": {f"{a}/0": {
                    "workload-status": {"current": "active", "message": f"answer {tag}"},
                    "juju-status": {"current": "idle"}}}}
            for a in chosen
        },
    }


@dataclass
class Controller(GatedCalls):
    """A fetch that waits until the test lets it answer; records what each asked for."""

    asked: list[Wanted] = field(default_factory=list)
    fail: BackendError | None = None

    async def fetch(self, apps: Wanted) -> jubilant.Status:
        self.asked.append(apps)
        await self.through_gate()
        if self.fail is not None:
            raise self.fail
        return jubilant.Status._from_dict(status_json(apps, len(self.asked)))

    def answer(self, i: int) -> None:
        self.gates[i].set()


def tag(st: Any, app: str) -> str:
    message: str = st.apps[app].units[f"{app}/0"].message
    return message


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_callers_at_the_same_time_share_one_command() -> None:
    c = Controller()
    src = StatusSource("m", c.fetch, max_age=60)
    callers = [asyncio.create_task(src.status()) for _ in range(50)]
    await c.started(1)
    await settle()
    c.answer(0)
    answers = await asyncio.gather(*callers)
    assert c.asked == [None]
    assert {tag(a, "nova") for a in answers} == {"answer 1"}
    # Within max_age and with no change of ours, the answer is reused: no second command.
    assert tag(await src.status(["nova"]), "nova") == "answer 1"
    assert c.asked == [None]


async def test_a_change_of_ours_is_never_answered_from_before_it() -> None:
    c = Controller()
    src = StatusSource("m", c.fetch, max_age=60)
    first = asyncio.create_task(src.status())
    await c.started(1)
    src.invalidate()  # e.g. an add-unit finished while the first command ran
    second = asyncio.create_task(src.status())
    await settle()
    assert len(c.asked) == 1  # one command at a time per model: the second one waits
    c.answer(0)
    assert tag(await first, "nova") == "answer 1"  # asked before the change: fine for it
    await c.started(2)
    c.answer(1)
    assert tag(await second, "nova") == "answer 2"
    # And a cached answer goes with the next change too.
    src.invalidate()
    third = asyncio.create_task(src.status())
    await c.started(3)
    c.answer(2)
    assert tag(await third, "nova") == "answer 3"


async def test_the_next_command_asks_for_every_waiting_callers_applications() -> None:
    c = Controller()
    src = StatusSource("m", c.fetch, max_age=60)
    running = asyncio.create_task(src.status(["keystone"]))
    await c.started(1)
    nova = asyncio.create_task(src.status(["nova"]))
    glance = asyncio.create_task(src.status(["glance"]))
    await settle()
    c.answer(0)
    await running
    await c.started(2)
    c.answer(1)
    nova_status, glance_status = await asyncio.gather(nova, glance)
    assert c.asked == [frozenset({"keystone"}), frozenset({"nova", "glance"})]
    assert set(nova_status.apps) == {"nova"} and set(glance_status.apps) == {"glance"}
    # A filtered answer does not serve a whole-model question.
    whole = asyncio.create_task(src.status())
    await c.started(3)
    c.answer(2)
    assert set((await whole).apps) == set(APPS)
    assert c.asked[-1] is None


async def test_an_answer_older_than_max_age_is_not_reused() -> None:
    c = Controller()
    src = StatusSource("m", c.fetch, max_age=0.0)  # every answer is already too old
    for i in range(3):
        call = asyncio.create_task(src.status())
        await c.started(i + 1)
        c.answer(i)
        await call
    assert c.asked == [None, None, None]


async def test_an_error_reaches_every_caller_of_that_command() -> None:
    c = Controller(fail=BackendError("juju status failed: connection refused", transient=True))
    src = StatusSource("m", c.fetch, max_age=60)
    callers = [asyncio.create_task(src.status()) for _ in range(3)]
    await c.started(1)
    c.answer(0)
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, BackendError) and r.transient for r in results)
    c.fail = None  # the next question asks again
    call = asyncio.create_task(src.status())
    await c.started(2)
    c.answer(1)
    assert tag(await call, "nova") == "answer 2"


async def test_the_command_is_killed_only_when_nobody_waits_for_it() -> None:
    c = Controller()
    src = StatusSource("m", c.fetch, max_age=60)
    a = asyncio.create_task(src.status())
    b = asyncio.create_task(src.status())
    await c.started(1)
    await settle()
    a.cancel()
    with pytest.raises(asyncio.CancelledError):
        await a
    assert c.cancelled == 0  # b still waits for it
    b.cancel()
    with pytest.raises(asyncio.CancelledError):
        await b
    assert c.cancelled == 1  # killed, and gone when the last caller's cancel returned
    # The source still works afterwards.
    call = asyncio.create_task(src.status())
    await c.started(2)
    c.answer(1)
    assert tag(await call, "nova") == "answer 2"


async def test_callers_of_one_filter_get_one_shared_model_status() -> None:
    c = Controller()
    src = StatusSource("m", c.fetch, max_age=60)
    calls = [asyncio.create_task(src.status(["nova"])) for _ in range(10)]
    await c.started(1)
    c.answer(0)
    answers = await asyncio.gather(*calls)
    assert all(a is answers[0] for a in answers)  # built once, not once per caller
