"""Units of one application added to many machines with one `juju add-unit`.

At a thousand hosts the plan adds a unit of each machine application to each host: thousands
of `juju add-unit APP --to MACHINE` commands, each a `juju` process and an API connection.
Juju takes many at once (`juju add-unit APP -n 3 --to 4,5,6`). The steps stay one per host
(their done() checks their own unit, so the journal's resume guarantees are unchanged); the
backend sends together what they ask for at the same time: while one command for an
application runs, the machines asked for meanwhile wait and go in the next one.

A batch that fails may have added some of its units (Juju adds them one by one): each machine
that has no unit of the application afterwards is then tried on its own, so one bad machine
fails its own step with its own error, not its neighbours'.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Batch:
    machines: list[str] = field(default_factory=list)
    futures: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    waiters: int = 0
    sent: bool = False  # its command has started: later callers go in the next batch
    task: asyncio.Task[None] | None = None


class UnitBatcher:
    """The add-units of one application of one model.

    `send(machines)` runs one `juju add-unit` for all of them (for one machine, the plain
    `--to MACHINE` command); `placed()` returns the machines that have a unit of the
    application now, read after a failed batch."""

    def __init__(
        self,
        send: Callable[[Sequence[str]], Awaitable[None]],
        placed: Callable[[], Awaitable[set[str]]],
    ) -> None:
        self._send = send
        self._placed = placed
        self._running: _Batch | None = None
        self._next: _Batch | None = None

    async def add(self, machine: str) -> None:
        """Add a unit on `machine`, with the others asked for at the same time."""
        loop = asyncio.get_running_loop()
        running = self._running
        if running is not None and (running.task is None or running.task.get_loop() is not loop):
            running = self._running = self._next = None  # left by an event loop that has ended
        if running is None:
            batch = _Batch()
            self._start(batch)
        elif not running.sent:
            batch = running
        else:
            batch = self._next = self._next or _Batch()
        future = batch.futures.get(machine)
        if future is None:  # two steps asking for one machine share its unit
            future = batch.futures[machine] = loop.create_future()
            batch.machines.append(machine)
        batch.waiters += 1
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            if not future.done():  # this caller was cancelled, not the command
                batch.waiters -= 1
                if batch.waiters == 0:
                    await self._abandon(batch)
            raise

    async def _abandon(self, batch: _Batch) -> None:
        """Nobody waits for `batch` any more: do not send it, or kill its `juju` (and wait
        until it is gone)."""
        if batch is self._next:
            self._next = None
        elif batch.task is not None and not batch.task.done():
            batch.task.cancel()
            await asyncio.wait({batch.task})
        for f in batch.futures.values():
            f.cancel()

    def _start(self, batch: _Batch) -> None:
        self._running = batch
        batch.task = asyncio.get_running_loop().create_task(self._run(batch))

    async def _run(self, batch: _Batch) -> None:
        try:
            await asyncio.sleep(0)  # the callers of this turn of the loop join the batch
            batch.sent = True
            machines = list(batch.machines)
            try:
                await self._send(machines)
            except Exception as e:
                if len(machines) == 1:
                    self._settle(batch, machines, e)
                else:
                    await self._one_by_one(batch, machines, e)
            else:
                self._settle(batch, machines, None)
        finally:
            self._running = None
            following, self._next = self._next, None
            if following is not None and following.machines:
                self._start(following)

    async def _one_by_one(self, batch: _Batch, machines: list[str], error: Exception) -> None:
        try:
            placed = await self._placed()
        except Exception:
            # Which units the batch added is unknown: another add-unit could place a second
            # unit on a machine. Each step gets the batch's error; its retry checks done().
            self._settle(batch, machines, error)
            return
        for machine in machines:
            if machine in placed:
                self._settle(batch, [machine], None)
                continue
            try:
                await self._send([machine])
            except Exception as e:
                self._settle(batch, [machine], e)
            else:
                self._settle(batch, [machine], None)

    @staticmethod
    def _settle(batch: _Batch, machines: Sequence[str], error: Exception | None) -> None:
        for machine in machines:
            future = batch.futures[machine]
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
                future.exception()  # marked read: its caller may have been cancelled
