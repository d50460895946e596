"""The state dir: journal, per-run logs, generated secrets, the run lock (DESIGN.md "State").

Real mode: `/var/snap/sunbeam-install/common` when run from the snap ($SNAP set), else
`/var/lib/sunbeam-install`; dry-run: `$XDG_STATE_HOME/sunbeam-install` (default
`~/.local/state`). `--state-dir` overrides both. Files are 0600 and directories 0700 because the
dir holds the admin password and the answers of the cloud.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from installer.exits import Exit, UserError
from installer.secrets import Redactor, Secrets

LOGGER_NAME = "sunbeam_install.run"


def default_state_dir(*, dry_run: bool, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if dry_run:
        home = Path(env.get("HOME") or Path.home())
        base = env.get("XDG_STATE_HOME") or str(home / ".local/state")
        return Path(base) / "sunbeam-install"
    if env.get("SNAP"):
        return Path("/var/snap/sunbeam-install/common")
    return Path("/var/lib/sunbeam-install")


def resolve_state_dir(override: str | None, *, dry_run: bool) -> Path:
    return Path(override).expanduser() if override else default_state_dir(dry_run=dry_run)


class StateLocked(UserError):
    """Another install/resume/upgrade holds the state dir."""


@dataclass
class StateDir:
    path: Path

    @property
    def journal_path(self) -> Path:
        return self.path / "journal.sqlite"

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def secrets_dir(self) -> Path:
        return self.path / "secrets"

    @property
    def lock_path(self) -> Path:
        return self.path / "run.lock"

    def log_path(self, run_id: str) -> Path:
        return self.logs_dir / f"{run_id}.log"

    def ensure(self) -> StateDir:
        """Create the dir tree (0700); a clear message when that is not allowed."""
        try:
            for d in (self.path, self.logs_dir, self.secrets_dir):
                d.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(d, 0o700)
        except PermissionError:
            raise UserError(
                f"Cannot create the state dir {str(self.path)!r} (permission denied); run as root, "
                "or pass --state-dir DIR (or --dry-run to try the installer).",
                Exit.PREREQUISITE,
            ) from None
        except OSError as e:
            raise UserError(
                f"Cannot create the state dir {str(self.path)!r} ({e.strerror}); "
                "pass --state-dir DIR.",
                Exit.PREREQUISITE,
            ) from None
        return self

    def exists(self) -> bool:
        return self.journal_path.exists()

    def secrets(self, redactor: Redactor | None = None) -> Secrets:
        return Secrets(self.secrets_dir, redactor)

    @contextlib.contextmanager
    def lock(self, what: str = "install") -> Iterator[None]:
        """Hold the run lock: a second install/resume/upgrade on this state dir is refused.

        flock is released by the kernel when the process dies (even by kill -9), so a stale lock
        file never blocks a later resume.
        """
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                raise StateLocked(
                    f"Another sunbeam-install run ({holder}) is using the state dir "
                    f"{str(self.path)!r}; wait for it to finish, or follow it with "
                    "`sunbeam-install status`.",
                    Exit.PREREQUISITE,
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{what}, pid {os.getpid()}".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def is_locked(self) -> bool:
        """True when a run holds the lock right now (for `status`)."""
        if not self.lock_path.exists():
            return False
        fd = os.open(self.lock_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
        return False


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        # Redact the fully formatted line: args and tracebacks may carry a secret too.
        return self._redactor.redact(super().format(record))


def open_run_log(path: Path, redactor: Redactor) -> logging.Logger:
    """A debug-level logger writing (redacted) to the run's log file, 0600, appended on resume."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    logger = logging.getLogger(f"{LOGGER_NAME}.{path.stem}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # the console shows events, not the debug log
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_RedactingFormatter(redactor))
    logger.addHandler(handler)
    return logger


def close_run_log(logger: logging.Logger) -> None:
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
