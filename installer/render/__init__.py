"""Renderers of the runner's Events: a console display and JSON lines."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from installer.events import Event


def fan_out(*sinks: Callable[[Event], None] | None) -> Callable[[Event], None]:
    """One emit function feeding several renderers (None entries are left out)."""
    active: Sequence[Callable[[Event], None]] = [s for s in sinks if s is not None]
    if len(active) == 1:
        return active[0]

    def emit(event: Event) -> None:
        for sink in active:
            sink(event)

    return emit
