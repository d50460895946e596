"""Secrets of a run (the admin password, tokens) and the Redactor that keeps them out of output.

A secret's value is only ever written to its own 0600 file in the state dir. Everything else a run
writes (log file, events, journal rows, console) goes through `Redactor.redact` first.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from installer.exits import Exit, UserError

if TYPE_CHECKING:
    from manifests.answers import Answers

REDACTED = "********"
ADMIN_PASSWORD = "admin-password"
# Values shorter than this are not treated as secrets to redact: replacing "a" or "12" in every
# log line would mangle output and protect nothing (such a password is rejected anyway).
_MIN_SECRET_LEN = 4


# `scheme://user:password@` (or `scheme://token@`) in a URL, e.g. a proxy with credentials.
_URL_CREDENTIALS = re.compile(r'(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#"]+@')
URL_CREDENTIALS_REDACTED = "***"


def redact_url_credentials(text: str) -> str:
    """`http://user:pass@proxy:3128` -> `http://***@proxy:3128`: the credentials of every URL
    in `text` (the answers' proxy URLs may carry them) are replaced, the rest kept."""
    if "@" not in text:
        return text
    return _URL_CREDENTIALS.sub(rf"\g<scheme>{URL_CREDENTIALS_REDACTED}@", text)


def redact_url_credentials_in(value: object) -> object:
    """`redact_url_credentials` on every string of a JSON-like value (dicts, lists, tuples)."""
    if isinstance(value, str):
        return redact_url_credentials(value)
    if isinstance(value, dict):
        return {k: redact_url_credentials_in(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_url_credentials_in(v) for v in value]
    return value


class Redactor:
    """Replaces every known secret value in text with `********`, and the credentials of every
    URL with `***` (see `redact_url_credentials`)."""

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
        if not text:
            return text
        text = redact_url_credentials(text)
        if self._pattern is None:
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
            from manifests.files import (
                PASSWORD_FILE_MAX,
                FileProblem,
                read_password_file,
                size_text,
            )

            # A regular file of at most 4 KiB, opened without blocking: /dev/zero or a FIFO
            # there must not exhaust memory or hang the run.
            try:
                value = read_password_file(password_file)
            except FileProblem as e:
                if e.content:
                    raise UserError(
                        f"The admin password file {password_file!r} {e.reason}.", Exit.INVALID
                    ) from None
                raise UserError(
                    f"Cannot read identity.admin_password_file {password_file!r}: it {e.reason}; "
                    + (
                        "create it or set it to null to use the password keystone generates."
                        if e.missing
                        else f"give a regular file of at most {size_text(PASSWORD_FILE_MAX)} "
                        "holding the password."
                    ),
                    Exit.INVALID,
                ) from None
            self.use(ADMIN_PASSWORD, value)
            return value
        try:
            value = (self.dir / ADMIN_PASSWORD).read_text().strip()
        except FileNotFoundError:
            return None
        self.use(ADMIN_PASSWORD, value)
        return value


# The answers' proxy URLs, when they carry credentials, are secrets of the run (reference §5.1
# PromptForProxyStep: Sunbeam keeps the proxy in its cluster database, not in clear in output).
PROXY_SECRETS = {"http": "proxy-http", "https": "proxy-https"}


def answers_snapshot(answers: Answers, secrets: Secrets) -> str:
    """The answers as the journal keeps them: a proxy URL's credentials as `***@`, its real
    value kept as a secret (0600, redacted from every output) for `restore_proxy` on resume."""
    update: dict[str, str] = {}
    for key, name in PROXY_SECRETS.items():
        url = getattr(answers.proxy, key)
        if url and redact_url_credentials(url) != url:
            secrets.set(name, url)
            userinfo = url.split("://", 1)[1].rsplit("@", 1)[0]
            secrets.redactor.add(userinfo.partition(":")[2] or userinfo)
            update[key] = redact_url_credentials(url)
    if not update:
        return answers.model_dump_json()
    proxy = answers.proxy.model_copy(update=update)
    return answers.model_copy(update={"proxy": proxy}).model_dump_json()


def restore_proxy(answers: Answers, secrets: Secrets) -> Answers:
    """The answers of a journal snapshot with the proxy URLs `answers_snapshot` kept."""
    update: dict[str, str] = {}
    for key, name in PROXY_SECRETS.items():
        url = getattr(answers.proxy, key)
        if url and f"://{URL_CREDENTIALS_REDACTED}@" in url:
            try:
                value = (secrets.dir / name).read_text().strip()
            except OSError:
                raise UserError(
                    f"The proxy.{key} URL of this run had credentials, kept in "
                    f"{str(secrets.dir / name)!r}, which cannot be read; start a new install "
                    "with --answers FILE.", Exit.INVALID,
                ) from None
            secrets.use(name, value)
            update[key] = value
    if not update:
        return answers
    return answers.model_copy(update={"proxy": answers.proxy.model_copy(update=update)})


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only, never briefly world-readable.

    The temporary file is created anew (O_EXCL) and never through a symbolic link: a link
    planted in its place would otherwise receive the secret. A leftover temporary file of a
    killed run is removed first when it is this user's regular file, else refused."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:
        st = os.lstat(tmp)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not this user's file"
            raise UserError(
                f"The temporary secret file {str(tmp)!r} exists and is {what}; the secret is "
                "not written through it. Remove it and run again.",
                Exit.PREREQUISITE,
            ) from None
        tmp.unlink()  # a leftover of a killed run
        fd = os.open(tmp, flags, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
