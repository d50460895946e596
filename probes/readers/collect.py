"""Gather every fact of one host into a HostFacts-shaped dict; the entry point run remotely."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from . import cpu, disk, net, system, tools


def gather(root: str = "/", detect: cpu.VirtDetect | None = None) -> dict:
    """All facts of the host whose filesystem is at `root`. A reader that crashes leaves its
    part empty and one line in `probe_errors`, so one odd sysfs file never hides the rest.
    `detect`: cpu.start_detect_virt's process if the caller started it (else started here)."""
    facts: dict = {"schema_version": 1, "probe_errors": []}
    errors: list[str] = facts["probe_errors"]
    if detect is None:
        # The one subprocess of the probe runs while the other readers read.
        try:
            detect = cpu.start_detect_virt(root)
        except Exception:
            detect = None  # read_cpu asks again, and reports what fails
    try:
        return _gather(root, facts, errors, detect)
    finally:
        if detect is not None:
            detect.close()


def _gather(root: str, facts: dict, errors: list[str], detect: cpu.VirtDetect | None) -> dict:
    def attempt(what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:
            frame = traceback.extract_tb(e.__traceback__)[-1]
            errors.append(f"{what}: {type(e).__name__}: {e} (at {frame.name}:{frame.lineno})")
            return None

    facts.update(attempt("identity", system.read_identity, root) or {"hostname": "unknown"})
    network = attempt("network", net.read_network, root)
    if network:
        facts["nics"], facts["default_route"], more = network
        errors.extend(more)
    disks = attempt("disks", disk.read_disks, root)
    if disks:
        facts["disks"], more = disks
        errors.extend(more)
    facts["cpu"] = attempt("cpu", cpu.read_cpu, root, detect) or {
        "architecture": attempt("arch", cpu.architecture, root) or "unknown"
    }
    facts["memory"] = attempt("memory", system.read_memory, root) or {
        "total_bytes": 0,
        "available_bytes": 0,
    }
    facts["os"] = attempt("os", system.read_os, root, facts["cpu"].get("architecture")) or {}
    facts["snapd"] = attempt("snapd", system.read_snapd, root) or {}
    facts["free_space"] = attempt("free space", system.read_free_space, root) or []
    facts.update(attempt("tools", tools.read_tools, root) or {})
    return facts


def main(argv: list[str] | None = None) -> int:
    """`python3 -` entry on a remote host: print the facts as one JSON document."""
    args = sys.argv[1:] if argv is None else argv
    root = args[0] if args else "/"
    json.dump(gather(root), sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0
