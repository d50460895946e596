"""NICs from /sys/class/net; addresses and the default route from rtnetlink or /proc/net."""

from __future__ import annotations

import ipaddress
import re
import socket
import struct

from . import _fs, netlink

_PCI = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
ARPHRD_LOOPBACK = 772
RTF_GATEWAY = 0x2


def _kind(root: str, base: str, uevent: dict[str, str], ifindex: int | None) -> str:
    devtype = uevent.get("DEVTYPE", "")
    if _fs.read_int(root, base + "/type") == ARPHRD_LOOPBACK:
        return "loopback"
    if devtype == "bond" or _fs.exists(root, base + "/bonding"):
        return "bond"
    if devtype == "bridge" or _fs.exists(root, base + "/bridge"):
        return "bridge"
    if devtype == "vlan":
        return "vlan"
    if _fs.exists(root, base + "/tun_flags"):
        return "tun"
    if _fs.exists(root, base + "/device"):
        return "physical"
    # A veth's iflink is its peer's ifindex; other virtual devices point at themselves.
    iflink = _fs.read_int(root, base + "/iflink")
    if devtype == "" and iflink is not None and ifindex is not None and iflink != ifindex:
        return "veth"
    return "virtual"


def _uevent(root: str, base: str) -> dict[str, str]:
    text = _fs.read(root, base + "/uevent") or ""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def _pci_address(root: str, base: str) -> str | None:
    if not _fs.exists(root, base + "/device"):
        return None
    # /sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0: the last PCI-shaped component.
    parts = _fs.realpath(root, base + "/device").split("/")
    pci = [p for p in parts if _PCI.match(p)]
    return pci[-1] if pci else None


def _vlan(root: str, name: str, base: str) -> tuple[int | None, str | None]:
    parent = None
    for entry in _fs.listdir(root, base):
        if entry.startswith("lower_"):
            parent = entry[len("lower_") :]
    vid = None
    text = _fs.read(root, "/proc/net/vlan/" + name) or ""
    m = re.search(r"VID:\s*(\d+)", text)
    if m:
        vid = int(m.group(1))
    dev = re.search(r"^Device:\s*(\S+)", text, re.M)
    if dev and parent is None:
        parent = dev.group(1)
    if vid is None and "." in name:  # the iproute2 naming convention parent.vid
        tail = name.rsplit(".", 1)[1]
        if tail.isdigit():
            vid = int(tail)
            parent = parent or name.rsplit(".", 1)[0]
    return vid, parent


def read_nics(root: str = "/") -> list[dict]:
    nics = []
    for name in _fs.listdir(root, "/sys/class/net"):
        base = "/sys/class/net/" + name
        if not _fs.exists(root, base + "/ifindex") and not _fs.exists(root, base + "/address"):
            continue  # bonding_masters and other plain files
        uevent = _uevent(root, base)
        ifindex = _fs.read_int(root, base + "/ifindex")
        kind = _kind(root, base, uevent, ifindex)
        speed = _fs.read_int(root, base + "/speed")
        carrier = _fs.read_int(root, base + "/carrier")
        nic: dict = {
            "name": name,
            "ifindex": ifindex,
            "mac": _fs.read(root, base + "/address") or None,
            "mtu": _fs.read_int(root, base + "/mtu"),
            "state": _fs.read(root, base + "/operstate") or "unknown",
            "carrier": None if carrier is None else carrier == 1,
            "speed_mbps": speed if speed is not None and speed > 0 else None,
            "driver": _fs.link_name(root, base + "/device/driver"),
            "pci_address": _pci_address(root, base),
            "kind": kind,
            "master": _fs.link_name(root, base + "/master"),
            "members": [],
            "sriov_totalvfs": _fs.read_int(root, base + "/device/sriov_totalvfs"),
            "sriov_numvfs": _fs.read_int(root, base + "/device/sriov_numvfs"),
            "ipv4": [],
            "ipv6": [],
        }
        if kind == "bond":
            nic["members"] = (_fs.read(root, base + "/bonding/slaves") or "").split()
            nic["driver"] = nic["driver"] or "bonding"
        elif kind == "bridge":
            nic["members"] = _fs.listdir(root, base + "/brif")
            nic["driver"] = nic["driver"] or "bridge"
        elif kind == "vlan":
            nic["vlan_id"], nic["vlan_parent"] = _vlan(root, name, base)
            nic["driver"] = nic["driver"] or "8021q"
        nics.append(nic)
    return nics


# --- addresses and routes from /proc/net (fixture trees, or hosts where netlink is refused) ---


def _hex_ipv4(text: str) -> str:
    return socket.inet_ntoa(struct.pack("<I", int(text, 16)))


def _hex_ipv6(text: str) -> str:
    return str(ipaddress.IPv6Address(bytes.fromhex(text)))


