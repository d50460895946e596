"""installer.pipeline.install.install_events: the event stream the TUI session consumes."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import cast

import pytest

from installer.events import Event, PlanFinished, PlanStarted, StepFinished, StepStarted
from installer.journal import Journal
from installer.pipeline import RunSettings
from installer.pipeline.install import install_events
from installer.state import StateDir
from manifests.loader import load_answers

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"



async def test_install_events_streams_a_whole_dry_run(tmp_path: Path) -> None:
    answers = load_answers(EXAMPLES / "single-node.yaml")
    settings = RunSettings(dry_run=True, state_dir=tmp_path, time_scale=0)
    evs = [e async for e in install_events(settings, answers)]
    assert isinstance(evs[0], PlanStarted) and evs[0].log_path
    assert isinstance(evs[-1], PlanFinished) and evs[-1].outcome == "done"
    started = {e.step for e in evs if isinstance(e, StepStarted)}
    assert started == {e.step for e in evs if isinstance(e, StepFinished)}
    assert len(started) == evs[0].steps
    assert not StateDir(tmp_path).is_locked()


async def test_closing_the_stream_early_interrupts_the_run_resumably(tmp_path: Path) -> None:
    answers = load_answers(EXAMPLES / "single-node.yaml")
    settings = RunSettings(dry_run=True, state_dir=tmp_path, time_scale=0.003)
    stream = cast("AsyncGenerator[Event, None]", install_events(settings, answers))
    seen = 0
    async for e in stream:
        seen += isinstance(e, StepFinished)
        if seen == 3:
            break
    await stream.aclose()
    with Journal.open(tmp_path / "journal.sqlite") as j:
        run = j.last_run()
        assert run is not None and run.outcome == "interrupted"
        states = [s.state for s in j.steps(run.id)]
        assert states.count("done") >= 3 and "pending" in states
    assert not StateDir(tmp_path).is_locked()


async def test_a_run_that_cannot_start_says_why_with_its_exit_code(tmp_path: Path) -> None:
    from installer.exits import Exit, UserError

    answers = load_answers(EXAMPLES / "single-node.yaml")
    state = StateDir(tmp_path).ensure()
    with state.lock("install"), pytest.raises(UserError) as e:
        async for _ in install_events(RunSettings(dry_run=True, state_dir=tmp_path),
                                      answers):
            pass
    assert e.value.code == Exit.PREREQUISITE and "Another sunbeam-install run" in str(e.value)
