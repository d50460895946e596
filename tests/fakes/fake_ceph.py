"""A fake `microceph.ceph` (the microceph snap's Ceph client) for the real-backend tests.

It keeps the OSD map flags in a JSON file beside itself and answers what the upgrade asks:
`osd set|unset FLAG`, `osd dump --format json` (flags as one comma-separated string, as Ceph
prints them) and `health --format json` (HEALTH_OK, no checks: a healthy cluster).
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

DEFAULT_FLAGS = ["sortbitwise", "recovery_deletes", "purged_snapdirs", "pglog_hardlimit"]


def main(argv: list[str], state_file: Path) -> int:
    args = [a for a in argv if a not in ("--format", "json")]
    state = json.loads(state_file.read_text()) if state_file.exists() else {"flags": []}
    flags: list[str] = state["flags"]
    if args[:2] in (["osd", "set"], ["osd", "unset"]) and len(args) == 3:
        if args[1] == "set" and args[2] not in flags:
            flags.append(args[2])
        elif args[1] == "unset" and args[2] in flags:
            flags.remove(args[2])
        state_file.write_text(json.dumps(state))
        print(f"{args[2]} is {args[1]}", file=sys.stderr)  # Ceph says so on stderr
        return 0
    if args == ["osd", "dump"]:
        print(json.dumps({"epoch": 1, "flags": ",".join([*flags, *DEFAULT_FLAGS])}))
        return 0
    if args == ["health"]:
        print(json.dumps({"status": "HEALTH_OK", "checks": {}, "mutes": []}))
        return 0
    print(f"fake microceph.ceph: unsupported command {' '.join(argv)!r}", file=sys.stderr)
    return 22


def install_fake_ceph(bin_dir: Path) -> Path:
    """Write an executable `microceph.ceph` into bin_dir (the microceph snap's command)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "microceph.ceph"
    state = bin_dir / "ceph-state.json"
    exe.write_text(f'#!/bin/sh\nexec {sys.executable} {__file__} {str(state)!r} "$@"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return exe


if __name__ == "__main__":
    sys.exit(main(sys.argv[2:], Path(sys.argv[1])))
