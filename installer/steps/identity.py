"""Keystone: the admin password, and the environment the `openstack` client logs in with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from installer.backends.base import CommandResult, LogFn
from installer.plan import JUJU, Step, StepContext, StepFailed, wait_timeout

ADMIN_PASSWORD = "admin-password"  # the name of the secret in ctx.secret()
# The client is the one Sunbeam itself runs: the `openstack` command of its `openstack` snap
# (app `openstack`, part sunbeam-and-openstackclients), on the release's track, so its client
# libraries match the cloud's APIs. The planner installs the snap on the host that runs it; the
# snap is not bootstrapped, only its client is used. (A library such as openstacksdk in the
# installer's environment would need its own version pinning per release and a route to the
# internal endpoints from wherever the installer runs; the first control host has both.)
OPENSTACK_CLIENT_SNAP = "openstack"
OPENSTACK = "openstack"
# What a shell answers for a command it cannot find (the client's snap is not installed).
COMMAND_NOT_FOUND = 127


# The admin user and its project live in this domain in keystone-k8s (as in Sunbeam's openrc).
ADMIN_DOMAIN = "admin_domain"
# Where the operator's new password travels: the environment of `sh -c`, never argv (the command
# line is logged and visible in `ps`; the SSH backend sends secret environment over stdin).
NEW_PASSWORD_ENV = "OS_NEW_PASSWORD"
SET_PASSWORD_SCRIPT = (
    f'{OPENSTACK} user set --domain {ADMIN_DOMAIN} --password "${NEW_PASSWORD_ENV}" admin'
)


def admin_env(ctx: StepContext, auth_url: str, password: str | None = None) -> dict[str, str]:
    """Credentials for the `openstack` client, passed as secret environment (never logged).

    The password is the installer's admin-password secret unless `password` is given."""
    return {
        "OS_AUTH_URL": auth_url,
        "OS_USERNAME": "admin",
        "OS_PASSWORD": password if password is not None else _installer_password(ctx),
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": ADMIN_DOMAIN,
        "OS_PROJECT_DOMAIN_NAME": ADMIN_DOMAIN,
        "OS_IDENTITY_API_VERSION": "3",
    }


# Only these travel as secret environment: a host backend blanks every secret's value out of
# the command's output, so "3" (the API version) or "admin" would be cut out of host names,
# addresses and JSON. The rest is not secret and is set with `env` on the command line.
SECRET_ENV = frozenset({"OS_PASSWORD", NEW_PASSWORD_ENV})


