"""Use cases: install, resume and upgrade as the front ends call them.

The command line, the plain prompts, the TUI session and the upgrade wizard all go through
here. Each use case takes a frozen `RunSettings` (built once by the command line or the TUI
from its options), opens the simulated lab or the real backends in an async context that closes
them on exit, and hands Events to the caller. Nothing here imports the command line, argparse
or Textual; errors the operator can act on leave as `UserError` with their exit code.

A run itself executes in a process of its own, detached from the terminal: `launch` starts it
(`detached` is that process's entry), `follow` replays and tails its events for every viewer.
"""

from installer.pipeline.settings import RunSettings

__all__ = ["RunSettings"]
