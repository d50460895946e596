"""commands.run_command on harmless real processes."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from installer.backends.base import BackendError
from installer.backends.commands import CommandTimeout, capture_command, redact, run_command
from tests.procs import alive

PY = sys.executable



async def test_streams_stdout_and_stderr_in_order() -> None:
    lines: list[str] = []
    script = (
        "import sys\nprint('one', flush=True)\n"
        "print('two', file=sys.stderr, flush=True)\nprint('three')"
    )
    result = await run_command([PY, "-c", script], log=lines.append)
    assert lines == ["one", "two", "three"]
    assert result.returncode == 0
    assert result.output_tail == ("one", "two", "three")


async def test_lines_arrive_while_the_process_runs() -> None:
    seen_at: list[float] = []
    start = time.monotonic()
    script = "import time\nprint('early', flush=True)\ntime.sleep(0.5)\nprint('late', flush=True)"
    await run_command([PY, "-c", script], log=lambda _: seen_at.append(time.monotonic() - start))
    assert seen_at[1] - seen_at[0] > 0.3  # the first line came before the sleep ended


async def test_exit_code_and_tail_limit() -> None:
    script = "import sys\nfor i in range(100): print(i)\nsys.exit(3)"
    result = await run_command([PY, "-c", script], tail=5)
    assert result.returncode == 3
    assert result.output_tail == ("95", "96", "97", "98", "99")


async def test_check_raises_with_the_last_line() -> None:
    with pytest.raises(BackendError) as e:
        await run_command(
            [PY, "-c", "import sys; print('boom: disk full'); sys.exit(2)"], check=True
        )
    assert "exit code 2" in e.value.message and "boom: disk full" in e.value.message


async def test_secret_env_reaches_the_child_but_never_the_log() -> None:
    lines: list[str] = []
    result = await run_command(
        [PY, "-c", "import os; print('token is', os.environ['SB_TOKEN'])"],
        log=lines.append,
        secret_env={"SB_TOKEN": "s3cr3t-value"},
    )
    assert lines == ["token is ********"]
    assert "s3cr3t" not in " ".join(result.output_tail)


async def test_stdin_is_fed() -> None:
    lines: list[str] = []
    await run_command(
        [PY, "-c", "import sys; print(sys.stdin.read().upper())"], stdin=b"abc", log=lines.append
    )
    assert lines == ["ABC"]


async def test_timeout_kills_the_whole_process_group(tmp_path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # The child starts a grandchild that would outlive a plain kill of the child.
    script = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([{PY!r}, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    start = time.monotonic()
    with pytest.raises(CommandTimeout) as e:
        await run_command([PY, "-c", script], timeout=1.0)
    assert time.monotonic() - start < 10
    assert "did not finish within 1 s" in e.value.message
    grandchild = int(pidfile.read_text())
    await asyncio.sleep(0.2)
    assert not alive(grandchild)


async def test_cancel_kills_the_child(tmp_path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"
    task = asyncio.ensure_future(run_command([PY, "-c", script]))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if pidfile.exists() and pidfile.read_text():
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not alive(int(pidfile.read_text()))


async def test_a_line_longer_than_asyncios_default_limit_is_read_whole() -> None:
    # asyncio's readline gives up at 64 KiB; one-line JSON from a large cluster is longer.
    lines: list[str] = []
    result = await run_command([PY, "-c", "print('x' * 300_000); print('end')"], log=lines.append)
    assert result.returncode == 0 and lines == ["x" * 300_000, "end"]


async def test_capture_keeps_stdout_and_stderr_apart() -> None:
    script = "import sys\nprint('{\"a\": 1}')\nprint('ERROR no', file=sys.stderr)\nsys.exit(3)"
    out = await capture_command([PY, "-c", script])
    assert (out.returncode, out.stdout, out.stderr) == (3, '{"a": 1}\n', "ERROR no\n")


async def test_cancelled_capture_kills_the_process_group(tmp_path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    inner = f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"
    outer = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {inner!r}])\n" \
        "time.sleep(60)"
    task = asyncio.ensure_future(capture_command([PY, "-c", outer]))
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text()):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    grandchild = int(pidfile.read_text())
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 5
    # The grandchild is not ours to reap: once killed it is a zombie of init at most.
    deadline = time.monotonic() + 5
    while alive(grandchild):
        assert time.monotonic() < deadline, "the grandchild survived"
        await asyncio.sleep(0.02)


async def test_missing_program_is_a_clear_error() -> None:
    with pytest.raises(BackendError) as e:
        await run_command(["/nonexistent/juju", "status"])
    assert "'/nonexistent/juju' was not found" in e.value.message
    assert e.value.hint and "PATH" in e.value.hint


def test_redact_longest_first() -> None:
    assert redact("pw=abcdef and abc", ["abc", "abcdef"]) == "pw=******** and ********"
    assert redact("nothing", ["", "x1"]) == "nothing"
