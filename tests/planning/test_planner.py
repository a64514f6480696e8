"""The issue's planning rules on small days (no database; each plan takes a second or two)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from doorstep.geo import haversine_m
from doorstep.optimize import ProblemBuilder, solve
from doorstep.planning.core import (
    HOUR,
    Channel,
    CostModel,
    DayInput,
    DayPlan,
    DriverSupply,
    Package,
    PlanningBug,
    PlanProgress,
    Promise,
    UnassignedReason,
    plan_all_carrier,
    plan_all_own_drivers,
    plan_all_station_routes,
    plan_day,
    planner,
)
from doorstep.planning.core.pricing import in_areas
from doorstep.planning.core.routing import TerritoryTask, verified
from tests.planning.factory import (
    CHANDLER,
    MARICOPA,
    QUEEN_CREEK,
    city_packages,
    package,
    small_day,
)

FAST = {"time_limit_s": 5.0, "seed": 3, "max_iterations": 300, "workers": 1}


def plan(day: DayInput) -> DayPlan:
    return plan_day(day, **FAST)  # type: ignore[arg-type]


def queen_creek_batch() -> list[Package]:
    """Fifteen next-day parcels on a grid near the Queen Creek partner store."""
    return [
        package(
            f"qc{n}",
            33.22 + 0.01 * (n % 5),
            -111.66 + 0.01 * (n // 5),
            promise=Promise.NEXT_DAY,
            ready_s=6 * HOUR,
        )
        for n in range(15)
    ]


def places(plan: DayPlan) -> list[str]:
    found = [pid for b in plan.blocks for pid in b.packages()]
    found += [pid for m in plan.manifests for pid in m.packages]
    found += [c.package for c in plan.carrier] + [u.package for u in plan.unassigned]
    return found


def test_every_package_is_in_exactly_one_place() -> None:
    packages = [
        *city_packages(14),
        *city_packages(4, prefix="b", origin="MCFC-BOOKS"),
        package("qc1", 33.25, -111.62, promise=Promise.NEXT_DAY, ready_s=6 * HOUR),
        package("far", 32.88, -111.76, promise=Promise.TWO_DAY),
        package("late", 33.27, -111.88, window=(8 * HOUR, 9 * HOUR)),
    ]
    day = small_day(packages)
    result = plan(day)
    assert sorted(places(result)) == sorted(p.id for p in packages)
    assert result.totals.planned + len(result.unassigned) == len(packages)
    assert {d.package for d in result.decisions} == {p.id for p in packages}


def test_blocks_are_what_a_driver_sees() -> None:
    day = small_day(city_packages(20))
    result = plan(day)
    assert result.blocks
    for block in result.blocks:
        assert block.end_s - block.start_s <= block.length_s <= 5 * HOUR
        assert block.length_s in day.block_lengths_s
        arrivals = [s.arrival_s for s in block.stops]
        assert arrivals == sorted(arrivals)
        assert block.start_s <= arrivals[0]
        assert block.stops[-1].departure_s <= block.end_s
        assert block.pay_cents >= day.costs.min_block_pay_cents
        assert 0 < block.max_load_cm3 <= 400_000
        assert block.distance_m > 0


def test_package_outside_every_partner_radius_never_goes_to_a_partner() -> None:
    # Casa Grande is beyond every partner radius; with no drivers the carrier is the option.
    far = [
        package(f"cg{n}", 32.88 + 0.01 * n, -111.76, promise=Promise.NEXT_DAY, ready_s=6 * HOUR)
        for n in range(4)
    ]
    near = [
        package(f"qc{n}", 33.25 + 0.01 * n, -111.63, promise=Promise.NEXT_DAY, ready_s=6 * HOUR)
        for n in range(6)
    ]
    result = plan(small_day(far + near, drivers=1))
    in_manifest = {pid for m in result.manifests for pid in m.packages}
    assert not in_manifest & {p.id for p in far}
    stores = {s.id: s for s in (QUEEN_CREEK, MARICOPA)}
    by_id = {p.id: p for p in far + near}
    for m in result.manifests:
        store = stores[m.store]
        for pid in m.packages:
            p = by_id[pid]
            assert haversine_m(store.lat, store.lng, p.lat, p.lng) <= store.radius_m


def test_closed_partner_store_gets_no_manifest() -> None:
    near_maricopa = [
        package(f"m{n}", 33.06 + 0.005 * n, -112.04, promise=Promise.NEXT_DAY, ready_s=6 * HOUR)
        for n in range(5)
    ]
    result = plan(small_day(near_maricopa, drivers=1))
    assert MARICOPA.id not in {m.store for m in result.manifests}
    opened = replace(MARICOPA, open_today=True)
    reopened = plan(small_day(near_maricopa, drivers=1, partner_stores=(QUEEN_CREEK, opened)))
    assert MARICOPA.id in {m.store for m in reopened.manifests}


def test_partner_store_takes_a_cheap_batch_with_a_staff_route() -> None:
    batch = queen_creek_batch()
    result = plan(small_day(batch, drivers=1))
    (manifest,) = result.manifests
    assert manifest.store == QUEEN_CREEK.id
    assert sorted(manifest.packages) == sorted(p.id for p in batch)
    assert manifest.recipients == tuple(f"r-{pid}" for pid in manifest.packages)
    assert manifest.route_distance_m > 0
    decision = next(d for d in result.decisions if d.package == "qc0")
    assert decision.channel is Channel.PARTNER_STORE
    assert decision.runner_up is not None
    assert decision.runner_up_cost_cents is not None
    assert decision.runner_up_cost_cents >= decision.cost_cents


def test_mall_run_picks_each_package_up_before_delivering_it() -> None:
    packages = [
        *city_packages(5, prefix="b", origin="MCFC-BOOKS"),
        *city_packages(5, prefix="t", origin="MCFC-TOYS"),
    ]
    result = plan(small_day(packages))
    runs = [b for b in result.blocks if b.channel is Channel.STORE_RUN]
    assert runs
    for block in result.blocks:
        picked: dict[str, int] = {}
        for n, stop in enumerate(block.stops):
            for pid in stop.picked_up:
                picked[pid] = n
            for pid in stop.delivered:
                assert pid in picked
                assert picked[pid] < n
    delivered = {pid for b in runs for pid in b.packages()}
    assert delivered == {p.id for p in packages}


def test_promise_no_channel_can_keep_is_reported_not_broken() -> None:
    # Deliver by 9:00, but the wave's cars leave at 11:00 and a courier needs three hours.
    late = package("late", 33.27, -111.88, window=(8 * HOUR, 9 * HOUR))
    result = plan(small_day([late, *city_packages(3)]))
    assert [(u.package, u.reason) for u in result.unassigned] == [
        ("late", UnassignedReason.WINDOW_IMPOSSIBLE)
    ]
    assert "late" not in places(replace(result, unassigned=()))
    decision = next(d for d in result.decisions if d.package == "late")
    assert decision.channel is None


def test_parcel_too_big_for_every_car_and_carrier_is_reported() -> None:
    sofa = replace(package("sofa", 33.27, -111.88), volume_cm3=2_000_000, weight_g=90_000)
    result = plan(small_day([sofa, *city_packages(2)]))
    assert [(u.package, u.reason) for u in result.unassigned] == [
        ("sofa", UnassignedReason.TOO_LARGE)
    ]


def test_unknown_origin_is_reported() -> None:
    stray = replace(package("stray", 33.27, -111.88), origin="NOWHERE")
    result = plan(small_day([stray]))
    assert [(u.package, u.reason) for u in result.unassigned] == [
        ("stray", UnassignedReason.UNKNOWN_ORIGIN)
    ]


def test_planning_twice_is_idempotent() -> None:
    packages = [*city_packages(16), *city_packages(4, prefix="b", origin="MCFC-BOOKS")]
    day = small_day(packages)
    first, second = plan(day), plan(day)
    assert replace(first, runtime_s=0.0) == replace(second, runtime_s=0.0)


def test_parallel_territories_match_the_serial_plan() -> None:
    day = small_day(city_packages(30))
    serial = plan_day(day, time_limit_s=5.0, seed=3, max_iterations=200, workers=1)
    parallel = plan_day(day, time_limit_s=5.0, seed=3, max_iterations=200, workers=2)
    assert replace(serial, runtime_s=0.0) == replace(parallel, runtime_s=0.0)


def test_progress_is_reported_phase_by_phase_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(planner, "STOPS_PER_TERRITORY", 10)  # a few territories, in parallel
    day = small_day(city_packages(30), drivers=6)
    steps: list[PlanProgress] = []
    options = {"time_limit_s": 5.0, "seed": 3, "max_iterations": 200, "workers": 2}
    watched = plan_day(day, progress=steps.append, **options)  # type: ignore[arg-type]
    quiet = plan_day(day, **options)  # type: ignore[arg-type]
    assert replace(watched, runtime_s=0.0) == replace(quiet, runtime_s=0.0)
    phases = [step.phase for step in steps]
    assert list(dict.fromkeys(phases)) == [
        "pricing",
        "routing",
        "sweep",
        "improving",
        "finishing",
        "done",
    ]
    territories = steps[-1].total - planner.STEPS_AFTER_ROUTING
    assert territories >= 2
    assert phases.count("routing") == territories + 1  # its start, then one per territory
    assert [step.done for step in steps] == sorted(step.done for step in steps)
    assert steps[-1].done == steps[-1].total


def test_baselines_place_every_package_once() -> None:
    packages = [*city_packages(10), package("qc", 33.25, -111.62, promise=Promise.TWO_DAY)]
    day = small_day(packages)
    carrier = plan_all_carrier(day)
    assert carrier.totals.share_of(Channel.CARRIER) == 1.0
    assert sorted(c.package for c in carrier.carrier) == sorted(p.id for p in packages)
    station = plan_all_station_routes(day, **FAST)  # type: ignore[arg-type]
    assert not station.manifests
    assert not station.carrier
    assert sorted(places(station)) == sorted(p.id for p in packages)


def test_the_station_route_baseline_starts_every_block_at_the_station() -> None:
    # The first channel alone: the mall's driver reports to the station like the others, and
    # a block collects the mall store's parcels on its way (pickup before delivery).
    packages = [*city_packages(8), *city_packages(4, prefix="b", origin="MCFC-BOOKS")]
    day = small_day(packages, drivers=1)
    station = plan_all_station_routes(day, **FAST)  # type: ignore[arg-type]
    assert {b.start_site for b in station.blocks} == {"DCH1"}
    assert sorted(places(station)) == sorted(p.id for p in packages)
    assert not station.unassigned
    mall_parcels = 0
    for block in station.blocks:
        for pid in (p for p in block.packages() if p.startswith("b")):
            pickup = next(n for n, s in enumerate(block.stops) if pid in s.picked_up)
            delivery = next(n for n, s in enumerate(block.stops) if pid in s.delivered)
            assert block.stops[pickup].site == "MCFC-BOOKS"
            assert pickup < delivery
            mall_parcels += 1
    assert mall_parcels == 4


def test_totals_add_up() -> None:
    result = plan(small_day([*city_packages(12), package("cg", 32.88, -111.76)]))
    t = result.totals
    cost = (
        sum(b.pay_cents for b in result.blocks)
        + sum(m.cost_cents for m in result.manifests)
        + sum(c.rate_cents for c in result.carrier)
    )
    assert t.cost_cents == cost
    assert sum(share for _, share in t.share) == pytest.approx(1.0)
    assert t.cost_per_package_cents == cost // t.planned


def test_a_route_that_fails_the_checker_is_a_bug() -> None:
    b = ProblemBuilder()
    depot, home = b.add_location("depot"), b.add_location("home")
    b.set_matrices(np.array([[0, 600], [600, 0]]))
    b.add_vehicle_type("car", start=depot, end=depot, capacity=(5,))
    b.add_job("p", location=home, demand=(1,), time_windows=[(0, 10_000)])
    problem = b.build()
    solution = solve(problem, time_limit=1.0, seed=1, max_iterations=10)
    route = solution.routes[0]
    broken = replace(solution, routes=(replace(route, distance=route.distance + 1),))
    with pytest.raises(PlanningBug):
        verified(problem, broken)


def test_service_area_test_is_a_polygon_test() -> None:
    lat = np.array([33.27, 33.40, 33.25])
    lng = np.array([-111.88, -111.88, -111.60])
    assert in_areas(lat, lng, (CHANDLER,)).tolist() == [True, False, False]


def test_carrier_rate_grows_with_weight() -> None:
    ground = next(s for s in CostModel().carrier_services if s.name == "ground")
    assert ground.rate(400) == ground.base_cents
    assert ground.rate(453 * 3) == ground.base_cents + 2 * ground.per_pound_cents


@pytest.mark.parametrize("workers", [1, 2])
def test_fewer_drivers_than_territories_leaves_the_rest_to_the_sweep(workers: int) -> None:
    # 600 stops make three territories; one driver can go to only one of them. The others got
    # no driver: routing them used to fail ("at least one vehicle type is needed").
    packages = city_packages(600)
    day = replace(
        small_day(packages),
        drivers=(DriverSupply("DCH1", 1, available=(11 * HOUR, 21 * HOUR)),),
    )
    result = plan_day(day, time_limit_s=6.0, seed=3, max_iterations=200, workers=workers)
    assert len(result.blocks) <= 1  # one driver, one block at most
    assert sorted(places(result)) == sorted(p.id for p in packages)


def test_a_stop_whose_detour_costs_more_than_a_partner_leaves_the_block() -> None:
    # One station driver, ten city stops and one next-day parcel towards Queen Creek. Routing
    # serves it; at $1.50 a mile its detour costs more than the partner store charges, while
    # the block's hours stay the same: the stop alone goes to the partner store.
    far = package("far", 33.25, -111.74, promise=Promise.NEXT_DAY, ready_s=6 * HOUR)
    day = small_day([*city_packages(10), far], drivers=1)
    day = replace(day, costs=replace(day.costs, driver_pay_per_mile_cents=150))
    result = plan(day)
    (block,) = result.blocks
    assert "far" not in block.packages()
    assert len(block.packages()) == 10
    decision = next(d for d in result.decisions if d.package == "far")
    assert decision.channel is Channel.PARTNER_STORE
    routed_all = plan_all_own_drivers(day, **FAST)  # type: ignore[arg-type]
    assert "far" in routed_all.blocks[0].packages()
    assert result.totals.cost_cents < routed_all.totals.cost_cents


def test_a_partner_batch_on_a_needed_block_stays_when_driving_it_is_cheaper() -> None:
    # Fifteen next-day parcels near Queen Creek ride along the only station block for less
    # than the partner store would charge for the batch. Routing with the channels' prices as
    # prizes would drop them all (and pay more); routing everything first keeps them.
    batch = queen_creek_batch()
    day = small_day([*city_packages(10), *batch], drivers=1)
    result = plan(day)
    with_prizes = plan_day(day, **FAST, channel_prizes=True)  # type: ignore[arg-type]
    routed_all = plan_all_own_drivers(day, **FAST)  # type: ignore[arg-type]
    assert result.totals.cost_cents <= routed_all.totals.cost_cents
    assert result.totals.cost_cents < with_prizes.totals.cost_cents


def test_a_far_cluster_leaves_the_block_together_when_no_single_stop_would() -> None:
    # The only station block serves ten city stops and fifteen next-day parcels near Queen
    # Creek. At $1.00 a mile the cluster together costs the block more than the partner
    # store charges for the batch, while any one parcel alone saves the block less than its
    # partner price: the cluster goes to the store as one batch.
    batch = queen_creek_batch()
    day = small_day([*city_packages(10), *batch], drivers=1)
    day = replace(day, costs=replace(day.costs, driver_pay_per_mile_cents=100))
    result = plan(day)
    (block,) = result.blocks
    assert sorted(block.packages()) == sorted(p.id for p in city_packages(10))
    (batch_manifest,) = result.manifests
    assert sorted(batch_manifest.packages) == sorted(p.id for p in batch)
    routed_all = plan_all_own_drivers(day, **FAST)  # type: ignore[arg-type]
    assert result.totals.cost_cents < routed_all.totals.cost_cents


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_at_equal_search_effort_doorstep_never_costs_more_than_driving_everything(
    seed: int,
) -> None:
    # Doorstep routes the baseline's own problem first and only accepts channel moves that
    # lower the day's cost: with the same seed and iteration count it can tie the baseline,
    # never lose to it. The day mixes city stops, store parcels, a Queen Creek batch, a
    # remote parcel and two-hour windows, so every move has something to try; the two-day
    # parcel in Casa Grande costs a carrier far less than the drive, so here it wins.
    rng = np.random.default_rng(seed)
    packages = [*city_packages(20), *city_packages(6, prefix="m", origin="MCFC-BOOKS")]
    packages += queen_creek_batch()[:8]
    packages.append(package("cg", 32.88, -111.76, promise=Promise.TWO_DAY, ready_s=6 * HOUR))
    for n in range(6):
        start = int(rng.choice([15, 17, 19])) * HOUR
        lat, lng = 33.26 + rng.uniform(0, 0.05), -111.90 + rng.uniform(0, 0.05)
        packages.append(package(f"w{n}", lat, lng, window=(start, start + 2 * HOUR)))
    day = small_day(packages, drivers=3)
    effort = {"time_limit_s": 60.0, "seed": seed, "max_iterations": 200, "workers": 1}
    ours = plan_day(day, **effort)  # type: ignore[arg-type]
    driven = plan_all_own_drivers(day, **effort)  # type: ignore[arg-type]
    assert not driven.unassigned
    assert not ours.unassigned
    assert ours.totals.cost_cents < driven.totals.cost_cents
    assert next(d for d in ours.decisions if d.package == "cg").channel is Channel.CARRIER


def _small_cars_in_territories_of_12(
    monkeypatch: pytest.MonkeyPatch, drivers: int
) -> tuple[list[Package], DayInput]:
    """48 city stops, territories of 12 stops, ``drivers`` cars that hold 10 parcels each."""
    monkeypatch.setattr(planner, "STOPS_PER_TERRITORY", 12)
    packages = city_packages(48)
    day = small_day(packages, drivers=drivers)
    small_cars = tuple(replace(s, capacity_cm3=60_000) for s in day.drivers)
    return packages, replace(day, drivers=small_cars)


def test_part_full_cars_of_neighbouring_territories_merge_into_fewer_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 48 city stops cut into territories of 12, cars that hold 10 parcels: every territory
    # fills one car and ends with a part-full one paying a whole minimum block. Routed
    # together, the part-full cars' stops need fewer blocks.
    packages, day = _small_cars_in_territories_of_12(monkeypatch, drivers=12)
    merged = plan(day)
    monkeypatch.setattr(planner, "LIGHT_ROUTE_SHARE", 0.0)  # no route counts as light
    unmerged = plan(day)
    assert sorted(places(merged)) == sorted(p.id for p in packages)
    assert not merged.unassigned
    assert len(merged.blocks) < len(unmerged.blocks)
    assert merged.totals.cost_cents < unmerged.totals.cost_cents


def test_counter_pickups_go_to_their_store_and_off_its_staff_route() -> None:
    # Two city parcels a driver would take cheaply, collected at the Queen Creek counter
    # instead; Queen Creek's own batch still gets its staff route; a counter pick-up at a
    # store closed today is left unassigned rather than driven to the door.
    city = city_packages(3)
    kept = [replace(p, counter=QUEEN_CREEK.id, promise=Promise.NEXT_DAY) for p in city[:2]]
    closed = replace(city[2], id="closed", counter=MARICOPA.id, promise=Promise.NEXT_DAY)
    result = plan(small_day([*kept, closed, *queen_creek_batch()], drivers=1))
    (manifest,) = result.manifests
    assert manifest.store == QUEEN_CREEK.id
    assert set(manifest.counter) == {p.id for p in kept}
    assert set(manifest.packages) >= set(manifest.counter)
    assert manifest.route_distance_m > 0  # the batch's doors, without the counter's parcels
    driven = {pid for b in result.blocks for pid in b.packages()}
    assert driven.isdisjoint({p.id for p in kept} | {"closed"})
    assert {u.package: u.reason for u in result.unassigned} == {
        "closed": UnassignedReason.NO_CAPACITY
    }
    only_counter = plan(small_day(kept, drivers=1))
    (alone,) = only_counter.manifests
    assert (alone.route_distance_m, set(alone.counter)) == (0, {p.id for p in kept})


def test_a_partner_batch_is_ordered_the_same_whatever_the_tracking_codes() -> None:
    """Package ids are tracking codes, random secrets: the same wave with other codes (the
    twin's same seed on another database) gets the same batch in the same staff-route order.
    Ties used to be broken by the code."""
    batch = queen_creek_batch()
    renamed = [replace(p, id=f"{'zyxwvutsrqponml'[n]}-{n}") for n, p in enumerate(batch)]
    first = plan(small_day(batch, drivers=1))
    again = plan(small_day(renamed, drivers=1))
    (one,) = first.manifests
    (other,) = again.manifests
    position = {p.id: n for n, p in enumerate(batch)}
    position.update({p.id: n for n, p in enumerate(renamed)})
    assert [position[pid] for pid in one.packages] == [position[pid] for pid in other.packages]
    assert one.route_distance_m == other.route_distance_m


def test_channel_moves_that_cost_more_than_they_save_are_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The moves judge each stop on estimates (a store's share of a drop before the morning
    # run is routed); on the Chandler day (seed 2) together they once cost $27 more than
    # they saved. Whatever the moves do, the plan without them stays on hand: here moves
    # that empty every block, so that carriers take the lot, are not kept.
    import doorstep.planning.core.planner as planner

    day = small_day([*city_packages(12), *queen_creek_batch()[:4]], drivers=2)
    monkeypatch.setattr(planner, "improve", lambda day, routed, alternative: routed)
    without_moves = plan(day)
    monkeypatch.setattr(planner, "improve", lambda day, routed, alternative: [])

    guarded = plan(day)

    assert guarded.blocks
    assert guarded.totals == without_moves.totals
    assert [b.packages() for b in guarded.blocks] == [b.packages() for b in without_moves.blocks]
    assert sorted(places(guarded)) == sorted(p.id for p in day.packages)


def test_neighbouring_territories_routed_again_as_one_make_the_day_cheaper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each territory gets a whole number of drivers before it is routed: five drivers for
    # four territories of 12 stops, in cars of 10 parcels, leave three territories one car
    # short. Routed again in pairs, their drivers pooled and from their own routes, a pair's
    # stops go to whichever cars pass by (here $343.77 against $401.17).
    packages, day = _small_cars_in_territories_of_12(monkeypatch, drivers=5)
    repaired = plan(day)
    kept_apart: list[int] = []

    def apart(*args: object) -> object:
        kept_apart.append(1)
        return []  # no plan but the territories' own routes

    monkeypatch.setattr(planner, "_repair_borders", apart)
    unrepaired = plan(day)
    assert kept_apart
    assert sorted(places(repaired)) == sorted(p.id for p in packages)
    assert not repaired.unassigned
    assert repaired.totals.cost_cents < unrepaired.totals.cost_cents


def test_the_borders_the_first_pairs_leave_are_routed_again_as_pairs_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Four territories are paired 1+2 and 3+4 first; the border between 2 and 3 is still
    # one that cars do not cross. The second round routes 2+3 again as one, from their
    # shares of the first round's plan and with the drivers those routes use (here $286.51
    # against $343.77 after the first round alone).
    packages, day = _small_cars_in_territories_of_12(monkeypatch, drivers=5)
    both = plan(day)
    second: list[int] = []

    def first_only(
        day: DayInput,
        tasks: list[object],
        units: list[tuple[object, object]],
        *rest: object,
        spare: bool,
    ) -> object:
        second.append(len(tasks))
        return [r for _, r in units]

    monkeypatch.setattr(planner, "_second_pairs", first_only)
    first = plan(day)
    assert second == [4, 4]  # without the plan's spare drivers and with them
    assert sorted(places(both)) == sorted(p.id for p in packages)
    assert not both.unassigned
    assert both.totals.cost_cents < first.totals.cost_cents


def test_spare_drivers_are_dealt_to_the_second_round_pairs_none_twice() -> None:
    # The pairs of a round search at once: a spare driver counted by two of them could end
    # up on two routes. Dealt in turn, each pair gets a whole number and all are dealt.
    station, store = DriverSupply("S", 1), DriverSupply("T", 7, pay_premium_pct=30)
    dealt = planner._shared_out(((4, station), (5, store)), 3)
    counts = [{n: s.count for n, s in part} for part in dealt]
    assert counts == [{4: 1, 5: 2}, {5: 3}, {5: 2}]
    assert all(s.pay_premium_pct == 30 for part in dealt for n, s in part if n == 5)
    assert planner._shared_out((), 2) == [(), ()]


def test_the_second_round_runs_again_with_the_plans_spare_drivers_dealt_to_its_pairs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Twelve cars for four territories of 12 stops leave spare cars after the first round:
    # the second round runs once with the drivers its shares' routes use, and once with the
    # spare ones dealt to its pairs as well, never more than the plan leaves unused.
    packages, day = _small_cars_in_territories_of_12(monkeypatch, drivers=12)
    searched: list[list[TerritoryTask]] = []
    solve_pairs = planner._solve_pairs

    def watched(paired: list[TerritoryTask], *rest: Any) -> Any:
        searched.append(paired)
        return solve_pairs(paired, *rest)

    monkeypatch.setattr(planner, "_solve_pairs", watched)
    result = plan(day)
    _, without, with_spare = searched  # the first round, then the second twice
    assert [t.name for t in without] == [t.name for t in with_spare]

    def drivers(tasks: list[TerritoryTask]) -> int:
        return sum(s.count for t in tasks for _, s in t.supplies)

    total = sum(s.count for s in day.drivers)
    assert drivers(without) < drivers(with_spare) <= total
    assert sorted(places(result)) == sorted(p.id for p in packages)
