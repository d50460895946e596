"""Secrets of a run (the admin password, tokens) and the Redactor that keeps them out of output.

A secret's value is only ever written to its own 0600 file in the state dir. Everything else a run
writes (log file, events, journal rows, console) goes through `Redactor.redact` first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from installer.exits import Exit, UserError

REDACTED = "********"
ADMIN_PASSWORD = "admin-password"
# Values shorter than this are not treated as secrets to redact: replacing "a" or "12" in every
# log line would mangle output and protect nothing (such a password is rejected anyway).
_MIN_SECRET_LEN = 4


class Redactor:
    """Replaces every known secret value in text with `********`."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for v in values:
            self.add(v)

    def add(self, value: str) -> None:
        """Redact `value` from now on (also its first line, in case a tool prints it alone)."""
        for v in {value, value.strip()}:
            if len(v) >= _MIN_SECRET_LEN:
                self._values.add(v)
        # Longest first, so a secret containing another is replaced whole.
        ordered = sorted(self._values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    def redact(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(REDACTED, text)

    def redact_opt(self, text: str | None) -> str | None:
        return None if text is None else self.redact(text)

    def __bool__(self) -> bool:
        return self._pattern is not None


class Secrets:
    """Named secrets of one run, kept in `<state>/secrets/<name>` (0600)."""

    def __init__(self, secrets_dir: Path, redactor: Redactor | None = None) -> None:
        self.dir = secrets_dir
        self.redactor = redactor or Redactor()
        self._values: dict[str, str] = {}

    def set(self, name: str, value: str) -> None:
        """Keep `value` as secret `name`: stored 0600 in the secrets dir (so resume and later
        upgrades find it) and redacted from everything the run writes from now on."""
        # Redact first: nothing that runs between the two may print it unredacted.
        self.redactor.add(value)
        write_private(self.dir / name, value + "\n")
        self._values[name] = value

    def use(self, name: str, value: str) -> None:
        """Use `value` as secret `name` for this run only, without storing it (the operator's own
        password file stays its only copy)."""
        self.redactor.add(value)
        self._values[name] = value

    def get(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"no secret named {name!r} in this run") from None

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def load_admin_password(self, password_file: str | None) -> str | None:
        """The admin password known before the run: from `password_file`, else the one kept by
        an earlier run, else None.

        Without a password file nothing is generated here: keystone-k8s generates the admin
        password itself and the `keystone.admin-password` step keeps it (see steps/identity.py).
        """
        if password_file:
            path = Path(password_file).expanduser()
            try:
                value = path.read_text().strip()
            except OSError as e:
                raise UserError(
                    f"Cannot read identity.admin_password_file {password_file!r} "
                    f"({e.strerror or e}); create it or set it to null to use the password "
                    "keystone generates.",
                    Exit.INVALID,
                ) from None
            if len(value) < 8:
                raise UserError(
                    f"The admin password in {password_file!r} is shorter than 8 characters; "
                    "write a longer one.",
                    Exit.INVALID,
                )
            self.use(ADMIN_PASSWORD, value)
            return value
        try:
            value = (self.dir / ADMIN_PASSWORD).read_text().strip()
        except FileNotFoundError:
            return None
        self.use(ADMIN_PASSWORD, value)
        return value


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only, never briefly world-readable."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
