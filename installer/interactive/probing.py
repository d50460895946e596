"""Probing: where a host's facts come from, and what the session reads from them.

A `Prober` gives HostFacts for this machine or for `user@address`: the real probes (this
machine through probes.local, others over SSH), recorded facts (`--facts DIR`), or the lab's
default server profile (dry-run). `ProbedHost` is a host as the session knows it while and
after it is probed.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import ValidationError

from installer.interactive.draft import Draft, HostDraft
from installer.interactive.notices import SessionError
from probes.facts import FACTS_FILE_MAX, HostFacts, facts_problem

HostState = Literal["probing", "ready", "failed"]
LOCAL = "local"  # the probe target meaning "this machine"
# The target of a prefilled host whose address is not one: shown failed until added again.
UNADDRESSED = "answers:"


def is_ip_address(text: str | None) -> bool:
    from ipaddress import ip_address

    try:
        ip_address((text or "").strip())
    except ValueError:
        return False
    return True


@dataclass
class ProbedHost:
    """A host as the session knows it: the target typed, and its facts once they arrive."""

    target: str  # LOCAL or user@address
    address: str | None = None
    ssh_user: str | None = None
    state: HostState = "probing"
    facts: HostFacts | None = None
    error: str | None = None
    label: str | None = None  # the name the answers file gives the host, before its facts

    @property
    def name(self) -> str:
        if self.facts is not None:
            return self.facts.hostname
        return self.label or self.address or "this machine"


_TARGET = re.compile(r"^(?:(?P<user>[a-z_][a-z0-9_.-]{0,31})@)?(?P<address>[^@\s]+)$")


def parse_target(text: str) -> tuple[str, str]:
    """`user@address` -> (user, address); SessionError with what to write when it is not one."""
    from ipaddress import ip_address

    m = _TARGET.match(text.strip())
    if not m or not m.group("user"):
        raise SessionError(
            f"Host {text.strip()!r} is not user@address; write it as e.g. ubuntu@10.20.0.12."
        )
    address = m.group("address")
    try:
        ip_address(address)
    except ValueError:
        raise SessionError(
            f"Address {address!r} is not an IP address; write the management address, "
            "e.g. ubuntu@10.20.0.12."
        ) from None
    return m.group("user"), address


# Probes at once when a prefilled file names many hosts. Over SSH: probes.remote's own default,
# so a thousand hosts do not open a thousand SSH connections together. Recorded facts and the
# lab's profile answer without waiting on anything: more at once only makes each burst of
# results (and the key a person presses meanwhile) wait longer.
REMOTE_PROBES_AT_ONCE = 32
INSTANT_PROBES_AT_ONCE = 4


class Prober(Protocol):
    """Where host facts come from: the real probes, recorded facts, or the lab's profile."""

    at_once: int  # how many probes to run at the same time

    async def probe_local(self) -> HostFacts: ...
    async def probe_remote(self, user: str, address: str) -> HostFacts: ...


class RealProber:
    """This machine through probes.local, others over SSH through probes.remote."""

    at_once = REMOTE_PROBES_AT_ONCE

    def __init__(self, *, accept_new_host_keys: bool = False) -> None:
        self.accept_new_host_keys = accept_new_host_keys

    async def probe_local(self) -> HostFacts:
        from probes.local import probe_local

        return await asyncio.to_thread(probe_local, root="/")

    async def probe_remote(self, user: str, address: str) -> HostFacts:
        from probes.remote import probe_hosts

        target = f"{user}@{address}"
        results = await probe_hosts([target], accept_new_host_keys=self.accept_new_host_keys)
        result = results[target]
        if isinstance(result, HostFacts):
            return result
        raise SessionError(result.reason)


