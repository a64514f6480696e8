"""Staggered check-in slots: a pure function of the blocks' start places and times."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from doorstep.drivers.slots import Slot, arrival_slots

TEN = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 10:00 in Phoenix
FIVE = timedelta(minutes=5)


def test_forty_drivers_at_ten_arrive_four_at_a_time_in_the_fifty_minutes_before() -> None:
    blocks = [(n, "DCH1", TEN) for n in range(40)]
    slots = arrival_slots(blocks, slot=FIVE, doors=4)
    assert len(slots) == 40
    per_slot = Counter(s.opens_at for s in slots.values())
    assert set(per_slot.values()) == {4}
    assert sorted(per_slot) == [TEN - FIVE * k for k in range(10, 0, -1)]
    assert all(s.closes_at - s.opens_at == FIVE and s.closes_at <= TEN for s in slots.values())
    # In the order given: the first four nearest the start, the last four fifty minutes before.
    assert {slots[n] for n in range(4)} == {Slot(TEN - FIVE, TEN)}
    assert {slots[n] for n in range(36, 40)} == {Slot(TEN - 10 * FIVE, TEN - 9 * FIVE)}


def test_the_earliest_blocks_are_nearest_their_start_and_later_ones_queue_backwards() -> None:
    later = TEN + timedelta(minutes=2)  # on the same grid slot as 10:00
    blocks = [("late", "DCH1", later)] + [(n, "DCH1", TEN) for n in range(4)]
    slots = arrival_slots(blocks, slot=FIVE, doors=4)
    assert {slots[n] for n in range(4)} == {Slot(TEN - FIVE, TEN)}
    assert slots["late"] == Slot(TEN - 2 * FIVE, TEN - FIVE)
    # Slots end by their block's start even when the start is off the grid.
    [alone] = arrival_slots([("x", "DCH1", later)], slot=FIVE, doors=4).values()
    assert alone == Slot(TEN - FIVE, TEN)


def test_places_are_independent_and_slots_already_held_count() -> None:
    blocks = [(n, "DCH1" if n % 2 else "MCFC", TEN) for n in range(8)]
    slots = arrival_slots(blocks, slot=FIVE, doors=4)
    assert {s.opens_at for s in slots.values()} == {TEN - FIVE}
    held = [("DCH1", TEN - FIVE)] * 3
    around = arrival_slots([("a", "DCH1", TEN), ("b", "DCH1", TEN)], slot=FIVE, doors=4, taken=held)
    assert around == {"a": Slot(TEN - FIVE, TEN), "b": Slot(TEN - 2 * FIVE, TEN - FIVE)}


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="slot"):
        arrival_slots([(1, "DCH1", TEN)], slot=timedelta(0), doors=4)
    with pytest.raises(ValueError, match="door"):
        arrival_slots([(1, "DCH1", TEN)], slot=FIVE, doors=0)
