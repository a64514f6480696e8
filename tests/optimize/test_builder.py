from __future__ import annotations

import numpy as np
import pytest

from doorstep.optimize import Feature, JobKind, ProblemBuilder, ProblemError, TimeWindow


def _builder() -> ProblemBuilder:
    b = ProblemBuilder(dimensions=("parcels",))
    b.add_location("depot")
    b.add_location("a")
    b.set_matrices(np.array([[0, 5], [7, 0]]))
    return b


def test_builds_an_immutable_problem() -> None:
    b = _builder()
    b.add_vehicle_type("van", start=0, end=0, capacity=(3,))
    b.add_job("j", location=1, demand=(1,), time_windows=[(10, 20), (40, 50)])
    problem = b.build()
    assert problem.jobs[0].stop.time_windows == (TimeWindow(10, 20), TimeWindow(40, 50))
    assert not np.asarray(problem.distances).flags.writeable
    with pytest.raises(AttributeError):
        problem.jobs[0].id = "other"  # type: ignore[misc]
    assert Feature.MULTIPLE_TIME_WINDOWS in problem.features()
    assert problem.durations[1, 0] == 7  # asymmetric matrices are kept


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda b: b.add_job("j", location=9, demand=(1,)), "jobs[j].location"),
        (lambda b: b.add_job("j", location=1, demand=(1, 2)), "jobs[j].demand"),
        (lambda b: b.add_job("j", location=1, demand=(-1,)), "jobs[j].demand[0]"),
        (lambda b: b.add_job("j", location=1, service=-5), "jobs[j].service"),
        (
            lambda b: b.add_job("j", location=1, time_windows=[(50, 10)]),
            "jobs[j].time_windows[0]",
        ),
        (
            lambda b: b.add_job("j", location=1, time_windows=[(0, 10), (5, 20)]),
            "jobs[j].time_windows",
        ),
        (lambda b: b.add_job("j", location=1, prize=-1), "jobs[j].prize"),
        (
            lambda b: b.add_vehicle_type("v", start=0, end=0, capacity=(1,), count=0),
            "vehicle_types[v].count",
        ),
        (
            lambda b: b.add_vehicle_type("v", start=0, end=5, capacity=(1,)),
            "vehicle_types[v].end",
        ),
        (
            lambda b: b.add_vehicle_type("v", start=0, end=0, capacity=(1,), cost_per_km=-2),
            "vehicle_types[v].cost_per_km",
        ),
        (
            lambda b: b.add_shipment("s", pickup=1, delivery=0, amount=(1,), pickup_service=-1),
            "shipments[s].pickup.service",
        ),
    ],
)
def test_validation_names_the_bad_field(call, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProblemError) as info:
        call(_builder())
    assert info.value.field == field


def test_duplicate_ids_and_missing_parts_are_rejected() -> None:
    b = _builder()
    b.add_job("j", location=1, demand=(1,))
    with pytest.raises(ProblemError, match="duplicate"):
        b.add_job("j", location=1, demand=(1,), kind=JobKind.PICKUP)
    with pytest.raises(ProblemError) as info:
        b.build()
    assert info.value.field == "vehicle_types"
    empty = ProblemBuilder()
    empty.add_location("x")
    with pytest.raises(ProblemError) as info:
        empty.build()
    assert info.value.field == "distances"


def test_matrix_validation() -> None:
    b = ProblemBuilder()
    b.add_location("x")
    with pytest.raises(ProblemError, match="square"):
        b.set_matrices(np.zeros((1, 2), dtype=int))
    with pytest.raises(ProblemError, match="integers"):
        b.set_matrices(np.zeros((1, 1)))
    with pytest.raises(ProblemError, match="non-negative"):
        b.set_matrices(np.array([[-1]]))
    b.set_matrices(np.zeros((2, 2), dtype=int))
    b.add_vehicle_type("v", start=0, end=0, capacity=(1,))
    with pytest.raises(ProblemError, match="does not match"):
        b.build()
