"""Text that hosts, snapd and Juju reported, made safe for the screens.

A DataTable reads a `str` cell as markup and the terminal would receive a host's control
characters as they are: cells get `cell` (a Text, control characters shown escaped), markup
strings get `markup_safe` (escaped for markup too)."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text

from installer.text import neutralise, one_line


def cell(text: str | None, style: str = "") -> Text:
    """A table cell showing `text` on one line, its control characters escaped, no markup."""
    return Text(one_line(text or ""), style=style)


def markup_safe(text: str | None) -> str:
    """`text` for a markup string: its control characters escaped, its `[` not read as markup."""
    return escape(neutralise(text or ""))


def plain(text: str | None) -> str:
    """`text` on one line with its control characters escaped (a Log line, a notification)."""
    return one_line(text or "")
