"""The install plan, step for step, on the REAL backends talking to fakes of the real protocols.

  snaps   SnapdSnapBackend -> httpx over a unix socket (local host) or SshCurlTransport ->
          asyncssh -> `sudo -n curl --unix-socket` (remote hosts) -> tests/fakes/snapd.py
  juju    JujuCliBackend (asyncio subprocesses, jubilant parses) -> the fake `juju` executable
  k8s     LightkubeK8sBackend (lightkube, a token kubeconfig) -> tests/fakes/k8s_api.py
  hosts   LocalHostBackend / SshHostBackend -> the fake `openstack` client, locally or over SSH;
          it is on no host until the plan's snap.install:openstack step has each host's
          fake snapd write it into that host's own "/snap/bin" (a directory on the host's PATH)
  charms  the fake `juju`'s machine charms install their snaps (k8s, microceph, cinder-volume,
          openstack-hypervisor, epa-orchestrator) through each machine's fake snapd, and the
          hypervisor's set-hypervisor-local-settings action writes its snap configuration there

The single-node example runs on "this host" (no SSH) with the production factory
`real_backends()`; the three-node example reaches node1..node3 through three in-process asyncssh
servers on 127.0.0.1 (one per host, each with its own snapd) and runs through the real runner.
Each plan runs to a successful end; a second run with fresh backends finds every step done();
then the fakes' final state is checked against the plan. The same plans also run in the lab.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from installer.backends.base import Backends, ModelStatus
from installer.backends.juju import JujuCliBackend
from installer.backends.k8s import LB_NAMESPACE, LightkubeK8sBackend
from installer.backends.real import charm_kubeconfig, real_backends
from installer.backends.snapd import SnapdSnapBackend, remote_client
from installer.backends.ssh import LocalHostBackend, SshConnections, SshHostBackend, SshTarget
from installer.events import Event, StepFinished
from installer.journal import Journal
from installer.lab import Lab
from installer.plan import Plan
from installer.planner import K8S_MODEL, MACHINE_MODEL, auth_url, controller_name, plan
from installer.planner.build import LXD_CHANNEL, LXD_CLOUD, LXD_SNAP
from installer.runner import RunOptions, run_plan
from installer.secrets import Redactor, Secrets
from installer.steps.ceph import AddOsds
from installer.steps.hypervisor import BRIDGE_MAPPING_KEY, ExternalNic
from installer.steps.identity import ADMIN_PASSWORD, OPENSTACK, OPENSTACK_CLIENT_SNAP
from installer.steps.juju import AddUnit, Consume, Deploy, Integrate, Offer
from installer.steps.snaps import SnapInstall
from manifests.answers import Answers
from manifests.loader import load_answers
from manifests.release import Release, load_release
from tests.fakes.fake_juju import charm_snap, install_fake_juju, keystone_admin_password
from tests.fakes.fake_openstack import install_fake_openstack
from tests.fakes.k8s_api import FakeK8sApi
from tests.fakes.snapd import FakeSnapd, StoreSnap
from tests.fakes.ssh_server import SshServer, start_ssh_server

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Adm1n-pw-for-the-real-backend-test"
POLL = 0.01  # every backend's poll interval here: the fakes answer at once
# Steps that only wait for a condition: skipped in a first run when it already holds.
WAITS = {"k8s.nodes-ready", "wait.active"}


def example(name: str) -> Answers:
    return load_answers(ROOT / "examples" / f"{name}.yaml")


def store(release: Release) -> dict[str, StoreSnap]:
    """The snap store the fake snapds install from: exactly the snaps of the release (those the
    installer installs and those its machine charms install, on the charms' snap-channel), LXD
    for the controller, and the k8s snap on the channel the fake k8s charm installs."""
    snaps = {name: (s.channel, s.classic) for name, s in release.all_snaps().items()}
    snaps[LXD_SNAP] = (LXD_CHANNEL, False)
    for spec in release.machine_charms.values():
        installed = charm_snap({"charm": spec.charm, "channel": spec.channel,
                                "config": dict(spec.config)})
        if installed is not None:
            name, channel, classic = installed
            assert snaps.get(name, (channel, classic)) == (channel, classic), name
            snaps[name] = (channel, classic)
    return {
        name: StoreSnap(
            1000 + i, confinement="classic" if classic else "strict", channels=(channel,)
        )
        for i, (name, (channel, classic)) in enumerate(sorted(snaps.items()))
    }


# -- the world of fakes -----------------------------------------------------------------------


@dataclass
class World:
    dir: Path
    answers: Answers
    release: Release
    juju_state: Path
    juju_exe: Path
    k8s: FakeK8sApi
    kubeconfig: Path
    snapd: dict[str, FakeSnapd] = field(default_factory=dict)  # host -> its snapd
    snap_bin: dict[str, Path] = field(default_factory=dict)  # host -> its /snap/bin
    sshd: dict[str, SshServer] = field(default_factory=dict)  # host -> its sshd (remote hosts)

    @property
    def juju(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self.juju_state.read_text())
        return state

    def model(self, name: str) -> dict[str, Any]:
        m: dict[str, Any] = self.juju["models"][f"{controller_name(self.answers)}:{name}"]
        return m


def make_world(d: Path, answers: Answers) -> World:
    release = load_release(answers.release)
    juju_state = d / "juju.json"
    bin_dir = d / "bin"
    juju_exe = install_fake_juju(bin_dir, juju_state)
    k8s = FakeK8sApi().start()
    # Control hosts become Kubernetes nodes; each is NotReady on the first listing.
    k8s.state.nodes = {h.name: 1 for h in answers.hosts_with("control")}
    kubeconfig = k8s.write_kubeconfig(d / "admin.conf")
    hostnames = {
        (str(h.address) if h.address is not None else h.name): h.name for h in answers.hosts
    }
    sockets = {h.name: str(d / f"{h.name}.sock") for h in answers.hosts}
    juju_state.write_text(
        json.dumps(
            {
                "settle_after": 2,
                "hostnames": hostnames,
                # each machine's snapd, where its charms install their snaps
                "snapd": {address: sockets[name] for address, name in hostnames.items()},
                # `juju` runs beside the first control host's snapd: LXD must be there
                "lxd_snapd": sockets[answers.hosts_with("control")[0].name],
                # what the k8s charm's get-kubeconfig action returns: the fake API server
                "kubeconfig": kubeconfig.read_text(),
                "openstack": {"auth_url": auth_url(answers)},
            }
        )
    )
    w = World(d, answers, release, juju_state, juju_exe, k8s, kubeconfig)
    for h in answers.hosts:
        fake = FakeSnapd(sockets[h.name])
        fake.state.store.update(store(release))
        fake.state.download_polls = 2
        snap_bin = w.snap_bin[h.name] = d / "snap-bin" / h.name
        snap_bin.mkdir(parents=True)
        fake.state.bin_dir = snap_bin
        # The openstack snap brings the `openstack` client, sharing the fake cloud's state.
        fake.state.commands[OPENSTACK_CLIENT_SNAP] = partial(
            install_fake_openstack, juju_state_file=juju_state
        )
        w.snapd[h.name] = fake.start()
    return w


def openstack_on(w: World) -> list[str]:
    """The hosts whose /snap/bin holds the `openstack` command."""
    return [h for h, d in w.snap_bin.items() if shutil.which(OPENSTACK, path=str(d))]


def stop_world(w: World) -> None:
    w.k8s.stop()
    for fake in w.snapd.values():
        fake.stop()


@dataclass
class Ctx:
    """A StepContext for running a plan step by step without the runner."""

    answers: Answers
    release: Release
    backends: Backends
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    logs: list[str] = field(default_factory=list)
    progress_messages: list[tuple[str, float | None]] = field(default_factory=list)

    def progress(self, message: str, fraction: float | None = None) -> None:
        self.progress_messages.append((message, fraction))

    def log(self, line: str) -> None:
        self.logs.append(line)

    def remaining(self) -> float:
        return 3600.0  # a step's default timeout: waits here end by their own timeouts

    # What the runner's Secrets would hold: the password file's, or what a step kept.
    secrets: dict[str, str] = field(default_factory=dict)

    def secret(self, name: str) -> str:
        assert name == ADMIN_PASSWORD
        return self.secrets[name]  # KeyError when not known yet, as in the runner

    def keep_secret(self, name: str, value: str) -> None:
        assert name == ADMIN_PASSWORD
        self.secrets[name] = value


async def step_for_step(p: Plan, ctx: Ctx) -> dict[str, str]:
    """done() then run() of each step in plan order, checking done() after each run."""
    outcome: dict[str, str] = {}
    for step in p.steps:
        if await step.done(ctx):
            outcome[step.id] = "skipped"
            continue
        await asyncio.wait_for(step.run(ctx), 20)
        assert await step.done(ctx), f"{step.id} ran but done() is still false"
        outcome[step.id] = "done"
    return outcome


def tune(b: Backends, hosts: list[str]) -> Backends:
    """Poll the fakes quickly (production polls every few seconds)."""
    assert isinstance(b.juju, JujuCliBackend)
    assert isinstance(b.k8s, LightkubeK8sBackend)
    assert isinstance(b.snaps, SnapdSnapBackend)
    b.juju.poll_interval = b.k8s.poll_interval = POLL
    for h in hosts:
        b.snaps.client(h).poll_interval = POLL
    return b


async def close(b: Backends) -> None:
    assert isinstance(b.snaps, SnapdSnapBackend) and isinstance(b.k8s, LightkubeK8sBackend)
    await b.snaps.aclose()
    await b.k8s.aclose()
    if isinstance(b.hosts, SshHostBackend):
        await b.hosts.connections.close()


# -- what the fakes must hold after the plan ran ----------------------------------------------


def assert_world_matches_plan(w: World, p: Plan) -> None:
    a = w.answers
    # Where each machine application has units, from the plan (a subordinate: its principal's).
    app_hosts: dict[str, list[str]] = {}
    for s in p.steps:
        if isinstance(s, Deploy) and s.model == MACHINE_MODEL:
            app_hosts.setdefault(s.app, []).extend(s.hosts)
        elif isinstance(s, AddUnit) and s.model == MACHINE_MODEL:
            assert s.host is not None
            app_hosts.setdefault(s.app, []).append(s.host)
    for name, spec in w.release.machine_charms.items():
        if name in app_hosts and spec.subordinate_to:
            app_hosts[name] = list(app_hosts[spec.subordinate_to])
    # Snaps: each host has exactly the snaps the plan installs there, on the release's channels,
    # and those the machine charms placed on it install (the k8s snap classic).
    wanted: dict[str, dict[str, tuple[str, bool]]] = {h.name: {} for h in a.hosts}
    for s in p.steps:
        if isinstance(s, SnapInstall):
            assert s.host is not None
            channel = w.release.snaps[s.snap].channel if s.snap in w.release.snaps else None
            assert s.channel == (channel or LXD_CHANNEL), s.id
            wanted[s.host][s.snap] = (s.channel, s.classic)
    for name, hosts in app_hosts.items():
        spec = w.release.machine_charms[name]
        snap = charm_snap({"charm": spec.charm, "channel": spec.channel,
                           "config": dict(spec.config)})
        if snap is not None:
            for host in hosts:
                wanted[host][snap[0]] = snap[1:]
    for host, snaps in wanted.items():
        installed = w.snapd[host].state.installed
        assert set(installed) == set(snaps), host
        for name, (channel, classic) in snaps.items():
            assert installed[name]["tracking-channel"] == channel, (host, name)
            assert (installed[name]["confinement"] == "classic") == classic, (host, name)
    for h in a.hosts_with("control"):
        assert w.snapd[h.name].state.installed["k8s"]["confinement"] == "classic"

    # Juju: the controller, the machines, every application with its channel, trust and units.
    juju = w.juju
    assert list(juju["controllers"]) == [controller_name(a)]
    machines = w.model(MACHINE_MODEL)["machines"]
    assert sorted(juju["hostnames"][m["address"]] for m in machines.values()) == sorted(
        h.name for h in a.hosts
    )
    extra_units: dict[str, int] = {}
    for s in p.steps:
        if isinstance(s, AddUnit):
            extra_units[s.app] = extra_units.get(s.app, 0) + 1
    deploys = [s for s in p.steps if isinstance(s, Deploy)]
    for s in deploys:
        app = w.model(s.model)["applications"][s.app]
        assert app["charm"] == s.charm and app["channel"] == s.channel, s.app
        assert app["trust"] == s.trust, s.app
        assert app["base"] == s.base, s.app
        # as `juju deploy --config key=value` writes them (booleans the YAML way)
        assert app["config"] == {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in s.config.items()
        }, s.app
        if s.revision is not None:
            assert app["revision"] == s.revision
        units = app["units"]
        if w.release.app(s.app).subordinate_to:  # one beside each unit of its principal
            assert len(units) == len(app_hosts[s.app]), s.app
        else:
            assert len(units) == max(s.units, len(s.hosts)) + extra_units.get(s.app, 0), s.app
        if s.model == MACHINE_MODEL:  # one unit on each host the charm belongs to
            hosts = sorted(
                juju["hostnames"][machines[u["machine"]]["address"]] for u in units.values()
            )
            assert len(set(hosts)) == len(hosts), s.app
    for model in (MACHINE_MODEL, K8S_MODEL):
        assert set(w.model(model)["applications"]) == {s.app for s in deploys if s.model == model}
    assert w.model(K8S_MODEL)["type"] == "caas" and w.model(MACHINE_MODEL)["type"] == "iaas"
    assert juju["clouds"][w.model(K8S_MODEL)["cloud"]]["type"] == "k8s"

    # Relations (also cross-model), offers and consumed offers.
    for s in p.steps:
        if isinstance(s, Integrate):
            pair = sorted([list(e.split(":", 1)) for e in (s.a, s.b)])
            assert pair in w.model(s.model)["relations"], s.id
        elif isinstance(s, Offer):
            app, _, endpoint = s.endpoint.partition(":")
            assert w.model(s.model)["offers"][s.name] == {"application": app, "endpoint": endpoint}
        elif isinstance(s, Consume):
            assert w.model(s.model)["saas"][s.alias]["url"] == s.url
    n_integrate = sum(isinstance(s, Integrate) for s in p.steps)
    assert sum(len(w.model(m)["relations"]) for m in (MACHINE_MODEL, K8S_MODEL)) == n_integrate

    # Ceph: every listed disk is an OSD on its own host, once.
    osds = sorted((o["location"], o["path"]) for o in juju.get("osds", []))
    assert osds == sorted((s.host, d) for s in p.steps if isinstance(s, AddOsds) for d in s.devices)
    assert osds == sorted((h.name, d) for h in a.hosts_with("storage") for d in h.osd_devices)

    # Kubernetes: no MetalLB objects of ours; the k8s charm's load-balancer config owns them
    # (Sunbeam's steps/k8s.py:248-284). The truth changed this assertion.
    assert not [k for k in w.k8s.state.objects if k[0] == "ipaddresspools" and k[1] == LB_NAMESPACE]

    # The hypervisors' external NIC (snap config on each compute host).
    for s in p.steps:
        if isinstance(s, ExternalNic):
            assert s.host is not None
            # Set through the charm's set-hypervisor-local-settings action, which writes it
            # into its snap (the truth changed this: no snap set by the installer).
            conf = w.snapd[s.host].state.conf["openstack-hypervisor"]
            section, _, key = BRIDGE_MAPPING_KEY.partition(".")  # snapd nests dotted keys
            assert conf[section][key] == s.bridge_mapping

    # Keystone has the installer's admin password (the fake keeps a digest only) and, with an
    # external network in the answers, Neutron has it.
    assert juju.get("keystone_admin_sha256")
    cloud = juju["openstack"]
    ext = a.network.external
    if ext is None:
        assert not cloud.get("networks")
    else:
        net = cloud["networks"]["external-network"]
        assert net["router:external"] == "External" and net["shared"]
        assert net["provider:network_type"] == ("vlan" if ext.vlan else "flat")
        assert net["provider:physical_network"] == "physnet1"
        sub = cloud["subnets"]["external-subnet"]
        assert sub["cidr"] == str(ext.cidr) and sub["gateway_ip"] == str(ext.gateway)
        assert sub["network_id"] == net["id"] and not sub["enable_dhcp"]
        r = ext.allocation_range
        assert sub["allocation_pools"] == f"{r.start}-{r.end}"


def assert_no_secret_leaked(w: World, *texts: str, kept: Path | None = None) -> None:
    """Neither the operator's password nor the one keystone-k8s generated is in a file of the
    world (except `kept`, the installer's 0600 secret file) or in `texts`."""
    generated = keystone_admin_password(w.juju)
    assert generated is not None
    for f in w.dir.rglob("*"):
        if f.is_file() and not f.is_socket() and f != kept:
            text = f.read_text(errors="replace")
            assert PASSWORD not in text and generated not in text, f
    for t in texts:
        assert PASSWORD not in t and generated not in t


# -- single node: this host, the production factory, step for step ----------------------------


async def test_single_node_plan_runs_step_for_step_on_the_real_backends(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = example("single-node")
    w = make_world(short_dir, a)
    # This host's /snap/bin is on PATH; `openstack` appears there when the plan installs it.
    monkeypatch.setenv("PATH", f"{w.snap_bin['node1']}:{os.environ['PATH']}")
    assert not openstack_on(w) and not shutil.which(OPENSTACK)
    p = plan(a, w.release)

    def backends() -> Backends:
        b = real_backends(
            a,
            short_dir,
            snapd_socket=w.snapd["node1"].socket_path,
            kubeconfig=str(w.kubeconfig),
            juju_binary=str(w.juju_exe),
            known_hosts=short_dir / "known_hosts",
        )
        return tune(b, ["node1"])

    try:
        b = backends()
        ctx = Ctx(a, w.release, b)
        first = await step_for_step(p, ctx)
        await close(b)
        # Every step had work to do, except a wait whose condition already held.
        assert {k for k, v in first.items() if v != "done"} <= WAITS
        assert openstack_on(w) == ["node1"]  # the snap.install:openstack step put it there

        # A second run (a new process: fresh backends, nothing cached) finds everything done.
        b2 = backends()
        again = await step_for_step(p, Ctx(a, w.release, b2, secrets=ctx.secrets))
        await close(b2)
        assert again == {s.id: "skipped" for s in p.steps}

        assert_world_matches_plan(w, p)
        # juju bootstrap went to this host; its output was streamed into the step's log
        assert ["bootstrap", LXD_CLOUD, controller_name(a)] in w.juju["calls"]
        assert any(line.startswith("Bootstrap complete") for line in ctx.logs)
        # snap download progress reached the step as fractions
        assert any(f is not None and 0 < f < 1 for _, f in ctx.progress_messages)
        # the kubeconfig's token went to `juju add-k8s` on stdin, never on a command line
        assert not [c for c in w.juju["calls"] if w.k8s.state.token in " ".join(c)]
        # No password file: the admin password is the one keystone-k8s generated, and the
        # installer holds it.
        assert ctx.secrets == {ADMIN_PASSWORD: keystone_admin_password(w.juju)}
        assert_no_secret_leaked(w, *ctx.logs, *(m for m, _ in ctx.progress_messages))

        # The same plan in the lab ends in the same cloud.
        lab = Lab.open(short_dir / "lab", time_scale=0)
        lab.ensure_hosts(a)
        lab_outcome = await step_for_step(p, Ctx(a, w.release, lab.backends()))
        assert {k for k, v in lab_outcome.items() if v != "done"} <= WAITS
        b3 = backends()
        for model in (MACHINE_MODEL, K8S_MODEL):
            real = await b3.juju.status(model)
            simulated = await lab.backends().juju.status(model)
            assert summary(real) == summary(simulated), model
        await close(b3)
    finally:
        stop_world(w)


def summary(st: ModelStatus) -> dict[str, Any]:
    """What a model holds, independent of the backend that reports it."""
    return {
        "apps": {n: (a.charm, a.channel, len(a.units), a.settled) for n, a in st.apps.items()},
        "machines": sorted(st.machines.values()),
        "relations": st.relations,
        "offers": st.offers,
        "consumed": st.consumed,
    }


# -- three nodes over SSH, through the real runner --------------------------------------------


@pytest.fixture
async def three(short_dir: Path) -> AsyncIterator[World]:
    a = example("three-node")
    w = make_world(short_dir, a)
    key = asyncssh.generate_private_key("ssh-ed25519")
    try:
        for h in a.hosts:
            host_dir = short_dir / h.name
            host_dir.mkdir()
            w.sshd[h.name] = await start_ssh_server(
                host_dir, client_key=key, path=(str(w.snap_bin[h.name]),)
            )
        (short_dir / "known_hosts").write_text(
            "".join(s.known_hosts_line() for s in w.sshd.values())
        )
        yield w
    finally:
        for s in w.sshd.values():
            await s.close()
        stop_world(w)


def ssh_backends(w: World) -> Backends:
    """The real backends for hosts reached over SSH, each sshd standing in for one host.

    The answers' addresses (10.20.0.x) are what Juju is told; SSH goes to 127.0.0.1 at the port
    of each host's server, and snapd is that host's fake socket reached by `sudo -n curl`."""
    a = w.answers
    conns = SshConnections(
        {h.name: SshTarget("127.0.0.1", h.ssh_user, w.sshd[h.name].port) for h in a.hosts},
        known_hosts=w.dir / "known_hosts",
        client_keys=[w.sshd[a.hosts[0].name].client_key],
        connect_timeout=5,
    )

    def snapd_for(host: str) -> Any:
        return remote_client(
            conns, host, sudo=True, socket_path=w.snapd[host].socket_path, poll_interval=POLL
        )

    juju = JujuCliBackend(
        cli_binary=str(w.juju_exe), controller=controller_name(a), poll_interval=POLL
    )
    # The installer is on none of the hosts: no kubeconfig file here, the k8s charm gives it.
    k8s = LightkubeK8sBackend(
        str(w.dir / "no-kubeconfig-here"),
        poll_interval=POLL,
        kubeconfig_source=charm_kubeconfig(juju),
    )
    return Backends(
        snaps=SnapdSnapBackend(snapd_for),
        juju=juju,
        k8s=k8s,
        hosts=SshHostBackend(conns, LocalHostBackend(is_root=False), set()),
    )


async def run_with_runner(w: World, p: Plan, b: Backends, name: str) -> tuple[Any, list[Event]]:
    journal = Journal.open(w.dir / f"{name}.sqlite")
    rec = journal.start_run(
        kind="install",
        answers_snapshot="{}",
        answers_path=None,
        dry_run=False,
        steps=[(s.id, s.title, s.host) for s in p.steps],
    )
    secrets = Secrets(w.dir / "secrets", Redactor())
    secrets.load_admin_password(w.answers.identity.admin_password_file)  # as the runner's caller
    events: list[Event] = []
    try:
        result = await asyncio.wait_for(
            run_plan(
                p,
                answers=w.answers,
                release=w.release,
                backends=b,
                journal=journal,
                run_id=rec.id,
                emit=events.append,
                secrets=secrets,
                options=RunOptions(backoff=0.01, max_attempts=2),
            ),
            60,
        )
    finally:
        journal.close()
    return result, events


async def test_three_node_plan_runs_over_ssh_on_the_real_backends(three: World) -> None:
    w = three
    # The operator gives the admin password in a file: the plan sets it through the Identity
    # API, over SSH, logged in with the password keystone-k8s generated.
    pw_file = w.dir / "admin-password.txt"
    pw_file.write_text(PASSWORD + "\n")
    w.answers = w.answers.model_copy(update={"identity": w.answers.identity.model_copy(
        update={"admin_password_file": str(pw_file)})})
    a = w.answers
    p = plan(a, w.release)

    assert not openstack_on(w)
    b = ssh_backends(w)
    result, events = await run_with_runner(w, p, b, "first")
    await close(b)
    failures = [(e.step, e.error) for e in events if isinstance(e, StepFinished) and e.error]
    assert result.outcome == "done", failures
    assert result.done + result.skipped == len(p) and not failures
    assert result.skipped <= len(WAITS)  # waits whose condition already held

    b2 = ssh_backends(w)
    again, events2 = await run_with_runner(w, p, b2, "second")
    await close(b2)
    finished = {e.step: e.outcome for e in events2 if isinstance(e, StepFinished)}
    assert again.outcome == "done"
    assert finished == {s.id: "skipped" for s in p.steps}

    assert_world_matches_plan(w, p)
    calls = w.juju["calls"]
    first = a.hosts[0]
    # Juju ran beside the first host's snapd, which the plan gave LXD, and started there.
    assert ["bootstrap", LXD_CLOUD, controller_name(a)] in calls
    assert LXD_SNAP in w.snapd[first.name].state.installed
    for h in a.hosts[1:]:
        assert [
            "add-machine",
            "--model",
            f"{controller_name(a)}:{MACHINE_MODEL}",
            f"ssh:{h.ssh_user}@{h.address}",
        ] in calls
    # Kubernetes was reached with the kubeconfig the k8s charm's action returned.
    kubeconfig_calls = [c for c in calls if c[:1] == ["run"] and "get-kubeconfig" in c]
    assert len(kubeconfig_calls) >= 3  # add-k8s cloud, and each run's k8s backend
    assert w.k8s.state.requests
    # Every snapd request of a host went through its own sshd as `sudo -n curl`.
    for h in a.hosts:
        sshd = w.sshd[h.name]
        curls = [c for c in sshd.commands if "curl" in c]
        # (after the marker the backend prints first: a login shell may print text before it)
        assert curls and all(
            c.rpartition("; ")[2].startswith("sudo -n curl ") for c in curls
        ), h.name
        assert all(w.snapd[h.name].socket_path in c for c in curls)
        assert w.snapd[h.name].state.requests  # and its snapd answered them

    # The openstack client was installed on the first host only, by the plan's snap step, and
    # ran there, its password passed on stdin, not in argv.
    assert openstack_on(w) == [first.name]
    def openstack_runs(host: str) -> list[str]:
        return [c for c in w.sshd[host].commands if " openstack " in f" {c} "]

    assert any("openstack token issue" in c for c in openstack_runs(first.name))
    assert any("openstack subnet create" in c for c in openstack_runs(first.name))
    assert not [c for h in a.hosts[1:] for c in openstack_runs(h.name)]
    assert_no_secret_leaked(w, *w.sshd[first.name].commands, kept=pw_file)
    # The admin logs in with the file's password now (the fake keeps digests only), the new
    # password having gone to `openstack user set` through the environment of `sh -c`.
    assert w.juju["keystone_admin_sha256"] == hashlib.sha256(PASSWORD.encode()).hexdigest()
    assert ["user", "set", "--domain", "admin_domain", "--password", "<secret>", "admin"] in (
        w.juju["openstack_calls"]
    )
    set_password = ("sh -c 'openstack user set --domain admin_domain --password "
                    "\"$OS_NEW_PASSWORD\" admin'")
    assert any(c.endswith(" " + set_password) for c in w.sshd[first.name].commands)
    assert not (w.dir / "secrets" / ADMIN_PASSWORD).exists()  # the file stays the only copy

    # The same plan in the lab.
    lab = Lab.open(w.dir / "lab", time_scale=0)
    lab.ensure_hosts(a)
    lab_b = lab.backends()
    lab_ctx = Ctx(a, w.release, lab_b, secrets={ADMIN_PASSWORD: PASSWORD})
    lab_outcome = await step_for_step(p, lab_ctx)
    assert {k for k, v in lab_outcome.items() if v != "done"} <= WAITS
    b3 = ssh_backends(w)
    for model in (MACHINE_MODEL, K8S_MODEL):
        assert summary(await b3.juju.status(model)) == summary(await lab_b.juju.status(model))
    await close(b3)
