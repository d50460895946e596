"""Probe this host: the standard-library readers, validated into `HostFacts`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from probes.facts import HostFacts


class ProbeError(Exception):
    """The probe ran but what it found does not make valid facts (a reader bug, not user error)."""


def facts_from_dict(raw: dict, *, source: str) -> HostFacts:
    from pydantic import ValidationError

    from probes.facts import HostFacts

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
    from probes.readers import cpu
    from probes.readers.collect import gather

    # The probe's one subprocess (systemd-detect-virt, on a VM whose DMI is silent) first: it
    # runs while the facts models are imported (pydantic: most of a cold probe's time) and
    # the readers read.
    detect = cpu.start_detect_virt(root)
    try:
        import probes.facts  # noqa: F401  (imported here, while the subprocess runs)
    except BaseException:
        if detect is not None:
            detect.close()
        raise
    return facts_from_dict(gather(root, detect), source="this host" if root == "/" else root)
