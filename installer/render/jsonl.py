"""`--events jsonl`: one JSON object per event per line, e.g.
`{"time": 1718000000.1, "step": "juju.deploy:keystone-k8s", "event": "StepStarted", ...}`.

Each line is written with one write() and flushed, so a reader (CI, `tail -f`) sees whole
events as they happen and a killed run leaves no half-written line behind in a pipe.
"""

from __future__ import annotations

from typing import IO

from installer.events import Event


class JsonlRenderer:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __call__(self, event: Event) -> None:
        self.stream.write(event.model_dump_json() + "\n")
        self.stream.flush()
