"""Fault injection for the simulated lab: `--faults SPEC`.

A spec is a comma-separated list of `OPERATION=MODE`:

- OPERATION names a lab operation, `<area>.<op>[:<target>][@<host>]` (see docs/dry-run.md),
  and may use shell wildcards (`juju.deploy:*-k8s`, `snap.install:*@node2`);
- MODE is `fail` (every attempt raises a permanent error with a hint), `transient:N`
  (the first N attempts raise a transient error, later ones succeed; `transient` alone is 1)
  or `hang` (the operation never returns until the run is stopped: for trying Ctrl-C, kill and
  resume, and for stopping a run at a known point).

A fault that can match no operation of the lab (a typo: `ceph.add-osd@nod2`, `juju.deplyo:*`)
is refused when the lab's hosts are known (`FaultPlan.refuse_unmatchable`), naming the forms
the operations take; it would otherwise look like a passing test.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from installer.backends.base import BackendError
from installer.exits import Exit, UserError

_OPERATION = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+(:[^@=,\s]+)?(@[^@=,\s]+)?$")
_EXAMPLE = "juju.deploy:nova-k8s=transient:2 or ceph.add-osd@node2=fail"

# The lab's operations (docs/dry-run.md): `area.op` -> (takes :TARGET, takes @HOST).
OPERATION_FORMS: dict[str, tuple[bool, bool]] = {
    "snap.install": (True, True), "snap.refresh": (True, True), "snap.revert": (True, True),
    "snap.set-config": (True, True), "snap.connect": (True, True),
    "juju.bootstrap": (False, False), "juju.add-machine": (False, True),
    "juju.add-k8s-cloud": (True, False), "juju.add-model": (True, False),
    "juju.deploy": (True, False), "juju.add-unit": (True, True), "juju.refresh": (True, False),
    "juju.config": (True, False), "juju.integrate": (True, False), "juju.offer": (True, False),
    "juju.consume": (True, False), "juju.wait-settled": (True, False),
    "juju.run-action": (True, False), "ceph.add-osd": (False, True), "ceph.health": (False, False),
    "k8s.get-kubeconfig": (False, False), "k8s.wait-nodes-ready": (False, False),
    "k8s.set-lb-pool": (True, False), "keystone.get-admin-password": (False, False),
    "host.run": (True, True),
}


def operation_forms() -> str:
    """The operation forms, for a message: `snap.install:TARGET@HOST, juju.bootstrap, ...`."""
    return ", ".join(name + (":TARGET" if t else "") + ("@HOST" if h else "")
                     for name, (t, h) in OPERATION_FORMS.items())


def _wild(text: str) -> bool:
    return any(c in text for c in "*?[")


def unmatchable(pattern: str, hosts: Iterable[str]) -> str | None:
    """Why `pattern` can match no operation of a lab with these hosts; None when it can."""
    hosts = list(hosts)
    cut = min((i for i in (pattern.find(":"), pattern.find("@")) if i >= 0), default=len(pattern))
    head, rest = pattern[:cut], pattern[cut:]
    forms = [f for f in OPERATION_FORMS if fnmatch.fnmatchcase(f, head)]
    if not forms:
        return f"{head!r} is no lab operation"
    if _wild(head):
        return None  # the wildcard may reach into the target or the host: do not guess
    takes_target, takes_host = OPERATION_FORMS[head]
    has_target, (_, at, host) = rest.startswith(":"), rest.rpartition("@")
    if has_target and not takes_target:
        return f"{head} takes no :TARGET"
    if at and not takes_host and not (has_target and _wild(rest)):
        return f"{head} takes no @HOST"
    if takes_target and not has_target and not _wild(rest):
        return f"{head} needs a :TARGET"
    if takes_host and not at and not _wild(rest):
        return f"{head} needs an @HOST"
    if at and takes_host and hosts and not any(fnmatch.fnmatchcase(h, host) for h in hosts):
        return f"no host of the lab is {host!r} (its hosts: {', '.join(sorted(set(hosts)))})"
    return None


class FaultSpecError(UserError):
    """A `--faults` spec that cannot be parsed; a usage error (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, Exit.USAGE)


