"""The runner over the real JujuCliBackend and the fake `juju`, in this process or as a program.

As a program (``python -m tests.installer.backends.juju_runs DIR JUJU CONTROLLER MODEL APP
TIMEOUT``) it runs one WaitSettled step with SIGINT calling `Runner.interrupt`, as the CLI
does, and prints the run's outcome as a JSON line: a test sends it a real SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from installer.backends.base import Backends
from installer.backends.juju import JujuCliBackend
from installer.events import Event
from installer.journal import Journal
from installer.plan import Plan, Step
from installer.runner import Runner, RunOptions
from installer.secrets import Secrets
from installer.steps.juju import WaitSettled
from manifests.release import load_release

POLL = 0.05  # seconds between status polls (production polls every few seconds)


@dataclass
class JujuRun:
    """A Runner whose steps talk to `juju` (only), with the events it emitted."""

    runner: Runner
    journal: Journal
    events: list[Event] = field(default_factory=list)


def juju_backend(exe: str, controller: str) -> JujuCliBackend:
    """The real backend against `exe`, polling quickly."""
    return JujuCliBackend(cli_binary=exe, controller=controller, poll_interval=POLL)


def wait_step(model: str, app: str, timeout: float) -> WaitSettled:
    """The install's wait for applications to settle, with a short timeout."""
    return WaitSettled(id=f"juju.wait:{app}", title=f"Wait for {app}", apps={model: (app,)},
                       timeout=timeout)


def juju_run(tmp: Path, juju: JujuCliBackend, steps: list[Step], **options: Any) -> JujuRun:
    """A Runner for `steps` journaled under `tmp`; `options` are RunOptions fields."""
    plan = Plan(steps)
    journal = Journal.open(tmp / "journal.sqlite")
    record = journal.start_run(
        kind="install", answers_snapshot="{}", answers_path=None, dry_run=False,
        steps=[(s.id, s.title, s.host) for s in plan.steps],
    )
    backends = Backends(snaps=cast(Any, None), juju=juju, k8s=cast(Any, None),
                        hosts=cast(Any, None))
    events: list[Event] = []
    runner = Runner(
        plan, answers=cast(Any, None), release=load_release("2025.1"), backends=backends,
        journal=journal, run_id=record.id, emit=events.append, secrets=Secrets(tmp / "secrets"),
        options=RunOptions(backoff=0.01, **options),
    )
    return JujuRun(runner, journal, events)


async def _main(args: list[str]) -> int:
    tmp, exe, controller, model, app, timeout = args
    run = juju_run(Path(tmp), juju_backend(exe, controller),
                   [wait_step(model, app, float(timeout))])
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, run.runner.interrupt)
    result = await run.runner.run()
    run.journal.close()
    print(json.dumps({"outcome": result.outcome}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main(sys.argv[1:])))
