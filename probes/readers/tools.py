"""What the install needs on a host besides the facts: passwordless sudo, curl and python3.

Only for the host the probe runs on (`root` "/"): a fixture tree has no processes to ask, so its
answers stay unknown (absent). Each answer is a bool; `sudo -n true` is bounded by a timeout.
"""

from __future__ import annotations

import os
import shutil
import subprocess

SUDO_TIMEOUT = 10.0


def sudo_nopasswd() -> bool:
    """True when this user is root or `sudo -n true` succeeds (no password, no terminal)."""
    if os.geteuid() == 0:
        return True
    sudo = shutil.which("sudo")
    if sudo is None:
        return False
    try:
        done = subprocess.run(
            [sudo, "-n", "true"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=SUDO_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def read_tools(root: str = "/") -> dict:
    if root != "/":
        return {}
    return {
        "sudo_nopasswd": sudo_nopasswd(),
        "has_curl": shutil.which("curl") is not None,
        "has_python3": shutil.which("python3") is not None,
    }
