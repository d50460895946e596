"""The steps of an upgrade plan that the install steps do not already provide.

Reused from installer/steps: `SnapRefresh` (refresh on one host; a permanent failure reverts
that host with `snap revert` and fails the step with the hint) and `NodesReady`. Added here:

- `CharmUpgrade`: `juju refresh APP --channel C`, then wait for the application to settle; a
  failure names the application and the command that goes back to the channel it came from;
- `CephFlag`: `ceph osd set noout` before a storage host's refresh;
- `CephHealthy`: after it, the microceph application active and idle, every OSD of the host
  back, `noout` unset and `ceph health` HEALTH_OK, before the next storage host;
- `ComputeScheduling`: disable (or enable again) a compute host for scheduling while its
  hypervisor is refreshed.

Every `done()` asks the backends, so a resumed or repeated upgrade skips what is in place.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from installer.backends.base import BackendError, CommandResult, LogFn
from installer.plan import Step, StepContext, StepFailed, wait_timeout
from installer.steps.identity import COMMAND_NOT_FOUND, OPENSTACK, run_openstack

if TYPE_CHECKING:
    from installer.plan import Plan

CEPH = "microceph.ceph"  # the microceph snap's `ceph`
HEALTH_OK = "HEALTH_OK"

# Nova shows it as the service's disabled reason: who disabled the host, and why.
DISABLE_REASON = "sunbeam-install upgrade"


@dataclass(eq=False, kw_only=True)
class CharmUpgrade(Step):
    """Refresh one application to the target channel (and revision, when the release pins one)
    and wait until every unit is active and idle again."""

    model: str
    app: str
    channel: str
    revision: int | None = None
    from_channel: str | None = None  # where it was when the upgrade started: the way back
    from_revision: int | None = None

    def _back(self) -> str:
        if self.from_channel is None:
            return f"`juju status -m {self.model} {self.app}` shows its state"
        rev = f" --revision {self.from_revision}" if self.from_revision else ""
        return (f"to go back run `juju refresh {self.app} -m {self.model} "
                f"--channel {self.from_channel}{rev}`")

    async def done(self, ctx: StepContext) -> bool:
        a = (await ctx.backends.juju.status(self.model)).apps.get(self.app)
        if a is None or a.channel != self.channel:
            return False
        return (self.revision is None or a.revision == self.revision) and a.settled

    async def run(self, ctx: StepContext) -> None:
        juju = ctx.backends.juju
        a = (await juju.status(self.model)).apps.get(self.app)
        if a is None:
            raise StepFailed(
                f"application {self.app} is not in model {self.model}, so it cannot be "
                "upgraded",
                hint=f"`juju status -m {self.model}` lists what is deployed; "
                "`sunbeam-install upgrade --show` what the upgrade saw.",
            )
        wanted = a.channel != self.channel or (
            self.revision is not None and a.revision != self.revision)
        if wanted:
            rev = f" --revision {self.revision}" if self.revision else ""
            ctx.log(f"juju refresh {self.app} -m {self.model} --channel {self.channel}{rev} "
                    f"(from {a.channel} revision {a.revision})")
            ctx.progress(f"refreshing {self.app} to {self.channel}", None)
            try:
                await juju.refresh(self.model, self.app, channel=self.channel,
                                   revision=self.revision)
            except BackendError as e:
                if e.transient:
                    raise
                raise StepFailed(
                    f"refreshing {self.app} to {self.channel} failed: {e.message}",
                    hint=f"{e.hint + ' ' if e.hint else ''}The upgrade stopped at {self.app}; "
                    f"{self._back()}, or fix the cause and run `sunbeam-install resume`.",
                ) from e
        else:
            ctx.log(f"{self.app} is on {self.channel} already; waiting for it to settle")
        try:
            await juju.wait_settled(self.model, [self.app], progress=ctx.progress,
                                    timeout=wait_timeout(ctx))
        except BackendError as e:
            if e.transient:
                raise
            raise StepFailed(
                f"{self.app} did not settle on {self.channel}: {e.message}",
                hint=f"{e.hint + ' ' if e.hint else ''}The upgrade stopped at {self.app}; "
                f"{self._back()}, or fix it and run `sunbeam-install resume`.",
            ) from e
        ctx.log(f"{self.app} active on {self.channel}")


async def ceph(ctx: StepContext, host: str, *args: str, log: LogFn | None = None) -> CommandResult:
    """`sudo microceph.ceph ARGS...` on a storage host (the microceph snap's Ceph client; it
    reads the cluster's admin keyring, hence root). The microceph charm has no action that
    reports health or sets OSD flags, so the installer asks Ceph itself, as an operator does."""
    result = await ctx.backends.hosts.run(host, [CEPH, *args], sudo=True,
                                          log=log or ctx.log)
    if result.returncode == COMMAND_NOT_FOUND:
        raise StepFailed(
            f"{CEPH} is not on {host}, so Ceph cannot be asked from there",
            hint=f"Is the microceph snap installed on {host}? `snap list microceph`; then "
            "`sunbeam-install resume`.",
        )
    if result.returncode != 0:
        raise StepFailed(
            f"`{CEPH} {' '.join(args)}` failed on {host} (exit {result.returncode})",
            hint=f"The log above has Ceph's message; `sudo {CEPH} status` on {host}.",
            transient=True,
        )
    return result


async def ceph_json(ctx: StepContext, host: str, *args: str) -> dict[str, Any]:
    """A `microceph.ceph ... --format json` answer (its last output line), logged nowhere:
    health is polled, and its JSON would flood the step's log."""
    result = await ceph(ctx, host, *args, "--format", "json", log=_quiet)
    try:
        data = json.loads(result.output_tail[-1]) if result.output_tail else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise StepFailed(
            f"`{CEPH} {' '.join(args)} --format json` on {host} gave no JSON object",
            hint=f"Run it on {host} and check its output; then `sunbeam-install resume`.",
            transient=True,
        )
    return data


async def ceph_flags(ctx: StepContext, host: str) -> set[str]:
    """The cluster's OSD map flags (`ceph osd dump`), e.g. {"noout", "sortbitwise"}."""
    flags = (await ceph_json(ctx, host, "osd", "dump")).get("flags", "")
    return {f for f in str(flags).split(",") if f}


async def ceph_health(ctx: StepContext, host: str) -> tuple[str, list[str]]:
    """Ceph's health (HEALTH_OK, HEALTH_WARN, HEALTH_ERR) and the summaries of its checks."""
    data = await ceph_json(ctx, host, "health")
    checks = data.get("checks")
    summaries = [
        f"{code}: {c.get('summary', {}).get('message', '')}"
        for code, c in (checks.items() if isinstance(checks, dict) else ())
        if isinstance(c, dict)
    ]
    return str(data.get("status", "HEALTH_UNKNOWN")), summaries


def _quiet(line: str) -> None:
    del line


@dataclass(eq=False, kw_only=True)
class CephFlag(Step):
    """`ceph osd set|unset FLAG`, run on `host`. Before a storage host's refresh: `noout`, so
    Ceph does not start moving that host's data elsewhere while its OSDs restart."""

    flag: str = "noout"
    on: bool = True

    async def done(self, ctx: StepContext) -> bool:
        return (self.flag in await ceph_flags(ctx, _host(self))) == self.on

    async def run(self, ctx: StepContext) -> None:
        verb = "set" if self.on else "unset"
        ctx.log(f"sudo {CEPH} osd {verb} {self.flag}")
        await ceph(ctx, _host(self), "osd", verb, self.flag)


@dataclass(eq=False, kw_only=True)
class CephHealthy(Step):
    """Ceph is healthy again after a storage host's refresh: the microceph application active
    and idle, every OSD the host had before the upgrade listed again, the `unset` flags (the
    `noout` set before the refresh) cleared, and `ceph health` HEALTH_OK within
    `health_timeout` seconds. Only then does the next storage host start."""

    model: str
    app: str = "microceph"
    osds: tuple[str, ...] = ()  # device paths of this host's OSDs before the upgrade
    unset: tuple[str, ...] = ()  # OSD flags set around the refresh, cleared here
    health_timeout: float = 1800.0  # seconds HEALTH_OK may take once the flags are cleared
    poll_interval: float = 10.0

    async def _missing(self, ctx: StepContext) -> list[str]:
        from installer.steps import unit_on
        from installer.upgrade.detect import ceph_osds

        status = await ctx.backends.juju.status(self.model)
        unit = unit_on(status, self.app, self.host or "") or f"{self.app}/leader"
        listed = await ceph_osds(ctx.backends, self.model, unit)
        present = {o.path for o in listed if o.host == self.host}
        return [d for d in self.osds if d not in present]

    async def done(self, ctx: StepContext) -> bool:
        a = (await ctx.backends.juju.status(self.model)).apps.get(self.app)
        if a is None or not a.settled or await self._missing(ctx):
            return False
        host = _host(self)
        if set(self.unset) & await ceph_flags(ctx, host):
            return False
        return (await ceph_health(ctx, host))[0] == HEALTH_OK

    async def run(self, ctx: StepContext) -> None:
        host = _host(self)
        ctx.log(f"waiting for {self.app} to be active and idle")
        await ctx.backends.juju.wait_settled(self.model, [self.app], progress=ctx.progress,
                                             timeout=wait_timeout(ctx))
        missing = await self._missing(ctx)
        if missing:
            # The flags stay set: with OSDs missing, Ceph must not rebalance yet.
            raise StepFailed(
                f"Ceph does not list the OSDs {', '.join(missing)} of {host} after its "
                "refresh",
                hint=f"On {host}: `sudo microceph disk list` and `sudo {CEPH} status`; bring "
                "them back, then `sunbeam-install resume`.",
                transient=True,
            )
        flags = await ceph_flags(ctx, host)
        for flag in self.unset:
            if flag in flags:
                ctx.log(f"sudo {CEPH} osd unset {flag}")
                await ceph(ctx, host, "osd", "unset", flag)
        loop = asyncio.get_running_loop()
        # Within the step's own time too, so this message, not the runner's, says what failed.
        patience = min(self.health_timeout, wait_timeout(ctx))
        deadline = loop.time() + patience
        while True:
            status, checks = await ceph_health(ctx, host)
            if status == HEALTH_OK:
                break
            if loop.time() >= deadline:
                raise StepFailed(
                    f"Ceph is still {status} {patience:g} s after {host}'s refresh"
                    + (f" ({'; '.join(checks)})" if checks else ""),
                    hint=f"On {host}: `sudo {CEPH} health detail` says what it waits for; "
                    "once it reports HEALTH_OK run `sunbeam-install resume` (the next storage "
                    "host is refreshed only after that).",
                )
            ctx.progress(f"Ceph {status}: {'; '.join(checks) or 'no details'}", None)
            await asyncio.sleep(max(0.0, min(self.poll_interval, deadline - loop.time())))
        ctx.log(f"Ceph {HEALTH_OK}")
        ctx.progress(f"Ceph healthy, {len(self.osds)} OSDs of {host} up", 1.0)


def scale_waits(plan: Plan, scale: float) -> Plan:
    """Scale the health waits of an upgrade plan by the lab's time scale (dry-run), as the lab
    scales every other duration: a cluster the lab keeps degraded then times out in
    `health_timeout x scale` instead of half an hour."""
    for step in plan.steps:
        if isinstance(step, CephHealthy):
            step.health_timeout *= scale
            step.poll_interval *= scale
    return plan


def _host(step: Step) -> str:
    if step.host is None:
        raise StepFailed(f"step {step.id} names no host", hint="This is a bug in the plan.")
    return step.host


@dataclass(eq=False, kw_only=True)
class ComputeScheduling(Step):
    """`openstack compute service set --disable|--enable HOST nova-compute`, run on a control
    host with the admin credentials (secret environment, never logged); `done()` reads the
    service's status with `openstack compute service list`."""

    compute_host: str
    enable: bool
    auth_url: str

    async def _status(self, ctx: StepContext) -> str | None:
        result = await run_openstack(
            ctx, self._runner(), self.auth_url,
            ["compute", "service", "list", "--host", self.compute_host,
             "--service", "nova-compute", "-f", "value", "-c", "Status"],
            log=ctx.log,
        )
        if result.returncode != 0 or not result.output_tail:
            return None
        return result.output_tail[-1].strip()

    def _runner(self) -> str:
        if self.host is None:
            raise StepFailed(f"step {self.id} names no host", hint="This is a bug in the plan.")
        return self.host

    async def done(self, ctx: StepContext) -> bool:
        return await self._status(ctx) == ("enabled" if self.enable else "disabled")

    async def run(self, ctx: StepContext) -> None:
        flag = "--enable" if self.enable else "--disable"
        args = ["compute", "service", "set", flag]
        if not self.enable:
            args += ["--disable-reason", DISABLE_REASON]
        args += [self.compute_host, "nova-compute"]
        ctx.log("$ " + " ".join((OPENSTACK, *args)))
        result = await run_openstack(ctx, self._runner(), self.auth_url, args, log=ctx.log)
        if result.returncode != 0:
            what = "enable" if self.enable else "disable"
            raise StepFailed(
                f"cannot {what} {self.compute_host} for scheduling ({OPENSTACK} exited "
                f"{result.returncode})",
                hint=f"Run `{OPENSTACK} compute service set {flag} {self.compute_host} "
                "nova-compute` by hand, then `sunbeam-install resume`.",
            )
