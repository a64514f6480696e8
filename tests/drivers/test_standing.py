"""Standing: a number from counts, and the reasons behind it."""

from __future__ import annotations

from doorstep.drivers.standing import BASE, StandingCounts, points, standing


def test_a_new_driver_starts_at_the_base() -> None:
    assert standing(StandingCounts()) == BASE == 70
    assert set(points(StandingCounts()).values()) == {0}


def test_good_work_counts_up_to_a_ceiling_and_lapses_count_down() -> None:
    assert standing(StandingCounts(completed=3, on_time_check_ins=3)) == 70 + 6 + 3
    assert standing(StandingCounts(completed=50, on_time_check_ins=50)) == 100
    assert standing(StandingCounts(completed=2, forfeits=1)) == 70 + 4 - 10
    assert standing(StandingCounts(late_check_ins=2)) == 64
    assert standing(StandingCounts(no_shows=4)) == 0
    reasons = points(StandingCounts(completed=12, forfeits=2))
    assert reasons["completed"] == 20  # ten of them count
    assert reasons["forfeits"] == -20
