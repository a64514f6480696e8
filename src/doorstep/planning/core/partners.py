"""Partner stores: the morning manifest and the staff route over it, and the morning run that
drops the manifests at their stores."""

from __future__ import annotations

from dataclasses import replace

from doorstep.optimize import ProblemBuilder, Step, solve
from doorstep.planning.core.drops import (
    RunMatrix,
    driver_cents,
    route_run,
    run_matrix,
    run_shares,
)
from doorstep.planning.core.groups import group_packages
from doorstep.planning.core.model import (
    DayInput,
    MorningRun,
    Package,
    PartnerManifest,
    PartnerStore,
    RunStop,
)
from doorstep.planning.core.routing import verified

#: A staff route is a small single-vehicle tour; a fixed iteration count keeps it reproducible.
STAFF_ROUTE_ITERATIONS = 400


def manifest(
    day: DayInput, store: PartnerStore, packages: list[Package], seed: int
) -> PartnerManifest:
    """Order the batch along a staff tour from the store and back (checked by the core); the
    parcels its shoppers collect at the counter ride with the batch but not on the tour."""
    kept = [p for p in packages if p.counter == store.id]
    to_doors = [p for p in packages if p.counter != store.id]
    # The store's pay; its share of the morning run is added once the run is routed.
    cost = day.costs.partner_pay(store) * len(packages)
    if not to_doors:
        return PartnerManifest(
            store=store.id,
            packages=tuple(p.id for p in kept),
            recipients=tuple(p.recipient for p in kept),
            route_distance_m=0,
            cost_cents=cost,
            counter=tuple(p.id for p in kept),
        )
    packages = to_doors
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
        solve(
            problem, time_limit=10.0, seed=seed, max_iterations=STAFF_ROUTE_ITERATIONS, workers=1
        ),
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
    ordered.extend(kept)
    return PartnerManifest(
        store=store.id,
        packages=tuple(p.id for p in ordered),
        recipients=tuple(p.recipient for p in ordered),
        route_distance_m=solution.distance,
        cost_cents=cost,
        counter=tuple(p.id for p in kept),
    )


def morning_run(
    day: DayInput, manifests: tuple[PartnerManifest, ...], seed: int
) -> tuple[MorningRun | None, tuple[PartnerManifest, ...]]:
    """Route the station's van through every store with a batch and back (the one travel
    model, checked by the core), priced as a driver's time and miles, and add each
    manifest's share of it (`with_run_shares`): one travel matrix for both. No run without
    manifests or a station site."""
    station = day.site(day.station)
    stores = {s.id: s for s in day.partner_stores}
    dropped = [m for m in manifests if m.store in stores]
    matrix = run_matrix(day, [stores[m.store] for m in dropped])
    if station is None or matrix is None:
        return None, with_run_shares(day, manifests, None, None)
    route = route_run(day, [stores[m.store] for m in dropped], matrix, seed)
    sizes = {m.store: len(m.packages) for m in dropped}
    stops = tuple(
        RunStop(v.job_id, v.arrival, v.departure, sizes[v.job_id])
        for v in route.visits
        if v.step is Step.JOB
    )
    run = MorningRun(
        start_site=station.id,
        start_s=route.start_time,
        end_s=route.end_time,
        stops=stops,
        distance_m=route.distance,
        cost_cents=driver_cents(day, route.end_time - route.start_time, route.distance),
    )
    return run, with_run_shares(day, manifests, run, matrix)


def with_run_shares(
    day: DayInput,
    manifests: tuple[PartnerManifest, ...],
    run: MorningRun | None,
    matrix: RunMatrix | None,
) -> tuple[PartnerManifest, ...]:
    """Each manifest's cost with its share of the routed run added (by its store's detour on
    the ``matrix`` the run was routed on), so the manifests' costs add up to the stores' pay
    plus the run's cost; or the contracted price per drop where the middle mile is bought by
    the drop."""
    fixed = day.costs.middle_mile_cost_per_drop_cents
    if fixed is not None:
        return tuple(replace(m, cost_cents=m.cost_cents + fixed) for m in manifests)
    if run is None or matrix is None:
        return manifests
    shares = run_shares(day, [stop.store for stop in run.stops], run.cost_cents, matrix)
    return tuple(replace(m, cost_cents=m.cost_cents + shares.get(m.store, 0)) for m in manifests)
