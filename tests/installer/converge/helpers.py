"""Helpers of the converge tests: answers files derived from the examples, dry-run installs and
converges through the CLI, their events, and the lab's cloud read through its own Juju."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import yaml

from installer.cli import main
from installer.events import StepFinished, StepStarted, parse_event
from installer.lab import Lab
from installer.planner.live import deployed_bundle, read_live

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
SCALE = "0.003"  # the lab's time scale: seconds per install


def answers_doc(example: str) -> dict[str, Any]:
    doc = yaml.safe_load((EXAMPLES / example).read_text())
    assert isinstance(doc, dict)
    return doc


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def host(name: str, address: str, roles: list[str]) -> dict[str, Any]:
    return {"name": name, "address": address, "ssh_user": "ubuntu", "roles": roles}


def run(state: Path, answers: Path, *extra: str, events: Path | None = None) -> int:
    """`sunbeam-install --answers FILE --dry-run --yes` on `state` (the install or converge)."""
    argv = ["--answers", str(answers), "--dry-run", "--yes", "--state-dir", str(state),
            "--time-scale", SCALE, *extra]
    if events is not None:
        argv += ["--events-file", str(events)]
    return main(argv)


def install_three_node(base: Path, *, events: Path | None = None) -> Path:
    """A dry-run install of examples/three-node.yaml in `base`; its state dir."""
    state = base / "state"
    assert run(state, write(base / "three.yaml", answers_doc("three-node.yaml")),
               events=events) == 0
    return state


def copy_state(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def events(path: Path) -> list[Any]:
    return [parse_event(line) for line in path.read_text().splitlines() if line.strip()]


def started(evs: list[Any]) -> dict[str, Any]:
    """Step id -> its StepStarted event."""
    return {e.step: e for e in evs if isinstance(e, StepStarted)}


def finished_ok(evs: list[Any]) -> set[str]:
    return {e.step for e in evs if isinstance(e, StepFinished) and e.outcome in ("done",
                                                                                  "skipped")}


async def read_lab_live(state: Path) -> Any:
    """The lab's cloud as its Juju (and snapd, Kubernetes) show it (within a running loop)."""
    lab = Lab.open(state, time_scale=0.0, faults=[], facts_dir=None)
    return await read_live(lab.backends(), [])


def lab_live(state: Path) -> Any:
    """The lab's cloud as its Juju (and snapd, Kubernetes) show it."""
    return asyncio.run(read_lab_live(state))


def lab_bundle(state: Path) -> dict[str, Any]:
    """What the lab's Juju status shows, plus each application's configuration from the lab's
    model (Juju's status does not show it)."""
    shape = deployed_bundle(lab_live(state))
    lab = Lab.open(state, time_scale=0.0, faults=[], facts_dir=None)
    for name, model in shape.items():
        apps = model["applications"]
        assert isinstance(apps, dict)
        for app, entry in apps.items():
            entry["config"] = dict(lab.state.models[name].apps[app].config)
    return shape