class FactsDirProber:
    """Recorded facts (`probe --json` output, one <host>.json each), as `--facts DIR` gives them.

    This host is the file named after this machine's hostname, else the first file by name;
    a remote target is the file whose facts carry its address, else the one named after it.
    """

    at_once = INSTANT_PROBES_AT_ONCE

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._facts: dict[str, HostFacts] | None = None

    def _load(self) -> dict[str, HostFacts]:
        if self._facts is None:
            if not self.directory.is_dir():
                raise SessionError(
                    f"Facts directory {str(self.directory)!r} does not exist; give --facts a "
                    "directory of <host>.json files written by `sunbeam-install probe --json`."
                )
            from manifests.files import FileProblem, read_regular_file, size_text

            loaded: dict[str, HostFacts] = {}
            for path in sorted(self.directory.glob("*.json")):
                # Regular files of bounded size only: a FIFO here must not hang the session,
                # nor a link to /dev/zero exhaust its memory.
                try:
                    raw = read_regular_file(path, FACTS_FILE_MAX)
                    loaded[path.stem] = HostFacts.model_validate_json(raw)
                except FileProblem as e:
                    raise SessionError(
                        f"Facts file {str(path)!r} {e.reason}; give a regular file of at most "
                        f"{size_text(FACTS_FILE_MAX)} written by `sunbeam-install probe --json`."
                    ) from None
                except ValidationError as e:
                    raise SessionError(
                        f"Facts file {str(path)!r} is not valid probe output "
                        f"({facts_problem(e)}); write it again with `sunbeam-install probe --json`."
                    ) from None
            if not loaded:
                raise SessionError(
                    f"Facts directory {str(self.directory)!r} holds no .json files; "
                    "add one per host from `sunbeam-install probe --json`."
                )
            self._facts = loaded
        return self._facts

    async def probe_local(self) -> HostFacts:
        facts = self._load()
        return facts.get(socket.gethostname()) or next(iter(facts.values()))

    async def probe_remote(self, user: str, address: str) -> HostFacts:
        facts = self._load()
        for f in facts.values():
            if address in f.addresses():
                return f
        if address in facts:
            return facts[address]
        raise SessionError(
            f"No recorded facts for {address}: add {address}.json to the facts directory."
        )


class LabProfileProber:
    """Dry-run without --facts: every host is the lab's default server profile.

    The lab's own profile (`installer.lab.default_facts`), so the TUI shows the hosts that a
    dry-run install will then deploy to. A host the answers already name (a prefill) gets the
    disks and NICs those answers expect, as the headless dry-run's lab gives it.
    """

    at_once = INSTANT_PROBES_AT_ONCE

    def __init__(self, draft: Callable[[], Draft] | None = None) -> None:
        self._draft = draft

    def _known(self, address: str | None) -> HostDraft | None:
        draft = self._draft() if self._draft else None
        if draft is None:
            return None
        return next((h for h in draft.hosts if h.address == address), None)

    def _make(self, hostname: str, address: str, known: HostDraft | None) -> HostFacts:
        from installer.lab import default_facts

        if known is None:
            return default_facts(hostname, address)
        return default_facts(known.name, address, osd_devices=known.osd_devices,
                             external_nic=known.external_nic)

    async def probe_local(self) -> HostFacts:
        # This machine is the answers' host without an address, if there is one.
        return self._make("node1", "10.20.0.11", self._known(None) or self._known("10.20.0.11"))

    async def probe_remote(self, user: str, address: str) -> HostFacts:
        last = address.rsplit(".", 1)[-1]
        name = f"node{int(last) - 10}" if last.isdigit() and int(last) > 10 else f"host-{last}"
        return self._make(name, address, self._known(address))


# --------------------------------------------------------------------------------------------
# What the session reads from a host's facts.


def management_address(facts: HostFacts) -> str | None:
    """The IPv4 address on the default route's NIC, else the first global IPv4 address."""
    if facts.default_route and facts.default_route.nic:
        nic = facts.nic(facts.default_route.nic)
        if nic and nic.ipv4:
            return str(nic.ipv4[0].ip)
    for n in facts.nics:
        for i in n.ipv4:
            if not i.ip.is_loopback and not i.ip.is_link_local:
                return str(i.ip)
    return None


def management_cidr(facts: HostFacts) -> str | None:
    address = management_address(facts)
    for n in facts.nics:
        for i in n.ipv4:
            if str(i.ip) == address:
                return str(i.network)
    return None


def management_nic(facts: HostFacts) -> str | None:
    address = management_address(facts)
    nic = facts.nic_with_address(address) if address else None
    return nic.name if nic else None
