"""`sunbeam-install verify`: prove the cloud works, as Sunbeam's `configure` and `launch` do.

The checks, in order: the catalog's endpoints answer; Nova's compute services are up; a test
network with a subnet and a router (with its gateway on the external network, as Sunbeam's
demo setup has), a cirros image, a flavor (Sunbeam's m1.tiny when the cloud has it), then an
instance that must become ACTIVE and be reached: its console log must show the login prompt,
and, when the cloud has an external network, its floating IP must answer ping from the host
that runs the `openstack` client. The cleanup steps remove everything the checks created; they
run in a plan of their own after the checks, also when a check failed (installer/pipeline/
verify.py). Every resource is named `sunbeam-install-verify-*`, so a verify that was killed
leaves only things the next one reuses and removes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from installer.backends.base import BackendError, CommandResult
from installer.plan import Step, StepContext, StepFailed
from installer.steps.identity import (
    COMMAND_NOT_FOUND,
    OPENSTACK,
    OPENSTACK_CLIENT_SNAP,
    admin_env,
    client_argv,
)

PREFIX = "sunbeam-install-verify"
NETWORK = f"{PREFIX}-network"
SUBNET = f"{PREFIX}-subnet"
ROUTER = f"{PREFIX}-router"
SECURITY_GROUP = f"{PREFIX}-secgroup"
KEYPAIR = f"{PREFIX}-key"
IMAGE = f"{PREFIX}-cirros"
OWN_FLAVOR = f"{PREFIX}-tiny"
SERVER = f"{PREFIX}-server"
# Sunbeam's demo setup creates m1.tiny (512 MiB, 1 vCPU, 4 GiB disk); launch boots on it.
SUNBEAM_FLAVOR = "m1.tiny"
FLAVOR_SIZE = ("--ram", "512", "--vcpus", "1", "--disk", "4")
# cirros: 20 MiB, boots in seconds on emulated CPUs too, prints a login prompt on its console.
CIRROS_URL = "https://download.cirros-cloud.net/0.6.2/cirros-0.6.2-x86_64-disk.img"
# The openstack snap is strictly confined: it reads files under its own $SNAP_COMMON, which
# only root writes, so the image is downloaded there with sudo.
IMAGE_FILE = f"/var/snap/openstack/common/{PREFIX}-cirros.img"
EXTERNAL_NETWORK = "external-network"  # the install's (installer/steps/network.py)
# API services the cloud must list in its catalog with a public endpoint.
REQUIRED_SERVICES = ("identity", "compute", "network", "image", "placement")
LOGIN_PROMPT = "login:"
# Sunbeam's launch waits 6 minutes for ACTIVE (commands/launch.py INSTANCE_WAIT_TIMEOUT).
ACTIVE_TIMEOUT = 360.0
BOOT_TIMEOUT = 300.0
PING_TIMEOUT = 60.0


@dataclass
class VerifyScope:
    """What the steps of one verify run tell each other (in memory: a verify is not resumed)."""

    flavor: str | None = None
    reached: list[str] = field(default_factory=list)  # how the instance was reached


def _hint(e: BackendError) -> str | None:
    """The backend's hint, told for verify: a lab fault's `resume` is `verify` here."""
    if e.hint is None:
        return None
    return e.hint.replace("sunbeam-install resume", "sunbeam-install verify")


@dataclass(eq=False, kw_only=True)
class VerifyStep(Step):
    """A step of verify: runs the `openstack` client on `host` as the admin."""

    auth_url: str
    scope: VerifyScope
    poll: float = 5.0  # seconds between two looks at something that takes time

    async def done(self, ctx: StepContext) -> bool:
        return False  # a check always runs: its point is to look now

    def _host(self) -> str:
        if self.host is None:
            raise StepFailed(f"step {self.id} names no host", hint="This is a bug in the plan.")
        return self.host

    async def client(self, ctx: StepContext, *args: str, quiet: bool = False,
                     lines: list[str] | None = None) -> CommandResult:
        """`openstack ARGS` on the host; `quiet`: its output is not logged (a private key);
        `lines` gets every line of it (a result keeps only its last lines)."""
        ctx.log("$ " + " ".join((OPENSTACK, *args)))

        def log(line: str) -> None:
            if lines is not None:
                lines.append(line)
            if not quiet:
                ctx.log(line)

        # Only the password travels as secret environment (identity.client_argv says why).
        argv, password = client_argv([OPENSTACK, *args], admin_env(ctx, self.auth_url))
        try:
            result = await ctx.backends.hosts.run(self._host(), argv, log=log,
                                                  secret_env=password)
        except BackendError as e:
            raise StepFailed(e.message, hint=_hint(e), transient=e.transient) from None
        if result.returncode == COMMAND_NOT_FOUND:
            raise StepFailed(f"the {OPENSTACK} client is not installed on {self.host}",
                             hint=f"On {self.host}: `sudo snap install {OPENSTACK_CLIENT_SNAP}`.")
        return result

    async def command(self, ctx: StepContext, argv: Sequence[str], *, sudo: bool = False,
                      env: dict[str, str] | None = None) -> CommandResult:
        """Another command on the host (curl, ping, rm)."""
        ctx.log("$ " + " ".join(argv))
        try:
            return await ctx.backends.hosts.run(self._host(), argv, sudo=sudo, log=ctx.log,
                                                secret_env=env)
        except BackendError as e:
            raise StepFailed(e.message, hint=_hint(e), transient=e.transient) from None

    async def must(self, ctx: StepContext, what: str, *args: str, hint: str,
                   quiet: bool = False, lines: list[str] | None = None) -> CommandResult:
        """`openstack ARGS`, failing the step with `what` and `hint` when it fails."""
        result = await self.client(ctx, *args, quiet=quiet, lines=lines)
        if result.returncode != 0:
            said = "" if quiet or not result.output_tail else f": {result.output_tail[-1]}"
            raise StepFailed(f"{what} failed (exit {result.returncode}){said}", hint=hint)
        return result

    async def exists(self, ctx: StepContext, noun: str, name: str) -> bool:
        result = await self.client(ctx, *noun.split(), "show", name, "-f", "value", "-c",
                                   "name" if noun != "keypair" else "fingerprint")
        return result.returncode == 0

    async def json(self, ctx: StepContext, what: str, *args: str, hint: str) -> Any:
        lines: list[str] = []
        await self.must(ctx, what, *args, "-f", "json", hint=hint, lines=lines)
        try:
            return json.loads("\n".join(lines))
        except ValueError:
            raise StepFailed(f"{what}: the client's answer is not JSON",
                             hint="The log above has what it printed.") from None


LOG_HINT = "The log above has the client's message; `sunbeam-install verify` cleans up first."


# -- the checks ------------------------------------------------------------------------------


@dataclass(eq=False, kw_only=True)
class Endpoints(VerifyStep):
    """The catalog lists every required API service, and each public endpoint answers."""

    async def run(self, ctx: StepContext) -> None:
        rows = await self.json(ctx, "listing the endpoints", "endpoint", "list",
                               hint="keystone does not answer: `juju status -m openstack "
                               "keystone` shows why.")
        public = [r for r in rows if r.get("Interface") == "public"]
        have = {r.get("Service Type") for r in public}
        missing = [s for s in REQUIRED_SERVICES if s not in have]
        if missing:
            raise StepFailed(f"the catalog has no public endpoint for {', '.join(missing)}",
                             hint="The charms that register them are not related to keystone "
                             "or not active: `juju status -m openstack`.")
        silent: list[str] = []
        for i, r in enumerate(public):
            url = str(r.get("URL"))
            ctx.progress(f"{r.get('Service Name')}: {url}", i / len(public))
            result = await self.command(ctx, ["curl", "-sk", "-o", "/dev/null", "-w",
                                              "%{http_code}", "--max-time", "20", url])
            code = result.output_tail[-1] if result.output_tail else ""
            if result.returncode != 0 or not code.isdigit() or int(code) >= 500:
                silent.append(f"{r.get('Service Name')} ({url}: "
                              f"{code or 'exit ' + str(result.returncode)})")
        if silent:
            raise StepFailed(f"endpoints do not answer: {'; '.join(silent)}",
                             hint="`juju status -m openstack` shows the units of these "
                             "services and traefik-public; their logs say why.")
        ctx.progress(f"{len(public)} public endpoints answer", 1.0)


@dataclass(eq=False, kw_only=True)
class ComputeServices(VerifyStep):
    """Every nova-compute service is up, and at least one takes new instances."""

    async def run(self, ctx: StepContext) -> None:
        rows = await self.json(ctx, "listing the compute services", "compute", "service",
                               "list", "--service", "nova-compute", hint=LOG_HINT)
        down = [str(r.get("Host")) for r in rows if r.get("State") != "up"]
        enabled = [str(r.get("Host")) for r in rows
                   if r.get("State") == "up" and r.get("Status") == "enabled"]
        if down:
            raise StepFailed(f"nova-compute is down on {', '.join(down)}",
                             hint="`juju status -m openstack-machines openstack-hypervisor` "
                             "and `sudo snap logs openstack-hypervisor` on that host say why.")
        if not enabled:
            raise StepFailed("no nova-compute service takes new instances (none, or all "
                             "disabled)",
                             hint="`openstack compute service set --enable HOST nova-compute`, "
                             "or finish the install of a compute host.")
        ctx.progress(f"nova-compute up on {', '.join(enabled)}", 1.0)


@dataclass(eq=False, kw_only=True)
class NetworkCheck(VerifyStep):
    """A project network and subnet, and a router to the external network when there is one."""

    cidr: str
    external: bool

    async def run(self, ctx: StepContext) -> None:
        if not await self.exists(ctx, "network", NETWORK):
            await self.must(ctx, f"creating the network {NETWORK}", "network", "create",
                            NETWORK, hint=LOG_HINT)
        if not await self.exists(ctx, "subnet", SUBNET):
            await self.must(ctx, f"creating the subnet {SUBNET} ({self.cidr})", "subnet",
                            "create", SUBNET, "--network", NETWORK, "--subnet-range", self.cidr,
                            hint=LOG_HINT)
        ctx.progress(f"network {NETWORK} with subnet {self.cidr}", 0.5)
        if not self.external:
            ctx.log("no external network in the answers: no router (the instance is reached "
                    "through its console only)")
            return
        fresh = not await self.exists(ctx, "router", ROUTER)
        if fresh:
            await self.must(ctx, f"creating the router {ROUTER}", "router", "create", ROUTER,
                            hint=LOG_HINT)
        await self.must(ctx, f"setting the gateway of {ROUTER} on {EXTERNAL_NETWORK}", "router",
                        "set", "--external-gateway", EXTERNAL_NETWORK, ROUTER,
                        hint=f"The install's {EXTERNAL_NETWORK} must exist with its subnet: "
                        "`openstack subnet show external-subnet`.")
        result = await self.client(ctx, "router", "add", "subnet", ROUTER, SUBNET)
        if result.returncode != 0 and (fresh or not any(
                "already" in line for line in result.output_tail)):
            raise StepFailed(f"adding {SUBNET} to {ROUTER} failed (exit {result.returncode})",
                             hint=LOG_HINT)
        ctx.progress(f"router {ROUTER} to {EXTERNAL_NETWORK}", 1.0)


@dataclass(eq=False, kw_only=True)
class ImageCheck(VerifyStep):
    """A cirros image in Glance, downloaded on the client's host (through the answers' proxy)."""

    url: str = CIRROS_URL
    image_file: str = IMAGE_FILE
    proxy: dict[str, str] = field(default_factory=dict, repr=False)  # may hold credentials

    async def run(self, ctx: StepContext) -> None:
        if await self.exists(ctx, "image", IMAGE):
            ctx.progress(f"image {IMAGE} is there (left by an earlier verify)", 1.0)
            return
        ctx.progress(f"downloading {self.url}", 0.1)
        got = await self.command(ctx, ["curl", "-fsSL", "--max-time", "600", "-o",
                                       self.image_file, self.url], sudo=True, env=self.proxy)
        if got.returncode != 0:
            raise StepFailed(f"downloading {self.url} on {self.host} failed (exit "
                             f"{got.returncode})",
                             hint=f"{self.host} must reach download.cirros-cloud.net (set the "
                             "answers' proxy if it needs one).")
        try:
            ctx.progress(f"uploading {IMAGE} to Glance", 0.5)
            await self.must(ctx, f"creating the image {IMAGE}", "image", "create", IMAGE,
                            "--disk-format", "qcow2", "--container-format", "bare", "--file",
                            self.image_file,
                            hint="glance does not take the image: `juju status -m openstack "
                            "glance` and its logs say why (with Ceph, also `sudo "
                            "microceph.ceph health`).")
        finally:
            await self.command(ctx, ["rm", "-f", self.image_file], sudo=True)
        ctx.progress(f"image {IMAGE}", 1.0)


@dataclass(eq=False, kw_only=True)
class FlavorCheck(VerifyStep):
    """Sunbeam's m1.tiny when the cloud has it, else a flavor of the same size of our own."""

    async def run(self, ctx: StepContext) -> None:
        for name in (SUNBEAM_FLAVOR, OWN_FLAVOR):
            if await self.exists(ctx, "flavor", name):
                self.scope.flavor = name
                ctx.progress(f"flavor {name}", 1.0)
                return
        await self.must(ctx, f"creating the flavor {OWN_FLAVOR}", "flavor", "create",
                        *FLAVOR_SIZE, OWN_FLAVOR, hint=LOG_HINT)
        self.scope.flavor = OWN_FLAVOR
        ctx.progress(f"flavor {OWN_FLAVOR} (the cloud has no {SUNBEAM_FLAVOR})", 1.0)


