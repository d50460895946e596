"""The Finding: one result of a preflight check, as the CLI, the TUI and JSON show it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from installer.text import one_line

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Answers path of a value: ["hosts", 2, "osd_devices", 0]
AnswersPath = list[str | int]
Locate = Callable[[AnswersPath], "tuple[int, int] | None"]


class Finding(BaseModel):
    """One preflight result. Errors block the install; warnings need confirmation (`--yes`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity
    code: str = Field(description="stable identifier, e.g. ram-below-minimum")
    host: str | None = Field(None, description="answers name of the host concerned, if any")
    message: str = Field(description="one capitalised sentence: the value, what it must be")
    hint: str = Field("", description="what to do about it")
    path: AnswersPath | None = Field(
        None, description="answers path of the value at fault, for FILE:LINE:COL"
    )


def summarize(findings: Iterable[Finding]) -> tuple[int, int, int]:
    """Counts of (errors, warnings, infos)."""
    counts = {s: 0 for s in SEVERITIES}
    for f in findings:
        counts[f.severity] += 1
    return counts["error"], counts["warning"], counts["info"]


def format_finding(f: Finding, locate: Locate | None = None, filename: str | None = None) -> str:
    """`FILE:LINE:COL: error: message (hint: ...)` when the value's place in the file is known,
    else `error: host node2: message (hint: ...)`.

    For a terminal: the host's name, the message and the hint may quote what a host reported,
    so their control characters are shown escaped (the Finding itself stays faithful, for JSON)."""
    tail = f" (hint: {one_line(f.hint)})" if f.hint else ""
    where = None
    if locate is not None and f.path is not None:
        where = locate(list(f.path))
    if where is not None:
        line, col = where
        return (f"{one_line(filename or '<answers>')}:{line}:{col}: {f.severity}: "
                f"{one_line(f.message)}{tail}")
    host = f"host {one_line(f.host)}: " if f.host else ""
    return f"{f.severity}: {host}{one_line(f.message)}{tail}"
