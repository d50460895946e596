"""A real-mode single-node install against the fakes, run the way the command line runs it
(settings, `open_install`, `run_rendered` with its SIGINT handling and exit code), with the fake
`juju bootstrap` hanging for 60 s: a test sends this program a real SIGINT.

    python -m tests.installer.pipeline.interrupted_install WORLD_DIR
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from installer.cmd.install import run_rendered
from installer.pipeline.install import open_install
from tests.installer.pipeline.test_upgrade_real_backends import settings_for
from tests.installer.test_plan_real_backends import example, make_world, stop_world


async def _install(world: Path) -> int:
    answers = example("single-node")
    w = make_world(world, answers)
    state = json.loads(w.juju_state.read_text())
    state["hang"] = {"bootstrap": 60}
    w.juju_state.write_text(json.dumps(state))
    os.environ["PATH"] = f"{w.snap_bin['node1']}:{os.environ['PATH']}"
    args = argparse.Namespace(events="console", events_file=str(world / "events.jsonl"))
    try:
        async with open_install(settings_for(w, world), answers) as job:
            setup = job.start()
            try:
                return await run_rendered(setup, args)
            finally:
                setup.close()
    finally:
        stop_world(w)


if __name__ == "__main__":
    sys.exit(asyncio.run(_install(Path(sys.argv[1]))))
