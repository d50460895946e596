"""The simulated lab: a cluster model that dry-run, the TUI tests and the benchmarks deploy into.

`Lab` is what callers hold: it opens the cluster kept in a state dir (installer/lab/cluster.py),
creates the hosts an answers file names, and hands out its four backends (installer/lab/snaps.py,
juju.py, k8s.py and hosts.py), which implement the Protocols of installer/backends/base.py so steps
cannot tell the lab from a cloud.

Each mutating backend call checks its preconditions first (the host exists, the model exists, the
machine is there...) and raises BackendError when a step ran before what it needs; so a plan with
a missing dependency fails in the lab as it would on a cloud. State changes happen after the
operation's time has passed, in one synchronous block followed by a save: a cancelled or killed
operation changes nothing. A save appends the entities that changed to a journal beside the
snapshot (installer/lab/persist.py), so its cost does not grow with the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from installer.backends.base import Backends
from installer.exits import UserError
from installer.lab.cluster import LabCluster
from installer.lab.faults import FaultPlan, parse_faults
from installer.lab.hosts import LabHosts
from installer.lab.juju import LabJuju
from installer.lab.k8s import LabK8s
from installer.lab.persist import LabStore
from installer.lab.profile import default_facts
from installer.lab.snaps import LabSnaps
from installer.lab.state import (
    FACTS_FILE,
    HostState,
    LabFacts,
    read_model,
    write_atomic,
)
from installer.lab.timing import DEFAULT_TIME_SCALE
from manifests.gcpause import GcPause
from probes.facts import FACTS_FILE_MAX, HostFacts, facts_problem

if TYPE_CHECKING:
    from manifests.answers import Answers


class Lab(LabCluster):
    """The simulated cluster. Build it with `Lab.open(state_dir, ...)`."""

    @classmethod
    def open(
        cls,
        state_dir: Path,
        *,
        time_scale: float | None = None,
        faults: str | Iterable[str] | None = None,
        facts_dir: Path | None = None,
    ) -> Lab:
        """Open (or create) the lab kept in `state_dir`; raises UserError on bad options."""
        if time_scale is not None and (time_scale < 0 or time_scale != time_scale):
            raise UserError(
                f"--time-scale {time_scale} is negative; give 0 (instant) or more "
                f"(default {DEFAULT_TIME_SCALE})."
            )
        plan = FaultPlan(parse_faults(faults))
        if facts_dir is not None and not Path(facts_dir).is_dir():
            raise UserError(
                f"--facts {facts_dir} is not a directory; give a directory holding one "
                "<host>.json (probe --json output) per host."
            )
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = LabStore(state_dir)
        with GcPause():
            state = store.load()
            facts = read_model(state_dir / FACTS_FILE, LabFacts) or LabFacts()
        assert isinstance(facts, LabFacts)
        return cls(
            state_dir,
            state,
            facts,
            time_scale=DEFAULT_TIME_SCALE if time_scale is None else time_scale,
            faults=plan,
            facts_dir=Path(facts_dir) if facts_dir is not None else None,
            store=store,
        )

    # -- hosts and facts ----------------------------------------------------------------------

    def ensure_hosts(self, answers: Answers) -> None:
        """Create the answers' hosts (keeping what is installed on known ones) and their facts.

        Facts come from `facts_dir/<host>.json` when the lab was opened with one, else from the
        default server profile shaped to the answers (its disks, NICs and address)."""
        with GcPause():
            self._ensure_hosts(answers)

    def _ensure_hosts(self, answers: Answers) -> None:
        net = answers.network.management_cidr
        used = {str(h.address) for h in answers.hosts if h.address is not None}
        for h in answers.hosts:
            known = self.state.hosts.get(h.name)
            if h.address is not None:
                address = str(h.address)
            elif known is not None:
                address = known.address
            else:
                address = self._free_address(answers, used)
                used.add(address)
            if known is None:
                self.state.hosts[h.name] = HostState(name=h.name, address=address)
            else:
                known.address = address
            self.touch_host(h.name)
            if self.facts_dir is not None:
                self._facts.hosts[h.name] = self._read_facts(h.name)
            else:
                self._facts.hosts[h.name] = default_facts(
                    h.name,
                    address,
                    prefix=net.prefixlen,
                    osd_devices=h.osd_devices,
                    external_nic=h.external_nic,
                    gateway=str(next(net.hosts())) if net.num_addresses > 2 else None,
                )
        write_atomic(self.state_dir / FACTS_FILE, self._facts.model_dump_json())
        self.save()

    def _free_address(self, answers: Answers, used: set[str]) -> str:
        """An address for the host that runs the installer (answers give it none)."""
        net = answers.network
        for offset, candidate in enumerate(net.management_cidr.hosts()):
            # Skip the first ten: the gateway and infrastructure usually live there.
            if offset < 10 or str(candidate) in used or candidate in net.loadbalancer_range:
                continue
            return str(candidate)
        return str(next(net.management_cidr.hosts()))

    def _read_facts(self, host: str) -> HostFacts:
        """`facts_dir/<host>.json`: a regular file of at most FACTS_FILE_MAX (a FIFO or a link
        to /dev/zero there must not hang or exhaust the run), holding valid, bounded facts."""
        from manifests.files import FileProblem, read_regular_file, size_text

        assert self.facts_dir is not None
        path = self.facts_dir / f"{host}.json"
        try:
            return HostFacts.model_validate_json(read_regular_file(path, FACTS_FILE_MAX))
        except FileProblem as e:
            if e.missing:
                raise UserError(
                    f"--facts {self.facts_dir} has no facts for host {host}: add {path} "
                    f"(`sunbeam-install probe --json` output of {host})."
                ) from None
            raise UserError(
                f"Facts file {path} {e.reason}; give a regular file of at most "
                f"{size_text(FACTS_FILE_MAX)} (`sunbeam-install probe --json` output of {host})."
            ) from None
        except ValidationError as e:
            raise UserError(
                f"Facts file {path} is not `probe --json` output ({facts_problem(e)}); "
                "record it again with `sunbeam-install probe --json`."
            ) from None

    # -- backends -----------------------------------------------------------------------------

    def backends(self) -> Backends:
        """The lab's snapd, Juju, Kubernetes and host backends, all over this one cluster."""
        return Backends(
            snaps=LabSnaps(self), juju=LabJuju(self), k8s=LabK8s(self), hosts=LabHosts(self)
        )
