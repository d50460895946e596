"""Root-aware file helpers: every reader takes a root directory so tests can use fixture trees."""

from __future__ import annotations

import os


def path(root: str, p: str) -> str:
    """`p` (absolute, as on a live host) inside `root`."""
    if root in ("", "/"):
        return p
    return os.path.join(root, p.lstrip("/"))


def read(root: str, p: str) -> str | None:
    """The stripped text of a file, or None when it is absent or unreadable.

    sysfs answers EINVAL for some attributes (e.g. `speed` of a link that is down): that is
    "unknown", not an error worth reporting.
    """
    try:
        with open(path(root, p), encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def read_int(root: str, p: str, base: int = 10) -> int | None:
    text = read(root, p)
    if text is None:
        return None
    try:
        return int(text, base)
    except ValueError:
        return None


def listdir(root: str, p: str) -> list[str]:
    try:
        return sorted(os.listdir(path(root, p)))
    except OSError:
        return []


def exists(root: str, p: str) -> bool:
    return os.path.lexists(path(root, p))


def link_name(root: str, p: str) -> str | None:
    """Basename of a symlink's target (sysfs `driver`, `master` links), or None."""
    try:
        return os.path.basename(os.readlink(path(root, p)))
    except OSError:
        return None


def realpath(root: str, p: str) -> str:
    """The resolved path of `p`, relative to `root` again (so "/sys/devices/..." in both cases)."""
    resolved = os.path.realpath(path(root, p))
    if root in ("", "/"):
        return resolved
    base = os.path.realpath(root)
    if resolved.startswith(base + os.sep):
        return resolved[len(base) :]
    return resolved
