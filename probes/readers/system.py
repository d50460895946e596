"""Memory, OS, host name and its resolution, snapd, and free space."""

from __future__ import annotations

import os
import socket
import threading

from . import _fs


def read_memory(root: str = "/") -> dict:
    info: dict[str, int] = {}
    for line in (_fs.read(root, "/proc/meminfo") or "").splitlines():
        key, _, rest = line.partition(":")
        f = rest.split()
        if f and f[0].isdigit():
            info[key] = int(f[0]) * (1024 if len(f) > 1 and f[1] == "kB" else 1)
    return {
        "total_bytes": info.get("MemTotal", 0),
        "available_bytes": info.get("MemAvailable", info.get("MemFree", 0)),
        "hugepages_total": info.get("HugePages_Total", 0),
        "hugepage_size_bytes": info.get("Hugepagesize"),
    }


def read_os(root: str = "/", arch: str | None = None) -> dict:
    text = _fs.read(root, "/etc/os-release") or _fs.read(root, "/usr/lib/os-release") or ""
    release: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            release[key.strip()] = value.strip().strip('"').strip("'")
    return {
        "id": release.get("ID"),
        "version": release.get("VERSION_ID"),
        "pretty_name": release.get("PRETTY_NAME"),
        "kernel": _fs.read(root, "/proc/sys/kernel/osrelease"),
        "arch": arch,
    }


def _hosts_file(root: str, hostname: str) -> tuple[str | None, list[str]]:
    """(fqdn, addresses) for `hostname` from /etc/hosts, the first thing NSS consults."""
    fqdn = None
    addrs: list[str] = []
    for line in (_fs.read(root, "/etc/hosts") or "").splitlines():
        f = line.split("#", 1)[0].split()
        if len(f) < 2:
            continue
        names = f[1:]
        short = [n.split(".", 1)[0] for n in names]
        if hostname in names or hostname in short:
            if f[0] not in addrs:
                addrs.append(f[0])
            if fqdn is None:
                fqdn = next((n for n in names if "." in n), None)
    return fqdn, addrs


def _resolve(hostname: str, timeout: float) -> tuple[str | None, list[str]]:
    """getaddrinfo with a deadline: a broken DNS setup must not stall the whole probe."""
    result: list = []

    def work() -> None:
        try:
            infos = socket.getaddrinfo(
                hostname, None, 0, socket.SOCK_STREAM, 0, socket.AI_CANONNAME
            )
            canon = infos[0][3] if infos and infos[0][3] else None
            addrs: list[str] = []
            for info in infos:
                addr = str(info[4][0])
                if addr not in addrs:
                    addrs.append(addr)
            result.append((canon, addrs))
        except (OSError, UnicodeError):
            result.append((None, []))

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(timeout)
    return result[0] if result else (None, [])


def read_identity(root: str = "/") -> dict:
    hostname = _fs.read(root, "/proc/sys/kernel/hostname") or _fs.read(root, "/etc/hostname")
    if not hostname and root in ("", "/"):
        hostname = socket.gethostname()
    hostname = hostname or "unknown"
    fqdn, addrs = _hosts_file(root, hostname)
    if not addrs and root in ("", "/"):
        canon, addrs = _resolve(hostname, 3.0)
        fqdn = fqdn or (canon if canon and "." in canon else None)
    return {"hostname": hostname, "fqdn": fqdn, "fqdn_resolves_to": addrs}


def read_snapd(root: str = "/") -> dict:
    # snapd re-executes into the snapd snap when that is newer: its version is the one that runs.
    for info in ("/snap/snapd/current/usr/lib/snapd/info", "/usr/lib/snapd/info"):
        text = _fs.read(root, info)
        if text:
            for line in text.splitlines():
                if line.startswith("VERSION="):
                    return {"present": True, "version": line.split("=", 1)[1].strip()}
    present = _fs.exists(root, "/usr/lib/snapd/snapd") or _fs.exists(root, "/run/snapd.socket")
    return {"present": present, "version": None}


# Where snaps (and their data), Juju/k8s state and Ceph data go.
FREE_SPACE_PATHS = ("/", "/var/lib", "/var/snap")


def read_free_space(root: str = "/") -> list[dict]:
    out = []
    for p in FREE_SPACE_PATHS:
        existing = p
        while not os.path.isdir(_fs.path(root, existing)) and existing != "/":
            existing = os.path.dirname(existing)
        try:
            st = os.statvfs(_fs.path(root, existing))
        except OSError:
            continue
        out.append(
            {
                "path": p,
                "free_bytes": st.f_bavail * st.f_frsize,
                "total_bytes": st.f_blocks * st.f_frsize,
            }
        )
    return out
