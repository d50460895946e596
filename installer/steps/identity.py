"""Keystone: the admin password, and the environment the `openstack` client logs in with."""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import Step, StepContext, StepFailed

ADMIN_PASSWORD = "admin-password"  # the name of the secret in ctx.secret()


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
        result = await ctx.backends.hosts.run(
            self._host(),
            ["openstack", "token", "issue", "-f", "value", "-c", "expires"],
            log=ctx.log,
            secret_env=admin_env(ctx, self.auth_url),
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
