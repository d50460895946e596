"""The production backends for one run: snapd, Juju, Kubernetes and hosts, chosen per host.

asyncssh, lightkube and jubilant are imported only by the backends' methods, not here, so
`--help`, `validate`, `plan` and the TUI's first screen never pay for them (DESIGN "Backends").
`installer.pipeline.backends.open_backends` opens them for a command and closes them after.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.backends.base import BackendError, Backends, JujuBackend
from installer.backends.k8s import K8S_SNAP_KUBECONFIG, LightkubeK8sBackend
from installer.backends.snapd import SNAPD_SOCKET, SnapdClient, SnapdSnapBackend, remote_client

if TYPE_CHECKING:
    from manifests.answers import Answers
    from probes.facts import HostFacts

# The juju snap's binary; PATH's juju is used when this is missing (e.g. a deb install).
JUJU_SNAP_BINARY = "/snap/bin/juju"


SNAPD_BINARY = "/usr/lib/snapd/snapd"
SNAPD_FROM_SNAP = "/snap/snapd/current/usr/lib/snapd/snapd"  # snapd re-executed from its snap


def check_prerequisites(
    *,
    snapd_socket: str = SNAPD_SOCKET,
    euid: int | None = None,
    snapd_binary: str = SNAPD_BINARY,
) -> list[str]:
    """What a real run lacks on this machine, one operator-readable item each; [] when ready.

    snapd counts only when its socket accepts a connection: a socket file left behind by a
    stopped snapd, or snapd installed but not started, is said so, apart from snapd missing.
    The install command exits 4 with these before it changes anything.
    """
    import socket

    missing: list[str] = []
    if (os.geteuid() if euid is None else euid) != 0:
        missing.append("root: run sunbeam-install with sudo")
    problem: str | None = None
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        try:
            s.connect(snapd_socket)
        except OSError as e:
            problem = e.strerror or str(e)
    if problem is not None:
        installed = os.path.exists(snapd_binary) or (
            snapd_binary == SNAPD_BINARY and os.path.exists(SNAPD_FROM_SNAP)
        )
        if installed:
            missing.append(
                f"snapd running: snapd is installed but not running ({snapd_socket}: "
                f"{problem}); start it (sudo systemctl enable --now snapd.socket snapd.service)"
            )
        else:
            missing.append(
                "snapd: it is not installed; install it (sudo apt install snapd) and start it"
            )
    return missing


def _juju_binary() -> str:
    if os.access(JUJU_SNAP_BINARY, os.X_OK):
        return JUJU_SNAP_BINARY
    return shutil.which("juju") or JUJU_SNAP_BINARY  # the juju snap step installs it there


def charm_kubeconfig(juju: JujuBackend) -> Callable[[], Awaitable[str]]:
    """A kubeconfig source asking the k8s charm (`juju run k8s/leader get-kubeconfig`).

    For an installer that is not on a control host, where the k8s snap's kubeconfig file is.
    """
    from installer.planner import MACHINE_MODEL

    async def fetch() -> str:
        result = await juju.run_action(MACHINE_MODEL, "k8s/leader", "get-kubeconfig")
        text = result.get("kubeconfig")
        if not isinstance(text, str) or not text:
            raise BackendError(
                "The k8s charm's get-kubeconfig action returned no kubeconfig.",
                hint=f"`juju run k8s/leader get-kubeconfig -m {MACHINE_MODEL}` shows why.",
                transient=True,
            )
        return text

    return fetch


def real_backends(
    answers: Answers,
    state_dir: Path | str,
    *,
    accept_new_host_keys: bool = False,
    snapd_socket: str = SNAPD_SOCKET,
    kubeconfig: str = K8S_SNAP_KUBECONFIG,
    juju_binary: str | None = None,
    controller: str | None = None,
    known_hosts: str | Path | None = None,
    client_keys: Sequence[Any] | None = None,
    poll_interval: float | None = None,
) -> Backends:
    """The real Backends for the hosts of `answers`.

    Hosts without an address are this machine: snapd through its socket, commands through
    asyncio subprocesses. The others are reached over SSH (one reused connection per host):
    commands with `sudo -n`, snapd through `sudo -n curl --unix-socket` (see snapd.py).
    `state_dir` is where run-wide files live; SSH host keys go to ~/.ssh/known_hosts (the
    operator's own ssh sees the same keys) unless `known_hosts` is given.

    `controller` defaults to the one the plan bootstraps (`<deployment>-controller`): a resumed
    or second run skips the bootstrap step, so the backend must know the name without it.
    """
    from installer.backends.juju import JujuCliBackend
    from installer.backends.ssh import LocalHostBackend, SshConnections, SshHostBackend, SshTarget
    from installer.planner import controller_name

    del state_dir  # nothing per-run is kept by the backends themselves yet
    local_hosts = {h.name for h in answers.hosts if h.address is None}
    targets = {
        h.name: SshTarget(str(h.address), h.ssh_user, h.ssh_port)
        for h in answers.hosts
        if h.address is not None
    }
    connections = SshConnections(
        targets, known_hosts=known_hosts, accept_new_host_keys=accept_new_host_keys,
        client_keys=client_keys,
    )

    def snapd_for(host: str) -> SnapdClient:
        if host in local_hosts:
            client = SnapdClient.local(snapd_socket, where="on this host", host=host)
        else:
            user = targets[host].user if host in targets else None
            client = remote_client(connections, host, sudo=user not in (None, "root"))
        if poll_interval is not None:
            client.poll_interval = poll_interval
        return client

    juju = JujuCliBackend(
        cli_binary=juju_binary or _juju_binary(),
        controller=controller or controller_name(answers),
    )

    snaps = SnapdSnapBackend(snapd_for)
    k8s = LightkubeK8sBackend(kubeconfig, kubeconfig_source=charm_kubeconfig(juju))
    if poll_interval is not None:
        juju.poll_interval = k8s.poll_interval = poll_interval
    return Backends(
        snaps=snaps,
        juju=juju,
        k8s=k8s,
        hosts=SshHostBackend(connections, LocalHostBackend(is_root=os.geteuid() == 0), local_hosts),
        # The SSH connections last: the remote snapd clients ride on them.
        closers=[connections.close, snaps.aclose, k8s.aclose],
    )


async def probe_answer_hosts(
    answers: Answers,
    *,
    accept_new_host_keys: bool,
    known_hosts: str | Path | None = None,
    client_keys: Sequence[Any] | None = None,
) -> tuple[dict[str, HostFacts], dict[str, str]]:
    """Probe every host of the answers (this machine locally, the others over SSH): the facts
    of those that answered and, by host name, the one-line reason of those that did not."""
    from probes.facts import HostFacts
    from probes.local import probe_local
    from probes.remote import probe_hosts, target_text

    facts: dict[str, HostFacts] = {}
    failures: dict[str, str] = {}
    remote: dict[str, str] = {}
    for h in answers.hosts:
        if h.address is None:
            facts[h.name] = probe_local()
        else:
            remote[target_text(str(h.address), h.ssh_port, h.ssh_user)] = h.name
    if remote:
        from installer.exits import Exit, UserError
        from probes.remote import KnownHostsError

        try:
            results = await probe_hosts(list(remote), accept_new_host_keys=accept_new_host_keys,
                                        known_hosts=known_hosts, client_keys=client_keys)
        except KnownHostsError as e:
            raise UserError(str(e), Exit.PREREQUISITE) from None
        for target, result in results.items():
            if isinstance(result, HostFacts):
                facts[remote[target]] = result
            else:
                failures[remote[target]] = result.reason
    return facts, failures


async def probe_facts(
    answers: Answers,
    *,
    accept_new_host_keys: bool,
    known_hosts: str | Path | None = None,
    client_keys: Sequence[Any] | None = None,
) -> dict[str, HostFacts]:
    """Host facts of every host; UserError (exit 4) naming each host that could not be probed."""
    from installer.exits import Exit, UserError

    facts, failures = await probe_answer_hosts(
        answers, accept_new_host_keys=accept_new_host_keys, known_hosts=known_hosts,
        client_keys=client_keys)
    if failures:
        lines = "; ".join(f"{name}: {reason}" for name, reason in failures.items())
        raise UserError(f"Cannot probe {lines}.", Exit.PREREQUISITE)
    return facts
