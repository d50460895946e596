"""Removing from a deployed cloud (a converge with `--allow-removal`, or a disabled feature):
a compute host's Nova service disabled first (refused while guests run there), a storage host's
OSDs only once Ceph says they are safe to destroy, then its units, then its machine; and a
feature's applications and the integrations that no longer belong.

Each step is idempotent: done() reads the live state, so a resumed converge skips what the
first attempt finished."""

from __future__ import annotations

import json
from dataclasses import dataclass

from installer.plan import JUJU, Step, StepContext, StepFailed
from installer.steps import machine_of, unit_on
from installer.steps.identity import run_openstack
from installer.steps.juju import JujuStep

PROG = "sunbeam-install"
CEPH = "microceph.ceph"


def _tail_json(lines: tuple[str, ...]) -> object:
    for line in reversed(lines):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


@dataclass(eq=False, kw_only=True)
class DisableCompute(Step):
    """Refuse while servers run on `compute_host`; else disable its Nova compute service, so
    the scheduler places nothing there while its units go. Runs the `openstack` client on
    `host` (the first control host, as the install's OpenStack steps do)."""

    compute_host: str
    auth_url: str

    @property
    def resources(self) -> tuple[str, ...]:
        return (JUJU, *super().resources)

    async def done(self, ctx: StepContext) -> bool:
        del ctx
        return False  # the guest check must run every time: guests may have come since

    async def run(self, ctx: StepContext) -> None:
        host = self.host or ""
        result = await run_openstack(ctx, host, self.auth_url, [
            "server", "list", "--all-projects", "--host", self.compute_host,
            "-f", "json", "-c", "Name", "-c", "Status"], log=lambda _line: None)
        servers = _tail_json(result.output_tail)
        if result.returncode != 0 or not isinstance(servers, list):
            raise StepFailed(
                f"could not list the servers on {self.compute_host}",
                hint=f"`openstack server list --all-projects --host {self.compute_host}` "
                "on the first control host says why; then resume.", transient=True)
        if servers:
            names = ", ".join(str(s.get("Name", "?")) for s in servers if isinstance(s, dict))
            raise StepFailed(
                f"{self.compute_host} still runs {len(servers)} guest(s): {names}",
                hint=f"Migrate or delete them (`openstack server migrate --live-migration` or "
                f"`openstack server delete`), then `{PROG} resume`.")
        ctx.log(f"no guests on {self.compute_host}; disabling its compute service")
        result = await run_openstack(ctx, host, self.auth_url, [
            "compute", "service", "set", "--disable", "--disable-reason",
            "removed by sunbeam-install", self.compute_host, "nova-compute"], log=ctx.log)
        if result.returncode != 0:
            raise StepFailed(f"could not disable the compute service of {self.compute_host}",
                             hint="The log above has the client's message; then resume.",
                             transient=True)