def _proc_ipv4_routes(root: str) -> list[tuple[str, str, str, int, int]]:
    """(iface, destination, gateway, flags, prefixlen) rows of /proc/net/route."""
    rows = []
    for line in (_fs.read(root, "/proc/net/route") or "").splitlines()[1:]:
        f = line.split()
        if len(f) < 8:
            continue
        mask = int(f[7], 16)
        rows.append((f[0], _hex_ipv4(f[1]), _hex_ipv4(f[2]), int(f[3], 16), bin(mask).count("1")))
    return rows


def _proc_local_ipv4(root: str) -> list[str]:
    """This host's own IPv4 addresses: the `/32 host LOCAL` leaves of /proc/net/fib_trie."""
    found: list[str] = []
    last = None
    for line in (_fs.read(root, "/proc/net/fib_trie") or "").splitlines():
        s = line.strip()
        if s.startswith("|--"):
            last = s[3:].strip()
        elif s.startswith("/32 host LOCAL") and last and last not in found:
            found.append(last)
    return found


def proc_addresses(root: str) -> tuple[dict[str, list], list[str]]:
    """{ifname: [(family, address, prefixlen)]} from /proc/net, and what could not be placed."""
    out: dict[str, list] = {}
    problems: list[str] = []
    routes = _proc_ipv4_routes(root)
    for addr in _proc_local_ipv4(root):
        ip = ipaddress.IPv4Address(addr)
        if ip.is_loopback:
            out.setdefault("lo", []).append((4, addr, 8))
            continue
        # fib_trie has no interface: the connected (gateway-less) route containing it does.
        best = None
        for iface, dest, _gw, flags, plen in routes:
            if flags & RTF_GATEWAY or plen == 0:
                continue
            if ip in ipaddress.IPv4Network(f"{dest}/{plen}", strict=False) and (
                best is None or plen > best[1]
            ):
                best = (iface, plen)
        if best is None:
            problems.append(f"address {addr}: no connected route in /proc/net/route names its NIC")
            continue
        out.setdefault(best[0], []).append((4, addr, best[1]))
    for line in (_fs.read(root, "/proc/net/if_inet6") or "").splitlines():
        f = line.split()
        if len(f) >= 6:
            out.setdefault(f[5], []).append((6, _hex_ipv6(f[0]), int(f[2], 16)))
    return out, problems


def proc_default_routes(root: str) -> list[tuple[int, str | None, str | None, int]]:
    """[(family, gateway, ifname, metric)] from /proc/net/route and /proc/net/ipv6_route."""
    routes: list[tuple[int, str | None, str | None, int]] = []
    for line in (_fs.read(root, "/proc/net/route") or "").splitlines()[1:]:
        f = line.split()
        if len(f) >= 8 and int(f[1], 16) == 0 and int(f[7], 16) == 0:
            gw = _hex_ipv4(f[2])
            routes.append((4, None if gw == "0.0.0.0" else gw, f[0], int(f[6])))
    for line in (_fs.read(root, "/proc/net/ipv6_route") or "").splitlines():
        f = line.split()
        # dest, dest_len, src, src_len, next_hop, metric, refcnt, use, flags, iface
        if len(f) >= 10 and int(f[0], 16) == 0 and int(f[1], 16) == 0 and f[9] != "lo":
            gw = _hex_ipv6(f[4])
            routes.append((6, None if gw == "::" else gw, f[9], int(f[5], 16)))
    return routes


def read_network(root: str = "/") -> tuple[list[dict], dict | None, list[str]]:
    """(nics, default route, problems). Live hosts ask the kernel over rtnetlink; fixture trees
    (and hosts that refuse netlink) fall back to the /proc/net files."""
    nics = read_nics(root)
    by_index = {n["ifindex"]: n["name"] for n in nics if n["ifindex"] is not None}
    problems: list[str] = []
    addrs: dict[str, list] = {}
    routes: list[tuple[int, str | None, str | None, int]] = []
    live = root in ("", "/")
    if live:
        try:
            for index, entries in netlink.addresses().items():
                name = by_index.get(index) or _if_name(index)
                addrs.setdefault(name, []).extend(entries)
            routes = [
                (fam, gw, by_index.get(oif) if oif is not None else None, metric)
                for fam, gw, oif, metric in netlink.default_routes()
            ]
        except OSError as e:
            problems.append(f"rtnetlink refused ({e.strerror}); addresses read from /proc/net")
            live = False
    if not live:
        addrs, more = proc_addresses(root)
        problems.extend(more)
        routes = proc_default_routes(root)
    for nic in nics:
        for family, addr, plen in addrs.get(nic["name"], []):
            nic["ipv4" if family == 4 else "ipv6"].append(f"{addr}/{plen}")
        nic.pop("ifindex", None)
    route = None
    if routes:
        # IPv4 first (what the management network uses), then the lowest metric.
        fam, gw, dev, _metric = min(routes, key=lambda r: (r[0], r[3]))
        route = {"family": fam, "gateway": gw, "nic": dev}
    return nics, route, problems


def _if_name(index: int) -> str:
    try:
        return socket.if_indextoname(index)
    except OSError:
        return str(index)
