"""The host platform: facts present at all, architecture, Ubuntu release, snapd.

Architecture, per what Sunbeam publishes: the openstack snap and the control-plane charm images
are amd64 only, so a control host must be amd64. openstack-hypervisor and microceph are also
built for arm64, so an arm64 compute or storage host can work but is outside what Sunbeam
supports (warning). Anything else has no snaps at all (error).
"""

from __future__ import annotations

from installer.preflight._common import Facts, hosts_with_facts, join
from installer.preflight.finding import Finding
from manifests.answers import Answers
from manifests.release import Release
from probes.remote import target_text

AMD64 = {"x86_64", "amd64"}
ARM64 = {"aarch64", "arm64"}


def facts_missing(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host in enumerate(answers.hosts):
        if host.name in facts:
            continue
        target = (
            target_text(str(host.address), host.ssh_port, host.ssh_user)
            if host.address
            else "this machine"
        )
        out.append(
            Finding(
                severity="error",
                code="facts-missing",
                host=host.name,
                message=f"Host {host.name} could not be probed ({target}), so none of its "
                "checks could run.",
                hint=f"Check that {target} is reachable over SSH with python3 installed, then "
                f"try `sunbeam-install probe {target}`."
                if host.address
                else "Run `sunbeam-install probe` on this machine to see what fails.",
                path=["hosts", i, "address" if host.address is not None else "name"],
            )
        )
    return out


def architecture(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        arch = (hf.cpu.architecture or hf.os.arch or "unknown").lower()
        if arch in AMD64:
            continue
        if arch in ARM64 and "control" not in host.roles:
            out.append(
                Finding(
                    severity="warning",
                    code="arch-unsupported",
                    host=host.name,
                    message=f"Host {host.name} is {arch}; Sunbeam supports amd64 (x86_64), though "
                    "its hypervisor and Ceph snaps are also built for arm64.",
                    hint="Confirm to try arm64 for compute and storage, or use an amd64 host.",
                    path=["hosts", i],
                )
            )
            continue
        why = (
            "the OpenStack control plane is published for amd64 only"
            if arch in ARM64
            else "Sunbeam's snaps and charms are published for amd64 only"
        )
        out.append(
            Finding(
                severity="error",
                code="arch-unsupported",
                host=host.name,
                message=f"Host {host.name} is {arch}; it must be amd64 (x86_64), because {why}.",
                hint="Use an amd64 host"
                + (" for the control role." if arch in ARM64 else "."),
                path=["hosts", i, "roles"] if arch in ARM64 else ["hosts", i],
            )
        )
    return out


def _bases(release: Release) -> list[str]:
    """The Ubuntu every host must run: Sunbeam's prepare-node-script refuses any other."""
    return [release.platform.ubuntu]


def os_release(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    """Sunbeam runs only on its platform's Ubuntu (24.04, noble, for 2024.1 and 2025.1) and its
    machine charms are built for it; prepare-node-script stops with an error on any other."""
    bases = _bases(release)
    if not bases:
        return []
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        os_id, version = hf.os.id, hf.os.version
        if os_id is None or version is None:
            out.append(
                Finding(
                    severity="warning",
                    code="os-unknown",
                    host=host.name,
                    message=f"The operating system of host {host.name} is unknown; OpenStack "
                    f"{release.release} needs Ubuntu {join(bases)}.",
                    hint=f"Check /etc/os-release on {host.name}, then confirm.",
                    path=["hosts", i],
                )
            )
            continue
        if os_id.lower() == "ubuntu" and version in bases:
            continue
        shown = hf.os.pretty_name or f"{os_id} {version}"
        out.append(
            Finding(
                severity="error",
                code="os-unsupported",
                host=host.name,
                message=f"Host {host.name} runs {shown}; OpenStack {release.release} needs "
                f"Ubuntu {join(bases)}.",
                hint=f"Install Ubuntu {bases[-1]} on {host.name}, or choose a release built for "
                "its Ubuntu.",
                path=["hosts", i],
            )
        )
    return out


def snapd(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    """Real mode only: every part of the cloud is a snap."""
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        if hf.snapd.present:
            continue
        out.append(
            Finding(
                severity="error",
                code="snapd-missing",
                host=host.name,
                message=f"Host {host.name} has no snapd; Juju, Kubernetes, the hypervisor and "
                "Ceph are all installed as snaps.",
                hint=f"Run `sudo apt install snapd` on {host.name}.",
                path=["hosts", i],
            )
        )
    return out


def remote_tools(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    """Real mode, remote hosts: the install runs `sudo -n` there (as the SSH user), talks to
    snapd with curl and probes with python3. Facts that do not say (older files) are skipped."""
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        if host.address is None:
            continue  # this machine: the install runs as root and uses snapd's socket
        who = host.ssh_user or "the SSH user"
        target = target_text(str(host.address), host.ssh_port, host.ssh_user)
        if hf.sudo_nopasswd is False:
            out.append(
                Finding(
                    severity="error",
                    code="sudo-not-passwordless",
                    host=host.name,
                    message=f"On host {host.name}, `sudo -n true` fails for {who}: the install "
                    "runs its commands there with sudo and can never answer a password prompt.",
                    hint=f"Install sudo on {host.name} and give {who} passwordless sudo (a "
                    "NOPASSWD line in /etc/sudoers.d), or use root as ssh_user; check with "
                    f"`ssh {target} sudo -n true`.",
                    path=["hosts", i, "ssh_user" if host.ssh_user else "address"],
                )
            )
        for tool, present, package in (
            ("curl", hf.has_curl, "curl"),
            ("python3", hf.has_python3, "python3-minimal"),
        ):
            if present is False:
                out.append(
                    Finding(
                        severity="error",
                        code="tool-missing",
                        host=host.name,
                        message=f"Host {host.name} has no {tool} on {who}'s PATH; the install "
                        f"needs it there.",
                        hint=f"Run `sudo apt install {package}` on {host.name}.",
                        path=["hosts", i, "address"],
                    )
                )
    return out


def probe_errors(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    """Readers that failed leave facts at their defaults; say so, since other checks used them."""
    out = []
    for i, host, hf in hosts_with_facts(answers, facts):
        if not hf.probe_errors:
            continue
        out.append(
            Finding(
                severity="info",
                code="probe-incomplete",
                host=host.name,
                message=f"Probing host {host.name} was incomplete: {'; '.join(hf.probe_errors)}.",
                hint="Findings about what those readers cover may be wrong; probe again as "
                "root for complete facts.",
                path=["hosts", i],
            )
        )
    return out


def juju_ssh_port(answers: Answers, facts: Facts, release: Release) -> list[Finding]:
    """Real mode: Juju's manual provisioning (`juju add-machine ssh:[user@]host`) has no port;
    it reaches every machine on port 22. A host answered with another ssh_port is probed and
    driven on it, but Juju could not add it: refuse it before anything changes."""
    del facts, release
    return [
        Finding(
            severity="error",
            code="ssh-port-for-juju",
            host=host.name,
            message=f"Host {host.name} has ssh_port {host.ssh_port}, but Juju adds machines "
            "over SSH on port 22 only (`juju add-machine ssh:user@host` takes no port).",
            hint=f"Make sshd on {host.name} listen on port 22 as well, and leave ssh_port out.",
            path=["hosts", i, "ssh_port"],
        )
        for i, host in enumerate(answers.hosts)
        if host.address is not None and host.ssh_port != 22
    ]
