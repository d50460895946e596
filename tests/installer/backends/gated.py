"""Calls a test lets through one at a time: each waits on a gate of its own (in call order)
until the test opens it, so the test decides what overlaps, by events and not by time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class GatedCalls:
    """The gates of the calls made so far (`gates[i]` lets call i answer) and how many calls
    were cancelled while they waited."""

    gates: list[asyncio.Event] = field(default_factory=list)
    cancelled: int = 0

    async def through_gate(self) -> None:
        """Wait until the test opens this call's gate; count a cancellation while waiting."""
        gate = asyncio.Event()
        self.gates.append(gate)
        try:
            await gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

    async def started(self, n: int) -> None:
        """Wait (by yielding, not by time) until `n` calls have started."""
        for _ in range(1000):
            if len(self.gates) >= n:
                return
            await asyncio.sleep(0)
        raise AssertionError(f"{len(self.gates)} calls started, not {n}")
