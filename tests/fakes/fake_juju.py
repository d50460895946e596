"""A fake `juju` executable: checks its arguments like the CLI does and answers with realistic JSON.

Installed by `install_fake_juju(bin_dir, state_file)` as `bin_dir/juju`. The state (controllers,
clouds, models with machines, applications, units, relations, offers, consumed offers) lives in
a JSON file named by $FAKE_JUJU_STATE, so tests can set it up and inspect it; every call's argv is
appended to state["calls"].

Behaviour knobs in the state:
  settle_after: N      units become active/idle after N `status` calls following their creation
  fail: {"deploy:nova-k8s": "ERROR ..."}   the next matching command fails with that stderr
                       (key = "<command>" or "<command>:<first positional>"); value popped
  error_units: ["x/0"] units stay in workload error
  blocked_units: {"x/0": "message"}        units stay blocked (agent idle) with that message
  hang: {"status": 60}                     a matching command (key as in `fail`) sleeps that
                       many seconds, then fails; before sleeping it appends its pid to the file
                       "$FAKE_JUJU_STATE.hung" (one line each), so a test can wait for it and
                       check that it was killed
  action_results: {"add-osd": {...}}       results of `juju run`
  action_fail: {"add-osd": "message"}      the action fails with that message
  debug_log: {"openstack": ["line", ...]}  what `debug-log` prints for a model after its agents
  hostnames: {"10.20.0.11": "node1"}       the hostname status reports per machine address
  kubeconfig: "..."                        what the k8s charm's get-kubeconfig action returns
  snapd: {"10.20.0.11": "/path/snapd.sock"} each machine's snapd (by address): the charms that
                       install a snap install it there (a failed install is the unit's failed
                       install hook), and the hypervisor's settings action writes its snap config
                       there; a machine without one gets no snaps (not modelled)
  lxd_snapd: "/path/snapd.sock"            the snapd of the host `juju` runs on: `bootstrap
                       localhost` needs the lxd snap installed there (unset: not checked)

Charm actions with behaviour (CHARM_ACTIONS): microceph add-osd / list-disks (OSDs kept in
state["osds"] with the unit's hostname as location), k8s get-kubeconfig, keystone-k8s
get-admin-password. As the charm does, keystone-k8s generates its admin password when it first
shows active in `status`: the state keeps a random seed it is derived from
(state["keystone_admin_seed"], see `keystone_admin_password`) and the sha256 of the password
keystone accepts (state["keystone_admin_sha256"], which the fake `openstack user set` changes),
never the password itself. Other actions answer `action_results`. `juju run APP/leader` runs
on the leader (lowest unit).
`bootstrap manual/[user@]HOST` makes HOST machine 0 of the controller model, as Juju does;
`bootstrap localhost NAME` starts the controller in an LXD container of this host.

The charms behave as the real ones do (CHARMS, from ../shared/reference/sunbeam-charms.md; a
test cross-checks it): a unit of a charm listed there, once its hooks have run, stays blocked
(ops-sunbeam: "(<endpoint>) integration missing") or waiting (mysql-router; cinder-volume's
"(workload) Waiting for backends"; the hypervisor's "(workload) Data missing: certificates")
until its mandatory relations exist, in its model or through an offer of it consumed elsewhere.
An integration naming an endpoint a listed charm does not have is refused as Juju refuses it.
Subordinates are deployed without units (Juju refuses --num-units/--to for them) and get one
unit beside each unit of their principal once related on their container-scoped endpoint;
`status` lists them under the principal's units, as Juju does. Machine charms that install a
snap install it through the machine's snapd (state["snapd"]) when their unit is created.

Supported commands (as the installer calls them): version, controllers, bootstrap, clouds,
add-k8s, models, add-model, add-machine, status (with selectors: exact application, unit or
machine names, as Juju filters), deploy, add-unit, refresh, config, integrate,
offer, consume, run, show-unit; and for a converge scale-application, remove-unit,
remove-machine, remove-application, remove-relation (without --no-prompt Juju 3 would ask, so
the fake refuses the removals without it).
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import socket
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOW = "2025-05-01T12:00:00Z"
VERSION = "3.6.4"

# option -> takes a value?
OPTIONS: dict[str, dict[str, bool]] = {
    "version": {"--format": True, "--all": False},
    "controllers": {"--format": True},
    "bootstrap": {
        "--no-switch": False,
        "--config": True,
        "--model-default": True,
        "--bootstrap-base": True,
    },
    "clouds": {"--format": True, "--controller": True, "-c": True, "--client": False},
    "add-k8s": {
        "--controller": True,
        "-c": True,
        "--client": False,
        "--region": True,
        "--skip-storage": False,
    },
    "models": {"--format": True, "--controller": True, "-c": True},
    "add-model": {
        "--no-switch": False,
        "--controller": True,
        "-c": True,
        "--config": True,
        "--credential": True,
    },
    "add-machine": {"--model": True, "-m": True},
    "status": {"--model": True, "-m": True, "--format": True},
    "deploy": {
        "--model": True,
        "-m": True,
        "--channel": True,
        "--revision": True,
        "--config": True,
        "--trust": False,
        "--num-units": True,
        "-n": True,
        "--to": True,
        "--base": True,
    },
    "add-unit": {"--model": True, "-m": True, "--to": True, "--num-units": True, "-n": True},
    "refresh": {"--model": True, "-m": True, "--channel": True, "--revision": True},
    "config": {"--model": True, "-m": True, "--format": True},
    "integrate": {"--model": True, "-m": True},
    "offer": {"--controller": True, "-c": True},
    "consume": {"--model": True, "-m": True},
    "run": {"--model": True, "-m": True, "--format": True, "--wait": True, "--params": True},
    "show-unit": {"--model": True, "-m": True, "--format": True},
    "debug-log": {"--model": True, "-m": True, "--replay": False, "--no-tail": False,
                  "--limit": True},
    "scale-application": {"--model": True, "-m": True},
    "remove-unit": {"--model": True, "-m": True, "--no-prompt": False, "--force": False},
    "remove-machine": {"--model": True, "-m": True, "--no-prompt": False, "--force": False},
    "remove-application": {"--model": True, "-m": True, "--no-prompt": False,
                           "--force": False},
    "remove-relation": {"--model": True, "-m": True},
}
REPEATABLE = {"--config", "--model-default"}


@dataclass(frozen=True)
class Charm:
    """What the fake knows of a charm (../shared/reference/sunbeam-charms.md, per charm)."""

    mandatory: tuple[str, ...] = ()  # in the order the charm reports them
    # "sunbeam": blocked "(<ep>) integration missing"; "router": mysql-router's unit waits with
    # no message and its application is blocked "Missing relation: <ep>"
    style: str = "sunbeam"
    # (endpoint, status, message) once the mandatory ones are there but this one is not
    extra: tuple[tuple[str, str, str], ...] = ()
    endpoints: tuple[str, ...] = ()  # more endpoints it has (all of them: mandatory + extra +)
    container: str | None = None  # a subordinate's container-scoped endpoint to its principal
    snap: str | None = None  # the snap it installs on its machine (channel: snap-channel config)
    snap_channel: str = "latest/stable"  # without snap-channel config; "{track}": the charm's
    snap_classic: bool = False


_API = ("database", "ingress-internal", "ingress-public", "identity-service", "amqp",
        "receive-ca-cert", "logging", "tracing")  # every ops-sunbeam API charm's requires

CHARMS: dict[str, Charm] = {
    "keystone-k8s": Charm(("database", "ingress-internal"), endpoints=(
        *_API, "domain-config", "trusted-dashboard", "identity-credentials", "identity-ops",
        "send-ca-cert", "identity-endpoints")),
    # glance's ceph is satisfied by its local storage; Sunbeam relates it with storage hosts.
    "glance-k8s": Charm(("database", "ingress-internal", "identity-service"), endpoints=(
        *_API, "ceph", "ceph-rgw-ready", "cors-origin", "image-service")),
    "nova-k8s": Charm(("ingress-internal", "traefik-route-internal", "database", "api-database",
                       "cell-database", "amqp", "identity-service", "placement"), endpoints=(
        *_API, "traefik-route-public", "cloud-compute", "nova-service")),
    "placement-k8s": Charm(("database", "identity-service", "ingress-internal"),
                           endpoints=(*_API, "placement")),
    "neutron-k8s": Charm(("ingress-internal", "database", "amqp", "identity-service",
                          "ovsdb-cms"), endpoints=(*_API, "certificates", "external-dns",
                                                   "neutron-api")),
    "horizon-k8s": Charm(("database", "ingress-internal", "identity-credentials"), endpoints=(
        *_API, "identity-endpoints", "horizon", "trusted-dashboard", "cors-origin")),
    "cinder-k8s": Charm(("database", "ingress-internal", "identity-service", "amqp",
                         "storage-backend"), endpoints=(*_API, "image-service")),
    "ovn-central-k8s": Charm(("certificates",), endpoints=("ovsdb", "ovsdb-cms",
                                                           "ovsdb-server")),
    "ovn-relay-k8s": Charm(("ovsdb-cms", "certificates"), endpoints=("ovsdb-cms-relay",)),
    "mysql-router-k8s": Charm(("backend-database",), style="router", endpoints=("database",)),
    "openstack-hypervisor": Charm(
        ("amqp", "identity-credentials", "ovsdb-cms", "nova-service"),
        # optional in metadata, but configure_unit needs its data (charm.py:1077)
        extra=(("certificates", "waiting", "(workload) Data missing: certificates"),),
        endpoints=("ceilometer-service", "ceph-access", "receive-ca-cert", "masakari-service",
                   "barbican-service", "cos-agent"),
        snap="openstack-hypervisor"),
    "cinder-volume": Charm(
        ("amqp", "database", "identity-credentials", "storage-backend"),
        extra=(("cinder-volume", "waiting", "(workload) Waiting for backends"),),
        endpoints=("receive-ca-cert",), snap="cinder-volume"),
    "cinder-volume-ceph": Charm(("ceph", "cinder-volume"), endpoints=("ceph-access",),
                                container="cinder-volume"),
    "epa-orchestrator": Charm(("sunbeam-machine",), container="sunbeam-machine",
                              snap="epa-orchestrator"),
    "sunbeam-machine": Charm(endpoints=("sunbeam-machine",)),
    "microceph": Charm(endpoints=("ceph", "ceph-nfs", "ceph-rgw-ready", "traefik-route-rgw",
                                  "identity-service", "receive-ca-cert"),
                       snap="microceph", snap_channel="squid/stable"),
    # Sunbeam sets no snap channel on the k8s charm and the reference could not determine the
    # one the charm installs (sunbeam-deployment.md, k8s snap): the charm's track, classic.
    "k8s": Charm(snap="k8s", snap_channel="{track}-classic/stable", snap_classic=True),
}


def charm_snap(app: dict[str, Any]) -> tuple[str, str, bool] | None:
    """(snap, channel, classic) the machine charm of `app` (as kept in the state: charm,
    channel, config) installs on each of its machines, or None."""
    c = CHARMS.get(app["charm"])
    if c is None or c.snap is None:
        return None
    track = str(app["channel"]).split("/")[0]
    channel = str(app["config"].get("snap-channel") or c.snap_channel.format(track=track))
    return c.snap, channel, c.snap_classic


def known_endpoints(spec: Charm) -> set[str]:
    return {*spec.mandatory, *(e for e, _, _ in spec.extra), *spec.endpoints,
            *([spec.container] if spec.container else [])}


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(self.path)
        self.sock = sock


def snapd_call(sock: str, method: str, path: str, body: Any = None) -> Any:
    """One snapd REST call on a machine's socket; an async change is polled until ready.
    JujuError with snapd's message when it fails (a charm hook that ran `snap` failed)."""
    conn = _UnixConnection(sock)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        conn.request(method, path, body=data, headers=headers)
        reply = json.loads(conn.getresponse().read() or b"{}")
        if reply.get("type") == "error":
            raise JujuError(str(reply.get("result", {}).get("message", "snapd error")))
        if reply.get("type") != "async":
            return reply.get("result")
        for _ in range(200):
            conn.request("GET", f"/v2/changes/{reply['change']}")
            change = json.loads(conn.getresponse().read())["result"]
            if change.get("ready"):
                if change.get("err"):
                    raise JujuError(str(change["err"]))
                return change
            time.sleep(0.005)
        raise JujuError(f"snapd change {reply['change']} did not finish")
    finally:
        conn.close()


