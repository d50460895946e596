"""A minimal StepContext and a sequential loop, to run plans before/without the runner."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from installer.backends.base import Backends
from installer.lab import Lab
from installer.plan import Plan
from manifests.answers import Answers
from manifests.loader import load_answers
from manifests.release import Release, load_release

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
PASSWORD = "s3cret-Pa55word-for-tests"  # for an identity.admin_password_file


def example(name: str) -> Answers:
    return load_answers(EXAMPLES / f"{name}.yaml")


def install_example(state: Path, example: str = "three-node.yaml") -> Path:
    """A dry-run install of examples/EXAMPLE through the CLI at time scale 0 (its events in
    install.jsonl beside `state`); `state`."""
    from installer.cli import main

    assert main(["--answers", str(EXAMPLES / example), "--dry-run", "--yes", "--state-dir",
                 str(state), "--time-scale", "0", "--events-file",
                 str(state.parent / "install.jsonl")]) == 0
    return state


@dataclass
class Ctx:
    answers: Answers
    release: Release
    backends: Backends
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    logs: list[str] = field(default_factory=list)
    progress_messages: list[tuple[str, float | None]] = field(default_factory=list)
    secrets_asked: list[str] = field(default_factory=list)
    # The secrets a run knows, as the runner's Secrets: an answers file's password, or what an
    # earlier run (or the keystone.admin-password step) kept.
    secrets: dict[str, str] = field(default_factory=dict)

    def progress(self, message: str, fraction: float | None = None) -> None:
        self.progress_messages.append((message, fraction))

    def log(self, line: str) -> None:
        self.logs.append(line)

    def remaining(self) -> float:
        return 3600.0  # a step's default timeout: waits here end by their own timeouts

    def secret(self, name: str) -> str:
        self.secrets_asked.append(name)
        assert name == "admin-password"
        return self.secrets[name]  # KeyError when not known yet, as in the runner

    def keep_secret(self, name: str, value: str) -> None:
        assert name == "admin-password"
        self.secrets[name] = value


def ctx_for(answers: Answers, backends: Backends, secrets: dict[str, str] | None = None) -> Ctx:
    return Ctx(answers, load_release(answers.release), backends, secrets=dict(secrets or {}))


def admin_secret(lab: Lab) -> dict[str, str]:
    """The secrets a run after a lab install knows: the password keystone-k8s generated, which
    the install kept (no identity.admin_password_file)."""
    password = lab.keystone_admin_password()
    assert password is not None, "keystone is not active in the lab"
    return {"admin-password": password}


async def run_sequentially(plan: Plan, ctx: Ctx) -> dict[str, str]:
    """done() then run() of each step in plan order; returns step id -> "done" | "skipped"."""
    outcome: dict[str, str] = {}
    for step in plan.steps:
        if await step.done(ctx):
            outcome[step.id] = "skipped"
            continue
        await step.run(ctx)
        assert await step.done(ctx), f"{step.id} ran but done() is still false"
        outcome[step.id] = "done"
    return outcome


async def run_concurrently(plan: Plan, ctx: Ctx) -> dict[str, tuple[float, float]]:
    """Every step as soon as its needs are done (no bound); returns id -> (start, end)."""
    loop = asyncio.get_running_loop()
    finished: dict[str, asyncio.Future[None]] = {s.id: loop.create_future() for s in plan.steps}
    times: dict[str, tuple[float, float]] = {}

    async def one(step_id: str) -> None:
        step = plan[step_id]
        for n in step.needs:
            await finished[n]
        t0 = loop.time()
        if not await step.done(ctx):
            await step.run(ctx)
        times[step_id] = (t0, loop.time())
        finished[step_id].set_result(None)

    await asyncio.gather(*(one(s.id) for s in plan.steps))
    return times
