"""Standing: a number from counts, and the reasons behind it."""

from __future__ import annotations

from doorstep.drivers.standing import BASE, StandingCounts, Tier, points, standing, tier


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


def test_doors_count_little_and_flags_more() -> None:
    assert standing(StandingCounts(failed_attempts=3)) == 67
    assert standing(StandingCounts(failed_attempts=40)) == 65  # five of them count
    assert standing(StandingCounts(flagged_deliveries=2)) == 64


def test_tiers_by_threshold() -> None:
    assert [tier(n) for n in (100, 85, 84, 70, 69, 50, 49, 0)] == [
        Tier.FANTASTIC,
        Tier.FANTASTIC,
        Tier.GREAT,
        Tier.GREAT,
        Tier.FAIR,
        Tier.FAIR,
        Tier.AT_RISK,
        Tier.AT_RISK,
    ]
    assert tier(standing(StandingCounts())) is Tier.GREAT  # a new driver
