"""Launch to the first interactive screen (target <= 1 s), in a fresh interpreter each time."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

CODE = r"""
import time, asyncio
t0 = time.perf_counter()
from pathlib import Path
from installer.pipeline import RunSettings
from installer.interactive.install import Session
from screens.app import create_app
async def main():
    app = create_app(Session(RunSettings(dry_run=True, state_dir=Path("/tmp/bench-tui"))))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.__class__.__name__ == "WelcomeScreen"
        print(time.perf_counter() - t0)
asyncio.run(main())
"""


def main() -> None:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                             check=True)
        total = time.perf_counter() - start
        runs.append((float(out.stdout.strip().splitlines()[-1]), total))
    inner = statistics.median(r[0] for r in runs)
    outer = statistics.median(r[1] for r in runs)
    print(f"launch to first interactive screen: median {inner:.3f} s (imports + first frame), "
          f"{outer:.3f} s with interpreter start; target <= 1 s")


if __name__ == "__main__":
    main()
