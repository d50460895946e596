"""GcPause: the cyclic garbage collector paused for a block and restored whatever happens."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from manifests.gcpause import GcPause


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_paused_in_the_block_and_restored_after_an_error() -> None:
    with pytest.raises(ValueError), GcPause():
        assert not gc.isenabled()
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_pause_inside_another_leaves_it_to_the_outer_one() -> None:
    with GcPause():
        with GcPause():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resume_ends_the_pause_early_and_once() -> None:
    with GcPause() as pause:
        pause.resume()
        assert gc.isenabled()
        gc.disable()  # someone else's pause, begun after ours ended
        pause.resume()
        assert not gc.isenabled()  # ours does not end theirs
    assert not gc.isenabled()


def test_freeze_keeps_what_is_alive_out_of_the_collector_s_way() -> None:
    kept = [[i] for i in range(1000)]
    try:
        with GcPause(freeze=True):
            assert gc.get_freeze_count() == 0
        assert gc.isenabled() and gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with GcPause():
        pass
    assert not gc.isenabled()
