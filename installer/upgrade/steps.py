"""The steps of an upgrade plan that the install steps do not already provide.

Reused from installer/steps: `SnapRefresh` (refresh on one host; a permanent failure reverts
that host with `snap revert` and fails the step with the hint) and `NodesReady`. Added here:

- `CharmUpgrade`: `juju refresh APP --channel C`, then wait for the application to settle; a
  failure names the application and the command that goes back to the channel it came from;
- `CephHealthy`: the microceph application active and idle and every OSD of the host back,
  between two storage hosts;
- `ComputeScheduling`: disable (or enable again) a compute host for scheduling while its
  hypervisor is refreshed.

Every `done()` asks the backends, so a resumed or repeated upgrade skips what is in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from installer.backends.base import BackendError
from installer.plan import Step, StepContext, StepFailed
from installer.steps.identity import admin_env


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
                                    timeout=self.timeout)
        except BackendError as e:
            if e.transient:
                raise
            raise StepFailed(
                f"{self.app} did not settle on {self.channel}: {e.message}",
                hint=f"{e.hint + ' ' if e.hint else ''}The upgrade stopped at {self.app}; "
                f"{self._back()}, or fix it and run `sunbeam-install resume`.",
            ) from e
        ctx.log(f"{self.app} active on {self.channel}")


@dataclass(eq=False, kw_only=True)
class CephHealthy(Step):
    """Ceph is healthy again after a storage host's refresh: the microceph application active
    and idle, and every OSD the host had before the upgrade listed again.

    In the lab this is what Ceph health can be seen through. On a real cloud the check to add
    is `microceph.ceph health --format json` == HEALTH_OK (with `noout` set around the host's
    refresh); it needs a Ceph-health backend query the lab also answers."""

    model: str
    app: str = "microceph"
    osds: tuple[str, ...] = ()  # device paths of this host's OSDs before the upgrade

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
        return a is not None and a.settled and not await self._missing(ctx)

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"waiting for {self.app} to be active and idle")
        await ctx.backends.juju.wait_settled(self.model, [self.app], progress=ctx.progress,
                                             timeout=self.timeout)
        missing = await self._missing(ctx)
        if missing:
            raise StepFailed(
                f"Ceph does not list the OSDs {', '.join(missing)} of {self.host} after its "
                "refresh",
                hint=f"On {self.host}: `sudo microceph disk list` and `sudo microceph.ceph "
                "status`; bring them back, then `sunbeam-install resume`.",
                transient=True,
            )
        ctx.progress(f"Ceph healthy, {len(self.osds)} OSDs of {self.host} up", 1.0)


@dataclass(eq=False, kw_only=True)
class ComputeScheduling(Step):
    """`openstack compute service set --disable|--enable HOST nova-compute`, run on a control
    host with the admin credentials (secret environment, never logged). The lab does not
    simulate this command yet, so only real clouds can use it (`--one-at-a-time`)."""

    compute_host: str
    enable: bool
    auth_url: str

    async def _status(self, ctx: StepContext) -> str | None:
        result = await ctx.backends.hosts.run(
            self._runner(),
            ["openstack", "compute", "service", "list", "--host", self.compute_host,
             "--service", "nova-compute", "-f", "value", "-c", "Status"],
            log=ctx.log, secret_env=admin_env(ctx, self.auth_url),
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
        argv = ["openstack", "compute", "service", "set", flag]
        if not self.enable:
            argv += ["--disable-reason", "sunbeam-install upgrade"]
        argv += [self.compute_host, "nova-compute"]
        result = await ctx.backends.hosts.run(self._runner(), argv, log=ctx.log,
                                              secret_env=admin_env(ctx, self.auth_url))
        if result.returncode != 0:
            what = "enable" if self.enable else "disable"
            raise StepFailed(
                f"cannot {what} {self.compute_host} for scheduling (openstack exited "
                f"{result.returncode})",
                hint=f"Run `openstack compute service set {flag} {self.compute_host} "
                "nova-compute` by hand, then `sunbeam-install resume`.",
            )
