"""The admin's openrc: written in the state dir (0600) when a run finishes a cloud, without the
password (sourcing it reads the password file), so every front end can point at it."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from manifests.answers import Answers

PROG = "sunbeam-install"
OPENRC = "openrc"


def admin_password_file(state_path: Path, answers: Answers) -> Path:
    """Where the admin password is: the answers' file, else keystone-k8s's generated one that
    the install keeps (0600) in the state dir."""
    from installer.secrets import ADMIN_PASSWORD

    if answers.identity.admin_password_file:
        return Path(answers.identity.admin_password_file)
    return state_path / "secrets" / ADMIN_PASSWORD


def openrc_text(answers: Answers, password_file: Path) -> str:
    """An openrc for the cloud's admin that reads the password from its file when sourced."""
    from installer.planner import auth_url
    from installer.steps.identity import ADMIN_DOMAIN

    return "\n".join([
        f"# The OpenStack admin of {answers.deployment.name}, written by {PROG}.",
        "# The password is not in this file: sourcing it reads the password file (mode 0600).",
        f"export OS_AUTH_URL={shlex.quote(auth_url(answers))}",
        "export OS_USERNAME=admin",
        f"export OS_PASSWORD=\"$(cat {shlex.quote(str(password_file))})\"",
        "export OS_PROJECT_NAME=admin",
        f"export OS_USER_DOMAIN_NAME={ADMIN_DOMAIN}",
        f"export OS_PROJECT_DOMAIN_NAME={ADMIN_DOMAIN}",
        f"export OS_REGION_NAME={shlex.quote(answers.deployment.region)}",
        "export OS_IDENTITY_API_VERSION=3",
        "",
    ])


def write_openrc(state_path: Path, answers: Answers) -> Path:
    """Write `<state>/openrc` (0600, never through a link, replaced whole); its path."""
    path = state_path / OPENRC
    tmp = path.with_name(f".{OPENRC}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(openrc_text(answers, admin_password_file(state_path, answers)))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
