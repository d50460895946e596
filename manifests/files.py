"""Reading a small file the operator names, without trusting it to be one.

A path in an answers file or a `--facts` directory may lead to `/dev/zero` (endless), to a FIFO
(opening or reading it blocks until someone writes) or to a device whose opening does something.
`read_regular_file` reads regular files only, up to a stated size, and never blocks: it checks
the type before opening, opens with O_NONBLOCK, and checks the opened file again (the path may
have changed in between).
"""

from __future__ import annotations

import errno
import os
import stat

PASSWORD_FILE_MAX = 4 * 1024
"""An admin password file holds one line; 4 KiB is far more than any password."""

PASSWORD_MIN_CHARS = 8


class FileProblem(Exception):
    """The file cannot be used; `reason` completes "FILE ..." (e.g. "is a FIFO, not a regular
    file"). `missing`: nothing is there; `content`: the file was read, what it holds is wrong
    (and `reason` says what to write)."""

    def __init__(self, reason: str, *, missing: bool = False, content: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing
        self.content = content


def size_text(limit: int) -> str:
    """4096 -> '4 KiB', 8 MiB -> '8 MiB'."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= scale and limit % scale == 0:
            return f"{limit // scale} {unit}"
    return f"{limit} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse_unless_regular(st: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem(f"is {_kind(st.st_mode)}, not a regular file")
    if st.st_size > limit:
        raise FileProblem(f"is larger than {size_text(limit)} ({st.st_size:,} bytes)")


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit` of them.

    Raises FileProblem for anything else: missing, unreadable, not a regular file, larger
    than `limit`."""
    try:
        _refuse_unless_regular(os.stat(path), limit)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FileProblem("does not exist", missing=True) from None
    except ValueError:  # a NUL character in the path
        raise FileProblem("is not a usable path (it contains a NUL character)") from None
    except OSError as e:
        raise FileProblem(f"cannot be read ({_strerror(e)})") from None
    try:
        _refuse_unless_regular(os.fstat(fd), limit)
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as e:
        raise FileProblem(f"cannot be read ({_strerror(e)})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew after the check
        raise FileProblem(f"is larger than {size_text(limit)}")
    return data


def _strerror(e: OSError) -> str:
    if e.errno == errno.ENAMETOOLONG:
        return "the path is too long"
    return (e.strerror or str(e)).lower()


def read_password_file(path: str) -> str:
    """The admin password in the file at `path` (`~` expanded): its text, surrounding
    whitespace removed. Raises FileProblem when the file cannot hold one."""
    data = read_regular_file(os.path.expanduser(path), PASSWORD_FILE_MAX)
    try:
        value = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise FileProblem(
            "is not UTF-8 text; write the password as one line of text", content=True
        ) from None
    if len(value) < PASSWORD_MIN_CHARS:
        raise FileProblem(
            f"holds a password shorter than {PASSWORD_MIN_CHARS} characters; write a longer one",
            content=True,
        )
    return value
