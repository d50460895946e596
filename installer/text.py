"""Text from hosts made safe for a terminal.

Anything a host reports (its hostname, NIC names, a disk's model, a probe's error, a remote
command's stderr, what snapd or Juju answer) may carry control characters: an ESC sequence in a
hostname can retitle the terminal, clear it or redraw what the operator reads. Every place where
such text meets a terminal shows it through `neutralise`, which replaces the C0 controls (but
newline and tab where the text may span lines), DEL and the C1 controls with a visible escape
(`\\x1b`); so does `one_line` for a single field, newline and tab included. JSON output is left
alone: JSON escapes control characters itself.
"""

from __future__ import annotations

import re

# C0 but tab and newline, DEL, C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The same, tab and newline included.
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def neutralise(text: str) -> str:
    """`text` with every control character but newline and tab shown as `\\xNN`."""
    return _CONTROL.sub(_visible, text)


def one_line(text: str) -> str:
    """`text` with every control character, newline and tab included, shown as `\\xNN`."""
    return _CONTROL_ONE_LINE.sub(_visible, text)


def has_control(text: str) -> bool:
    """Whether `text` holds a character `one_line` would replace."""
    return _CONTROL_ONE_LINE.search(text) is not None
