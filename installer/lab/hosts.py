"""Commands on the lab's hosts: the `openstack` and `microceph.ceph` clients the steps run."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from ipaddress import ip_network

from pydantic import BaseModel

from installer.backends.base import BackendError, CommandResult, LogFn
from installer.lab.client import CommandLine, command_line, listed
from installer.lab.cloud import LabCloud
from installer.lab.cluster import LabCluster
from installer.lab.snaps import CEPH_SNAP
from installer.lab.state import NetworkState, SubnetState
from installer.lab.timing import SECONDS
from installer.steps.identity import COMMAND_NOT_FOUND, OPENSTACK, OPENSTACK_CLIENT_SNAP

CEPH_COMMAND = "microceph.ceph"
# Commands the lab's hosts have when (and only when) their snap is installed.
SNAP_COMMANDS = {OPENSTACK: OPENSTACK_CLIENT_SNAP, CEPH_COMMAND: CEPH_SNAP}
COMPUTE_SERVICE_COLUMNS = ("ID", "Binary", "Host", "Zone", "Status", "State", "Updated At")
CEPH_DEFAULT_FLAGS = ("sortbitwise", "recovery_deletes", "purged_snapdirs", "pglog_hardlimit")
CEPH_SETTABLE_FLAGS = ("noout", "noin", "nodown", "noup", "norebalance", "norecover",
                       "nobackfill", "noscrub", "nodeep-scrub", "pause")


class LabHosts:
    """Commands on the lab's hosts. Only the commands the steps use are simulated."""

    def __init__(self, lab: LabCluster) -> None:
        self.lab = lab
        self.cloud = LabCloud(lab, self._enabled_compute_hosts)

    async def run(
        self,
        host: str,
        argv: Sequence[str],
        *,
        sudo: bool = False,
        log: LogFn,
        timeout: float | None = None,
        secret_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        h = self.lab.host(host)
        if not argv:
            raise BackendError("no command to run")
        if argv[0] == "sh" and len(argv) == 3 and argv[1] == "-c":
            # Steps use `sh -c` to put a secret from the environment into a command's
            # arguments without it appearing on the command line they log.
            words = _expand_script(argv[2], secret_env or {})
            if words is None:
                line = "sh: the lab simulates one simple command with $VARIABLES only"
                log(line)
                return CommandResult(2, (line,))
            return await self.run(host, words, sudo=sudo, log=log, timeout=timeout,
                                  secret_env=secret_env)
        if argv[0] == "env":
            # `env NAME=VALUE... COMMAND...`: the variables join the command's environment.
            assigned = list(itertools.takewhile(lambda w: "=" in w and not w.startswith("-"),
                                                argv[1:]))
            rest = list(argv[1 + len(assigned):])
            if not rest:
                return CommandResult(0, ())
            env = dict(w.split("=", 1) for w in assigned)
            return await self.run(host, rest, sudo=sudo, log=log, timeout=timeout,
                                  secret_env={**env, **(secret_env or {})})
        # A snap's command exists only where the snap is installed: else the shell says so.
        snap = SNAP_COMMANDS.get(argv[0])
        if snap is not None and snap not in h.snaps:
            line = f"sh: 1: {argv[0]}: not found"
            log(line)
            return CommandResult(COMMAND_NOT_FOUND, (line,))
        words = [argv[0], *(w for w in argv[1:3] if not w.startswith("-"))][:3]
        if snap is None:
            words = words[:1]
        cli = "ceph-cli" if argv[0] == CEPH_COMMAND else "openstack-cli"
        await self.lab.op(f"host.run:{'-'.join(words)}@{host}", SECONDS[cli])
        if argv[0] == OPENSTACK:
            lines, rc = self._openstack(list(argv[1:]), dict(secret_env or {}), host)
        elif argv[0] == CEPH_COMMAND:
            lines, rc = self._ceph(list(argv[1:]))
        elif argv[0] == "true":
            lines, rc = [], 0
        elif argv[0] == "hostname":
            lines, rc = [host], 0
        elif argv[0] == "curl":
            lines, rc = self.cloud.curl(host, list(argv[1:]))
        elif argv[0] == "rm":
            lines, rc = self.cloud.rm(host, list(argv[1:]))
        elif argv[0] == "ping":
            lines, rc = self.cloud.ping(argv[-1]) if len(argv) > 1 else (["ping: usage"], 2)
        else:
            lines, rc = [f"{argv[0]}: command not found (the lab does not simulate it)"], 127
        for line in lines:
            log(line)
        return CommandResult(rc, tuple(lines[-20:]))

    # -- Ceph (the microceph snap's `microceph.ceph`) -----------------------------------------

    def _ceph(self, args: list[str]) -> tuple[list[str], int]:
        st = self.lab.state
        if args[:1] == ["health"]:
            return [json.dumps(self._ceph_health())], 0
        if args[:2] == ["osd", "dump"]:
            osds = [d for h in st.hosts.values() for d in h.osds]
            return [json.dumps({"epoch": len(osds) + len(st.ceph_flags) + 1,
                                "flags": ",".join([*st.ceph_flags, *CEPH_DEFAULT_FLAGS]),
                                "osds": [{"osd": i, "up": 1, "in": 1}
                                         for i in range(len(osds))]})], 0
        if len(args) == 3 and args[0] == "osd" and args[1] in ("set", "unset"):
            flag = args[2]
            if flag not in CEPH_SETTABLE_FLAGS:
                return [f"Invalid command: {flag} not in {'|'.join(CEPH_SETTABLE_FLAGS)}"], 22
            if args[1] == "set" and flag not in st.ceph_flags:
                st.ceph_flags.append(flag)
            elif args[1] == "unset" and flag in st.ceph_flags:
                st.ceph_flags.remove(flag)
            self.lab.save()
            return [f"{flag} is {args[1]}"], 0
        if args[:1] == ["osd"] and args[1:2] and args[1] in (
                "ls-tree", "ok-to-stop", "out", "safe-to-destroy", "purge"):
            return self._ceph_removal(args[1], args[2:])  # a converge's removal of a host
        return [f"microceph.ceph {' '.join(args)}: not simulated by the lab"], 22

    def _ceph_removal(self, verb: str, args: list[str]) -> tuple[list[str], int]:
        """The OSD commands a host's removal uses. OSD ids are the positions of the devices
        over the hosts, in order; stopping or destroying OSDs is refused unless three other
        hosts keep OSDs (the pools' three replicas, one per host)."""
        st = self.lab.state
        ids = [(h.name, d) for h in st.hosts.values() for d in h.osds]
        words = [a for a in args if not a.startswith("-") and a != "json"]
        if verb == "ls-tree":
            mine = [i for i, (host, _) in enumerate(ids) if words and host == words[0]]
            return [json.dumps(mine)], 0
        chosen = [int(w) for w in words if w.isdigit() and int(w) < len(ids)]
        if len(chosen) != len(words):
            return [f"Error ENOENT: osd(s) {' '.join(words)} do not exist"], 2
        if verb == "out":
            return [f"marked out osd.{', osd.'.join(words)}."], 0
        hosts = {ids[i][0] for i in chosen}
        others = {host for host, _ in ids} - hosts
        if verb in ("ok-to-stop", "safe-to-destroy") and len(others) < 3:
            return [f"Error EBUSY: stopping osd(s) {','.join(words)} would leave "
                    f"{len(others)} host(s) with OSDs; the pools need 3"], 16
        if verb == "purge":
            for i in sorted(chosen, reverse=True):
                host, device = ids[i]
                self.lab.host(host).osds.remove(device)
            self.lab.save()
            return [f"purged osd.{', osd.'.join(words)}"], 0
        return [f"osd(s) {','.join(words)} are {verb.replace('-', ' ')}"], 0

    def _ceph_health(self) -> dict[str, object]:
        """`ceph health --format json`: HEALTH_OK, or HEALTH_WARN with the checks that fail."""
        st, now = self.lab.state, self.lab.now()
        checks: dict[str, object] = {}

        def warn(code: str, message: str, count: int) -> None:
            checks[code] = {"severity": "HEALTH_WARN",
                            "summary": {"message": message, "count": count}, "muted": False}

        if st.ceph_flags:
            warn("OSDMAP_FLAGS", f"{','.join(st.ceph_flags)} flag(s) set", len(st.ceph_flags))
        down = sum(len(h.osds) for h in st.hosts.values() if h.osds_up_at > now)
        if down:
            warn("OSD_DOWN", f"{down} osds down", down)
        try:
            self.lab.faults.check("ceph.health")
        except BackendError as e:
            # A fault here is a cluster that stays degraded (transient: for N queries).
            warn("PG_DEGRADED", "Degraded data redundancy: 42/1260 objects degraded (3.333%), "
                 f"7 pgs degraded ({e.message})", 7)
        return {"status": "HEALTH_WARN" if checks else "HEALTH_OK", "checks": checks,
                "mutes": []}

    # -- OpenStack (the openstackclients snap's `openstack`) ----------------------------------

    def _openstack(self, args: list[str], env: dict[str, str], host: str
                   ) -> tuple[list[str], int]:
        st = self.lab.state
        keystone = any(
            a.charm == "keystone-k8s" for m in st.models.values() for a in m.apps.values()
        )
        if not keystone:
            return [
                "Failed to discover available identity versions when contacting the "
                "auth URL. (keystone is not deployed)"
            ], 1
        if not self.lab.check_password(env):
            return ["The request you have made requires authentication. (HTTP 401)"], 1
        if len(args) < 2:
            return ["usage: openstack NOUN VERB ..."], 2
        noun, verb, rest = args[0], args[1], args[2:]
        opts = _options(rest)
        name = next((a for a in rest if not a.startswith("-") and a not in opts.values()), None)
        if noun == "token" and verb == "issue":
            return ["token issued"], 0
        if (noun, verb) == ("user", "set"):
            return self._user_set(rest, opts, name)
        if (noun, verb) == ("compute", "service"):
            return self._compute_service(rest)
        if (noun, verb) == ("server", "list"):  # a converge's removal of a compute host
            return self._server_list(rest)
        answer = self.cloud.openstack(host, noun, verb, rest)
        if answer is not None:
            return answer
        tables: dict[str, Mapping[str, BaseModel]] = {"network": st.networks, "subnet": st.subnets}
        table = tables.get(noun)
        if table is None or name is None:
            return [f"openstack {noun} {verb}: not simulated by the lab"], 2
        if verb == "show":
            if name not in table:
                return [f"No {noun.capitalize()} found for {name}"], 1
            return [table[name].model_dump_json()], 0
        if verb != "create":
            return [f"openstack {noun} {verb}: not simulated by the lab"], 2
        if name in table:
            return [f"Conflict: {noun} {name} already exists"], 1
        if noun == "network":
            segment = opts.get("--provider-segment")
            st.networks[name] = NetworkState(
                name=name,
                # Neutron's default for a project network under OVN is geneve.
                provider_type=str(opts.get("--provider-network-type",
                                           "flat" if "--external" in rest else "geneve")),
                physical_network=opts.get("--provider-physical-network"),
                segment=int(segment) if segment and segment.isdigit() else None,
                external="--external" in rest,
            )
        else:
            network, cidr = opts.get("--network"), opts.get("--subnet-range", "")
            if network not in st.networks:
                return [f"No Network found for {network}"], 1
            if not _valid_cidr(cidr):
                return [f"Invalid subnet range {cidr!r}"], 1
            pool = opts.get("--allocation-pool")
            st.subnets[name] = SubnetState(
                name=name,
                network=network,
                cidr=cidr,
                gateway=opts.get("--gateway"),
                pool=pool.replace("start=", "").replace(",end=", "-") if pool else None,
                dns_servers=[
                    rest[i + 1] for i, a in enumerate(rest[:-1]) if a == "--dns-nameserver"
                ],
            )
        self.lab.save()
        return [f"created {noun} {name}"], 0

    def _user_set(
        self, rest: list[str], opts: dict[str, str], name: str | None
    ) -> tuple[list[str], int]:
        """`openstack user set [--domain admin_domain] --password PW admin`: keystone has one
        user the lab knows, the admin (its password is kept as a digest only)."""
        password = opts.get("--password")
        if name != "admin" or opts.get("--domain", "admin_domain") != "admin_domain":
            return [f"No user with a name or ID of '{name}' exists."], 1
        if "--password" not in rest or not password:
            return ["openstack user set: not simulated by the lab without --password"], 2
        self.lab.set_admin_password(password)
        return [], 0

    def _server_list(self, rest: list[str]) -> tuple[list[str], int]:
        """`openstack server list [--all-projects] [--host H] [-f F] [-c COL ...]`: the lab's
        servers (one project: --all-projects changes nothing), those on host H with --host."""
        line = command_line("server list", rest, ("--all-projects", "--long"),
                            ("--host", "-f", "-c"))
        if not isinstance(line, CommandLine):
            return line
        opts = line.opts
        hosts = opts.get("--host")
        servers = self.cloud.servers
        rows = [{"ID": s.id, "Name": s.name, "Status": servers.server_status(s),
                 "Host": s.host} for s in self.lab.state.servers.values()
                if hosts is None or s.host in hosts]
        return listed(rows, opts), 0

    def _compute_services(self) -> dict[str, str]:
        """Nova's compute services: one `nova-compute` per host running a hypervisor unit,
        registered once nova-k8s is deployed; host -> status (enabled | disabled)."""
        st = self.lab.state
        if not any(a.charm == "nova-k8s" for m in st.models.values() for a in m.apps.values()):
            return {}
        out: dict[str, str] = {}
        for m in st.models.values():
            for a in m.apps.values():
                if a.charm != "openstack-hypervisor":
                    continue
                for u in a.units.values():
                    host = self.lab.machine_host(m, u.machine)
                    if host is not None:
                        out[host] = "disabled" if host in st.compute_disabled else "enabled"
        return out

    def _enabled_compute_hosts(self) -> list[str]:
        """The hosts Nova's scheduler may place a server on."""
        return [h for h, status in sorted(self._compute_services().items())
                if status == "enabled"]

    def _compute_service(self, args: list[str]) -> tuple[list[str], int]:
        """`openstack compute service list [--host H] [--service S] [-f F] [-c COL ...]` and
        `openstack compute service set (--enable | --disable [--disable-reason R]) HOST S`."""
        st = self.lab.state
        services = self._compute_services()
        action, rest = (args[0], args[1:]) if args else ("", [])
        if action == "list":
            line = command_line("compute service list", rest, (),
                                ("--host", "--service", "-f", "-c"))
            if not isinstance(line, CommandLine):
                return line
            opts = line.opts
            columns = opts.get("-c") or list(COMPUTE_SERVICE_COLUMNS)
            unknown = [c for c in columns if c not in COMPUTE_SERVICE_COLUMNS]
            if unknown:
                return [f"No column named {unknown[0]!r}"], 1
            rows = [
                {"ID": str(i + 1), "Binary": "nova-compute", "Host": host, "Zone": "nova",
                 "Status": status, "State": "up", "Updated At": "2025-05-01T12:00:00.000000"}
                for i, (host, status) in enumerate(sorted(services.items()))
                if host in opts.get("--host", [host])
                and "nova-compute" in opts.get("--service", ["nova-compute"])
            ]
            fmt = (opts.get("-f") or ["table"])[-1]
            if fmt == "json":
                return [json.dumps([{c: r[c] for c in columns} for r in rows])], 0
            if fmt == "value":
                return [" ".join(r[c] for c in columns) for r in rows], 0
            return [" | ".join(columns), *(" | ".join(r[c] for c in columns) for r in rows)], 0
        if action == "set":
            line = command_line("compute service set", rest, ("--enable", "--disable"),
                                ("--disable-reason",))
            if not isinstance(line, CommandLine):
                return line
            opts, words = line.opts, line.words
            if len(words) != 2:
                return ["openstack compute service set: error: the following arguments are "
                        "required: <host>, <service>"], 2
            host, service = words
            if "--enable" in opts and "--disable" in opts:
                return ["openstack compute service set: error: argument --disable: not "
                        "allowed with argument --enable"], 2
            if "--disable-reason" in opts and "--disable" not in opts:
                return ["Cannot specify option --disable-reason without --disable specified."], 1
            if service != "nova-compute" or host not in services:
                return [f"Compute service {service} of host {host} failed to set."], 1
            if "--disable" in opts:
                st.compute_disabled[host] = (opts.get("--disable-reason") or [""])[-1]
            elif "--enable" in opts:
                st.compute_disabled.pop(host, None)
            self.lab.save()
            return [], 0
        return [f"openstack compute service {action}: not simulated by the lab"], 2


def _expand_script(script: str, env: Mapping[str, str]) -> list[str] | None:
    """The argv of `sh -c SCRIPT` for one simple command whose words are literals or a bare
    or double-quoted `$NAME` (taken from `env`); None for anything more (pipes, lists...)."""
    import re
    import shlex

    if any(c in script for c in ";|&<>`\n") or "$(" in script:
        return None
    try:
        words = shlex.split(script)
    except ValueError:
        return None
    out: list[str] = []
    for w in words:
        m = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", w)
        if m:
            out.append(env.get(m.group(1), ""))
        elif "$" in w:
            return None
        else:
            out.append(w)
    return out or None


def _options(args: list[str]) -> dict[str, str]:
    """`--key value` pairs of an openstack command line (flags without a value are skipped)."""
    out: dict[str, str] = {}
    for i, a in enumerate(args):
        if a.startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--"):
            out[a] = args[i + 1]
    return out


def _valid_cidr(text: str) -> bool:
    try:
        ip_network(text, strict=True)
    except ValueError:
        return False
    return True