@dataclass(eq=False, kw_only=True)
class InstanceCheck(VerifyStep):
    """A keypair, a security group letting ping and SSH in, and a server that becomes ACTIVE."""

    active_timeout: float = ACTIVE_TIMEOUT

    async def run(self, ctx: StepContext) -> None:
        if not await self.exists(ctx, "keypair", KEYPAIR):
            # The client prints the new private key: not logged, and not kept (nobody logs in).
            await self.must(ctx, f"creating the keypair {KEYPAIR}", "keypair", "create",
                            KEYPAIR, hint=LOG_HINT, quiet=True)
        if not await self.exists(ctx, "security group", SECURITY_GROUP):
            await self.must(ctx, f"creating the security group {SECURITY_GROUP}", "security",
                            "group", "create", SECURITY_GROUP, hint=LOG_HINT)
            # Sunbeam's demo setup opens the same two (ping and SSH, IPv4).
            for rule in (["--protocol", "icmp"], ["--protocol", "tcp", "--dst-port", "22"]):
                await self.must(ctx, f"adding a rule to {SECURITY_GROUP}", "security", "group",
                                "rule", "create", "--ingress", *rule, SECURITY_GROUP,
                                hint=LOG_HINT)
        server = await self._server(ctx)
        if server is None:
            flavor = self.scope.flavor or SUNBEAM_FLAVOR
            await self.must(ctx, f"creating the instance {SERVER}", "server", "create",
                            "--flavor", flavor, "--image", IMAGE, "--network", NETWORK,
                            "--security-group", SECURITY_GROUP, "--key-name", KEYPAIR, SERVER,
                            hint="nova refused the request: the log above has its message.")
        await self._wait_active(ctx)

    async def _server(self, ctx: StepContext) -> dict[str, Any] | None:
        """The test server, when one exists; one in ERROR (left by a verify) is deleted."""
        if not await self.exists(ctx, "server", SERVER):
            return None
        row = await self.json(ctx, f"showing {SERVER}", "server", "show", SERVER,
                              hint=LOG_HINT)
        if row.get("status") == "ERROR":
            await self.must(ctx, f"deleting the failed {SERVER}", "server", "delete", "--wait",
                            SERVER, hint=LOG_HINT)
            return None
        return dict(row)

    async def _wait_active(self, ctx: StepContext) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(self.active_timeout, max(ctx.remaining() - 5.0, 1.0))
        while True:
            row = await self.json(ctx, f"showing {SERVER}", "server", "show", SERVER,
                                  hint=LOG_HINT)
            status = str(row.get("status"))
            ctx.progress(f"{SERVER}: {status}")
            if status == "ACTIVE":
                where = row.get("OS-EXT-SRV-ATTR:host")
                ctx.progress(f"{SERVER} is ACTIVE" + (f" on {where}" if where else ""), 1.0)
                return
            if status == "ERROR":
                fault = row.get("fault") or {}
                message = fault.get("message") if isinstance(fault, dict) else str(fault)
                raise StepFailed(f"the instance {SERVER} went to ERROR: {message or 'no fault'}",
                                 hint="`openstack compute service list` and the nova-compute "
                                 "log of the host (`sudo snap logs openstack-hypervisor`) say "
                                 "why; \"No valid host\" means no compute host has room.")
            if loop.time() >= deadline:
                raise StepFailed(f"the instance {SERVER} is still {status} after "
                                 f"{self.active_timeout:.0f} s",
                                 hint="`openstack server show sunbeam-install-verify-server` "
                                 "and the nova-compute log on its host say what it waits for.")
            await asyncio.sleep(self.poll)


