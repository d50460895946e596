"""The lab's snap and charm stores: which revision a channel serves."""

from __future__ import annotations

import zlib


def default_revision(name: str, channel: str) -> int:
    """A stable store revision for a snap or charm on a channel (differs between channels)."""
    return 100 + zlib.crc32(f"{name}@{channel}".encode()) % 900
