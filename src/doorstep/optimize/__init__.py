"""doorstep's optimization core: a pure library (NumPy, PyVRP, VROOM; no web, no database).

Public API (stable)::

    from doorstep.optimize import ProblemBuilder, TimeWindow, JobKind, solve, check

    b = ProblemBuilder(dimensions=("volume_cm3", "weight_g", "parcels"))
    station = b.add_location("station", opening=(6 * 3600, 22 * 3600))
    shop = b.add_location("shop")
    home = b.add_location("customer")
    b.set_matrices(distances_m, durations_s)               # square int arrays, asymmetric ok
    b.add_vehicle_type("car", start=station, end=station, capacity=(400_000, 200_000, 40),
                       count=5, shift=(8 * 3600, 12 * 3600), cost_per_hour=2_000,
                       cost_per_km=30, fixed_cost=1_500, features={"large"})
    b.add_job("p1", location=home, demand=(20_000, 3_000, 1), service=120,
              time_windows=[(9 * 3600, 10 * 3600), (11 * 3600, 12 * 3600)])
    b.add_shipment("s1", pickup=shop, delivery=home, amount=(5_000, 800, 1),
                   prize=900)                              # optional: leaving it out costs 9 €
    problem = b.build()                                    # ProblemError names a bad field

    solution = solve(problem, time_limit=2.0, seed=1)      # engine chosen by features
    solution.routes        # Route(vehicle_type, vehicle, visits, start/end times, cost)
    solution.unassigned    # Unassigned(job_id, reason) — impossible jobs never raise
    report = check(problem, solution)                      # independent; report.feasible

    replanned = solve(problem2, initial=solution, time_limit=1.0)   # warm start (PyVRP)

Units: seconds, metres, cents, and the unit each capacity dimension names.  The objective
(cents) is the vehicles' fixed, per-km and per-hour costs plus the prizes of optional jobs
left out.  ``solve(..., max_iterations=N)`` makes a plan reproducible across machines.
"""

from doorstep.optimize.builder import ProblemBuilder
from doorstep.optimize.checker import CheckReport, check
from doorstep.optimize.engines import ENGINES, Engine, EnginePlan, PlannedRoute
from doorstep.optimize.errors import InstanceFormatError, ProblemError, UnsupportedFeatureError
from doorstep.optimize.problem import (
    Feature,
    Job,
    JobKind,
    Location,
    Problem,
    Shipment,
    Step,
    Stop,
    TimeWindow,
    VehicleType,
    reload_location,
    reload_visit,
)
from doorstep.optimize.solution import Route, Solution, Unassigned, UnassignedReason, Visit
from doorstep.optimize.solve import select_engine, solve

__all__ = [
    "ENGINES",
    "CheckReport",
    "Engine",
    "EnginePlan",
    "Feature",
    "InstanceFormatError",
    "Job",
    "JobKind",
    "Location",
    "PlannedRoute",
    "Problem",
    "ProblemBuilder",
    "ProblemError",
    "Route",
    "Shipment",
    "Solution",
    "Step",
    "Stop",
    "TimeWindow",
    "Unassigned",
    "UnassignedReason",
    "UnsupportedFeatureError",
    "VehicleType",
    "Visit",
    "check",
    "reload_location",
    "reload_visit",
    "select_engine",
    "solve",
]