@dataclass(eq=False, kw_only=True)
class ReachInstance(VerifyStep):
    """The instance booted (its console shows the login prompt) and, with an external network,
    answers ping on a floating IP from the host that runs the client."""

    external: bool
    ping: bool = True
    boot_timeout: float = BOOT_TIMEOUT
    ping_timeout: float = PING_TIMEOUT

    async def run(self, ctx: StepContext) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.boot_timeout
        while True:
            result = await self.client(ctx, "console", "log", "show", SERVER)
            if result.returncode != 0:
                raise StepFailed(f"reading the console log of {SERVER} failed", hint=LOG_HINT)
            if any(LOGIN_PROMPT in line for line in result.output_tail):
                break
            if loop.time() >= deadline:
                raise StepFailed(f"the console of {SERVER} shows no login prompt after "
                                 f"{self.boot_timeout:.0f} s",
                                 hint="`openstack console log show sunbeam-install-verify-"
                                 "server` shows how far it booted.")
            ctx.progress("waiting for the login prompt on the console", 0.2)
            await asyncio.sleep(self.poll)
        self.scope.reached.append("console log shows the login prompt")
        ctx.progress("the console shows the login prompt", 0.5)
        if not self.external or not self.ping:
            return
        address = await self._floating_ip(ctx)
        deadline = loop.time() + self.ping_timeout
        while True:
            got = await self.command(ctx, ["ping", "-c", "3", "-W", "2", address])
            if got.returncode == 0:
                break
            if loop.time() >= deadline:
                raise StepFailed(
                    f"the instance's floating IP {address} does not answer ping from "
                    f"{self.host}",
                    hint=f"It booted (its console shows the login prompt). If {self.host} has "
                    "no route to the external network, this is expected: run `verify "
                    "--no-ping`. Else check the router's gateway and the security group.")
            await asyncio.sleep(self.poll)
        self.scope.reached.append(f"floating IP {address} answers ping from {self.host}")
        ctx.progress(f"{address} answers ping from {self.host}", 1.0)

    async def _floating_ip(self, ctx: StepContext) -> str:
        row = await self.json(ctx, "creating a floating IP", "floating", "ip", "create",
                              "--description", PREFIX, EXTERNAL_NETWORK,
                              hint=f"{EXTERNAL_NETWORK} may have no free address left in its "
                              "allocation range.")
        address = str(row.get("floating_ip_address"))
        await self.must(ctx, f"attaching {address} to {SERVER}", "server", "add", "floating",
                        "ip", SERVER, address, hint=LOG_HINT)
        return address


