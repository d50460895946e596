"""The state dir: journal, per-run logs, generated secrets, the run lock (DESIGN.md "State").

Real mode: `/var/snap/sunbeam-install/common` when run from the snap ($SNAP set), else
`/var/lib/sunbeam-install`; dry-run: `$XDG_STATE_HOME/sunbeam-install` (default
`~/.local/state`). `--state-dir` overrides both. Files are 0600 and directories 0700 because the
dir holds the admin password and the answers of the cloud.

The dir is not trusted blindly: a root run on a dir another user can change would write where
that user says (a `run.lock` linked to /etc/shadow is truncated; a linked temporary secret file
hands them the admin password). So the dir, and everything in it, must be the running user's
own, writable by nobody else, and no symbolic link (`StateDir.check`); files are created without
following links.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import stat
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


class UnsafeStateDir(UserError):
    """The state dir, or something in it, is a link, another user's, or writable by others."""

    def __init__(self, path: Path, problem: str, remedy: str) -> None:
        super().__init__(
            f"The state dir entry {str(path)!r} {problem}; the state dir holds the admin password "
            f"and the cloud's answers, so it is not used. {remedy}",
            Exit.PREREQUISITE,
        )


_FIX = "Remove it (or pass --state-dir DIR for a fresh state dir) and run again."


def check_entry(path: Path, st: os.stat_result | None = None) -> None:
    """Refuse `path` unless it is the running user's own, not a link, not group/other-writable."""
    if st is None:
        st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        raise UnsafeStateDir(path, f"is a symbolic link (to {target!r})", _FIX)
    if st.st_uid != os.geteuid():
        raise UnsafeStateDir(
            path, f"is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()})",
            "Give it to this user (chown), remove it, or pass --state-dir DIR.")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeStateDir(
            path, f"is writable by its group or by others (mode {stat.S_IMODE(st.st_mode):o})",
            f"Check that nothing in it was planted, then `chmod go-w {path}`, or pass "
            "--state-dir DIR.")
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        raise UnsafeStateDir(path, "is neither a regular file nor a directory", _FIX)


def _check_tree(path: Path) -> None:
    check_entry(path)
    with os.scandir(path) as entries:
        for entry in entries:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                _check_tree(Path(entry.path))
            else:
                check_entry(Path(entry.path), st)


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

    def check(self) -> StateDir:
        """Refuse a state dir that is, or holds, a symbolic link, another user's file or dir, or
        one its group or others may write (UnsafeStateDir, exit 4). A missing dir passes."""
        try:
            os.lstat(self.path)
        except FileNotFoundError:
            return self
        except OSError as e:
            raise UserError(f"Cannot read the state dir {str(self.path)!r} ({e.strerror}); "
                            "pass --state-dir DIR.", Exit.PREREQUISITE) from None
        try:
            _check_tree(self.path)
        except FileNotFoundError:
            pass  # removed while we looked: what remains was checked
        except PermissionError as e:
            raise UserError(f"Cannot read the state dir entry {e.filename!r} (permission "
                            "denied); run as its owner, or pass --state-dir DIR.",
                            Exit.PREREQUISITE) from None
        return self

    def ensure(self) -> StateDir:
        """Check the dir (`check`), then create the dir tree (0700); a clear message when that
        is not allowed."""
        self.check()
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
    def lock(self, what: str = "install") -> Iterator[int]:
        """Hold the run lock: a second install/resume/upgrade on this state dir is refused.

        flock is released by the kernel when the process dies (even by kill -9), so a stale lock
        file never blocks a later resume. Yields the locked descriptor: a detached run inherits
        it (the lock belongs to the open file, so it passes to the run without a gap).
        """
        self.check()
        fd = _open_private(self.lock_path, os.O_RDWR | os.O_CREAT)
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
            yield fd
        finally:
            os.close(fd)  # closing releases the flock

    def is_locked(self) -> bool:
        """True when a run holds the lock right now (for `status`)."""
        if not self.lock_path.exists():
            return False
        fd = _open_private(self.lock_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
        return False


def _open_private(path: Path, flags: int) -> int:
    """Open (or create, 0600) a file of the state dir, never through a symbolic link, and only
    when it is this user's own regular file."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        if e.errno == errno.ELOOP:
            check_entry(path)  # names the link
        raise
    try:
        st = os.fstat(fd)
        check_entry(path, st)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeStateDir(path, "is not a regular file", _FIX)
    except BaseException:
        os.close(fd)
        raise
    return fd


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
    os.close(_open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND))
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
