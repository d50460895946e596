"""Peak RSS during a 100-host dry-run install driven through the TUI's Progress screen
(target <= 200 MB). Needs the planner, runner and lab of this build."""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
from pathlib import Path

from installer.interactive.draft import Draft, HostDraft
from installer.interactive.install import Session
from installer.pipeline import RunSettings
from screens.app import create_app

HOSTS = 100


def draft() -> Draft:
    hosts = [HostDraft(name=f"node{i}", address=f"10.20.0.{10 + i}", ssh_user="ubuntu",
                       roles=(["control"] if i <= 3 else []) + ["compute", "storage"],
                       osd_devices=["/dev/sdb"]) for i in range(1, HOSTS + 1)]
    return Draft(hosts=hosts, management_cidr="10.20.0.0/24",
                 loadbalancer_range="10.20.0.200-10.20.0.220")


async def run(state: Path) -> tuple[str, float, str]:
    session = Session(RunSettings(dry_run=True, state_dir=state, time_scale=0))
    session.draft = draft()
    app = create_app(session, start="progress")
    t = time.perf_counter()
    async with app.run_test(size=(80, 24)) as pilot:
        while session.last_outcome is None and time.perf_counter() - t < 600:
            await pilot.pause(0.2)
        screen = app.screen.__class__.__name__
    return str(session.last_outcome), time.perf_counter() - t, screen


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outcome, seconds, screen = asyncio.run(run(Path(tmp)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{HOSTS}-host dry-run install through the TUI: outcome {outcome}, {seconds:.1f} s, "
          f"ended on {screen}; peak RSS {peak:.0f} MB (target <= 200 MB)")


if __name__ == "__main__":
    main()