# -- the cleanup ------------------------------------------------------------------------------


@dataclass(eq=False, kw_only=True)
class Cleanup(VerifyStep):
    """Remove resources a verify created, when they are there (done() when none is)."""

    what: tuple[tuple[str, str], ...]  # (noun, name) to delete, in order

    async def present(self, ctx: StepContext) -> list[tuple[str, str]]:
        return [(noun, name) for noun, name in self.what if await self.exists(ctx, noun, name)]

    async def done(self, ctx: StepContext) -> bool:
        return not await self.present(ctx)

    async def run(self, ctx: StepContext) -> None:
        for noun, name in await self.present(ctx):
            await self.remove(ctx, noun, name)
            ctx.progress(f"{noun} {name} deleted")

    async def remove(self, ctx: StepContext, noun: str, name: str) -> None:
        extra = ["--wait"] if noun == "server" else []
        await self.must(ctx, f"deleting the {noun} {name}", *noun.split(), "delete", *extra,
                        name, hint=LEFT_HINT)


LEFT_HINT = ("It is left in the cloud; `sunbeam-install verify` removes what an earlier one "
             "left, or delete it with the openstack client.")


@dataclass(eq=False, kw_only=True)
class CleanupServer(Cleanup):
    """The test server, then the floating IPs verify made (their description says so)."""

    what: tuple[tuple[str, str], ...] = (("server", SERVER),)

    async def _floating_ips(self, ctx: StepContext) -> list[str]:
        rows = await self.json(ctx, "listing the floating IPs", "floating", "ip", "list",
                               "--long", hint=LOG_HINT)
        return [str(r.get("ID")) for r in rows if r.get("Description") == PREFIX]

    async def done(self, ctx: StepContext) -> bool:
        return await super().done(ctx) and not await self._floating_ips(ctx)

    async def run(self, ctx: StepContext) -> None:
        await super().run(ctx)
        for fip in await self._floating_ips(ctx):
            await self.must(ctx, f"deleting the floating IP {fip}", "floating", "ip", "delete",
                            fip, hint=LEFT_HINT)


@dataclass(eq=False, kw_only=True)
class CleanupNetwork(Cleanup):
    """The router (its interface first), then the network with its subnet."""

    what: tuple[tuple[str, str], ...] = (("router", ROUTER), ("network", NETWORK))

    async def remove(self, ctx: StepContext, noun: str, name: str) -> None:
        if noun == "router":
            # Neutron refuses to delete a router with interfaces: remove ours first.
            await self.client(ctx, "router", "remove", "subnet", ROUTER, SUBNET)
        await super().remove(ctx, noun, name)


@dataclass(eq=False, kw_only=True)
class CleanupImage(Cleanup):
    """The image, and its download should an earlier verify have stopped before removing it."""

    what: tuple[tuple[str, str], ...] = (("image", IMAGE),)
    image_file: str = IMAGE_FILE

    async def run(self, ctx: StepContext) -> None:
        await super().run(ctx)
        await self.command(ctx, ["rm", "-f", self.image_file], sudo=True)
