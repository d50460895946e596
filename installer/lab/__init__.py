"""The simulated lab behind `--dry-run`: see installer/lab/lab.py and docs/dry-run.md.

Names are imported on first use (PEP 562): the guided installer's dry-run prober needs only
`default_facts`, and importing the whole lab (its pydantic state models) would stall the text
UI for ~0.1 s while the Hosts screen fills."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from installer.lab.faults import Fault, FaultSpecError, parse_faults
    from installer.lab.lab import Lab
    from installer.lab.profile import default_facts
    from installer.lab.timing import DEFAULT_TIME_SCALE

_WHERE = {
    "DEFAULT_TIME_SCALE": "installer.lab.timing",
    "Fault": "installer.lab.faults",
    "FaultSpecError": "installer.lab.faults",
    "parse_faults": "installer.lab.faults",
    "Lab": "installer.lab.lab",
    "default_facts": "installer.lab.profile",
}

__all__ = ["DEFAULT_TIME_SCALE", "Fault", "FaultSpecError", "Lab", "default_facts", "parse_faults"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
