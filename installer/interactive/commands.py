"""The commands the guided modes tell the operator to type next, written for the run at hand.

A hint is only useful when following it works: in dry-run it must say `--dry-run` (else it
reads the real state dir), and with `--state-dir` it must name that directory."""

from __future__ import annotations

from pathlib import Path

from installer.pipeline.settings import RunSettings

PROG = "sunbeam-install"


def command_line(settings: RunSettings, sub: str = "", *extra: str) -> str:
    """`sunbeam-install SUB [EXTRA...] [--dry-run] [--state-dir DIR]` for these settings."""
    parts = [PROG, *([sub] if sub else []), *extra]
    if settings.dry_run:
        parts.append("--dry-run")
    if settings.explicit_state_dir:
        parts += ["--state-dir", str(settings.resolved_state_dir())]
    return " ".join(parts)


# Findings that come from what the hosts are (their facts), not from the answers: in dry-run
# the lab's profile decides them, and `--facts DIR` is how to try other hosts.
FACTS_CODES = frozenset({
    "os-unsupported", "os-unknown", "arch-unsupported", "ram-below-minimum",
    "cores-below-minimum", "disk-below-minimum", "free-disk-unknown", "kvm-unavailable",
    "virtualization-unavailable", "osd-device-not-found", "osd-device-ineligible",
    "external-nic-not-found", "external-nic-no-link", "address-not-on-host",
    "hostname-mismatch", "snapd-missing",
})


def facts_hint(settings: RunSettings, codes: set[str]) -> str | None:
    """In dry-run, when a finding is about what the hosts are: how to give other host facts."""
    if not settings.dry_run or not codes & FACTS_CODES:
        return None
    if settings.facts_dir is not None:
        return (f"Dry run: these hosts are the facts in {settings.facts_dir}; edit or replace "
                "their <host>.json files (`sunbeam-install probe --json` writes them) to try "
                "other hosts.")
    return ("Dry run: the hosts are the lab's default server (Ubuntu 24.04, amd64, KVM); to "
            "try other hosts, pass --facts DIR with one <host>.json each, as "
            "`sunbeam-install probe --json` writes them.")


def dashboard_url(loadbalancer_range: object) -> str | None:
    """Horizon's address: behind traefik, on the first address of the load-balancer range, at
    /openstack-horizon (as keystone at /openstack-keystone); None while the range is not valid."""
    from manifests.iprange import IpRange

    try:
        return f"https://{IpRange.parse(str(loadbalancer_range)).start}/openstack-horizon"
    except (ValueError, IndexError):
        return None


def credentials_file(settings: RunSettings, admin_password_file: str | None) -> Path:
    """Where the admin password is: the answers' file, else the one keystone-k8s generated,
    which the installer keeps 0600 in the state dir."""
    if admin_password_file:
        return Path(admin_password_file)
    from installer.secrets import ADMIN_PASSWORD
    from installer.state import StateDir

    return StateDir(settings.resolved_state_dir()).secrets_dir / ADMIN_PASSWORD


def where_the_cloud_is(settings: RunSettings, loadbalancer_range: object,
                       admin_password_file: str | None) -> list[str]:
    """The lines every mode ends a finished install with: the dashboard and the password."""
    url = dashboard_url(loadbalancer_range) or "(the first address of the load-balancer range)"
    from installer.pipeline.openrc import OPENRC

    return [f"Dashboard: {url}",
            f"Admin password: {credentials_file(settings, admin_password_file)} (mode 0600)",
            "Log in as admin (domain admin_domain) with that password.",
            f"openrc: {settings.resolved_state_dir() / OPENRC} (source it for the `openstack` "
            "client; it reads that password file)"]