def client_argv(argv: Sequence[str], env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """`argv` prefixed with `env K=V` for the plain variables, and the secret ones apart."""
    plain = [f"{k}={v}" for k, v in env.items() if k not in SECRET_ENV]
    secret = {k: v for k, v in env.items() if k in SECRET_ENV}
    return (["env", *plain, *argv] if plain else list(argv)), secret


async def _run_client(
    ctx: StepContext, host: str, argv: Sequence[str], env: dict[str, str], *, log: LogFn
) -> CommandResult:
    """`argv` (which runs the openstack client) on `host` with `env` as secret environment.

    A missing client is the plan's fault or a removed snap, not the cloud's: it fails the step
    with the fix instead of reading as "keystone refused" or "no such network"."""
    argv, secret = client_argv(argv, env)
    result = await ctx.backends.hosts.run(host, argv, log=log, secret_env=secret)
    if result.returncode == COMMAND_NOT_FOUND:
        raise StepFailed(
            f"the {OPENSTACK} client is not installed on {host}",
            hint=f"On {host}: `sudo snap install {OPENSTACK_CLIENT_SNAP}`, then "
            "`sunbeam-install resume`.",
        )
    return result


async def run_openstack(
    ctx: StepContext, host: str, auth_url: str, args: Sequence[str], *, log: LogFn
) -> CommandResult:
    """`openstack ARGS...` on `host` with the admin credentials as secret environment."""
    return await _run_client(ctx, host, [OPENSTACK, *args], admin_env(ctx, auth_url), log=log)


def _known_password(ctx: StepContext) -> str | None:
    try:
        return ctx.secret(ADMIN_PASSWORD)
    except KeyError:  # no password file and the charm's password not kept yet
        return None


def _installer_password(ctx: StepContext) -> str:
    password = _known_password(ctx)
    if password is None:
        # e.g. an upgrade of a cloud whose install stopped before keystone.admin-password.
        raise StepFailed(
            "the installer holds no OpenStack admin password yet",
            hint="Finish the install (`sunbeam-install resume`): its keystone.admin-password "
            "step keeps the password keystone-k8s generated. Or set "
            "identity.admin_password_file to a file holding the current admin password.",
        )
    return password


@dataclass(eq=False, kw_only=True)
class AdminPassword(Step):
    """Make the installer's admin-password secret the one the OpenStack admin logs in with.

    keystone-k8s generates the admin password itself when it bootstraps keystone and hands it
    out with its `get-admin-password` action (it has no action that sets it). Without
    identity.admin_password_file the installer keeps that password as its secret; with one, it
    logs in with the charm's password and sets the operator's through the Identity API.
    """

    model: str
    auth_url: str
    app: str = "keystone"
    wait_for: tuple[str, ...] = ("keystone",)

    @property
    def resources(self) -> tuple[str, ...]:
        return (JUJU, *super().resources)  # Juju, and this host (its SSH connection)

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
        if _known_password(ctx) is None:
            return False
        return await self._logs_in(ctx)

    async def _charm_password(self, ctx: StepContext) -> str:
        ctx.log(f"juju run {self.app}/leader get-admin-password")
        results = await ctx.backends.juju.run_action(
            self.model, f"{self.app}/leader", "get-admin-password"
        )
        password = results.get("password")
        if not isinstance(password, str) or not password.strip():
            raise StepFailed(
                f"{self.app}'s get-admin-password action returned no password",
                hint=f"`juju show-task -m {self.model}` on its latest task and "
                f"`juju debug-log -m {self.model} --include {self.app}` show why.",
                transient=True,
            )
        return password.strip()

    async def run(self, ctx: StepContext) -> None:
        await ctx.backends.juju.wait_settled(
            self.model, list(self.wait_for), progress=ctx.progress, timeout=wait_timeout(ctx)
        )
        charm_password = await self._charm_password(ctx)
        if ctx.answers.identity.admin_password_file is None:
            # Kept (0600, redacted) before anything else runs, so no output can show it.
            ctx.keep_secret(ADMIN_PASSWORD, charm_password)
        else:
            await self._set_operator_password(ctx, charm_password)
        if not await self._logs_in(ctx):
            raise StepFailed(
                "keystone does not accept the installer's admin password",
                hint=f"`juju status -m {self.model} {self.app}` and its logs show why. If the "
                "admin password was changed outside the installer, set "
                "identity.admin_password_file to a file holding the current one.",
                transient=True,
            )

    async def _set_operator_password(self, ctx: StepContext, charm_password: str) -> None:
        """Set the operator's password (the secret from identity.admin_password_file) on the
        admin user, logged in with the password keystone-k8s generated.

        keystone-k8s keeps its own copy of the generated password: afterwards its
        `get-admin-password` and `get-admin-account` actions hand out that stale copy, which no
        longer logs in; the operator's file holds the admin password. This is acceptable: the
        charm does its own work in keystone as its separate `_charm-keystone-admin` user, not as
        this admin. Should the admin ever be reset to the charm's copy, done() no longer logs
        in and a `resume` of the install runs this step again, which sets it again (an
        upgrade's `openstack` steps would fail to log in until then, with keystone's 401)."""
        env = admin_env(ctx, self.auth_url, password=charm_password)
        env[NEW_PASSWORD_ENV] = ctx.secret(ADMIN_PASSWORD)
        ctx.log(f"sh -c '{SET_PASSWORD_SCRIPT}'")
        result = await _run_client(
            ctx, self._host(), ["sh", "-c", SET_PASSWORD_SCRIPT], env, log=ctx.log
        )
        if result.returncode != 0:
            raise StepFailed(
                "keystone refused to set the admin password from identity.admin_password_file: "
                + (result.output_tail[-1] if result.output_tail else f"exit {result.returncode}"),
                hint="If the admin password was changed outside the installer, put the current "
                "one in identity.admin_password_file; keystone's password rules (length, "
                "history) may also refuse the new one.",
                transient=True,
            )
