"""The words of a converge (installer/planner/converge.py): what it refuses, and the difference
it shows (added, changed, removed, untouched) with the plan that makes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from installer.plan import Plan, PlanError
from installer.planner.deployment import Deployment
from manifests.release import MACHINE_MODEL

CONVERGE = "converge"  # the journal's run kind and the plan's


@dataclass(frozen=True)
class Refusal:
    """A change a converge cannot make: `path` in the answers, what to do instead."""

    path: tuple[str | int, ...]
    message: str


class ConvergeRefused(PlanError):
    """The new answers change what a converge cannot; `refusals` say what and where."""

    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__("; ".join(r.message for r in refusals))
        self.refusals = refusals


@dataclass(frozen=True)
class Change:
    """One line of the difference: a step of the converge plan, or a removal."""

    step_id: str
    title: str


@dataclass
class Difference:
    """What converging to the new answers does, and the plan that does it."""

    plan: Plan
    added: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)  # step ids of the full plan

    @property
    def empty(self) -> bool:
        return not self.plan.steps

    def counts(self) -> str:
        return (f"{len(self.added)} added, {len(self.changed)} changed, "
                f"{len(self.removed)} removed, {len(self.untouched)} untouched")

    def lines(self) -> list[str]:
        """The difference as a person reads it: counts, then one line per change."""
        if self.empty:
            return [f"Nothing to change: the cloud already is what the answers describe "
                    f"({len(self.untouched)} steps untouched)."]
        out = [f"Changes: {self.counts()}; {len(self.plan)} steps to run."]
        for mark, changes in (("+", self.added), ("~", self.changed), ("-", self.removed)):
            out += [f"  {mark} {c.title}  [{c.step_id}]" for c in changes]
        return out

    def to_json(self) -> dict[str, object]:
        def listed(changes: list[Change]) -> list[dict[str, str]]:
            return [{"id": c.step_id, "title": c.title} for c in changes]

        return {"added": listed(self.added), "changed": listed(self.changed),
                "removed": listed(self.removed), "untouched": list(self.untouched)}


def unit_hosts(dep: Deployment) -> dict[tuple[str, str], str]:
    """(application, host) -> model of every machine unit of a deployment."""
    return {(a.name, h): a.model for a in dep.apps.values() if a.model == MACHINE_MODEL
            for h in a.hosts}
