"""A small run of the fuzz benchmark (bench/fuzz_inputs.py) with a fixed seed: hostile answers
files and facts through `validate --dry-run` give operator errors, never a traceback."""

from __future__ import annotations

import sys

from ..conftest import EXAMPLES

sys.path.insert(0, str(EXAMPLES.parent / "bench"))

import fuzz_inputs


def test_fuzzed_inputs_give_no_traceback() -> None:
    report = fuzz_inputs.run(200, 20, seed=13, progress=False)
    assert report.inputs == 240
    assert report.tracebacks == []
    assert report.loaded > 0  # some inputs got as far as preflight


def test_the_inputs_are_reproducible() -> None:
    assert list(fuzz_inputs.answers_inputs(30, 5)) == list(fuzz_inputs.answers_inputs(30, 5))
    first = [(c.host, c.kind, c.content) for c in fuzz_inputs.facts_inputs(10, 5)]
    assert first == [(c.host, c.kind, c.content) for c in fuzz_inputs.facts_inputs(10, 5)]
