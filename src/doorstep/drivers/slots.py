"""Staggered check-in: when each driver arrives at the place a block starts.

Forty blocks starting at the station at 10:00 would put forty drivers at its door at 10:00.
Instead each block gets an arrival slot of a few minutes (``slot``), a slot takes at most
``doors`` drivers per start place, and every slot ends by its block's start. Blocks are served
in order of start (ties in the order given): the earliest blocks get the slots nearest their
start, and the ones after them queue backwards in time, a slot at a time.

Slots sit on a grid of ``slot`` lengths counted from the Unix epoch, so two blocks starting at
10:00 and 10:02 share the same 09:55–10:00 slot rather than two slots that overlap. Pure: no
database, no clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)
Place = TypeVar("Place", bound=Hashable)


@dataclass(frozen=True)
class Slot:
    opens_at: datetime
    closes_at: datetime


def arrival_slots(
    blocks: Iterable[tuple[Key, Place, datetime]],
    *,
    slot: timedelta,
    doors: int,
    taken: Iterable[tuple[Place, datetime]] = (),
) -> dict[Key, Slot]:
    """An arrival slot per block: ``blocks`` are (key, start place, start), ``taken`` the
    slots (place, opening) other blocks at those places already hold, one driver each."""
    if slot <= timedelta(0):
        raise ValueError("a slot must last some time")
    if doors < 1:
        raise ValueError("a start place needs at least one door")
    length = int(slot.total_seconds())
    full: Counter[tuple[Place, int]] = Counter(
        (place, _grid(opens_at, length)) for place, opens_at in taken
    )
    ordered = sorted(enumerate(blocks), key=lambda item: (item[1][2], item[0]))
    slots: dict[Key, Slot] = {}
    for _, (key, place, starts_at) in ordered:
        # The last slot that ends by the start, then earlier ones until one has a door free.
        opens = _grid(starts_at, length) - length
        while full[(place, opens)] >= doors:
            opens -= length
        full[(place, opens)] += 1
        slots[key] = Slot(_moment(opens), _moment(opens + length))
    return slots


def _grid(moment: datetime, length: int) -> int:
    """The start of the grid slot ``moment`` falls in, in seconds since the epoch."""
    seconds = int(moment.timestamp())
    return seconds - seconds % length


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
