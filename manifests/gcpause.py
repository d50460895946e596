"""Python's cyclic garbage collector paused around a burst of allocations.

Building thousands of objects that all live on (a parsed answers file, the facts of a
thousand hosts) makes the collector walk the whole heap again and again as it grows: loading
a 5,000-host answers file took twice as long with it running. Reference counting still frees
everything that is not in a cycle while it is paused; the collector is restored afterwards,
whatever happens, and only if this pause turned it off (a pause inside another is a no-op)."""

from __future__ import annotations

import gc
from types import TracebackType


class GcPause:
    """`with GcPause():` pauses the cyclic collector for the block; `resume()` ends the
    pause early (a time bound on a long burst), and is safe to call twice.

    With `freeze=True` the objects alive when the pause ends are frozen (`gc.freeze`): the
    collector's first pass after a long pause would otherwise walk all of them at once, a
    stall of a tenth of a second after a thousand hosts' facts. Whoever freezes must call
    `gc.unfreeze()` when those objects may have become garbage (a screen that goes away)."""

    def __init__(self, *, freeze: bool = False) -> None:
        self._paused = False
        self._freeze = freeze

    def __enter__(self) -> GcPause:
        self._paused = gc.isenabled()
        gc.disable()
        return self

    def resume(self) -> None:
        """Turn the collector back on, if this pause turned it off."""
        if self._paused:
            self._paused = False
            if self._freeze:
                gc.freeze()
            gc.enable()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.resume()
