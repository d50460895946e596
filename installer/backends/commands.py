"""Run a local command with asyncio: output streamed line by line, timeout with a clean kill.

Every long-running external tool (``juju bootstrap``, ``juju add-machine``, ``snap`` on the
local host, ``sudo`` wrappers) goes through `run_command`, so the runner sees their output as it
happens instead of after minutes of silence (jubilant waits for each command and streams nothing).

The child runs in its own process group (``start_new_session``) so a timeout or a cancelled step
kills the whole tree (``juju`` spawns ssh, ssh spawns more), not only the direct child.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import Mapping, Sequence

from installer.backends.base import BackendError, CommandResult, LogFn

# How long a process group gets between SIGTERM and SIGKILL.
KILL_GRACE = 3.0
TAIL_LINES = 40
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
        except asyncio.TimeoutError:
            continue


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
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.update(secret_env or {})
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
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
        await asyncio.wait_for(pump(), timeout)
    except asyncio.TimeoutError:
        await _kill_group(proc)
        raise CommandTimeout(
            f"The command {_show(argv)} did not finish within {timeout:g} s and was stopped.",
            hint="Look at its last output lines in the log; raise the step's timeout if the "
            "host is just slow.",
            transient=False,
        ) from None
    except BaseException:
        # Cancelled (the runner stopping a step) or a bug: leave no orphaned process tree.
        await asyncio.shield(_kill_group(proc))
        raise
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
