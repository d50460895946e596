"""The settings of one command's run, built once by a front end."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from installer.exits import Exit, UserError


@dataclass(frozen=True)
class RealEndpoints:
    """Where the real backends find snapd, Kubernetes and Juju on this machine, and the SSH
    known_hosts file; production defaults, changed by tests that run the fakes."""

    snapd_socket: str = "/run/snapd.socket"
    kubeconfig: str = "/etc/kubernetes/admin.conf"
    juju_binary: str | None = None  # None: the juju snap's, else PATH's
    known_hosts: Path | None = None  # None: ~/.ssh/known_hosts
    poll_interval: float | None = None  # None: each backend's own (seconds between polls)


@dataclass(frozen=True)
class RunSettings:
    """How a command runs: the lab or the real hosts, where its state lives, how fast, how wide.

    `state_dir` None means the default for the mode (DESIGN "state directory"). The lab-only
    fields (`facts_dir`, `time_scale`, `faults`) are refused for a real run by `check()`.
    """

    dry_run: bool = True
    state_dir: Path | None = None
    facts_dir: Path | None = None
    time_scale: float | None = None
    faults: tuple[str, ...] = ()
    parallel: int | None = None
    accept_new_host_keys: bool = False
    ssh_identity: Path | None = None
    endpoints: RealEndpoints = field(default_factory=RealEndpoints)

    @classmethod
    def build(
        cls,
        *,
        dry_run: bool = True,
        state_dir: str | Path | None = None,
        facts_dir: str | Path | None = None,
        time_scale: float | None = None,
        faults: Iterable[str] | None = None,
        parallel: int | None = None,
        accept_new_host_keys: bool = False,
        ssh_identity: str | Path | None = None,
        known_hosts: str | Path | None = None,
    ) -> RunSettings:
        """Settings from loose option values; repeated or comma-separated faults are split."""
        items: list[str] = []
        for spec in faults or ():
            items.extend(s.strip() for s in spec.split(",") if s.strip())
        return cls(
            dry_run=dry_run,
            state_dir=Path(state_dir) if state_dir else None,
            facts_dir=Path(facts_dir).resolve() if facts_dir else None,
            time_scale=time_scale,
            faults=tuple(items),
            parallel=parallel,
            accept_new_host_keys=accept_new_host_keys,
            ssh_identity=Path(ssh_identity).expanduser() if ssh_identity else None,
            endpoints=RealEndpoints(
                known_hosts=Path(known_hosts).expanduser() if known_hosts else None
            ),
        )

    def check(self) -> None:
        """Refuse settings that cannot work together (exit 2)."""
        if self.parallel is not None and self.parallel < 1:
            raise UserError(f"--parallel {self.parallel} is too small; give 1 or more (or "
                            "leave it out to size it for the plan).", Exit.USAGE)
        if self.ssh_identity is not None and not self.ssh_identity.is_file():
            raise UserError(f"--identity {self.ssh_identity}: no such file; give the path of "
                            "an SSH private key.", Exit.USAGE)
        if not self.dry_run and (self.faults or self.time_scale is not None
                                 or self.facts_dir is not None):
            raise UserError("--faults, --time-scale and --facts work only with --dry-run; add "
                            "--dry-run or leave them out.", Exit.USAGE)

    @property
    def explicit_state_dir(self) -> bool:
        return self.state_dir is not None

    def resolved_state_dir(self) -> Path:
        """The state dir of this mode: the one given, else the mode's default."""
        from installer.state import resolve_state_dir

        return resolve_state_dir(str(self.state_dir) if self.state_dir else None,
                                 dry_run=self.dry_run)

    def for_mode(self, dry_run: bool) -> RunSettings:
        """The same settings in another mode (a resumed run keeps the mode it started in)."""
        return replace(self, dry_run=dry_run)

    def resumed(self, stored: Mapping[str, Any]) -> RunSettings:
        """Settings of a resumed run: what was given now, else what the run started with.

        Faults are never carried over: a resume after `--faults ...=fail` tries for real."""
        facts = stored.get("facts")
        return replace(
            self,
            time_scale=self.time_scale if self.time_scale is not None
            else stored.get("time_scale"),
            parallel=self.parallel or stored.get("parallel"),
            facts_dir=self.facts_dir or (Path(facts) if facts else None),
        )

    def journal_options(self) -> dict[str, Any]:
        """What the journal keeps of these settings, so `resume` can run the same way."""
        return {"time_scale": self.time_scale,
                "facts": str(self.facts_dir) if self.facts_dir else None,
                "parallel": self.parallel}
