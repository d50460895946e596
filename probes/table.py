"""Plain-text rendering of HostFacts for `sunbeam-install probe` (no colour, fits 100 columns)."""

from __future__ import annotations

from collections.abc import Sequence

from probes.facts import HostFacts


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    # Binary units, as lsblk and df print them, so the numbers can be compared by eye.
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"


def _grid(headers: Sequence[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return ["  " + fmt.format(*headers).rstrip()] + ["  " + fmt.format(*r).rstrip() for r in rows]


def render(facts: HostFacts, *, title: str | None = None) -> str:
    f = facts
    lines = [f"== {title or f.hostname} =="]
    lines.append(
        f"host {f.hostname}"
        + (f"  fqdn {f.fqdn}" if f.fqdn else "")
        + f"  resolves to {', '.join(f.fqdn_resolves_to) or 'nothing'}"
    )
    snapd = f.snapd.version or ("present" if f.snapd.present else "absent")
    lines.append(
        f"os {f.os.pretty_name or f.os.id or '?'}  kernel {f.os.kernel or '?'}  "
        f"arch {f.cpu.architecture}  snapd {snapd}"
    )
    c = f.cpu
    lines.append(
        f"cpu {c.vendor or '?'} {c.model or ''}".rstrip()
        + f"  {c.sockets} socket(s), {c.cores} cores, {c.threads} threads"
        + f"  virtualized by {c.virtualized_by or 'unknown'}"
    )
    lines.append(f"virtualization {c.virtualization.upper()}: {c.virtualization_reason}")
    lines.append(
        f"memory {_size(f.memory.total_bytes)} total, {_size(f.memory.available_bytes)} available"
        + (f", {f.memory.hugepages_total} hugepages" if f.memory.hugepages_total else "")
    )
    if f.free_space:
        lines.append("free " + ", ".join(f"{s.path} {_size(s.free_bytes)}" for s in f.free_space))
    r = f.default_route
    lines.append(
        f"default route via {r.gateway or '-'} dev {r.nic or '-'}" if r else "default route none"
    )
    lines.append("nics:")
    rows = []
    for n in f.nics:
        extra = []
        if n.master:
            extra.append(f"in {n.master}")
        if n.members:
            extra.append("members " + ",".join(n.members))
        if n.vlan_id is not None:
            extra.append(f"vlan {n.vlan_id} on {n.vlan_parent}")
        if n.sriov_totalvfs:
            extra.append(f"sriov {n.sriov_numvfs or 0}/{n.sriov_totalvfs}")
        rows.append(
            [
                n.name,
                n.kind,
                n.state + ("" if n.carrier is not False else " no-carrier"),
                f"{n.speed_mbps // 1000}G"
                if n.speed_mbps and n.speed_mbps >= 1000
                else f"{n.speed_mbps}M"
                if n.speed_mbps
                else "-",
                n.mac or "-",
                n.driver or "-",
                " ".join(str(i) for i in n.interfaces()) or "-",
                " ".join(extra),
            ]
        )
    lines += _grid(["NAME", "KIND", "STATE", "SPEED", "MAC", "DRIVER", "ADDRESSES", ""], rows)
    lines.append("disks:")
    rows = []
    for d in f.disks:
        rows.append(
            [
                d.name,
                _size(d.size_bytes),
                d.transport,
                "hdd" if d.rotational else "ssd" if d.rotational is False else "-",
                (d.model or "-")[:24],
                "yes" if d.osd_eligible else f"no: {d.ineligible_reason}",
            ]
        )
    lines += _grid(["NAME", "SIZE", "BUS", "TYPE", "MODEL", "OSD"], rows)
    for e in f.probe_errors:
        lines.append(f"note: {e}")
    return "\n".join(lines)
