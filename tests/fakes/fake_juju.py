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
  hostnames: {"10.20.0.11": "node1"}       the hostname status reports per machine address
  kubeconfig: "..."                        what the k8s charm's get-kubeconfig action returns

Charm actions with behaviour (CHARM_ACTIONS): microceph add-osd / list-disks (OSDs kept in
state["osds"] with the unit's hostname as location), k8s get-kubeconfig, keystone-k8s
get-admin-password. As the charm does, keystone-k8s generates its admin password when it first
shows active in `status`: the state keeps a random seed it is derived from
(state["keystone_admin_seed"], see `keystone_admin_password`) and the sha256 of the password
keystone accepts (state["keystone_admin_sha256"], which the fake `openstack user set` changes),
never the password itself. Other actions answer `action_results`. `juju run APP/leader` runs
on the leader (lowest unit).
`bootstrap manual/[user@]HOST` makes HOST machine 0 of the controller model, as Juju does.

Supported commands (as the installer calls them): version, controllers, bootstrap, clouds,
add-k8s, models, add-model, add-machine, status, deploy, add-unit, refresh, config, integrate,
offer, consume, run, show-unit.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

NOW = "2025-05-01T12:00:00Z"
VERSION = "3.6.4"

# option -> takes a value?
OPTIONS: dict[str, dict[str, bool]] = {
    "version": {"--format": True, "--all": False},
    "controllers": {"--format": True},
    "bootstrap": {"--no-switch": False, "--config": True, "--bootstrap-base": True},
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
    "add-unit": {"--model": True, "-m": True, "--to": True, "--num-units": True},
    "refresh": {"--model": True, "-m": True, "--channel": True, "--revision": True},
    "config": {"--model": True, "-m": True, "--format": True},
    "integrate": {"--model": True, "-m": True},
    "offer": {"--controller": True, "-c": True},
    "consume": {"--model": True, "-m": True},
    "run": {"--model": True, "-m": True, "--format": True, "--wait": True, "--params": True},
    "show-unit": {"--model": True, "-m": True, "--format": True},
}
REPEATABLE = {"--config"}


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

    def new_unit(self, m: dict[str, Any], app: str, machine: str | None) -> None:
        a = m["applications"][app]
        n = a["next-unit"]
        a["next-unit"] = n + 1
        a["units"][f"{app}/{n}"] = {"born": self.s["status_calls"], "machine": machine}

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
        # `manual/[user@]host` bootstraps the manual cloud onto that host (it becomes machine 0).
        kind, _, target = cloud.partition("/")
        if kind not in self.s["clouds"]:
            raise JujuError(f'ERROR unknown cloud "{cloud}"')
        if name in self.s["controllers"]:
            raise JujuError(f'ERROR controller "{name}" already exists')
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
        self.s["controllers"][name] = {"cloud": cloud}
        if not opts.get("--no-switch"):
            self.s["current-controller"] = name
        model = _empty_model("controller", name, kind, "iaas")
        if target:
            model["machines"]["0"] = {"address": target.split("@")[-1]}
            model["next-machine"] = 1
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
        out(_status_json(m, self.s))

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
        if to is not None and m["type"] == "iaas" and to not in m["machines"]:
            raise JujuError(f"ERROR cannot add unit to machine {to}: machine {to} not found")
        self.new_unit(m, pos[0], to)

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
            ends.append([app, ep or "default"])
        pair = sorted(ends)
        if pair in m["relations"]:
            raise JujuError(
                f'ERROR cannot add relation "{pos[0]} {pos[1]}": relation {pos[0]} '
                f"{pos[1]} already exists"
            )
        m["relations"].append(pair)

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


CHARM_ACTIONS: dict[tuple[str, str], Any] = {
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
    for name, a in m["applications"].items():
        units = {}
        for uname, u in a["units"].items():
            age = calls - u["born"]
            if uname in error_units:
                wl, ag, msg = "error", "idle", 'hook failed: "install"'
            elif uname in blocked_units:
                wl, ag, msg = "blocked", "idle", str(blocked_units[uname])
            elif age >= s["settle_after"]:
                wl, ag, msg = "active", "idle", ""
                if a["charm"] == "keystone-k8s":
                    _keystone_bootstrapped(s)
            elif age >= 1:
                wl, ag, msg = "maintenance", "executing", "installing charm software"
            else:
                wl, ag, msg = "waiting", "allocating", "waiting for machine"
            ud: dict[str, Any] = {
                "workload-status": _status_info(wl, msg),
                "juju-status": _status_info(ag) | {"version": VERSION},
                "leader": uname.endswith("/0"),
                "address": "10.1.0.10",
            }
            if u.get("machine"):
                ud["machine"] = u["machine"]
                ud["public-address"] = m["machines"].get(u["machine"], {}).get("address", "")
            else:
                ud["provider-id"] = uname.replace("/", "-")
            units[uname] = ud
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
        app_state = (
            "active"
            if units and all(u["workload-status"]["current"] == "active" for u in units.values())
            else "waiting"
        )
        ad: dict[str, Any] = {
            "charm": a["charm"],
            "charm-origin": "charmhub",
            "charm-name": a["charm"],
            "charm-rev": a["revision"],
            "charm-channel": a["channel"],
            "exposed": False,
            "base": {"name": "ubuntu", "channel": (a.get("base") or "ubuntu@24.04").split("@")[-1]},
            "application-status": _status_info(app_state),
            "relations": relations,
            "units": units,
            "endpoint-bindings": {"": "alpha"},
        }
        if m["type"] == "caas":
            ad["scale"] = len(units)
            ad["provider-id"] = f"pid-{name}"
            ad["address"] = "10.152.183.20"
        apps[name] = ad
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
