"""Exact integer cost arithmetic.

Vehicle costs are quoted in cents per km and cents per hour while distances are metres and
durations seconds.  To stay exact we count in *cost units* of 1/3,600,000 cent: a metre
then costs ``cost_per_km * 3600`` units, a second ``cost_per_hour * 1000`` units and a
fixed cost or prize of one cent ``3_600_000`` units.  Reported objectives are cents,
rounded half up once at the end.
"""

from __future__ import annotations

from doorstep.optimize.problem import VehicleType

UNITS_PER_CENT = 3_600_000
UNITS_PER_METRE_PER_CENT_KM = 3_600
UNITS_PER_SECOND_PER_CENT_HOUR = 1_000


def distance_coefficient(vt: VehicleType) -> int:
    """Cost units per metre driven."""
    return vt.cost_per_km * UNITS_PER_METRE_PER_CENT_KM


def duration_coefficient(vt: VehicleType) -> int:
    """Cost units per second of route duration."""
    return vt.cost_per_hour * UNITS_PER_SECOND_PER_CENT_HOUR


def route_cost_units(vt: VehicleType, distance: int, duration: int) -> int:
    """Cost of one used vehicle, in cost units."""
    return (
        vt.fixed_cost * UNITS_PER_CENT
        + distance_coefficient(vt) * distance
        + duration_coefficient(vt) * duration
    )


def units_to_cents(units: int) -> int:
    return (units + UNITS_PER_CENT // 2) // UNITS_PER_CENT
