"""The difference engine of day two: a deployed cloud and a changed answers file in, the plan of
only what differs out (`sunbeam-install --answers FILE` on a deployed state dir, `plan FILE`,
`bundle FILE`).

The target is the whole install plan of the new answers (installer/planner/build.py). Each of
its steps is compared with the plan of the answers the cloud was deployed with (their ids and
parameters, as `plan --json` shows them) and with the cloud itself (installer/planner/live.py):

- untouched: same id and parameters, and its effect is live. Not in the converge plan; a step
  that needs it treats it as satisfied (its needs pass through to what is in the plan).
- added: a step the deployed plan does not have (a new host, role or feature), or one whose
  effect is gone from the cloud: the step itself runs.
- changed: same id, other parameters. A deployed application becomes the changes Juju makes
  to it (refresh to a channel, config, scale of a Kubernetes application, as Sunbeam's
  `resize` does when the control hosts cross a topology threshold); a wait runs again.
- removed: in the deployed plan, not in the target. A disabled feature's applications and the
  integrations between applications that stay are removed; hosts and roles leave only with
  `allow_removal` (installer/planner/removal.py).

Changes a converge cannot make are refused before anything is planned (`refusals`).
"""

from __future__ import annotations

from collections.abc import Iterable

from installer.plan import Plan, PlanError, Step
from installer.planner.build import build
from installer.planner.changes import CONVERGE, Change, ConvergeRefused, Difference, Refusal
from installer.planner.deployment import Deployment, deployment
from installer.planner.live import LiveView
from installer.planner.removal import removals
from installer.steps.change import ConfigApplication, RefreshApplication, ScaleApplication
from installer.steps.juju import Deploy, WaitSettled
from installer.steps.k8s import NodesReady
from installer.upgrade.targets import parse_version
from manifests.answers import Answers
from manifests.release import K8S_MODEL, Release

PROG = "sunbeam-install"
__all__ = ["CONVERGE", "Change", "ConvergeRefused", "Difference", "Refusal", "difference",
           "refusals"]


# -- refusals -----------------------------------------------------------------------------------


def refusals(deployed: Answers, target: Answers) -> list[Refusal]:
    """The changes from `deployed` to `target` that a converge does not make, each at the path
    of the target's field, saying which command does it."""
    out: list[Refusal] = []
    if target.release != deployed.release:
        wanted, running = parse_version(target.release), parse_version(deployed.release)
        older = wanted is not None and running is not None and wanted < running
        how = ("a cloud is not moved back to an older release" if older else
               f"`{PROG} upgrade --to {target.release}` changes releases")
        out.append(Refusal(("release",), (
            f"the cloud runs {deployed.release} and a converge keeps its release; set it back "
            f"to {deployed.release!r} ({how}).")))
    for key in ("name", "region"):
        old, new = getattr(deployed.deployment, key), getattr(target.deployment, key)
        if old != new:
            out.append(Refusal(("deployment", key), (
                f"the cloud is deployed as {old!r} and keeps its {key}; set it back to {old!r} "
                f"(another {key} is a new install, in another state directory).")))
    for key in ("management_cidr", "loadbalancer_range", "external"):
        old, new = getattr(deployed.network, key), getattr(target.network, key)
        if old != new:
            out.append(Refusal(("network", key), (
                f"a deployed cloud's networks stay as installed (Sunbeam re-addresses them by "
                f"hand: `sunbeam configure`); set it back to {_show(old)}.")))
    if target.proxy != deployed.proxy:
        out.append(Refusal(("proxy",), (
            "this version does not re-apply the proxy to a deployed cloud (`juju "
            "model-config` and `snap set system proxy.*` on each host do); set it back as "
            "deployed.")))
    old_hosts = {h.name: h for h in deployed.hosts}
    for i, h in enumerate(target.hosts):
        old = old_hosts.get(h.name)
        if old is not None and old.address != h.address:
            out.append(Refusal(("hosts", i, "address"), (
                f"the address of {h.name} changes from {old.address} to {h.address}: a Juju "
                f"machine keeps its address; remove {h.name} (`--allow-removal`) and add it "
                "again under another name.")))
    ha = len(deployed.hosts_with("control")) >= 3
    if ha and len(target.hosts_with("control")) < 3:
        out.append(Refusal(("hosts",), (
            f"the control role would be left on {len(target.hosts_with('control'))} host(s): "
            "the control plane is highly available on 3 and must stay so; keep 3 control "
            "hosts.")))
    if deployed.hosts_with("control")[:1] and target.hosts_with("control")[:1] and \
            deployed.hosts_with("control")[0].name != target.hosts_with("control")[0].name:
        first = deployed.hosts_with("control")[0].name
        out.append(Refusal(("hosts",), (
            f"{first} runs the Juju controller (the first control host) and must stay the "
            "first host with the control role.")))
    return out


def _show(value: object) -> str:
    return "null" if value is None else str(value)


# -- the difference -----------------------------------------------------------------------------


def _params(step: Step) -> dict[str, object]:
    from installer.planner import _params as params

    return params(step)


