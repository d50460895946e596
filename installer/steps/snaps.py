"""Snaps on the bare hosts: install, refresh (reverting on failure), configure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from installer.backends.base import BackendError
from installer.plan import Step, StepContext, StepFailed


def _host(step: Step) -> str:
    if step.host is None:  # the planner always sets it; a hand-made step may not
        raise StepFailed(f"step {step.id} names no host", hint="This is a bug in the plan.")
    return step.host


@dataclass(eq=False, kw_only=True)
class SnapInstall(Step):
    """`snap install NAME --channel CHANNEL [--classic]` on one host."""

    snap: str
    channel: str
    classic: bool = False

    async def done(self, ctx: StepContext) -> bool:
        # Installed on any channel counts: changing channels is an upgrade's refresh.
        return await ctx.backends.snaps.info(_host(self), self.snap) is not None

    async def run(self, ctx: StepContext) -> None:
        host = _host(self)
        flags = " --classic" if self.classic else ""
        ctx.log(f"snap install {self.snap} --channel {self.channel}{flags}")
        info = await ctx.backends.snaps.install(
            host, self.snap, self.channel, classic=self.classic, progress=ctx.progress
        )
        ctx.log(f"{self.snap} ({info.channel}) revision {info.revision} installed on {host}")


@dataclass(eq=False, kw_only=True)
class SnapRefresh(Step):
    """`snap refresh NAME --channel CHANNEL` on one host; on failure, revert that host."""

    snap: str
    channel: str

    async def done(self, ctx: StepContext) -> bool:
        info = await ctx.backends.snaps.info(_host(self), self.snap)
        return info is not None and info.channel == self.channel

    async def run(self, ctx: StepContext) -> None:
        host = _host(self)
        snaps = ctx.backends.snaps
        before = await snaps.info(host, self.snap)
        if before is None:
            raise StepFailed(
                f"{self.snap} is not installed on {host}, so it cannot be refreshed",
                hint="Was this host deployed by this installer? `sunbeam-install status`.",
            )
        ctx.log(
            f"snap refresh {self.snap} --channel {self.channel} (from {before.channel} "
            f"revision {before.revision})"
        )
        try:
            info = await snaps.refresh(host, self.snap, self.channel, progress=ctx.progress)
        except BackendError as e:
            if e.transient:
                raise
            await self._revert(ctx, host, before.channel, before.revision, e)
        ctx.log(f"{self.snap} now {info.channel} revision {info.revision} on {host}")

    async def _revert(
        self, ctx: StepContext, host: str, channel: str, revision: str, error: BackendError
    ) -> NoReturn:
        snaps = ctx.backends.snaps
        now = await snaps.info(host, self.snap)
        ctx.log(f"refresh failed: {error.message}")
        if now is not None and (now.channel, now.revision) != (channel, revision):
            ctx.log(f"snap revert {self.snap} (back to {channel} revision {revision})")
            try:
                await snaps.revert(host, self.snap, progress=ctx.progress)
            except BackendError as e:
                raise StepFailed(
                    f"refreshing {self.snap} on {host} failed ({error.message}) and reverting "
                    f"it failed too ({e.message})",
                    hint=f"On {host}: `sudo snap revert {self.snap}`, then "
                    "`sunbeam-install resume`.",
                ) from e
            state = "reverted to"
        else:
            state = "still on"
        raise StepFailed(
            f"refreshing {self.snap} on {host} to {self.channel} failed: {error.message}; "
            f"{host} is {state} {channel} revision {revision}",
            hint=error.hint
            or f"`snap changes` on {host} shows why; fix it and run `sunbeam-install resume`.",
        ) from error


@dataclass(eq=False, kw_only=True)
class SnapConfig(Step):
    """`snap set NAME key=value ...` on one host."""

    snap: str
    values: Mapping[str, object] = field(default_factory=dict)

    async def done(self, ctx: StepContext) -> bool:
        current = await ctx.backends.snaps.get_config(_host(self), self.snap, list(self.values))
        return all(current.get(k) == v for k, v in self.values.items())

    async def run(self, ctx: StepContext) -> None:
        settings = " ".join(f"{k}={v}" for k, v in self.values.items())
        ctx.log(f"snap set {self.snap} {settings}")
        await ctx.backends.snaps.set_config(_host(self), self.snap, self.values)
