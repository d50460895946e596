"""Open the simulated lab or the real backends for one command, and close them after."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from installer.exits import Exit, UserError

if TYPE_CHECKING:
    from installer.backends.base import Backends
    from installer.lab import Lab
    from installer.pipeline.settings import RunSettings
    from installer.state import StateDir
    from manifests.answers import Answers
    from probes.facts import HostFacts


@dataclass
class Opened:
    """What a command works with: the backends, the host facts, and the lab in dry-run."""

    backends: Backends
    facts: dict[str, HostFacts]
    lab: Lab | None = None


def real_mode_gate(settings: RunSettings) -> None:
    """A real run needs root and snapd; say exactly what is missing (exit 4)."""
    from installer.backends.real import check_prerequisites

    missing = check_prerequisites(snapd_socket=settings.endpoints.snapd_socket)
    if missing:
        raise UserError(
            f"A real run needs {'; '.join(missing)}. Add --dry-run to try it in the simulated "
            "lab instead.",
            Exit.PREREQUISITE,
        )


def open_lab(settings: RunSettings, state: StateDir) -> Lab:
    """The lab kept in the state dir, with the settings' time scale, faults and facts."""
    from installer.lab import Lab

    return Lab.open(state.path, time_scale=settings.time_scale, faults=list(settings.faults),
                    facts_dir=settings.facts_dir)


@contextlib.asynccontextmanager
async def open_backends(
    settings: RunSettings, state: StateDir, answers: Answers, *, place_hosts: bool = True
) -> AsyncIterator[Opened]:
    """The lab (dry-run) or the real backends for the hosts of `answers`, closed on exit.

    Real: the hosts are probed first (this machine locally, the others over SSH, on this loop);
    a host that cannot be probed stops the command (exit 4) naming it and why. Lab:
    `place_hosts` makes the lab's hosts those of `answers` (an upgrade keeps the lab's own
    unless `--facts` says how they look now)."""
    if settings.dry_run:
        lab = open_lab(settings, state)
        if place_hosts:
            lab.ensure_hosts(answers)
        # A fault no operation can match (a typo) would look like a passing test: refuse it.
        lab.faults.refuse_unmatchable([*lab.state.hosts, *(h.name for h in answers.hosts)])
        yield Opened(lab.backends(), dict(lab.facts()), lab)
        return
    real_mode_gate(settings)
    from installer.backends.real import probe_facts, real_backends

    ep = settings.endpoints
    keys = [str(settings.ssh_identity)] if settings.ssh_identity else None
    facts = await probe_facts(answers, accept_new_host_keys=settings.accept_new_host_keys,
                              known_hosts=ep.known_hosts, client_keys=keys)
    backends = real_backends(
        answers, state.path, accept_new_host_keys=settings.accept_new_host_keys,
        snapd_socket=ep.snapd_socket, kubeconfig=ep.kubeconfig, juju_binary=ep.juju_binary,
        known_hosts=ep.known_hosts, client_keys=keys, poll_interval=ep.poll_interval,
    )
    try:
        yield Opened(backends, facts)
    finally:
        await backends.aclose()
