"""What is deployed: release, every charm's channel and revision, every snap per host, units.

The answer is a `Deployed` (pydantic: the command shows it, `--json` prints it, and the upgrade
run stores it so a resumed upgrade re-plans from the same starting point). It is read from the
backends (Juju status of every model, snapd on every host, Kubernetes nodes) and from the
journal, which knows which release the last finished install or upgrade put in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from installer.backends.base import BackendError

if TYPE_CHECKING:
    from installer.backends.base import Backends
    from installer.journal import Journal, RunRecord
    from manifests.answers import Answers
    from manifests.release import Release

# The machine charm whose actions report Ceph's OSDs.
CEPH_CHARM = "microceph"


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeployedUnit(_M):
    name: str  # keystone-k8s/0
    workload: str  # active, waiting, blocked, maintenance, error, unknown
    agent: str  # idle, executing, ...
    message: str = ""
    host: str | None = None  # machine units: the host they run on

    @property
    def settled(self) -> bool:
        return self.workload == "active" and self.agent == "idle"

    @property
    def in_error(self) -> bool:
        return self.workload == "error" or self.agent == "error"


class DeployedApp(_M):
    model: str
    app: str
    charm: str
    side: Literal["control-plane", "machine"]
    channel: str | None
    revision: int | None
    units: list[DeployedUnit] = Field(default_factory=list)

    @property
    def settled(self) -> bool:
        """Every unit active and idle (an application without units is not)."""
        return bool(self.units) and all(u.settled for u in self.units)


class DeployedSnap(_M):
    host: str
    name: str
    channel: str
    revision: str


class CephOsd(_M):
    host: str
    path: str


class Deployed(_M):
    """What runs now. `release` is what the journal says was put in place (else what the charm
    channels match); `channels_release` is the shipped release every channel matches, None
    when they match none (a half-finished upgrade, or hand-made changes)."""

    release: str | None
    release_source: Literal["journal", "channels", "unknown"]
    channels_release: str | None
    openstack_model: str | None = None
    machine_model: str | None = None
    hosts: list[str] = Field(default_factory=list)
    apps: list[DeployedApp] = Field(default_factory=list)
    snaps: list[DeployedSnap] = Field(default_factory=list)
    k8s_nodes: dict[str, bool] = Field(default_factory=dict)
    # None: Ceph was not asked (no microceph application, or its action failed).
    ceph_osds: list[CephOsd] | None = None
    notes: list[str] = Field(default_factory=list)  # what could not be read, and why

    def app(self, name: str) -> DeployedApp | None:
        return next((a for a in self.apps if a.app == name), None)

    def snap(self, host: str, name: str) -> DeployedSnap | None:
        return next((s for s in self.snaps if s.host == host and s.name == name), None)

    def hosts_with_snap(self, name: str) -> list[str]:
        """Hosts that have the snap, in the order of `hosts` (the answers' order)."""
        have = {s.host for s in self.snaps if s.name == name}
        return [h for h in self.hosts if h in have]


def last_finished_run(journal: Journal) -> RunRecord | None:
    """The newest install or upgrade run that finished ("done"): it says what is in place.

    An unfinished newer upgrade must not hide the finished install before it, so this looks
    at finished runs only, of both kinds, newest first (the journal's run order)."""
    return next(
        (r for r in journal.runs(outcome="done")
         if r.kind in ("install", "upgrade", "converge")), None  # converge: day two
    )


def _snapshot_release(run: RunRecord | None) -> str | None:
    if run is None:
        return None
    from pydantic import ValidationError

    from manifests.answers import Answers

    try:
        return Answers.model_validate_json(run.answers_snapshot).release
    except ValidationError:
        return None


def release_from_journal(journal: Journal) -> str | None:
    """The release the last finished install or upgrade put in place (None: none finished)."""
    return _snapshot_release(last_finished_run(journal))


def matching_release(
    apps: Iterable[DeployedApp],
    snaps: Iterable[DeployedSnap],
    releases: Mapping[str, Release],
    answers: Answers | None = None,
) -> str | None:
    """The shipped release whose channels every deployed charm and snap it names is on.

    Charms and snaps a release does not name are not counted against it; a release that names
    none of what is deployed does not match. With several matches the newest wins."""
    apps, snaps = list(apps), list(snaps)
    found: str | None = None
    for name, rel in releases.items():
        compared = 0
        ok = True
        for a in apps:
            if a.charm not in rel.all_charm_names():
                continue
            compared += 1
            if a.channel != rel.charm(a.charm, answers).channel:
                ok = False
                break
        rel_snaps = rel.all_snaps()
        for s in snaps if ok else ():
            if s.name not in rel_snaps:
                continue
            compared += 1
            if s.channel != rel_snaps[s.name].channel:
                ok = False
                break
        if ok and compared:
            found = name  # releases come oldest first: the last match is the newest
    return found


def _known_charms(releases: Mapping[str, Release]) -> tuple[set[str], set[str], set[str]]:
    control: set[str] = set()
    machine: set[str] = set()
    snaps: set[str] = set()
    for rel in releases.values():
        control |= rel.control_charm_names()
        machine |= rel.machine_charm_names()
        snaps |= set(rel.all_snaps())
    return control, machine, snaps


async def detect(
    backends: Backends,
    hosts: Iterable[str],
    *,
    journal_release: str | None = None,
    answers: Answers | None = None,
    releases: Mapping[str, Release] | None = None,
) -> Deployed:
    """Read what is deployed on `hosts` and in every Juju model through `backends`.

    `journal_release` is `release_from_journal(...)` when the journal knows it. Read failures
    of one part (a host whose snapd does not answer) become `notes`, not exceptions: the
    preflight turns them into findings the operator can act on."""
    if releases is None:
        from manifests.release import load_release, shipped_releases

        releases = {name: load_release(name) for name in shipped_releases()}
    control_charms, machine_charms, snap_names = _known_charms(releases)
    hosts = list(hosts)
    notes: list[str] = []
    apps: list[DeployedApp] = []
    openstack_model = machine_model = None

    try:
        models = await backends.juju.models()
    except BackendError as e:
        models = []
        notes.append(f"Juju models cannot be listed: {e.message}")
    for model in sorted(models):
        # Every model, the controller's too: a manual bootstrap makes the first host machine 0
        # of it, so the planner deploys the machine charms there. Applications are told apart
        # by their charm, not by the model's name.
        try:
            status = await backends.juju.status(model)
        except BackendError as e:
            notes.append(f"status of Juju model {model} cannot be read: {e.message}")
            continue
        for app in status.apps.values():
            if app.charm in control_charms:
                side: Literal["control-plane", "machine"] = "control-plane"
                openstack_model = openstack_model or model
            elif app.charm in machine_charms:
                side = "machine"
                machine_model = machine_model or model
            else:
                continue  # not something this installer deploys
            units = [
                DeployedUnit(
                    name=u.name,
                    workload=u.workload,
                    agent=u.agent,
                    message=u.message,
                    host=status.machines.get(u.machine) if u.machine is not None else None,
                )
                for u in sorted(app.units.values(), key=lambda u: _unit_number(u.name))
            ]
            apps.append(
                DeployedApp(
                    model=model,
                    app=app.name,
                    charm=app.charm,
                    side=side,
                    channel=app.channel,
                    revision=app.revision,
                    units=units,
                )
            )

    snaps: list[DeployedSnap] = []
    for host in hosts:
        for name in sorted(snap_names):
            try:
                info = await backends.snaps.info(host, name)
            except BackendError as e:
                notes.append(f"snap {name} on {host} cannot be read: {e.message}")
                continue
            if info is not None:
                snaps.append(DeployedSnap(host=host, name=name, channel=info.channel,
                                          revision=info.revision))

    k8s_nodes: dict[str, bool] = {}
    if any(s.name == "k8s" for s in snaps):
        try:
            k8s_nodes = dict(await backends.k8s.nodes_ready())
        except BackendError as e:
            notes.append(f"Kubernetes nodes cannot be read: {e.message}")

    ceph_osds = await _ceph_osds(backends, apps, notes)
    channels_release = matching_release(apps, snaps, releases, answers)
    source: Literal["journal", "channels", "unknown"]
    if journal_release is not None:
        release, source = journal_release, "journal"
    elif channels_release is not None:
        release, source = channels_release, "channels"
    else:
        release, source = None, "unknown"
    return Deployed(
        release=release,
        release_source=source,
        channels_release=channels_release,
        openstack_model=openstack_model,
        machine_model=machine_model,
        hosts=hosts,
        apps=apps,
        snaps=snaps,
        k8s_nodes=k8s_nodes,
        ceph_osds=ceph_osds,
        notes=notes,
    )


async def ceph_osds(backends: Backends, model: str, unit: str) -> list[CephOsd]:
    """The OSDs Ceph knows, from the microceph charm's `list-disks` action."""
    import json

    result = await backends.juju.run_action(model, unit, "list-disks")
    raw = result.get("osds")
    data = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(data, list):
        return []
    return [
        CephOsd(host=str(o.get("location")), path=str(o.get("path")))
        for o in data
        if isinstance(o, dict)
    ]


async def _ceph_osds(
    backends: Backends, apps: list[DeployedApp], notes: list[str]
) -> list[CephOsd] | None:
    ceph = next((a for a in apps if a.charm == CEPH_CHARM and a.units), None)
    if ceph is None:
        return None
    # Ask every unit: a unit's list-disks may report only the disks of its own host.
    found: dict[tuple[str, str], CephOsd] = {}
    for unit in ceph.units:
        try:
            for osd in await ceph_osds(backends, ceph.model, unit.name):
                found.setdefault((osd.host, osd.path), osd)
        except (BackendError, ValueError) as e:
            notes.append(f"Ceph's OSDs cannot be listed ({unit.name} list-disks): {e}")
            return None
    return sorted(found.values(), key=lambda o: (o.host, o.path))


def _unit_number(name: str) -> int:
    tail = name.rpartition("/")[2]
    return int(tail) if tail.isdigit() else 0