@dataclass(frozen=True)
class Fault:
    pattern: str  # an operation name, possibly with wildcards
    mode: Literal["fail", "transient", "hang"]
    times: int = 0  # transient: how many attempts fail
    spec: str = ""  # as the user wrote it, for hints

    def matches(self, operation: str) -> bool:
        return fnmatch.fnmatchcase(operation, self.pattern)


def parse_faults(specs: str | Iterable[str] | None) -> list[Fault]:
    """Parse one spec string or several (repeated --faults); raises FaultSpecError."""
    if specs is None:
        return []
    texts = [specs] if isinstance(specs, str) else list(specs)
    faults: list[Fault] = []
    for text in texts:
        for item in text.split(","):
            item = item.strip()
            if item:
                faults.append(_parse_one(item))
    return faults


def _parse_one(item: str) -> Fault:
    operation, sep, mode = item.partition("=")
    operation, mode = operation.strip(), mode.strip()
    if not sep or not operation or not mode:
        raise FaultSpecError(f"Fault {item!r} is not OPERATION=MODE; write e.g. {_EXAMPLE}.")
    if not _OPERATION.match(operation.replace("*", "x").replace("?", "x")):
        raise FaultSpecError(
            f"Fault operation {operation!r} is not of the form AREA.OP[:TARGET][@HOST]; "
            f"write e.g. {_EXAMPLE} (docs/dry-run.md lists the operations)."
        )
    if mode == "fail":
        return Fault(operation, "fail", 0, item)
    if mode == "hang":
        return Fault(operation, "hang", 0, item)
    kind, _, count = mode.partition(":")
    if kind == "transient":
        if not count:
            return Fault(operation, "transient", 1, item)
        if count.isdigit() and int(count) >= 1:
            return Fault(operation, "transient", int(count), item)
        raise FaultSpecError(
            f"Fault {item!r} has transient count {count!r}; write a whole number of "
            "failing attempts of at least 1, e.g. transient:2."
        )
    raise FaultSpecError(
        f"Fault {item!r} has mode {mode!r}; write `fail`, `transient:N` or `hang`, e.g. {_EXAMPLE}."
    )


@dataclass
class FaultPlan:
    """The faults of one lab session and how many attempts each operation has had."""

    faults: list[Fault] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # every operation this session ran

    def unmatched(self) -> list[Fault]:
        """The faults whose pattern matched no operation this session ran (a typo such as
        `juju.deploy:nova-k9s`, or an operation a resumed run had already done)."""
        return [f for f in self.faults if not any(f.matches(op) for op in self.seen)]

    def refuse_unmatchable(self, hosts: Iterable[str]) -> None:
        """FaultSpecError naming every fault that can match no operation on these hosts."""
        hosts = list(hosts)
        problems = [f"{f.spec!r}: {why}" for f in self.faults
                    if (why := unmatchable(f.pattern, hosts)) is not None]
        if problems:
            raise FaultSpecError(
                f"--faults {'; '.join(problems)}, so it would never fire. Operations are "
                f"{operation_forms()} (docs/dry-run.md), e.g. {_EXAMPLE}."
            )

    def hangs(self, operation: str) -> bool:
        """Whether a `hang` fault holds `operation` until the run is stopped."""
        self.seen.add(operation)  # every lab operation asks this first
        return any(f.mode == "hang" and f.matches(operation) for f in self.faults)

    def check(self, operation: str) -> None:
        """Raise the BackendError a fault prescribes for this attempt of `operation`, if any."""
        self.seen.add(operation)
        n = self.attempts.get(operation, 0) + 1
        self.attempts[operation] = n
        for f in self.faults:
            if f.mode == "hang" or not f.matches(operation):
                continue
            if f.mode == "fail":
                raise BackendError(
                    f"{operation} failed (simulated fault {f.spec!r})",
                    hint=f"Remove {f.spec!r} from --faults and run "
                    "`sunbeam-install resume --dry-run`.",
                )
            if n <= f.times:
                raise BackendError(
                    f"{operation} failed transiently (simulated fault {f.spec!r}, "
                    f"attempt {n} of {f.times} failing)",
                    transient=True,
                )