class _Differ:
    def __init__(self, target: Answers, deployed: Answers, release: Release, live: LiveView,
                 *, allow_removal: bool) -> None:
        self.target, self.deployed, self.release, self.live = target, deployed, release, live
        self.allow_removal = allow_removal
        self.tplan = build(target, release)
        self.dplan = build(deployed, release)
        self.tdep: Deployment = deployment(target, release)
        self.ddep: Deployment = deployment(deployed, release)
        self.dparams = {s.id: _params(s) for s in self.dplan.steps}
        self.diff = Difference(Plan([], kind=CONVERGE))
        self.steps: dict[str, Step] = {}  # the converge plan, by id
        self.replaced: dict[str, list[str]] = {}  # full plan id -> converge steps doing it

    def include(self, step: Step, *, of: str | None = None) -> None:
        self.steps[step.id] = step
        if of is not None:
            self.replaced.setdefault(of, []).append(step.id)

    def run(self) -> Difference:
        for step in self.tplan.steps:
            if isinstance(step, WaitSettled):
                continue
            self.compare(step)
        removal, removed = removals(self.target, self.deployed, self.tdep, self.ddep,
                                    allow_removal=self.allow_removal)
        self.diff.removed += removed
        self.link()
        if self.steps or removal:
            for step in removal:
                self.steps[step.id] = step
            self.wait()
        self.diff.plan = Plan(list(self.steps.values()), kind=CONVERGE)
        return self.diff

    def compare(self, step: Step) -> None:
        """Untouched, added (also: gone from the cloud) or changed, as the module says."""
        old = self.dparams.get(step.id)
        live = self.live.effect(step)
        if old is None:
            self.include(step, of=step.id)
            self.diff.added.append(Change(step.id, step.title))
            return
        if isinstance(step, Deploy) and live:
            self.deploy_changes(step, old)
            return
        if _params(step) != old:
            self.include(step, of=step.id)
            self.diff.changed.append(Change(step.id, step.title))
            return
        if not live:
            self.include(step, of=step.id)
            self.diff.added.append(Change(step.id, f"{step.title} (missing from the cloud)"))
            return
        self.diff.untouched.append(step.id)

    def deploy_changes(self, step: Deploy, old: dict[str, object]) -> None:
        """A deployed application: the changes that bring it to `step`'s parameters."""
        new = _params(step)
        changes: list[Step] = []
        if (new["channel"], new["revision"]) != (old["channel"], old["revision"]):
            rev = f" revision {step.revision}" if step.revision is not None else ""
            changes.append(RefreshApplication(
                id=f"juju.refresh:{step.app}", title=f"Refresh {step.app} to {step.channel}{rev}",
                model=step.model, app=step.app, channel=step.channel, revision=step.revision))
        config = step.config
        old_config = old["config"]
        assert isinstance(old_config, dict)
        changed = {k: v for k, v in config.items() if old_config.get(k) != v}
        if changed:
            changes.append(ConfigApplication(
                id=f"juju.config:{step.app}",
                title=f"Set {', '.join(sorted(changed))} of {step.app}",
                model=step.model, app=step.app, config=changed))
        if step.model == K8S_MODEL:
            units = self.live.k8s_units(step.app)
            if units is not None and units != step.units:
                was = units if units >= 0 else old["units"]
                changes.append(ScaleApplication(
                    id=f"juju.scale:{step.app}",
                    title=f"Scale {step.app} from {was} to {step.units} units",
                    model=step.model, app=step.app, units=step.units))
        if not changes:
            self.diff.untouched.append(step.id)
            return
        for c in changes:
            self.include(c, of=step.id)
            self.diff.changed.append(Change(c.id, c.title))

    def link(self) -> None:
        """Each converge step needs the converge steps that stand for its full-plan needs;
        an untouched need is satisfied, so its own needs stand in for it."""
        by_id = {s.id: s for s in self.tplan.steps}
        memo: dict[str, tuple[str, ...]] = {}

        def standing(step_id: str) -> tuple[str, ...]:
            if step_id in memo:
                return memo[step_id]
            if step_id in self.replaced:
                out: tuple[str, ...] = tuple(self.replaced[step_id])
            else:
                step = by_id.get(step_id)
                out = () if step is None else _unique(
                    x for n in step.needs for x in standing(n))
            memo[step_id] = out
            return out

        nodes = [s.id for s in self.steps.values() if isinstance(s, NodesReady)]
        for full_id, ids in self.replaced.items():
            full = by_id[full_id]
            needs = _unique(x for n in full.needs for x in standing(n))
            for sid in ids:
                step = self.steps[sid]
                extra: tuple[str, ...] = ()
                if isinstance(step, ScaleApplication):
                    extra = tuple(nodes)  # new pods go onto the new nodes too
                step.needs = tuple(n for n in _unique((*needs, *extra)) if n != sid)

    def wait(self) -> None:
        """Everything active again, after every step of the converge plan."""
        needed = {n for s in self.steps.values() for n in s.needs}
        sinks = tuple(sid for sid in self.steps if sid not in needed)
        full = next(s for s in self.tplan.steps if isinstance(s, WaitSettled))
        step = WaitSettled(id=full.id, needs=sinks, title=full.title, apps=dict(full.apps))
        self.steps[step.id] = step
        old = self.dparams.get(step.id)
        change = Change(step.id, step.title)
        (self.diff.changed if old is not None else self.diff.added).append(change)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def difference(target: Answers, deployed: Answers, release: Release, live: LiveView, *,
               allow_removal: bool = False) -> Difference:
    """The converge from `deployed` (the answers the cloud was deployed with, as `live` shows
    it now) to `target`: ConvergeRefused for changes it cannot make, PlanError when `target`
    cannot be planned, a RemovalRefused (a ConvergeRefused) for a removal that is not safe or
    not allowed."""
    found = refusals(deployed, target)
    if found:
        raise ConvergeRefused(found)
    if target.release != release.release:
        raise PlanError(f"The answers ask for release {target.release} but the manifest is "
                        f"{release.release}; load the manifest the answers name.")
    return _Differ(target, deployed, release, live, allow_removal=allow_removal).run()
