"""Keystone: the admin password, and the environment the `openstack` client logs in with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from installer.backends.base import CommandResult, LogFn
from installer.plan import Step, StepContext, StepFailed

ADMIN_PASSWORD = "admin-password"  # the name of the secret in ctx.secret()
# The client comes from the openstackclients snap (the planner installs it on the host that runs
# it); the store grants that snap the `openstack` alias, so the command is `openstack` as in
# Sunbeam's documentation, found in /snap/bin on the host's PATH.
OPENSTACK_CLIENT_SNAP = "openstackclients"
OPENSTACK = "openstack"
# What a shell answers for a command it cannot find (the client's snap is not installed).
COMMAND_NOT_FOUND = 127


def admin_env(ctx: StepContext, auth_url: str) -> dict[str, str]:
    """Credentials for the `openstack` client, passed as secret environment (never logged)."""
    return {
        "OS_AUTH_URL": auth_url,
        "OS_USERNAME": "admin",
        "OS_PASSWORD": ctx.secret(ADMIN_PASSWORD),
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "admin_domain",
        "OS_PROJECT_DOMAIN_NAME": "admin_domain",
        "OS_IDENTITY_API_VERSION": "3",
    }


async def run_openstack(
    ctx: StepContext, host: str, auth_url: str, args: Sequence[str], *, log: LogFn
) -> CommandResult:
    """`openstack ARGS...` on `host` with the admin credentials as secret environment.

    A missing client is the plan's fault or a removed snap, not the cloud's: it fails the step
    with the fix instead of reading as "keystone refused" or "no such network"."""
    result = await ctx.backends.hosts.run(
        host, [OPENSTACK, *args], log=log, secret_env=admin_env(ctx, auth_url)
    )
    if result.returncode == COMMAND_NOT_FOUND:
        raise StepFailed(
            f"the {OPENSTACK} client is not installed on {host}",
            hint=f"On {host}: `sudo snap install {OPENSTACK_CLIENT_SNAP}`, then "
            "`sunbeam-install resume`.",
        )
    return result


@dataclass(eq=False, kw_only=True)
class AdminPassword(Step):
    """Set the OpenStack admin password from the installer's secret, and check it logs in."""

    model: str
    auth_url: str
    app: str = "keystone-k8s"
    wait_for: tuple[str, ...] = ("keystone-k8s",)

    def _host(self) -> str:
        if self.host is None:
            raise StepFailed(f"step {self.id} names no host", hint="This is a bug in the plan.")
        return self.host

    async def _logs_in(self, ctx: StepContext) -> bool:
        result = await run_openstack(
            ctx,
            self._host(),
            self.auth_url,
            ["token", "issue", "-f", "value", "-c", "expires"],
            log=ctx.log,
        )
        return result.returncode == 0

    async def done(self, ctx: StepContext) -> bool:
        return await self._logs_in(ctx)

    async def run(self, ctx: StepContext) -> None:
        juju = ctx.backends.juju
        await juju.wait_settled(
            self.model, list(self.wait_for), progress=ctx.progress, timeout=self.timeout
        )
        ctx.log(f"juju run {self.app}/leader set-admin-password password=<secret>")
        await juju.run_action(
            self.model,
            f"{self.app}/leader",
            "set-admin-password",
            {"password": ctx.secret(ADMIN_PASSWORD)},
        )
        if not await self._logs_in(ctx):
            raise StepFailed(
                "keystone does not accept the admin password that was just set",
                hint=f"`juju status -m {self.model} {self.app}` and its logs show why.",
                transient=True,
            )
