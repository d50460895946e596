"""A fake `openstack` client (python-openstackclient) for the commands the installer's steps run.

Installed by `install_fake_openstack(bin_dir, juju_state_file)` as `bin_dir/openstack` (the
fake snapd calls it when the `openstack` snap is installed on its host). It shares
its world with the fake `juju` (tests/fakes/fake_juju.py): the cloud exists once keystone-k8s is
deployed in a model (under any application name), and the admin password is the one keystone-k8s
generated (the fake juju keeps its sha256 only) until `openstack user set --password PW admin`
changes it (again a
digest only). Neutron's networks and subnets live in state["openstack"] of the same JSON file,
under the same lock.

Authentication is read from the environment like the real client (OS_AUTH_URL, OS_USERNAME,
OS_PASSWORD, OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME); a missing variable
or a wrong password fails with the real client's messages. `state["openstack"]["auth_url"]`,
when set, is the only URL keystone answers on. Calls are recorded in state["openstack_calls"]
(argv only, with the value of --password replaced by <secret>: the environment, which holds
the password, is never written).

Commands: token issue; user set (admin's password only); network show / create; subnet show /
create (-f value -c COLUMN works); and what `sunbeam-install verify` runs: endpoint list (the
API charms deployed in the fake juju's models), compute service list (state["openstack"]
["compute_hosts"], each up and enabled), network / subnet delete, router create / set
--external-gateway / add subnet / remove subnet / show / delete, image create (--file must exist)
/ show / delete, flavor create / show / delete, security group create / show / delete, security
group rule create, keypair create / show / delete, server create / show / delete / add floating
ip (a server is BUILD for state["openstack"]["build_polls"] `server show` calls, default 2, then
ACTIVE), console log show (the login prompt once ACTIVE), floating ip create / list / delete.
Neutron's and Nova's refusals the verify's cleanup order depends on are kept (a router with an
interface, a network with a server or a router interface, a security group in use).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
import sys
import uuid
from pathlib import Path
from typing import Any

EXPIRES = "2025-05-01T13:00:00+0000"
REQUIRED_ENV = (
    ("OS_AUTH_URL", "auth-url"),
    ("OS_USERNAME", "username"),
    ("OS_PASSWORD", "password"),
    ("OS_PROJECT_NAME", "project-name"),
    ("OS_USER_DOMAIN_NAME", "user-domain-name"),
    ("OS_PROJECT_DOMAIN_NAME", "project-domain-name"),
)
REPEATABLE = {"--dns-nameserver", "--security-group"}
# options that take a value, per (noun, verb); flags are listed with False
OPTIONS: dict[tuple[str, str], dict[str, bool]] = {
    ("token", "issue"): {"-f": True, "-c": True},
    ("user", "set"): {"--password": True, "--domain": True},
    ("network", "show"): {"-f": True, "-c": True},
    ("subnet", "show"): {"-f": True, "-c": True},
    ("network", "create"): {
        "-f": True,
        "-c": True,
        "--external": False,
        "--share": False,
        "--provider-network-type": True,
        "--provider-physical-network": True,
        "--provider-segment": True,
    },
    ("subnet", "create"): {
        "-f": True,
        "-c": True,
        "--network": True,
        "--subnet-range": True,
        "--gateway": True,
        "--allocation-pool": True,
        "--dns-nameserver": True,  # repeatable
        "--no-dhcp": False,
        "--dhcp": False,
    },
}


_SHOW = {"-f": True, "-c": True}
OPTIONS.update({
    ("endpoint", "list"): {"-f": True, "-c": True, "--interface": True},
    ("compute service", "list"): {"-f": True, "-c": True, "--service": True, "--host": True},
    ("network", "delete"): {},
    ("subnet", "delete"): {},
    ("router", "create"): dict(_SHOW),
    ("router", "show"): dict(_SHOW),
    ("router", "set"): {"--external-gateway": True},
    ("router", "add subnet"): {},
    ("router", "remove subnet"): {},
    ("router", "delete"): {},
    ("image", "create"): {**_SHOW, "--disk-format": True, "--container-format": True,
                          "--file": True, "--public": False, "--private": False},
    ("image", "show"): dict(_SHOW),
    ("image", "delete"): {},
    ("flavor", "create"): {**_SHOW, "--ram": True, "--vcpus": True, "--disk": True,
                           "--public": False},
    ("flavor", "show"): dict(_SHOW),
    ("flavor", "delete"): {},
    ("security group", "create"): {**_SHOW, "--description": True},
    ("security group", "show"): dict(_SHOW),
    ("security group", "delete"): {},
    ("security group rule", "create"): {**_SHOW, "--ingress": False, "--egress": False,
                                        "--protocol": True, "--dst-port": True,
                                        "--remote-ip": True, "--ethertype": True},
    ("keypair", "create"): {"--public-key": True},
    ("keypair", "show"): dict(_SHOW),
    ("keypair", "delete"): {},
    ("server", "create"): {**_SHOW, "--flavor": True, "--image": True, "--network": True,
                           "--security-group": True, "--key-name": True, "--wait": False},
    ("server", "show"): dict(_SHOW),
    ("server", "delete"): {"--wait": False},
    ("server", "add floating ip"): {},
    ("console log", "show"): {"--lines": True},
    ("floating ip", "create"): {**_SHOW, "--description": True},
    ("floating ip", "list"): {**_SHOW, "--long": False},
    ("floating ip", "delete"): {},
})
# Nouns of more than one word, longest first; and verbs of more than one word.
NOUNS = ("security group rule", "compute service", "security group", "floating ip",
         "console log")
VERBS = ("add floating ip", "add subnet", "remove subnet")


class Fail(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _parse(args: list[str]) -> tuple[str, str, dict[str, Any], list[str]]:
    if len(args) < 2:
        raise Fail("usage: openstack [--help] COMMAND ...", 2)
    noun, rest = args[0], args[1:]
    for multi in NOUNS:
        words = multi.split()
        if args[:len(words)] == words:
            noun, rest = multi, args[len(words):]
            break
    if not rest:
        raise Fail(f"openstack {noun}: a command is required", 2)
    verb, rest = rest[0], rest[1:]
    for multi in VERBS:
        words = multi.split()
        if [verb, *rest[:len(words) - 1]] == words:
            verb, rest = multi, rest[len(words) - 1:]
            break
    spec = OPTIONS.get((noun, verb))
    if spec is None:
        raise Fail(
            f"openstack: '{noun} {verb}' is not an openstack command. See 'openstack --help'.", 2
        )
    opts: dict[str, Any] = {}
    pos: list[str] = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a.startswith("-"):
            if a not in spec:
                raise Fail(f"openstack {noun} {verb}: error: unrecognized arguments: {a}", 2)
            if spec[a]:
                i += 1
                if i >= len(rest):
                    raise Fail(
                        f"openstack {noun} {verb}: error: argument {a}: expected one argument", 2
                    )
                if a in REPEATABLE:
                    opts.setdefault(a, []).append(rest[i])
                else:
                    opts[a] = rest[i]
            else:
                opts[a] = True
        else:
            pos.append(a)
        i += 1
    return noun, verb, opts, pos


def _authenticate(state: dict[str, Any]) -> None:
    for var, option in REQUIRED_ENV:
        if not os.environ.get(var):
            raise Fail(f"Missing value {option} required for auth plugin password")
    url = os.environ["OS_AUTH_URL"]
    cloud = state.get("openstack", {})
    keystone = any(
        a["charm"] == "keystone-k8s"
        for m in state.get("models", {}).values()
        for a in m["applications"].values()
    )
    if not keystone or (cloud.get("auth_url") and url != cloud["auth_url"]):
        raise Fail(
            f"Failed to discover available identity versions when contacting {url}. Attempting "
            f"to parse version from URL.\nUnable to establish connection to {url}/auth/tokens"
        )
    digest = hashlib.sha256(os.environ["OS_PASSWORD"].encode()).hexdigest()
    if os.environ["OS_USERNAME"] != "admin" or digest != state.get("keystone_admin_sha256"):
        raise Fail(
            "The request you have made requires authentication. (HTTP 401) "
            f"(Request-ID: req-{uuid.uuid4()})"
        )


def _show(row: dict[str, Any], opts: dict[str, Any]) -> None:
    column = opts.get("-c")
    if opts.get("-f") == "value":
        values = [row[column]] if column else list(row.values())
        sys.stdout.write("\n".join(str(v) for v in values) + "\n")
        return
    if opts.get("-f") == "json":
        sys.stdout.write(json.dumps({column: row[column]} if column else row, indent=2) + "\n")
        return
    width = max(len(k) for k in row)
    sys.stdout.write("+" + "-" * (width + 2) + "+\n")
    for k, v in row.items():
        sys.stdout.write(f"| {k:<{width}} | {v}\n")
    sys.stdout.write("+" + "-" * (width + 2) + "+\n")


def run(state: dict[str, Any], args: list[str]) -> None:
    noun, verb, opts, pos = _parse(args)
    _authenticate(state)
    cloud = state.setdefault("openstack", {})
    if noun == "token":
        _show({"expires": EXPIRES, "id": "gAAAA-fake", "project_id": "admin"}, opts)
        return
    if noun == "user":
        # keystone-k8s's admin is in admin_domain; the fake knows no other user.
        if pos != ["admin"] or opts.get("--domain", "admin_domain") != "admin_domain":
            raise Fail(f"No user with a name or ID of '{' '.join(pos)}' exists.")
        if not opts.get("--password"):
            raise Fail("openstack user set: the fake only sets a password (--password)", 2)
        state["keystone_admin_sha256"] = hashlib.sha256(opts["--password"].encode()).hexdigest()
        return
    if (noun, verb) not in (("network", "show"), ("network", "create"), ("subnet", "show"),
                            ("subnet", "create")):
        import importlib

        # Run as a script (the fake executable) its sibling is a top-level module.
        verify = importlib.import_module(
            f"{__package__}.fake_openstack_verify" if __package__ else "fake_openstack_verify")
        try:
            verify.run_verify_command(state, cloud, noun, verb, opts, pos, _show)
        except verify.Fail as e:
            raise Fail(str(e), e.code) from None
        return
    table: dict[str, dict[str, Any]] = cloud.setdefault(noun + "s", {})
    if len(pos) != 1:
        raise Fail(f"openstack {noun} {verb}: error: the following arguments are required: name", 2)
    name = pos[0]
    if verb == "show":
        row = table.get(name) or next((r for r in table.values() if r["id"] == name), None)
        if row is None:
            raise Fail(f"Error while executing command: No {noun.capitalize()} found for {name}")
        _show(row, opts)
        return
    if name in table:
        raise Fail(f"ConflictException: 409: {noun} {name} already exists")
    if noun == "network":
        kind = opts.get("--provider-network-type", "geneve")
        if kind == "vlan" and "--provider-segment" not in opts:
            raise Fail("BadRequestException: 400: a VLAN network needs a segmentation id")
        row = {
            "id": str(uuid.uuid4()),
            "name": name,
            "router:external": "External" if opts.get("--external") else "Internal",
            "shared": bool(opts.get("--share")),
            "provider:network_type": kind,
            "provider:physical_network": opts.get("--provider-physical-network"),
            "provider:segmentation_id": opts.get("--provider-segment"),
        }
    else:
        networks = cloud.get("networks", {})
        network = opts.get("--network")
        if network not in networks:
            raise Fail(f"Error while executing command: No Network found for {network}")
        if "--subnet-range" not in opts:
            raise Fail("BadRequestException: 400: a subnet needs --subnet-range")
        row = {
            "id": str(uuid.uuid4()),
            "name": name,
            "network_id": networks[network]["id"],
            "cidr": opts["--subnet-range"],
            "gateway_ip": opts.get("--gateway"),
            "allocation_pools": opts.get("--allocation-pool", "")
            .replace("start=", "")
            .replace(",end=", "-"),
            "enable_dhcp": not opts.get("--no-dhcp"),
            "dns_nameservers": opts.get("--dns-nameserver", []),
        }
    table[name] = row
    _show(row, opts)


def main() -> int:
    path = os.environ.get("FAKE_JUJU_STATE")
    if not path:
        sys.stderr.write("FAKE_JUJU_STATE is not set\n")
        return 2
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = Path(path)
        text = p.read_text() if p.exists() else ""
        state = json.loads(text) if text else {}
        argv = sys.argv[1:]
        shown = ["<secret>" if i and argv[i - 1] == "--password" else a for i, a in enumerate(argv)]
        state.setdefault("openstack_calls", []).append(shown)
        code = 0
        try:
            run(state, sys.argv[1:])
        except Fail as e:
            sys.stderr.write(str(e) + "\n")
            code = e.code
        p.write_text(json.dumps(state))
    return code


def install_fake_openstack(bin_dir: Path, juju_state_file: Path) -> Path:
    """Write an executable `openstack` into bin_dir sharing the fake juju's state file."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "openstack"
    exe.write_text(
        f"#!/bin/sh\nFAKE_JUJU_STATE={str(juju_state_file)!r} "
        f'exec {sys.executable} {__file__} "$@"\n'
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return exe


if __name__ == "__main__":
    sys.exit(main())
