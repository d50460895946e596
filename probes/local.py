"""Probe this host: the standard-library readers, validated into `HostFacts`."""

from __future__ import annotations

from pydantic import ValidationError

from probes.facts import HostFacts
from probes.readers.collect import gather


class ProbeError(Exception):
    """The probe ran but what it found does not make valid facts (a reader bug, not user error)."""


def facts_from_dict(raw: dict, *, source: str) -> HostFacts:
    try:
        return HostFacts.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ProbeError(
            f"The probe of {source} returned invalid facts at {where}: {first['msg']}."
        ) from e


def probe_local(root: str = "/") -> HostFacts:
    """Facts of the host whose filesystem is at `root` ("/" = this machine; a fixture tree in
    tests). Readers that fail leave a line in `probe_errors` instead of failing the probe."""
    return facts_from_dict(gather(root), source="this host" if root == "/" else root)
