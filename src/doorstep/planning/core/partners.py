"""Partner stores: the morning manifest and the staff route over it."""

from __future__ import annotations

from doorstep.optimize import ProblemBuilder, Step, solve
from doorstep.planning.core.groups import group_packages
from doorstep.planning.core.model import DayInput, Package, PartnerManifest, PartnerStore
from doorstep.planning.core.routing import verified

#: A staff route is a small single-vehicle tour; a fixed iteration count keeps it reproducible.
STAFF_ROUTE_ITERATIONS = 400


def manifest(
    day: DayInput, store: PartnerStore, packages: list[Package], seed: int
) -> PartnerManifest:
    """Order the batch along a staff tour from the store and back (checked by the core)."""
    groups = group_packages(packages, prefix="m")
    b = ProblemBuilder(dimensions=("parcels",), name=f"partner {store.id}")
    home = b.add_location(store.id)
    locs = [b.add_location(g.id) for g in groups]
    points = [(store.lat, store.lng)] + [(g.lat, g.lng) for g in groups]
    # The staff set off once the morning run has dropped the batch.
    travel = day.travel.matrix(points, depart_s=day.middle_mile_arrival_s)
    b.set_matrices(travel.distances, travel.durations)
    b.add_vehicle_type(
        "staff", start=home, end=home, capacity=(len(packages),), shift=store.opening
    )
    for g, loc in zip(groups, locs, strict=True):
        # No windows: the staff deliver the whole batch during opening hours.
        b.add_job(g.id, location=loc, demand=(len(g.packages),), service=g.service_s)
    problem = b.build()
    solution = verified(
        problem,
        solve(problem, time_limit=10.0, seed=seed, max_iterations=STAFF_ROUTE_ITERATIONS),
    )
    by_id = {g.id: g for g in groups}
    ordered: list[Package] = []
    for route in solution.routes:
        for visit in route.visits:
            if visit.step is Step.JOB:
                ordered.extend(by_id[visit.job_id].packages)
    # A batch larger than one tour (should not happen: capacity is the batch) stays listed.
    seen = {p.id for p in ordered}
    ordered.extend(p for p in packages if p.id not in seen)
    cost = day.costs.partner_pay(store) * len(packages) + day.costs.middle_mile_cost_per_drop_cents
    return PartnerManifest(
        store=store.id,
        packages=tuple(p.id for p in ordered),
        recipients=tuple(p.recipient for p in ordered),
        route_distance_m=solution.distance,
        cost_cents=cost,
    )