@dataclass(eq=False, kw_only=True)
class RemoveOsds(Step):
    """Take `osd_host`'s OSDs out of Ceph only when Ceph says it is safe (`ceph osd
    ok-to-stop`, then `ceph osd safe-to-destroy` once they are out), then purge them. The Ceph
    client runs on `host`, a storage host that stays (the removed one may be gone already)."""

    osd_host: str

    async def done(self, ctx: StepContext) -> bool:
        return not await self._ids(ctx)

    async def _ids(self, ctx: StepContext) -> list[int]:
        result = await ctx.backends.hosts.run(
            self.host or "", [CEPH, "osd", "ls-tree", self.osd_host, "--format", "json"],
            sudo=True, log=lambda _line: None)
        ids = _tail_json(result.output_tail)
        if result.returncode != 0 or not isinstance(ids, list):
            raise StepFailed(f"Ceph did not list the OSDs of {self.osd_host}",
                             hint=f"`sudo {CEPH} osd tree` on {self.host}; then resume.",
                             transient=True)
        return [int(i) for i in ids]

    async def _ceph(self, ctx: StepContext, *args: str) -> tuple[int, str]:
        result = await ctx.backends.hosts.run(self.host or "", [CEPH, *args], sudo=True,
                                              log=ctx.log)
        return result.returncode, (result.output_tail[-1] if result.output_tail else "")

    async def run(self, ctx: StepContext) -> None:
        ids = [str(i) for i in sorted(await self._ids(ctx))]
        code, said = await self._ceph(ctx, "osd", "ok-to-stop", *ids)
        if code != 0:
            raise StepFailed(
                f"Ceph says the OSDs of {self.osd_host} ({', '.join(ids)}) are not ok to "
                f"stop: {said}", hint="Add storage hosts first, or wait for recovery "
                f"(`ceph status`), then `{PROG} resume`.")
        await self._ceph(ctx, "osd", "out", *ids)
        code, said = await self._ceph(ctx, "osd", "safe-to-destroy", *ids)
        if code != 0:
            raise StepFailed(
                f"Ceph says the OSDs of {self.osd_host} are not safe to destroy yet: {said}",
                hint=f"Data is still moving off them (`ceph status`); `{PROG} resume` later.",
                transient=True)
        for i in reversed(ids):  # the highest first: the others keep their ids
            code, said = await self._ceph(ctx, "osd", "purge", i, "--yes-i-really-mean-it")
            if code != 0:
                raise StepFailed(f"Ceph did not purge osd.{i}: {said}",
                                 hint=f"`sudo {CEPH} osd tree` on {self.host}; then resume.")


@dataclass(eq=False, kw_only=True)
class RemoveUnit(JujuStep):
    """`juju remove-unit` of `app`'s unit on `host` (its subordinates go with it)."""

    model: str
    app: str

    async def done(self, ctx: StepContext) -> bool:
        status = await ctx.backends.juju.status(self.model, (self.app,))
        return unit_on(status, self.app, self.host or "") is None

    async def run(self, ctx: StepContext) -> None:
        status = await ctx.backends.juju.status(self.model)
        unit = unit_on(status, self.app, self.host or "")
        if unit is None:
            return
        ctx.log(f"juju remove-unit -m {self.model} {unit}")
        await ctx.backends.juju.remove_unit(self.model, unit)


@dataclass(eq=False, kw_only=True)
class RemoveMachine(JujuStep):
    """`juju remove-machine` of `host`, once none of its units is left."""

    model: str

    async def done(self, ctx: StepContext) -> bool:
        return machine_of(await ctx.backends.juju.status(self.model), self.host or "") is None

    async def run(self, ctx: StepContext) -> None:
        status = await ctx.backends.juju.status(self.model)
        machine = machine_of(status, self.host or "")
        if machine is None:
            return
        left = [u.name for a in status.apps.values() for u in a.units.values()
                if u.machine == machine]
        if left:
            raise StepFailed(f"{self.host} (machine {machine}) still has units: "
                             f"{', '.join(sorted(left))}",
                             hint=f"`juju status -m {self.model}`; then resume.")
        ctx.log(f"juju remove-machine -m {self.model} {machine}")
        await ctx.backends.juju.remove_machine(self.model, machine)


@dataclass(eq=False, kw_only=True)
class RemoveApplication(JujuStep):
    """`juju remove-application APP` (a disabled feature's application)."""

    model: str
    app: str

    async def done(self, ctx: StepContext) -> bool:
        return self.app not in (await ctx.backends.juju.status(self.model, (self.app,))).apps

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"juju remove-application -m {self.model} {self.app}")
        await ctx.backends.juju.remove_application(self.model, self.app)


@dataclass(eq=False, kw_only=True)
class RemoveRelation(JujuStep):
    """`juju remove-relation A B`: an integration the new answers no longer have."""

    model: str
    a: str
    b: str

    async def done(self, ctx: StepContext) -> bool:
        status = await ctx.backends.juju.status(self.model)
        return frozenset((self.a, self.b)) not in status.relations

    async def run(self, ctx: StepContext) -> None:
        ctx.log(f"juju remove-relation -m {self.model} {self.a} {self.b}")
        await ctx.backends.juju.remove_relation(self.model, self.a, self.b)