class JujuError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def parse(argv: list[str]) -> tuple[str, dict[str, Any], list[str]]:
    if not argv:
        raise JujuError("ERROR no command specified", 2)
    cmd, rest = argv[0], argv[1:]
    if cmd not in OPTIONS:
        raise JujuError(f'ERROR juju: "{cmd}" is not a juju command. See "juju --help".', 2)
    spec = OPTIONS[cmd]
    opts: dict[str, Any] = {}
    pos: list[str] = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a.startswith("-") and a != "-":
            name, eq, inline = a.partition("=")
            if name not in spec:
                raise JujuError(f"ERROR option provided but not defined: {name}", 2)
            if spec[name]:
                if eq:
                    value = inline
                else:
                    i += 1
                    if i >= len(rest):
                        raise JujuError(f"ERROR option needs an argument: {name}", 2)
                    value = rest[i]
                if name in REPEATABLE:
                    opts.setdefault(name, []).append(value)
                else:
                    opts[name] = value
            else:
                opts[name] = True
        else:
            pos.append(a)
        i += 1
    return cmd, opts, pos


def out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=1) + "\n")


class Fake:
    def __init__(self, state: dict[str, Any]) -> None:
        self.s = state
        self.s.setdefault("controllers", {})
        self.s.setdefault("current-controller", None)
        self.s.setdefault("clouds", {"localhost": {"type": "lxd"}, "manual": {"type": "manual"}})
        self.s.setdefault("models", {})
        self.s.setdefault("settle_after", 2)
        self.s.setdefault("fail", {})
        self.s.setdefault("status_calls", 0)

    # -- helpers ---------------------------------------------------------------------------

    def model(self, opts: dict[str, Any], must_exist: bool = True) -> dict[str, Any]:
        ref = opts.get("--model") or opts.get("-m")
        if ref is None:
            raise JujuError("ERROR no model specified (the fake needs --model)")
        ctrl, _, name = ref.rpartition(":")
        ctrl = ctrl or self.s["current-controller"]
        if ctrl not in self.s["controllers"]:
            raise JujuError(f'ERROR controller "{ctrl}" not found')
        name = name.split("/")[-1]
        key = f"{ctrl}:{name}"
        if key not in self.s["models"]:
            raise JujuError(f"ERROR model {ref} not found")
        return self.s["models"][key]

    def app(self, m: dict[str, Any], name: str) -> dict[str, Any]:
        if name not in m["applications"]:
            raise JujuError(f'ERROR application "{name}" not found (not found)')
        return m["applications"][name]

    def new_unit(
        self, m: dict[str, Any], app: str, machine: str | None, principal: str | None = None
    ) -> None:
        a = m["applications"][app]
        n = a["next-unit"]
        a["next-unit"] = n + 1
        unit: dict[str, Any] = {"born": self.s["status_calls"], "machine": machine}
        if principal is not None:
            unit["principal"] = principal
        a["units"][f"{app}/{n}"] = unit
        self.install_snap(m, a, unit)
        if principal is None:
            for sub in self.subordinates_of(m, app):
                self.follow(m, sub)

    def install_snap(self, m: dict[str, Any], a: dict[str, Any], unit: dict[str, Any]) -> None:
        """The charm's install hook installs its snap on the unit's machine (through that
        machine's snapd); when snapd refuses, the hook fails and the unit is in error."""
        snap = charm_snap(a)
        address = m["machines"].get(unit["machine"] or "", {}).get("address")
        sock = self.s.get("snapd", {}).get(address)
        if snap is None or sock is None:
            return
        name, channel, classic = snap
        try:
            try:
                snapd_call(sock, "GET", f"/v2/snaps/{name}")
                return  # already there (another unit on this machine installed it)
            except JujuError:
                pass
            body = {"action": "install", "channel": channel, "classic": classic}
            snapd_call(sock, "POST", f"/v2/snaps/{name}", body)
        except (JujuError, OSError) as e:
            unit["error"] = 'hook failed: "install"'
            unit["error-detail"] = f"snap install {name} --channel {channel}: {e}"

    def subordinates_of(self, m: dict[str, Any], principal: str) -> list[str]:
        """The subordinate applications related to `principal` on their container endpoint."""
        subs = []
        for (a1, e1), (a2, e2) in m["relations"]:
            for (mine, _), (other, ep) in (((a1, e1), (a2, e2)), ((a2, e2), (a1, e1))):
                spec = CHARMS.get(m["applications"].get(other, {}).get("charm", ""))
                if mine == principal and spec is not None and spec.container == ep:
                    subs.append(other)
        return subs

    def principals_of(self, m: dict[str, Any], sub: str) -> list[str]:
        return [p for p in m["applications"] if sub in self.subordinates_of(m, p)]

    def follow(self, m: dict[str, Any], sub: str) -> None:
        """A subordinate gets one unit beside each unit of each of its principals."""
        have = {u.get("principal") for u in m["applications"][sub]["units"].values()}
        for principal in self.principals_of(m, sub):
            for pname, pu in sorted(m["applications"][principal]["units"].items()):
                if pname not in have:
                    self.new_unit(m, sub, pu["machine"], principal=pname)

    # -- commands --------------------------------------------------------------------------

    def run(self, cmd: str, opts: dict[str, Any], pos: list[str]) -> None:
        key_full = f"{cmd}:{pos[0]}" if pos else cmd
        for key in (key_full, cmd):
            if key in self.s["fail"]:
                msg = self.s["fail"].pop(key)
                raise JujuError(msg)
        getattr(self, "do_" + cmd.replace("-", "_"))(opts, pos)

    def do_version(self, opts: dict[str, Any], pos: list[str]) -> None:
        out(
            {
                "version": f"{VERSION}-ubuntu-amd64",
                "git-commit": "abc",
                "git-tree-state": "clean",
                "compiler": "gc",
                "official": True,
                "grade": "production",
            }
        )

    def do_controllers(self, opts: dict[str, Any], pos: list[str]) -> None:
        out(
            {
                "controllers": {
                    n: {
                        "current-model": "controller",
                        "user": "admin",
                        "recent-server": "10.20.0.11:17070",
                        "uuid": f"uuid-{n}",
                        "api-endpoints": ["10.20.0.11:17070"],
                        "cloud": c["cloud"],
                        "agent-version": VERSION,
                        "machine-count": 1,
                        "controller-machines": {"Active": 1, "Total": 1},
                    }
                    for n, c in self.s["controllers"].items()
                },
                "current-controller": self.s["current-controller"],
            }
        )

    def do_bootstrap(self, opts: dict[str, Any], pos: list[str]) -> None:
        if len(pos) != 2:
            raise JujuError("ERROR bootstrap needs a cloud and a controller name (fake)", 2)
        cloud, name = pos
        # `manual/[user@]host` bootstraps the manual cloud onto that host (it becomes machine 0);
        # `localhost` starts the controller in an LXD container on the host juju runs on.
        kind, _, target = cloud.partition("/")
        if kind not in self.s["clouds"]:
            raise JujuError(f'ERROR unknown cloud "{cloud}"')
        if name in self.s["controllers"]:
            raise JujuError(f'ERROR controller "{name}" already exists')
        lxd = self.s.get("lxd_snapd")
        if self.s["clouds"][kind]["type"] == "lxd" and lxd is not None:
            try:
                snapd_call(lxd, "GET", "/v2/snaps/lxd")
            except (JujuError, OSError) as e:
                raise JujuError(
                    "ERROR cannot bootstrap on localhost: LXD is not available (the lxd snap "
                    f"is not installed: {e})"
                ) from e
        for line in (
            f'Creating Juju controller "{name}" on {cloud}',
            "Looking for packaged Juju agent version 3.6.4 for amd64",
            "Installing Juju agent on bootstrap instance",
            "Running machine configuration script...",
            f'Bootstrap complete, controller "{name}" is now available',
        ):
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            time.sleep(0.02)
        defaults = dict(kv.split("=", 1) for kv in opts.get("--model-default", []))
        self.s["controllers"][name] = {"cloud": cloud, "model-defaults": defaults}
        if not opts.get("--no-switch"):
            self.s["current-controller"] = name
        model = _empty_model("controller", name, kind, "iaas")
        if target:
            model["machines"]["0"] = {"address": target.split("@")[-1]}
            model["next-machine"] = 1
        elif self.s["clouds"][kind]["type"] == "lxd":  # a container on LXD's bridge
            model["machines"]["0"] = {"address": "10.158.113.2", "container": True}
            model["next-machine"] = 1
        model["config"] = dict(defaults)
        self.s["models"][f"{name}:controller"] = model

    def do_clouds(self, opts: dict[str, Any], pos: list[str]) -> None:
        out(
            {
                n: {
                    "defined": "public" if c["type"] != "k8s" else "local",
                    "type": c["type"],
                    "description": f"{n} cloud",
                    "regions": {"default": {}},
                }
                for n, c in self.s["clouds"].items()
            }
        )

    def do_add_k8s(self, opts: dict[str, Any], pos: list[str]) -> None:
        if len(pos) != 1:
            raise JujuError("ERROR missing k8s name.", 2)
        text = ""
        if os.environ.get("KUBECONFIG"):
            text = Path(os.environ["KUBECONFIG"]).read_text()
        elif not sys.stdin.isatty():
            text = sys.stdin.read()
        if "clusters" not in text:
            raise JujuError("ERROR no kubeconfig given on stdin or in KUBECONFIG")
        if pos[0] in self.s["clouds"]:
            raise JujuError(f'ERROR cloud "{pos[0]}" already exists')
        self.s["clouds"][pos[0]] = {"type": "k8s", "kubeconfig": text}
        sys.stdout.write(f'k8s substrate added as cloud "{pos[0]}".\n')

    def do_models(self, opts: dict[str, Any], pos: list[str]) -> None:
        ctrl = opts.get("--controller") or opts.get("-c") or self.s["current-controller"]
        models = [m for k, m in self.s["models"].items() if k.startswith(f"{ctrl}:")]
        out(
            {
                "models": [
                    {
                        "name": f"admin/{m['name']}",
                        "short-name": m["name"],
                        "model-uuid": f"uuid-{m['name']}",
                        "controller-name": ctrl,
                        "owner": "admin",
                        "cloud": m["cloud"],
                        "type": m["type"],
                        "life": "alive",
                        "status": {"current": "available", "since": NOW},
                    }
                    for m in models
                ],
                "current-model": "controller",
            }
        )

    def do_add_model(self, opts: dict[str, Any], pos: list[str]) -> None:
        if not pos:
            raise JujuError("ERROR model name not specified", 2)
        name = pos[0]
        cloud = pos[1] if len(pos) > 1 else "localhost"
        ctrl = opts.get("--controller") or opts.get("-c") or self.s["current-controller"]
        if ctrl not in self.s["controllers"]:
            raise JujuError("ERROR no controller")
        if cloud.split("/")[0] not in self.s["clouds"]:
            raise JujuError(f'ERROR cloud "{cloud}" not found')
        key = f"{ctrl}:{name}"
        if key in self.s["models"]:
            raise JujuError(
                f'ERROR failed to create new model: model "{name}" for admin already exists'
            )
        kind = "caas" if self.s["clouds"][cloud.split("/")[0]]["type"] == "k8s" else "iaas"
        self.s["models"][key] = _empty_model(name, ctrl, cloud, kind)
        self.s["models"][key]["config"] = {
            **self.s["controllers"][ctrl].get("model-defaults", {}),
            **dict(kv.split("=", 1) for kv in opts.get("--config", [])),
        }
        sys.stderr.write(f"Added '{name}' model on {cloud} with credential 'admin'\n")

    def do_add_machine(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        if len(pos) != 1 or not pos[0].startswith("ssh:"):
            raise JujuError("ERROR the fake only adds machines with ssh:[user@]host", 2)
        address = pos[0][4:].split("@")[-1]
        mid = str(m["next-machine"])
        m["next-machine"] += 1
        m["machines"][mid] = {"address": address}
        sys.stderr.write(f"Checking {address} (fake)\n")
        sys.stderr.write(f"created machine {mid}\n")

    def do_status(self, opts: dict[str, Any], pos: list[str]) -> None:
        if opts.get("--format") != "json":
            raise JujuError("ERROR the fake only answers status --format json", 2)
        m = self.model(opts)
        self.s["status_calls"] += 1
        full = _status_json(m, self.s)
        principals = not self.s.get("filter_drops_principals")
        out(_filtered(full, set(pos), principals=principals) if pos else full)

    def do_deploy(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        if not pos:
            raise JujuError("ERROR no charm name specified", 2)
        charm = pos[0]
        app = pos[1] if len(pos) > 1 else charm
        if app in m["applications"]:
            raise JujuError(f'ERROR cannot add application "{app}": application already exists')
        if "--channel" not in opts:
            raise JujuError("ERROR the installer must always give --channel (fake check)", 2)
        config: dict[str, str] = {}
        for kv in opts.get("--config", []):
            k, eq, v = kv.partition("=")
            if not eq:
                raise JujuError(f'ERROR expected "key=value", got "{kv}"', 2)
            config[k] = v
        n = int(opts.get("--num-units") or opts.get("-n") or 1)
        to = opts["--to"].split(",") if "--to" in opts else []
        spec = CHARMS.get(charm)
        if spec is not None and spec.container is not None:  # a subordinate
            if {"--num-units", "-n", "--to"} & set(opts):
                raise JujuError(
                    "ERROR cannot use --num-units or --to with subordinate application"
                )
            n = 0
        for t in to:
            if m["type"] == "iaas" and t not in m["machines"]:
                raise JujuError(f"ERROR cannot deploy to machine {t}: machine {t} not found")
        m["applications"][app] = {
            "charm": charm,
            "channel": opts["--channel"],
            "revision": int(opts.get("--revision") or 100),
            "config": config,
            "trust": bool(opts.get("--trust")),
            "base": opts.get("--base"),
            "units": {},
            "next-unit": 0,
        }
        for i in range(n):
            self.new_unit(m, app, to[i] if i < len(to) else None)
        sys.stderr.write(
            f'Deployed "{app}" from charm-hub charm "{charm}", revision '
            f"{m['applications'][app]['revision']} in channel {opts['--channel']}\n"
        )

    def do_add_unit(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        if not pos:
            raise JujuError("ERROR no application specified", 2)
        self.app(m, pos[0])
        to = opts.get("--to")
        spec = CHARMS.get(self.app(m, pos[0])["charm"])
        if spec is not None and spec.container is not None:
            raise JujuError(f'ERROR cannot add unit to application "{pos[0]}": '
                            "application is subordinate")
        # `-n N --to A,B,C`: one unit per placement (Juju ignores placements beyond N)
        n = int(opts.get("--num-units") or opts.get("-n") or 1)
        places: list[str | None] = list(to.split(",")) if to is not None else []
        places = (places + [None] * n)[:n]
        for place in places:
            if place is not None and m["type"] == "iaas" and place not in m["machines"]:
                raise JujuError(f"ERROR cannot add unit to machine {place}: machine {place} "
                                "not found")
        for place in places:
            self.new_unit(m, pos[0], place)

    def do_refresh(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        a = self.app(m, pos[0])
        channel = opts.get("--channel", a["channel"])
        revision = int(opts.get("--revision") or a["revision"] + 1)
        if channel == a["channel"] and revision == a["revision"]:
            raise JujuError(f'ERROR already running charm "{a["charm"]}" revision {revision}')
        a["channel"], a["revision"] = channel, revision
        for u in a["units"].values():  # units go through maintenance again
            u["born"] = self.s["status_calls"]

    def do_config(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        a = self.app(m, pos[0])
        if len(pos) == 1:
            out(
                {
                    "application": pos[0],
                    "charm": a["charm"],
                    "settings": {
                        k: {"value": v, "type": "string", "source": "user"}
                        for k, v in a["config"].items()
                    },
                }
            )
            return
        for kv in pos[1:]:
            k, eq, v = kv.partition("=")
            if not eq:
                raise JujuError(f'ERROR expected "key=value", got "{kv}"', 2)
            a["config"][k] = v

    def do_integrate(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        if len(pos) != 2:
            raise JujuError("ERROR a relation must involve two applications", 2)
        ends = []
        for p in pos:
            app, _, ep = p.partition(":")
            if app not in m["applications"] and app not in m["saas"]:
                raise JujuError(f'ERROR application "{app}" not found')
            spec = CHARMS.get(m["applications"].get(app, {}).get("charm", ""))
            if spec is not None and ep and ep not in known_endpoints(spec):
                raise JujuError(f'ERROR application "{app}" has no "{ep}" relation')
            if app in m["saas"] and ep and ep != m["saas"][app]["endpoint"]:
                raise JujuError(f'ERROR application "{app}" has no "{ep}" relation')
            ends.append([app, ep or "default"])
        pair = sorted(ends)
        if pair in m["relations"]:
            raise JujuError(
                f'ERROR cannot add relation "{pos[0]} {pos[1]}": relation {pos[0]} '
                f"{pos[1]} already exists"
            )
        m["relations"].append(pair)
        for app, _ in pair:
            if app in m["applications"]:
                for sub in self.subordinates_of(m, app):
                    self.follow(m, sub)

    # -- day two: scale and removal --------------------------------------------------------

    @staticmethod
    def _no_prompt(opts: dict[str, Any], what: str) -> None:
        if "--no-prompt" not in opts:
            raise JujuError(f"ERROR {what}: confirmation needed and no terminal (pass "
                            "--no-prompt)")

    def do_scale_application(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        if len(pos) != 2 or not pos[1].isdigit():
            raise JujuError("ERROR scale-application needs an application and a scale", 2)
        if m["type"] != "caas":
            raise JujuError("ERROR juju: scale-application is only for Kubernetes models")
        a = self.app(m, pos[0])
        want = int(pos[1])
        while len(a["units"]) < want:
            self.new_unit(m, pos[0], None)
        for name in sorted(a["units"], key=lambda u: int(u.rpartition("/")[2]))[want:]:
            del a["units"][name]

    def do_remove_unit(self, opts: dict[str, Any], pos: list[str]) -> None:
        self._no_prompt(opts, "remove-unit")
        m = self.model(opts)
        for unit in pos:
            a = self.app(m, unit.partition("/")[0])
            if unit not in a["units"]:
                raise JujuError(f'ERROR unit "{unit}" does not exist')
            del a["units"][unit]
            for other in m["applications"].values():  # its subordinates go with it
                for name in [u for u, x in other["units"].items()
                             if x.get("principal") == unit]:
                    del other["units"][name]

    def do_remove_machine(self, opts: dict[str, Any], pos: list[str]) -> None:
        self._no_prompt(opts, "remove-machine")
        m = self.model(opts)
        for machine in pos:
            if machine not in m["machines"]:
                raise JujuError(f"ERROR machine {machine} not found")
            used = [u for a in m["applications"].values() for u, x in a["units"].items()
                    if x["machine"] == machine]
            if used:
                raise JujuError(f"ERROR machine {machine} is hosting units {', '.join(used)}")
            del m["machines"][machine]

    def do_remove_application(self, opts: dict[str, Any], pos: list[str]) -> None:
        self._no_prompt(opts, "remove-application")
        m = self.model(opts)
        for app in pos:
            self.app(m, app)
            del m["applications"][app]
            m["relations"] = [r for r in m["relations"] if app not in (r[0][0], r[1][0])]

    def do_remove_relation(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        if len(pos) != 2:
            raise JujuError("ERROR a relation must involve two applications", 2)
        pair = sorted([list(p.partition(":")[::2]) for p in pos])
        for end in pair:
            end[1] = end[1] or "default"
        if pair not in m["relations"]:
            raise JujuError(f'ERROR relation "{pos[0]} {pos[1]}" not found')
        m["relations"].remove(pair)

    def do_offer(self, opts: dict[str, Any], pos: list[str]) -> None:
        if not pos:
            raise JujuError("ERROR an offer must specify at least one endpoint", 2)
        src, ep = pos[0].split(":", 1)
        model_name, _, app = src.rpartition(".")
        ctrl = opts.get("--controller") or opts.get("-c") or self.s["current-controller"]
        m = self.s["models"].get(f"{ctrl}:{model_name}")
        if m is None:
            raise JujuError(f'ERROR model "{model_name}" not found')
        self.app(m, app)
        name = pos[1] if len(pos) > 1 else app
        if name in m["offers"]:
            raise JujuError(f'ERROR offer "{name}" already exists')
        m["offers"][name] = {"application": app, "endpoint": ep}

    def do_consume(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        url = pos[0]
        alias = pos[1] if len(pos) > 1 else url.rpartition(".")[2]
        ctrl, _, rest = url.rpartition(":")
        model_part, _, offer = rest.rpartition(".")
        src = self.s["models"].get(
            f"{ctrl or self.s['current-controller']}:{model_part.split('/')[-1]}"
        )
        if src is None or offer not in src["offers"]:
            raise JujuError(f'ERROR application offer "{url}" not found')
        if alias in m["saas"]:
            raise JujuError(f'ERROR saas application "{alias}" already exists')
        m["saas"][alias] = {"url": url, "endpoint": src["offers"][offer]["endpoint"]}

    def do_run(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        if opts.get("--format") != "json":
            raise JujuError("ERROR the fake only runs actions with --format json", 2)
        if len(pos) != 2:
            raise JujuError("ERROR run needs a unit and an action", 2)
        unit, action = pos
        app, _, number = unit.partition("/")
        a = self.app(m, app)
        if number == "leader":  # juju 3 resolves app/leader to the leader unit
            if not a["units"]:
                raise JujuError(f'ERROR application "{app}" has no units (not found)')
            unit = min(a["units"], key=lambda u: int(u.split("/")[1]))
        if unit not in a["units"]:
            raise JujuError(f'ERROR unit "{unit}" not found (not found)')
        params: dict[str, Any] = {}
        if "--params" in opts:
            import yaml

            params = yaml.safe_load(Path(opts["--params"]).read_text()) or {}
        charm_action = CHARM_ACTIONS.get((a["charm"], action))
        results = dict(self.s.get("action_results", {}).get(action, {}))
        fail = self.s.get("action_fail", {}).get(action)
        if charm_action is not None and not fail:
            try:
                results.update(charm_action(self, m, unit, params))
            except JujuError as e:
                fail = str(e)
        # Secret parameters (passwords) are not kept in the fake's state, like Juju's logs.
        shown = {k: ("<secret>" if "password" in k else v) for k, v in params.items()}
        self.s.setdefault("actions", []).append({"unit": unit, "action": action, "params": shown})
        task: dict[str, Any] = {
            "id": str(len(self.s["actions"])),
            "status": "failed" if fail else "completed",
            "unit": unit,
            "log": [f"{NOW} running {action}"],
            "results": results,
            "timing": {"enqueued": NOW, "started": NOW, "completed": NOW},
        }
        if fail:
            task["message"] = fail
            out({unit: task})
            sys.stderr.write('ERROR the following task failed:\n id "1" with return code 1\n')
            raise JujuError("task failed", 1)
        task["results"].setdefault("return-code", 0)
        out({unit: task})

    def do_debug_log(self, opts: dict[str, Any], pos: list[str]) -> None:
        """Each machine and unit agent of the model starting, then the model's lines of
        state["debug_log"] (model name -> lines), as `juju debug-log` prints them."""
        m = self.model(opts)
        if not opts.get("--no-tail") and "--limit" not in opts:
            raise JujuError("ERROR the fake only answers debug-log with --no-tail or --limit", 2)
        lines = [f'machine-{mid}: 12:00:00 INFO juju.worker.machiner "machine-{mid}" started'
                 for mid in m["machines"]]
        for a in m["applications"].values():
            for unit in a["units"]:
                lines.append(f"unit-{unit.replace('/', '-')}: 12:00:01 INFO "
                             'juju.worker.uniter.operation ran "install" hook '
                             "(via hook dispatching script: dispatch)")
        lines += self.s.get("debug_log", {}).get(m["name"], [])
        if "--limit" in opts:
            lines = lines[-int(opts["--limit"]):]
        sys.stdout.write("".join(f"{line}\n" for line in lines))

    def do_show_unit(self, opts: dict[str, Any], pos: list[str]) -> None:
        m = self.model(opts)
        app = pos[0].split("/")[0]
        a = self.app(m, app)
        if pos[0] not in a["units"]:
            raise JujuError(f'ERROR unit "{pos[0]}" not found')
        out(
            {
                pos[0]: {
                    "workload-version": "",
                    "machine": a["units"][pos[0]]["machine"] or "",
                    "charm": f"ch:amd64/{a['charm']}-{a['revision']}",
                    "leader": pos[0].endswith("/0"),
                    "life": "alive",
                    "relation-info": [],
                    "provider-id": pos[0].replace("/", "-"),
                }
            }
        )


def _hostname(s: dict[str, Any], m: dict[str, Any], machine: str | None) -> str:
    """The hostname `juju status` reports for a machine (state["hostnames"]: address -> name)."""
    address = m["machines"].get(machine or "", {}).get("address", "")
    return str(s.get("hostnames", {}).get(address, f"host-{machine}"))


def _microceph_add_osd(
    f: Fake, m: dict[str, Any], unit: str, params: dict[str, Any]
) -> dict[str, Any]:
    device = str(params.get("device-id") or "")
    if not device.startswith("/dev/"):
        raise JujuError(f"add-osd needs device-id=/dev/...; got {device!r}")
    host = _hostname(f.s, m, m["applications"]["microceph"]["units"][unit]["machine"])
    osds = f.s.setdefault("osds", [])
    if any(o["location"] == host and o["path"] == device for o in osds):
        raise JujuError(f"{device} on {host} is already an OSD")
    osds.append({"osd": len(osds), "location": host, "path": device})
    return {"status": "success", "message": f"added {device} as osd.{len(osds) - 1}"}


def _microceph_list_disks(
    f: Fake, m: dict[str, Any], unit: str, params: dict[str, Any]
) -> dict[str, Any]:
    # The charm returns its lists JSON-encoded (Juju action results are string maps).
    return {"osds": json.dumps(f.s.get("osds", [])), "unpartitioned-disks": "[]"}


def _k8s_get_kubeconfig(
    f: Fake, m: dict[str, Any], unit: str, params: dict[str, Any]
) -> dict[str, Any]:
    kubeconfig = f.s.get("kubeconfig")
    if not kubeconfig:
        raise JujuError("the cluster is not bootstrapped yet")
    return {"kubeconfig": kubeconfig}


def keystone_admin_password(state: dict[str, Any]) -> str | None:
    """The admin password keystone-k8s generated (what get-admin-password returns), or None."""
    import hashlib

    seed = state.get("keystone_admin_seed")
    if not seed:
        return None
    return "ks-" + hashlib.sha256(f"keystone-k8s admin {seed}".encode()).hexdigest()[:24]


def _keystone_bootstrapped(state: dict[str, Any]) -> None:
    """keystone-k8s became active: it generates the admin password (once)."""
    import hashlib
    import secrets

    if state.get("keystone_admin_seed"):
        return
    state["keystone_admin_seed"] = secrets.token_hex(16)
    password = keystone_admin_password(state)
    assert password is not None
    state["keystone_admin_sha256"] = hashlib.sha256(password.encode()).hexdigest()


def _keystone_get_admin_password(
    f: Fake, m: dict[str, Any], unit: str, params: dict[str, Any]
) -> dict[str, Any]:
    password = keystone_admin_password(f.s)
    if password is None:
        raise JujuError("keystone is not bootstrapped yet")
    return {"password": password}


# set-hypervisor-local-settings: each parameter and the snap key the charm writes it to
# (sunbeam-charms.md §3.4: charm.py:425-449); the action sets no results.
HYPERVISOR_LOCAL_SETTINGS = {
    "spice-proxy-address": "compute.spice-proxy-address",
    "pci-excluded-devices": "compute.pci-excluded-devices",
    "external-nic": "network.external-nic",
    "ip-address": "network.ip-address",
    "ovs-dpdk-ports": "network.ovs-dpdk-ports",
    "bridge-mapping": "network.bridge-mapping",
}


def _hypervisor_local_settings(
    f: Fake, m: dict[str, Any], unit: str, params: dict[str, Any]
) -> dict[str, Any]:
    unknown = sorted(set(params) - set(HYPERVISOR_LOCAL_SETTINGS))
    if unknown:
        raise JujuError(f"additional property {unknown[0]!r} is not allowed")
    app = unit.split("/")[0]
    machine = m["applications"][app]["units"][unit]["machine"]
    address = m["machines"].get(machine or "", {}).get("address")
    values = {HYPERVISOR_LOCAL_SETTINGS[k]: v for k, v in params.items()}
    f.s.setdefault("hypervisor_settings", {}).setdefault(unit, {}).update(values)
    sock = f.s.get("snapd", {}).get(address)
    if sock is not None and values:  # the charm's set_snap_data
        try:
            snapd_call(sock, "PUT", "/v2/snaps/openstack-hypervisor/conf", values)
        except OSError as e:
            raise JujuError(f"cannot reach snapd: {e}") from e
    return {}


CHARM_ACTIONS: dict[tuple[str, str], Any] = {
    ("openstack-hypervisor", "set-hypervisor-local-settings"): _hypervisor_local_settings,
    ("microceph", "add-osd"): _microceph_add_osd,
    ("microceph", "list-disks"): _microceph_list_disks,
    ("k8s", "get-kubeconfig"): _k8s_get_kubeconfig,
    ("keystone-k8s", "get-admin-password"): _keystone_get_admin_password,
}


def _empty_model(name: str, ctrl: str, cloud: str, kind: str) -> dict[str, Any]:
    return {
        "name": name,
        "controller": ctrl,
        "cloud": cloud,
        "type": kind,
        "machines": {},
        "next-machine": 0,
        "applications": {},
        "relations": [],
        "offers": {},
        "saas": {},
    }


def _status_info(current: str, message: str = "") -> dict[str, Any]:
    d: dict[str, Any] = {"current": current, "since": NOW}
    if message:
        d["message"] = message
    return d


def _status_json(m: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    calls = s["status_calls"]
    error_units = set(s.get("error_units", []))
    blocked_units: dict[str, str] = s.get("blocked_units", {})
    machines = {
        mid: {
            "juju-status": _status_info("started") | {"version": VERSION},
            "hostname": _hostname(s, m, mid),
            "dns-name": mm["address"],
            "ip-addresses": [mm["address"]],
            "instance-id": f"manual:{mm['address']}",
            "machine-status": _status_info("running"),
            "modification-status": _status_info("idle"),
            "base": {"name": "ubuntu", "channel": "24.04"},
            "network-interfaces": {
                "eth0": {
                    "ip-addresses": [mm["address"]],
                    "mac-address": "52:54:00:00:00:01",
                    "is-up": True,
                }
            },
            "hardware": "arch=amd64 cores=4 mem=16000M",
        }
        for mid, mm in m["machines"].items()
    }
    apps: dict[str, Any] = {}
    unit_json: dict[str, dict[str, Any]] = {}  # unit -> its status (subordinates included)
    app_status: dict[str, dict[str, Any]] = {}
    for name, a in m["applications"].items():
        wiring = _wiring(s, m, name, a["charm"])
        statuses = []
        for uname, u in a["units"].items():
            age = calls - u["born"]
            if uname in error_units or u.get("error"):
                wl, ag, msg = "error", "idle", u.get("error") or 'hook failed: "install"'
            elif uname in blocked_units:
                wl, ag, msg = "blocked", "idle", str(blocked_units[uname])
            elif age >= s["settle_after"] and wiring is not None:
                wl, ag, msg = wiring[0], "idle", wiring[1]
            elif age >= s["settle_after"]:
                wl, ag, msg = "active", "idle", ""
                if a["charm"] == "keystone-k8s":
                    _keystone_bootstrapped(s)
            elif age >= 1:
                wl, ag, msg = "maintenance", "executing", "installing charm software"
            else:
                wl, ag, msg = "waiting", "allocating", "waiting for machine"
            statuses.append(wl)
            ud: dict[str, Any] = {
                "workload-status": _status_info(wl, msg),
                "juju-status": _status_info(ag) | {"version": VERSION},
                "leader": uname.endswith("/0"),
                "address": "10.1.0.10",
            }
            if u.get("machine"):
                if "principal" not in u:
                    ud["machine"] = u["machine"]
                ud["public-address"] = m["machines"].get(u["machine"], {}).get("address", "")
            else:
                ud["provider-id"] = uname.replace("/", "-")
            unit_json[uname] = ud
        if statuses and all(x == "active" for x in statuses):
            app_status[name] = _status_info("active")
        elif wiring is not None and len(wiring) > 2 and statuses:  # mysql-router
            app_status[name] = _status_info("blocked", wiring[2])
        elif "blocked" in statuses or "error" in statuses:
            current = "error" if "error" in statuses else "blocked"
            app_status[name] = _status_info(current)
        else:
            app_status[name] = _status_info("waiting")
    for name, a in m["applications"].items():
        relations: dict[str, list[dict[str, str]]] = {}
        for (a1, e1), (a2, e2) in m["relations"]:
            for (x, ex), (y, _ey) in (((a1, e1), (a2, e2)), ((a2, e2), (a1, e1))):
                if x == name:
                    relations.setdefault(ex, []).append(
                        {
                            "related-application": y,
                            "interface": f"{min(e1, e2)}-if",
                            "scope": "global",
                        }
                    )
        principals = sorted({u["principal"].split("/")[0] for u in a["units"].values()
                             if "principal" in u})
        spec = CHARMS.get(a["charm"])
        subordinate = spec is not None and spec.container is not None
        ad: dict[str, Any] = {
            "charm": a["charm"],
            "charm-origin": "charmhub",
            "charm-name": a["charm"],
            "charm-rev": a["revision"],
            "charm-channel": a["channel"],
            "exposed": False,
            "base": {"name": "ubuntu", "channel": (a.get("base") or "ubuntu@24.04").split("@")[-1]},
            "application-status": app_status[name],
            "relations": relations,
            "endpoint-bindings": {"": "alpha"},
        }
        if subordinate:  # Juju lists a subordinate's units under its principals' units
            ad["subordinate-to"] = principals
        else:
            ad["units"] = {un: unit_json[un] for un in a["units"]}
        if m["type"] == "caas":
            ad["scale"] = len(a["units"])
            ad["provider-id"] = f"pid-{name}"
            ad["address"] = "10.152.183.20"
        apps[name] = ad
    for a in m["applications"].values():
        for uname, u in a["units"].items():
            if "principal" in u:
                principal = u["principal"]
                owner = apps[principal.split("/")[0]]["units"][principal]
                owner.setdefault("subordinates", {})[uname] = unit_json[uname]
    result: dict[str, Any] = {
        "model": {
            "name": m["name"],
            "type": m["type"],
            "controller": m["controller"],
            "cloud": m["cloud"],
            "region": "default",
            "version": VERSION,
            "model-status": _status_info("available"),
            "sla": "unsupported",
        },
        "machines": machines,
        "applications": apps,
        "controller": {"timestamp": "12:00:00Z"},
    }
    if m["offers"]:
        result["offers"] = {
            n: {
                "application": o["application"],
                "charm": f"ch:amd64/{o['application']}-1",
                "total-connected-count": 0,
                "active-connected-count": 0,
                "endpoints": {
                    o["endpoint"]: {"interface": f"{o['endpoint']}-if", "role": "provider"}
                },
            }
            for n, o in m["offers"].items()
        }
    if m["saas"]:
        saas: dict[str, Any] = {}
        for alias, sa in m["saas"].items():
            rels = [pair for pair in m["relations"] if any(x == alias for x, _ in pair)]
            saas[alias] = {
                "url": sa["url"],
                "endpoints": {
                    sa["endpoint"]: {"interface": f"{sa['endpoint']}-if", "role": "provider"}
                },
                "application-status": _status_info("active"),
                "relations": {sa["endpoint"]: [x for pair in rels for x, _ in pair if x != alias]},
            }
        result["application-endpoints"] = saas
    return result


def _filtered(full: dict[str, Any], selectors: set[str], *, principals: bool = True
              ) -> dict[str, Any]:
    """`juju status SELECTOR...`: only what matches exact application, unit or machine names,
    as Juju filters. A principal unit is kept with its subordinates, and a subordinate unit that
    matches keeps its principal unit (not with `principals` False: state knob
    "filter_drops_principals", for a Juju that would not); machines are those of the kept
    units; an unknown selector matches nothing (no error)."""
    apps: dict[str, Any] = full["applications"]
    keep_units: dict[str, set[str]] = {}  # app -> kept principal units
    for name, a in apps.items():
        for uname, u in a.get("units", {}).items():
            subs = u.get("subordinates", {})
            if (name in selectors or uname in selectors or u.get("machine") in selectors
                    or (principals and any(sn in selectors or sn.split("/")[0] in selectors
                                           for sn in subs))):
                keep_units.setdefault(name, set()).add(uname)
    kept: dict[str, Any] = {}
    machines: set[str] = set(selectors) & set(full["machines"])
    for name, a in apps.items():
        if name in keep_units:
            a = dict(a, units={u: v for u, v in a["units"].items() if u in keep_units[name]})
            machines |= {u["machine"] for u in a["units"].values() if u.get("machine")}
            kept[name] = a
        elif name in selectors:
            kept[name] = dict(a, units={}) if "units" in a else a
    for name, a in apps.items():  # subordinates living in kept principal units
        if name not in kept and any(
            sn.split("/")[0] == name
            for k in kept.values() for u in k.get("units", {}).values()
            for sn in u.get("subordinates", {})
        ):
            kept[name] = a
    result = dict(full, applications=kept,
                  machines={k: v for k, v in full["machines"].items() if k in machines})
    if "offers" in full:
        result["offers"] = {k: o for k, o in full["offers"].items() if o["application"] in kept}
    if "application-endpoints" in full:
        result["application-endpoints"] = {
            alias: sa for alias, sa in full["application-endpoints"].items()
            if alias in selectors or any(x in kept for xs in sa["relations"].values() for x in xs)
        }
    return result


def _related(s: dict[str, Any], m: dict[str, Any], app: str, ep: str) -> bool:
    """Whether `app:ep` of model `m` takes part in a relation: in `m`, or through an offer of
    it that another model consumed (under an alias) and related."""
    if any([app, ep] in pair for pair in m["relations"]):
        return True
    for offer, o in m["offers"].items():
        if (o["application"], o["endpoint"]) != (app, ep):
            continue
        for other in s["models"].values():
            for alias, sa in other["saas"].items():
                if sa["url"].rsplit(":", 1)[-1].split("/")[-1] == f"{m['name']}.{offer}" and any(
                    [alias, ep] in pair for pair in other["relations"]
                ):
                    return True
    return False


def _wiring(
    s: dict[str, Any], m: dict[str, Any], app: str, charm: str
) -> tuple[str, str] | tuple[str, str, str] | None:
    """(workload, message[, application message]) of a unit whose hooks have run while its
    charm misses a relation it needs, as the charm reports it; None when it has them all."""
    spec = CHARMS.get(charm)
    if spec is None:
        return None
    for ep in spec.mandatory:
        if not _related(s, m, app, ep):
            if spec.style == "router":  # the unit waits; the application says why
                return "waiting", "", f"Missing relation: {ep}"
            return "blocked", f"({ep}) integration missing"
    for ep, status, message in spec.extra:
        if not _related(s, m, app, ep):
            return status, message
    return None


def _hang_seconds(state: dict[str, Any], argv: list[str]) -> float:
    """How long this call must hang (state["hang"], keyed like state["fail"]); 0: not at all."""
    hang = state.get("hang") or {}
    try:
        cmd, _, pos = parse(argv)
    except JujuError:
        return 0.0
    for key in (f"{cmd}:{pos[0]}" if pos else cmd, cmd):
        if key in hang:
            return float(hang[key])
    return 0.0


def main() -> int:
    path = os.environ.get("FAKE_JUJU_STATE")
    if not path:
        sys.stderr.write("ERROR FAKE_JUJU_STATE is not set\n")
        return 2
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # steps call juju concurrently
        p = Path(path)
        state = json.loads(p.read_text()) if p.exists() and p.read_text() else {}
        state.setdefault("calls", []).append(sys.argv[1:])
        hang = _hang_seconds(state, sys.argv[1:])
        code = 0
        if not hang:
            try:
                cmd, opts, pos = parse(sys.argv[1:])
                Fake(state).run(cmd, opts, pos)
            except JujuError as e:
                sys.stderr.write(str(e) + "\n")
                code = e.code
        p.write_text(json.dumps(state))
    if hang:
        # Outside the lock: other calls go on while this one hangs, as with a stuck controller.
        fd = os.open(path + ".hung", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        time.sleep(hang)
        sys.stderr.write(f"ERROR the fake hung for {hang:g} s\n")
        return 1
    return code


def install_fake_juju(bin_dir: Path, state_file: Path) -> Path:
    """Write an executable `juju` into bin_dir that runs this fake with its state in state_file."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "juju"
    exe.write_text(
        f'#!/bin/sh\nFAKE_JUJU_STATE={str(state_file)!r} exec {sys.executable} {__file__} "$@"\n'
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return exe


if __name__ == "__main__":
    sys.exit(main())
