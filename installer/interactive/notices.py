"""Notices: what validation found, whatever produced it (the answers-file rules or preflight),
and the one error type the interactive model raises.

Front ends show a `Notice` as one line; a `SessionError` is something the operator asked for
that cannot be done, with what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from installer.exits import UserError

Severity = Literal["error", "warning", "info"]


class SessionError(UserError):
    """Something the operator asked for cannot be done; the message says what to do instead.

    A UserError, so the front ends handle one error type: its `code` (Exit.INVALID unless
    given) is the exit code headless mode would end with."""


# --------------------------------------------------------------------------------------------
# Notices: findings of validation, whatever produced them (answers rules or preflight).


@dataclass(frozen=True)
class Notice:
    """One finding shown to the operator: the answers-file rules and preflight both map to it."""

    severity: Severity
    message: str
    code: str = ""
    host: str | None = None
    hint: str | None = None
    path: str | None = None  # dotted answers path at fault, when known

    def line(self) -> str:
        where = f"{self.host}: " if self.host else ""
        at = f"{self.path}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.severity}: {where}{at}{self.message}{hint}"


def has_errors(notices: Iterable[Notice]) -> bool:
    return any(n.severity == "error" for n in notices)


# --------------------------------------------------------------------------------------------
# Conversions: pydantic errors, preflight findings and exceptions to what the operator reads.


def one_line(e: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def first_error(e: ValidationError) -> str:
    """The first error of a pydantic validation as one line naming the field at fault."""
    return _notice_from_pydantic(e.errors()[0]).line().removeprefix("error: ")


def _notice_from_pydantic(err: Any) -> Notice:
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "is not valid"))
    if err.get("type") == "string_pattern_mismatch":
        msg = f"{err.get('input')!r} does not have the expected form"
    elif err.get("type") == "missing":
        msg = "is required"
    return Notice("error", msg, code=str(err.get("type", "")), path=loc or None)


def sentence(text: str) -> str:
    """`text` stripped and starting with a capital letter, as every message shown is."""
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def notice_from_finding(f: Any) -> Notice:
    """A Notice from a preflight Finding (install or upgrade), its answers path made dotted."""
    raw = getattr(f, "severity", "error")
    raw = str(getattr(raw, "value", raw))
    severity: Severity = raw if raw in ("error", "warning", "info") else "error"  # type: ignore[assignment]
    path = getattr(f, "path", None)
    if isinstance(path, list | tuple):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return Notice(
        severity=severity,
        message=str(getattr(f, "message", f)),
        code=str(getattr(f, "code", "")),
        host=getattr(f, "host", None),
        hint=getattr(f, "hint", None) or None,
        path=path or None,
    )
