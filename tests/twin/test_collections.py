"""The twin collects cyclic garbage less often while a day plays, and as before after."""

from __future__ import annotations

import gc

import pytest

from doorstep.twin.service import YOUNG_COLLECTION_EVERY, fewer_collections


def test_the_collector_runs_less_often_inside_and_as_before_after() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, before[1], before[2])
    assert gc.get_threshold() == before


def test_a_day_that_fails_leaves_the_collector_as_it_was() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("the day failed")
    assert gc.get_threshold() == before
