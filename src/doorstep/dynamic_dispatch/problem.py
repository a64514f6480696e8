"""The decision a dispatch policy faces in one epoch, independent of where the orders came from.

The ORTEC benchmark environment builds these from its generated requests; the day planner builds
them from the orders in the database. Policies only ever see an :class:`EpochProblem`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

Route = Sequence[int]
"""Request ids in visiting order; the depot (id 0) is implicit at both ends."""


@dataclass(frozen=True, eq=False)
class EpochProblem:
    """Open requests at one decision moment, times relative to `plan_start`.

    Row 0 of every per-row array is the depot (request id 0); rows 1.. are the open requests.
    `locations` index into `durations`, which may cover more places than the open requests (the
    benchmark passes the whole instance matrix) so that sampled future requests at other known
    places can be routed with the same matrix.
    """

    epoch: int
    is_last_epoch: bool
    plan_start: int  # absolute seconds from midnight at which routes leave the depot
    epoch_length: int  # seconds until the next decision moment
    capacity: int
    request_ids: IntArray  # (n,)  row 0 = 0 (depot)
    locations: IntArray  # (n,)  index into `durations`
    time_windows: IntArray  # (n, 2) relative to plan_start, clipped below at 0
    service_times: IntArray  # (n,)
    demands: IntArray  # (n,)
    must_dispatch: BoolArray  # (n,)  row 0 False
    durations: IntArray  # (L, L) seconds between known places; place 0 is the depot

    @property
    def num_requests(self) -> int:
        return int(self.request_ids.shape[0]) - 1

    @property
    def depot_closes(self) -> int:
        return int(self.time_windows[0, 1])

    def row_of(self) -> dict[int, int]:
        """Map request id → row."""
        return {int(rid): row for row, rid in enumerate(self.request_ids)}

    def must_dispatch_ids(self) -> list[int]:
        return [int(r) for r in self.request_ids[self.must_dispatch]]

    def open_ids(self) -> list[int]:
        return [int(r) for r in self.request_ids[1:]]


def round_trip_seconds(durations: IntArray, depot: int, places: Sequence[int]) -> int:
    """Driving seconds from `depot` through `places` in order and back (no waiting)."""
    if not places:
        return 0
    stops = [depot, *places, depot]
    return sum(int(durations[a, b]) for a, b in itertools.pairwise(stops))


def cannot_wait(
    durations: IntArray,
    locations: IntArray,
    time_windows: IntArray,
    service_times: IntArray,
    *,
    next_plan_start: int,
    depot_closes: int,
    depot: int = 0,
) -> BoolArray:
    """Requests that could no longer be served if routes left only at `next_plan_start`.

    Times are absolute (same clock as `next_plan_start` and `depot_closes`). This is the
    benchmark's must-dispatch rule; the day planner uses it on its own orders as well.
    """
    arrive = np.maximum(next_plan_start + durations[depot, locations], time_windows[:, 0])
    back = arrive + service_times + durations[locations, depot]
    result: BoolArray = (arrive > time_windows[:, 1]) | (back > depot_closes)
    return result
