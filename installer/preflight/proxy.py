"""With a proxy set, `no_proxy` must keep the cloud's own traffic off the proxy.

Juju agents, Kubernetes and the OpenStack services talk to each other by management address,
load-balancer address and host name; any of those sent to a corporate proxy hangs or fails,
the other frequent Sunbeam failure. An entry covers a value when it is `*`, a CIDR or address
containing it, the exact name, or a domain suffix of it (`.example.com` or `example.com`).
The proxy URLs themselves are never quoted: they may carry credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_network,
    summarize_address_range,
)

from installer.preflight._common import Facts, join
from installer.preflight.finding import Finding
from manifests.answers import Answers
from manifests.iprange import IpRange
from manifests.release import Release

Net = IPv4Network | IPv6Network
MOST = 8  # host names listed in a hint before it suggests a domain instead


@dataclass
class NoProxy:
    """`no_proxy` parsed into what it can cover."""

    everything: bool = False
    networks: list[Net] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # exact names, lower case
    suffixes: set[str] = field(default_factory=set)  # ".example.com"

    @classmethod
    def parse(cls, text: str | None) -> NoProxy:
        np = cls()
        for raw in (text or "").split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry == "*":
                np.everything = True
                continue
            try:
                np.networks.append(ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            entry = entry.removeprefix("*")
            if entry.startswith("."):
                np.suffixes.add(entry)
            else:
                # curl, Go and Python all let `example.com` cover its subdomains as well.
                np.names.add(entry)
                np.suffixes.add("." + entry)
        return np

    def covers_network(self, net: Net) -> bool:
        return self.everything or any(
            n.version == net.version and net.subnet_of(n)  # type: ignore[arg-type]
            for n in self.networks
        )

    def covers_range(self, r: IpRange) -> bool:
        """Every address of `r` is in some entry (entries may cover it between them)."""
        if self.everything:
            return True
        spans = sorted(
            (int(n.network_address), int(n.broadcast_address))
            for n in self.networks
            if n.version == r.start.version
        )
        want, end = int(r.start), int(r.end)
        for lo, hi in spans:
            if lo > want:
                break
            want = max(want, hi + 1)
            if want > end:
                return True
        return want > end

    def covers_name(self, name: str) -> bool:
        name = name.lower().rstrip(".")
        if self.everything or name in self.names:
            return True
        return any(name.endswith(s) for s in self.suffixes)


def _range_cidrs(r: IpRange) -> list[str]:
    first, last = r.start, r.end
    if isinstance(first, IPv4Address) and isinstance(last, IPv4Address):
        return [str(n) for n in summarize_address_range(first, last)]
    if isinstance(first, IPv6Address) and isinstance(last, IPv6Address):
        return [str(n) for n in summarize_address_range(first, last)]
    return [str(r)]


def no_proxy(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    proxy = answers.proxy
    if not proxy.enabled:
        return []
    np = NoProxy.parse(proxy.no_proxy)
    path: list[str | int] = ["proxy", "no_proxy"] if proxy.no_proxy is not None else ["proxy"]
    shown = repr(proxy.no_proxy) if proxy.no_proxy else "empty"
    out = []
    cidr = answers.network.management_cidr
    if not np.covers_network(cidr):
        out.append(
            Finding(
                severity="error",
                code="no-proxy-missing-cidr",
                message=f"The proxy's no_proxy ({shown}) does not cover the management network "
                f"{cidr}; it must, or the hosts will reach each other through the proxy.",
                hint=f"Add {cidr} to proxy.no_proxy.",
                path=path,
            )
        )
    lb = answers.network.loadbalancer_range
    if not np.covers_range(lb):
        inside = lb.within(cidr)
        out.append(
            Finding(
                severity="error",
                code="no-proxy-missing-range",
                message=f"The proxy's no_proxy ({shown}) does not cover the load-balancer range "
                f"{lb}; it must, or clients will reach the OpenStack APIs through the proxy.",
                hint=(
                    f"Add {cidr} to proxy.no_proxy; it contains the range."
                    if inside
                    else f"Add {','.join(_range_cidrs(lb))} to proxy.no_proxy."
                ),
                path=path,
            )
        )
    missing = [h.name for h in answers.hosts if not np.covers_name(h.name)]
    if missing:
        out.append(
            Finding(
                severity="error",
                code="no-proxy-missing-host",
                message=f"The proxy's no_proxy ({shown}) does not cover host name"
                f"{'s' if len(missing) > 1 else ''} {join(missing)}; every host name "
                "must be in it.",
                hint=(
                    f"Add {','.join(missing)}, or their domain such as .example.com, "
                    "to proxy.no_proxy."
                    if len(missing) <= MOST
                    else "Add the hosts' domain (such as .example.com, with FQDNs as host "
                    "names) or each host name to proxy.no_proxy."
                ),
                path=path,
            )
        )
    return out

