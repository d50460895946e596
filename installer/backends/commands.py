"""Run a local command with asyncio: output streamed line by line, timeout with a clean kill.

Every long-running external tool (``juju bootstrap``, ``juju add-machine``, ``snap`` on the
local host, ``sudo`` wrappers) goes through `run_command`, so the runner sees their output as it
happens instead of after minutes of silence (jubilant waits for each command and streams nothing).
Short commands whose output is parsed (``juju status --format json``) go through
`capture_command`, which keeps stdout and stderr apart.

The child runs in its own process group (``start_new_session``) so a timeout or a cancelled step
kills the whole tree (``juju`` spawns ssh, ssh spawns more), not only the direct child. A thread
running ``subprocess.run`` could not be cancelled: the step's task would end while its ``juju``
kept running, and the event loop would wait for that thread at exit (Ctrl+C hanging).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from installer.backends.base import BackendError, CommandResult, LogFn

# How long a process group gets between SIGTERM and SIGKILL.
KILL_GRACE = 3.0
TAIL_LINES = 40
# asyncio's readline raises ValueError on a line longer than its limit (64 KiB by default), and
# one-line JSON (`juju status`, `ceph osd dump`) grows with the cluster.
LINE_LIMIT = 16 * 1024 * 1024
REDACTED = "********"


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret value replaced by asterisks (longest first: no partial leaks)."""
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, REDACTED)
    return text


def _no_log(line: str) -> None:
    del line


class CommandTimeout(BackendError):
    """The command did not finish in time and was killed."""


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the child's process group, SIGKILL it after a grace period."""
    if proc.returncode is not None:
        return
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), wait)
            return
        except TimeoutError:
            continue


@contextlib.asynccontextmanager
async def _owned(proc: asyncio.subprocess.Process) -> AsyncIterator[None]:
    """Kill and reap the child's process group if the body does not finish normally.

    Cancellation (the runner stopping a step, Ctrl+C) lands here as CancelledError: the group is
    gone and reaped before the cancellation propagates, so no ``juju`` outlives its step.
    """
    try:
        yield
    except BaseException:
        # shield: a second cancel while killing must not leave the group half-killed.
        await asyncio.shield(_kill_group(proc))
        raise


def _environment(
    env: Mapping[str, str] | None, secret_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    full = dict(os.environ)
    full.update(env or {})
    full.update(secret_env or {})
    return full


@dataclass(frozen=True)
class CapturedOutput:
    """What `capture_command` returns: the exit code and the whole stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


async def capture_command(
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> CapturedOutput:
    """Run `argv` to its end and return its exit code, stdout and stderr, kept apart.

    For short commands whose output is parsed. The child runs in its own process group;
    cancelling the caller kills that group (SIGTERM, SIGKILL after KILL_GRACE) and reaps it
    before the cancellation propagates. Raises FileNotFoundError or PermissionError when the
    program cannot be started (callers know the better hint).
    """
    if not argv:
        raise BackendError("Cannot run an empty command.")
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_environment(env),
        start_new_session=True,
        limit=LINE_LIMIT,
    )
    async with _owned(proc):
        out, err = await proc.communicate(stdin)
    assert proc.returncode is not None
    return CapturedOutput(
        proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    )


async def run_command(
    argv: Sequence[str],
    *,
    log: LogFn | None = None,
    env: Mapping[str, str] | None = None,
    secret_env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdin: bytes | None = None,
    cwd: str | None = None,
    check: bool = False,
    tail: int = TAIL_LINES,
) -> CommandResult:
    """Run `argv`, sending each line of stdout+stderr (merged, in order) to `log`.

    `env` and `secret_env` are added to this process's environment; the values of `secret_env`
    are redacted from every line sent to `log` and from the output tail, and are never part of
    an error message. With `check`, a non-zero exit raises BackendError naming the command, the
    exit code and the last line of output. A timeout kills the process group and raises
    CommandTimeout. Cancelling the calling task also kills the process group.
    """
    if not argv:
        raise BackendError("Cannot run an empty command.")
    emit = log or _no_log
    secrets = [v for v in (secret_env or {}).values() if v]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=_environment(env, secret_env),
            cwd=cwd,
            start_new_session=True,
            limit=LINE_LIMIT,
        )
    except FileNotFoundError:
        raise BackendError(
            f"The program {argv[0]!r} was not found.",
            hint=f"Install {os.path.basename(argv[0])} or put it on PATH, then run again.",
        ) from None
    except PermissionError:
        raise BackendError(
            f"The program {argv[0]!r} cannot be executed (permission denied).",
            hint="Check the file's permissions.",
        ) from None

    lines: deque[str] = deque(maxlen=max(tail, 1))

    async def pump() -> None:
        assert proc.stdout is not None
        if stdin is not None and proc.stdin is not None:
            # Feed stdin concurrently with reading: a large input must not deadlock on a full pipe.
            async def feed() -> None:
                assert proc.stdin is not None
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    proc.stdin.write(stdin)
                    await proc.stdin.drain()
                    proc.stdin.close()

            feeder: asyncio.Task[None] | None = asyncio.ensure_future(feed())
        else:
            feeder = None
        while True:
            raw = await proc.stdout.readline()
            if not raw:
                break
            line = redact(raw.decode("utf-8", "replace").rstrip("\r\n"), secrets)
            lines.append(line)
            emit(line)
        if feeder is not None:
            await feeder
        await proc.wait()

    try:
        async with _owned(proc):
            await asyncio.wait_for(pump(), timeout)
    except TimeoutError:
        raise CommandTimeout(
            f"The command {_show(argv)} did not finish within {timeout:g} s and was stopped.",
            hint="Look at its last output lines in the log; raise the step's timeout if the "
            "host is just slow.",
            transient=False,
        ) from None
    assert proc.returncode is not None
    result = CommandResult(proc.returncode, tuple(lines))
    if check and proc.returncode != 0:
        last = lines[-1] if lines else "no output"
        raise BackendError(
            f"The command {_show(argv)} failed with exit code {proc.returncode}: {last}",
            hint="The log has its full output.",
        )
    return result


def _show(argv: Sequence[str], limit: int = 80) -> str:
    """A short, quoted form of a command for messages (argv never carries secrets)."""
    text = " ".join(argv)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
