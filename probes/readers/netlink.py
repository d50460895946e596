"""Addresses and default routes straight from the kernel over rtnetlink, standard library only.

Why not a library: the same code must run on bare remote hosts that have only python3
(netifaces is archived; pyroute2 and psutil would have to be installed there). An rtnetlink
dump is a few struct layouts, stable kernel ABI since 2.2.
"""

from __future__ import annotations

import os
import socket
import struct

NETLINK_ROUTE = 0
RTM_GETADDR = 22
RTM_GETROUTE = 26
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
IFA_ADDRESS = 1
IFA_LOCAL = 2
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PRIORITY = 6
RTA_TABLE = 15
RTN_UNICAST = 1
RT_TABLE_MAIN = 254

_NLMSGHDR = struct.Struct("=IHHII")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTMSG = struct.Struct("=BBBBBBBBI")
_RTATTR = struct.Struct("=HH")


def _align(n: int) -> int:
    return (n + 3) & ~3


def _attrs(data: bytes, offset: int) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    while offset + _RTATTR.size <= len(data):
        length, kind = _RTATTR.unpack_from(data, offset)
        if length < _RTATTR.size:
            break
        out.setdefault(kind & 0x3FFF, data[offset + _RTATTR.size : offset + length])
        offset += _align(length)
    return out


def dump(msg_type: int, body: bytes) -> list[tuple[int, bytes]]:
    """Send one dump request and return (type, payload) of every answer message."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
    try:
        sock.settimeout(5.0)
        sock.bind((0, 0))
        seq = 1
        header = _NLMSGHDR.pack(
            _NLMSGHDR.size + len(body), msg_type, NLM_F_REQUEST | NLM_F_DUMP, seq, os.getpid()
        )
        sock.send(header + body)
        out: list[tuple[int, bytes]] = []
        while True:
            data = sock.recv(65536)
            offset = 0
            while offset + _NLMSGHDR.size <= len(data):
                length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(data, offset)
                if length < _NLMSGHDR.size:
                    return out
                payload = data[offset + _NLMSGHDR.size : offset + length]
                if kind == NLMSG_DONE:
                    return out
                if kind == NLMSG_ERROR:
                    (errno,) = struct.unpack_from("=i", payload)
                    if errno:
                        raise OSError(-errno, os.strerror(-errno))
                    return out
                out.append((kind, payload))
                offset += _align(length)
    finally:
        sock.close()


def addresses() -> dict[int, list[tuple[int, str, int]]]:
    """{ifindex: [(family 4|6, address, prefixlen), ...]} of every interface address."""
    body = _IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    out: dict[int, list[tuple[int, str, int]]] = {}
    for _kind, payload in dump(RTM_GETADDR, body):
        family, prefixlen, _flags, _scope, index = _IFADDRMSG.unpack_from(payload)
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        attrs = _attrs(payload, _IFADDRMSG.size)
        # IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point.
        raw = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
        if raw is None:
            continue
        text = socket.inet_ntop(family, raw)
        out.setdefault(index, []).append((4 if family == socket.AF_INET else 6, text, prefixlen))
    return out


def default_routes() -> list[tuple[int, str | None, int | None, int]]:
    """[(family 4|6, gateway, oif ifindex, metric)] of main-table default routes."""
    routes: list[tuple[int, str | None, int | None, int]] = []
    for family in (socket.AF_INET, socket.AF_INET6):
        body = _RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)
        for _kind, payload in dump(RTM_GETROUTE, body):
            fam, dst_len, _src, _tos, table, _proto, _scope, rtype, _fl = _RTMSG.unpack_from(
                payload
            )
            if fam != family or dst_len != 0 or rtype != RTN_UNICAST:
                continue
            attrs = _attrs(payload, _RTMSG.size)
            if RTA_TABLE in attrs:
                (table,) = struct.unpack("=I", attrs[RTA_TABLE][:4])
            if table != RT_TABLE_MAIN:
                continue
            gw = attrs.get(RTA_GATEWAY)
            oif = attrs.get(RTA_OIF)
            metric = attrs.get(RTA_PRIORITY)
            routes.append(
                (
                    4 if family == socket.AF_INET else 6,
                    socket.inet_ntop(family, gw) if gw else None,
                    struct.unpack("=I", oif[:4])[0] if oif else None,
                    struct.unpack("=I", metric[:4])[0] if metric else 0,
                )
            )
    return routes
