"""A realistic station day around Chandler, AZ, planned by doorstep and two baselines.

Builds the day deterministically from the example network (examples/chandler-az): the
Chandler station DCH1, the Chandler Fashion Center mall with its 5 stores, 2 local stores,
4 partner stores and DCH1's service areas; about 2,000 addresses with 1–3 packages each
(≈ 3,000 packages), some in partner-store radii outside the service areas and a few beyond
everything; 40 drivers.  Plans it in one run with doorstep and with three baselines, prints
a table and writes CSV and JSON to benchmarks/results/:

- "all station routes": the first channel alone, every block starts at the station (the
  mall's and the stores' drivers too; blocks collect store stock on their way);
- "all own drivers": station routes and store / mall runs, no partner store, no carrier;
  doorstep routes this very problem before its channel moves, so it is the strictest test
  of those moves;
- "all carrier": every package with the cheapest carrier service that keeps its promise;
- "doorstep, multi-trip" (``--multi-trip``): doorstep with station drivers who may come
  back to the station for another load within their block (``--max-reloads``,
  ``--reload-minutes``), planned right after doorstep's plan of the same seed.

``--plans`` picks which of them run (doorstep, multi-trip, station, own, carrier, prize),
e.g. the multi-trip comparison alone:

    .venv/bin/python benchmarks/plan_day.py --seeds 1,2,3,4,5 --multi-trip \
        --plans doorstep,multi-trip

By default every routing plan searches the same number of iterations per territory with the
same seed (the time limit is only a safety net), so the comparison is the same on every
machine and measures the decisions, not which search happened to get more CPU.
``--iterations 0`` plans against the wall clock instead (``--time-limit``).

    .venv/bin/python benchmarks/plan_day.py --seeds 1,2,3,4,5     # the full day, 2 workers
    .venv/bin/python benchmarks/plan_day.py --iterations 0 --time-limit 70   # wall clock
    .venv/bin/python benchmarks/plan_day.py --stops 300 --iterations 100     # a short run
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from doorstep.planning.core import (
    HOUR,
    MILE_M,
    Channel,
    DayInput,
    DayPlan,
    DriverSupply,
    Package,
    PartnerStore,
    Promise,
    ServiceArea,
    Site,
    SiteKind,
    plan_all_carrier,
    plan_all_own_drivers,
    plan_all_station_routes,
    plan_day,
)

ROOT = Path(__file__).resolve().parent.parent
NETWORK = ROOT / "examples" / "chandler-az" / "network.geojson"
RESULTS = Path(__file__).resolve().parent / "results"
SERVICE_DAY = date(2026, 12, 1)  # a Tuesday: every partner store in the example is open
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Iterations per territory that plan the full day in about 80 s on 2 cores.
EQUAL_EFFORT_ITERATIONS = 650


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * HOUR + int(minutes) * 60


def opening_on(spec: str, closed_days: str, day: date) -> tuple[int, int] | None:
    """Hours on ``day`` from specs like "mon-fri 07:00-19:00; sat 08:00-17:00"."""
    if day.isoformat() in closed_days.split(";"):
        return None
    weekday = DAYS[day.weekday()]
    for part in spec.split(";"):
        days, hours = part.strip().split(" ")
        first, _, last = days.partition("-")
        span = DAYS[DAYS.index(first) : DAYS.index(last or first) + 1]
        if weekday in span:
            opens, closes = hours.split("-")
            return _clock(opens), _clock(closes)
    return None


def read_network(station: str = "DCH1") -> tuple[list[Site], list[PartnerStore], list[ServiceArea]]:
    features = json.loads(NETWORK.read_text())["features"]
    sites: list[Site] = []
    partners: list[PartnerStore] = []
    areas: list[ServiceArea] = []
    kinds = {
        "station": SiteKind.STATION,
        "mall": SiteKind.MALL,
        "mall_store": SiteKind.MALL_STORE,
        "local_store": SiteKind.LOCAL_STORE,
    }
    for f in features:
        props, geometry = f["properties"], f["geometry"]
        kind = props["kind"]
        if kind == "service_area":
            if props["station"] == station:
                ring = tuple((lat, lng) for lng, lat in geometry["coordinates"][0])
                areas.append(ServiceArea(props["code"], ring))
            continue
        lng, lat = geometry["coordinates"]
        if kind == "partner_store":
            hours = opening_on(props["opening_hours"], props.get("closed_days", ""), SERVICE_DAY)
            partners.append(
                PartnerStore(
                    id=props["code"],
                    lat=lat,
                    lng=lng,
                    name=props["name"],
                    radius_m=round(props["service_radius_mi"] * MILE_M),
                    open_today=hours is not None,
                    capacity_left=props["daily_capacity"],
                    pay_per_package_cents=props["pay_per_package_cents"],
                    opening=hours or (0, 0),
                )
            )
        elif kind in kinds and (kind != "station" or props["code"] == station):
            store_hours = (10 * HOUR, 21 * HOUR) if kind != "station" else (6 * HOUR, 23 * HOUR)
            sites.append(
                Site(
                    id=props["code"],
                    kind=kinds[kind],
                    lat=lat,
                    lng=lng,
                    name=props["name"],
                    parent=props.get("parent"),
                    opening=store_hours,
                    pickup_service_s=60 if kind != "station" else 0,
                )
            )
    return sites, partners, areas


def _points_in(
    rng: np.random.Generator, ring: tuple[tuple[float, float], ...], n: int
) -> list[tuple[float, float]]:
    lats = [p[0] for p in ring]
    lngs = [p[1] for p in ring]
    return [
        (float(rng.uniform(min(lats), max(lats))), float(rng.uniform(min(lngs), max(lngs))))
        for _ in range(n)
    ]


def _near(rng: np.random.Generator, lat: float, lng: float, radius_m: float) -> tuple[float, float]:
    r = radius_m * math.sqrt(float(rng.uniform(0, 1)))
    a = float(rng.uniform(0, 2 * math.pi))
    return (
        lat + r * math.sin(a) / 111_320,
        lng + r * math.cos(a) / (111_320 * math.cos(math.radians(lat))),
    )


def chandler_day(
    stops: int = 2000, drivers: int = 40, seed: int = 7, instant: int | None = None
) -> DayInput:
    """The benchmark day: same arguments, same day."""
    rng = np.random.default_rng(seed)
    sites, partners, areas = read_network()
    station = next(s for s in sites if s.kind is SiteKind.STATION)
    mall_stores = [s.id for s in sites if s.kind is SiteKind.MALL_STORE]
    local_stores = [s.id for s in sites if s.kind is SiteKind.LOCAL_STORE]

    # Addresses: 95 % inside the service areas (half of them in denser neighbourhoods),
    # 4 % thinly spread in the radii of the three partner stores beyond them, 1 % in Casa
    # Grande, beyond every radius.
    inside = round(stops * 0.95)
    in_partner = round(stops * 0.04)
    beyond = stops - inside - in_partner
    chandler = next(a for a in areas if a.id == "SA-CHANDLER")
    tempe = next(a for a in areas if a.id == "SA-TEMPE-SOUTH")
    addresses = _points_in(rng, chandler.ring, inside * 3 // 8)
    addresses += _points_in(rng, tempe.ring, inside // 8)
    hubs = [(33.3062, -111.8413), (33.2483, -111.8578), (33.3406, -111.9291), (33.2797, -111.9448)]
    for k in range(inside - len(addresses)):
        lat, lng = hubs[k % len(hubs)]
        addresses.append(_near(rng, lat, lng, 2_500))
    far_partners = [p for p in partners if p.id != "PS-SUNLAKES-CAFE"]
    for k in range(in_partner):
        p = far_partners[k % len(far_partners)]
        addresses.append(_near(rng, p.lat, p.lng, p.radius_m * 0.9))
    for _ in range(beyond):
        addresses.append(_near(rng, 32.8795, -111.7574, 8_000))  # Casa Grande

    packages: list[Package] = []
    for n, (lat, lng) in enumerate(addresses):
        count = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        local = n < inside
        draw = float(rng.uniform(0, 1))
        if local and draw < 0.14:
            origin = mall_stores[int(rng.integers(len(mall_stores)))]
        elif local and draw < 0.20:
            origin = local_stores[int(rng.integers(len(local_stores)))]
        else:
            origin = station.id
        promise_draw = float(rng.uniform(0, 1))
        promise = (
            Promise.SAME_DAY
            if promise_draw < 0.55 or origin != station.id
            else Promise.NEXT_DAY
            if promise_draw < 0.85
            else Promise.TWO_DAY
        )
        # Next- and two-day stock reached the station overnight (in time for the partner
        # stores' morning van); same-day orders close at the 11:00 cut-off; store orders
        # are packed in the early afternoon.
        if origin != station.id:
            ready = int(rng.choice([12, 13, 14])) * HOUR
        else:
            ready = 11 * HOUR if promise is Promise.SAME_DAY else 6 * HOUR
        window = (11 * HOUR, 21 * HOUR)
        if promise is Promise.SAME_DAY and float(rng.uniform(0, 1)) < 0.1:
            start = int(rng.choice([15, 17, 19])) * HOUR
            window = (start, start + 2 * HOUR)
        for k in range(count):
            volume = int(np.clip(rng.lognormal(math.log(6_000), 0.8), 500, 60_000))
            weight = int(np.clip(volume * rng.lognormal(math.log(0.18), 0.5), 100, 15_000))
            packages.append(
                Package(
                    id=f"P{n:04d}-{k}",
                    origin=origin,
                    lat=lat,
                    lng=lng,
                    volume_cm3=volume,
                    weight_g=weight,
                    window=window,
                    promise=promise,
                    service_s=120,
                    recipient=f"Recipient {n:04d}",
                    ready_s=ready,
                )
            )

    # Drivers: most at the station, a mall crew and one or two per local store.
    mall = next(s for s in sites if s.kind is SiteKind.MALL)
    instant = drivers // 2 if instant is None else instant
    at_mall = max(1, round(drivers * 0.15))
    at_stores = min(len(local_stores), max(0, drivers - at_mall - 1))
    supply = [
        DriverSupply(
            station.id,
            drivers - at_mall - at_stores - drivers // 5,
            400_000,
            250_000,
            (11 * HOUR, 21 * HOUR),
        ),
        DriverSupply(station.id, drivers // 5, 900_000, 400_000, (11 * HOUR, 21 * HOUR)),
        DriverSupply(mall.id, at_mall, 400_000, 250_000, (12 * HOUR, 21 * HOUR)),
    ]
    supply += [
        DriverSupply(s, 1, 400_000, 250_000, (12 * HOUR, 21 * HOUR))
        for s in local_stores[:at_stores]
    ]
    # Beyond the expected drivers, instant offers at the cut-off reach up to half as many
    # again, at 25 % more pay; both doorstep and the station-route baseline may use them.
    supply.append(DriverSupply(station.id, instant, 400_000, 250_000, (12 * HOUR, 21 * HOUR), 25))
    return DayInput(
        station=station.id,
        sites=tuple(sites),
        partner_stores=tuple(partners),
        service_areas=tuple(areas),
        packages=tuple(packages),
        drivers=tuple(s for s in supply if s.count > 0),
    )


def verify(day: DayInput, plan: DayPlan) -> None:
    """Each package in exactly one place (the planner checked every route already)."""
    places: list[str] = [pid for b in plan.blocks for pid in b.packages()]
    places += [pid for m in plan.manifests for pid in m.packages]
    places += [c.package for c in plan.carrier] + [u.package for u in plan.unassigned]
    if sorted(places) != sorted(p.id for p in day.packages):
        raise AssertionError("a package is missing or placed twice")


def row(name: str, plan: DayPlan, runtime_s: float) -> dict[str, Any]:
    t = plan.totals
    return {
        "plan": name,
        "packages": t.packages,
        "planned": t.planned,
        "unassigned": len(plan.unassigned),
        "total_cost_usd": round(t.cost_cents / 100, 2),
        "cost_per_package_usd": round(t.cost_per_package_cents / 100, 2),
        **{f"share_{c.value}": round(t.share_of(c), 4) for c in Channel},
        "blocks": len(plan.blocks),
        "reloads": sum(s.is_reload for b in plan.blocks for s in b.stops),
        "block_hours": round(sum(b.length_s for b in plan.blocks) / HOUR, 1),
        "driven_miles": round(sum(b.distance_m for b in plan.blocks) / MILE_M, 1),
        "runtime_s": round(runtime_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stops", type=int, default=2000)
    parser.add_argument("--drivers", type=int, default=40)
    parser.add_argument(
        "--time-limit",
        type=float,
        default=300.0,
        help="routing budget (s); with --iterations only a safety net",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=EQUAL_EFFORT_ITERATIONS,
        help="search iterations per territory for every routing plan (0: wall clock only)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--seeds", type=_seeds, default=(1,), help="search seeds, comma-separated (1,2,3)"
    )
    parser.add_argument("--instant", type=int, default=None, help="instant-offer drivers")
    parser.add_argument(
        "--multi-trip",
        action="store_true",
        help="also plan doorstep with multi-trip blocks (station drivers reload at the station)",
    )
    parser.add_argument("--max-reloads", type=int, default=2, help="reloads per block")
    parser.add_argument("--reload-minutes", type=int, default=15, help="time to load a trip")
    parser.add_argument(
        "--plans",
        type=lambda text: tuple(part.strip() for part in text.split(",")),
        default=tuple(PLAN_KEYS),
        help=f"plans to run, comma-separated, of {','.join(PLAN_KEYS)} (default: all asked for)",
    )
    parser.add_argument(
        "--with-prize-routing",
        action="store_true",
        help="also plan doorstep with channel prices as routing prizes (channel_prizes=True)",
    )
    args = parser.parse_args(argv)

    console = Console(width=150)
    day = chandler_day(args.stops, args.drivers, instant=args.instant)
    console.print(
        f"{len(day.packages)} packages to {args.stops} stops, {args.drivers} drivers, "
        f"{len(day.partner_stores)} partner stores; "
        f"load {Path('/proc/loadavg').read_text().split()[:3]}"
    )
    rows: list[dict[str, Any]] = []
    reasons: dict[str, dict[str, int]] = {}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        for seed in args.seeds:
            for name, plan, elapsed in _plan_all(day, args, seed, progress):
                rows.append({"seed": seed, **row(name, plan, elapsed)})
                reasons[f"{name}, seed {seed}"] = _count([u.reason.value for u in plan.unassigned])

    effort = (
        f"{args.iterations} iterations per territory"
        if args.iterations
        else f"{args.time_limit:g} s wall clock"
    )
    table = Table(
        title=f"Chandler station day ({len(day.packages)} packages, {args.stops} stops; {effort})"
    )
    for column in (
        "seed",
        "plan",
        "total $",
        "$ / package",
        "station",
        "store run",
        "partner",
        "carrier",
        "unassigned",
        "blocks",
        "reloads",
        "block h",
        "miles",
        "runtime s",
    ):
        table.add_column(column, justify="left" if column == "plan" else "right")
    for r in rows:
        table.add_row(
            str(r["seed"]),
            r["plan"],
            f"{r['total_cost_usd']:,.2f}",
            f"{r['cost_per_package_usd']:.2f}",
            *(f"{100 * r[f'share_{c.value}']:.1f} %" for c in Channel),
            str(r["unassigned"]),
            str(r["blocks"]),
            str(r["reloads"]),
            f"{r['block_hours']:.0f}",
            f"{r['driven_miles']:,.0f}",
            f"{r['runtime_s']:.1f}",
        )
    console.print(table)
    load = Path("/proc/loadavg").read_text().split()[:3]
    console.print(f"load average after the run: {' '.join(load)}")

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with (RESULTS / f"plan_day-{stamp}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary = {
        "command": "benchmarks/plan_day.py " + " ".join(argv or []),
        "args": {**vars(args), "seeds": list(args.seeds)},
        "load_average": load,
        "rows": rows,
        "unassigned_reasons": reasons,
    }
    (RESULTS / f"plan_day-{stamp}.json").write_text(json.dumps(summary, indent=2))
    console.print(f"wrote {RESULTS}/plan_day-{stamp}.csv and .json")
    for line in compare(rows):
        console.print(line)
    return 0


def _plan_all(
    day: DayInput, args: argparse.Namespace, seed: int, progress: Progress
) -> list[tuple[str, DayPlan, float]]:
    """Every plan of one seed, verified, with its wall-clock runtime."""
    search = {
        "time_limit_s": args.time_limit,
        "seed": seed,
        "max_iterations": args.iterations or None,
        "workers": args.workers,
    }
    runs: tuple[tuple[str, Callable[[], DayPlan]], ...] = (
        ("doorstep", lambda: plan_day(day, **search)),
        ("all station routes", lambda: plan_all_station_routes(day, **search)),
        ("all own drivers", lambda: plan_all_own_drivers(day, **search)),
        ("all carrier", lambda: plan_all_carrier(day)),
    )
    if args.multi_trip:
        multi = replace(day, max_reloads=args.max_reloads, reload_s=args.reload_minutes * 60)
        runs = (
            runs[0],
            (MULTI_TRIP, lambda: plan_day(multi, **search)),
            *runs[1:],
        )
    if args.with_prize_routing:
        runs += (("doorstep, prize routing", lambda: plan_day(day, **search, channel_prizes=True)),)
    wanted = {PLAN_KEYS[key] for key in args.plans if key in PLAN_KEYS}
    runs = tuple(run for run in runs if run[0] in wanted)
    planned = []
    for name, run in runs:
        task = progress.add_task(f"seed {seed}, planning: {name}", total=None)
        started = time.perf_counter()
        plan = run()
        elapsed = time.perf_counter() - started
        verify(day, plan)
        planned.append((name, plan, elapsed))
        # One line per plan as it ends: a long run on a loaded machine shows what it has.
        done = row(name, plan, elapsed)
        progress.console.print(
            f"seed {seed}, {name}: ${done['total_cost_usd']:,.2f}, {done['blocks']} blocks, "
            f"{done['reloads']} reloads, {done['block_hours']} h, {done['driven_miles']} mi, "
            f"{elapsed:.1f} s, load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
        )
        progress.update(task, description=f"seed {seed}, planned: {name} ({elapsed:.1f} s)")
        progress.stop_task(task)
    return planned


MULTI_TRIP = "doorstep, multi-trip"
#: ``--plans`` keys and the plans they name.
PLAN_KEYS = {
    "doorstep": "doorstep",
    "multi-trip": MULTI_TRIP,
    "station": "all station routes",
    "own": "all own drivers",
    "carrier": "all carrier",
    "prize": "doorstep, prize routing",
}


#: The single-channel baselines doorstep must beat: the first channel alone, the last alone.
SINGLE_CHANNEL = ("all station routes", "all carrier")
#: Our own drivers for everything: what doorstep's channel moves start from.
OWN_DRIVERS = "all own drivers"


def compare(rows: list[dict[str, Any]]) -> list[str]:
    """Per seed, doorstep against each baseline that ran; then whether it was cheaper than
    both single-channel baselines on every seed, how it fared against all own drivers, and
    what multi-trip blocks changed."""
    lines = []
    cheaper_everywhere = True
    seeds = list(dict.fromkeys(r["seed"] for r in rows))
    own_cheaper = own_dearer = 0
    multi: list[float] = []
    ran = {r["plan"] for r in rows}
    for seed in seeds:
        by_plan = {r["plan"]: r for r in rows if r["seed"] == seed}
        if "doorstep" not in by_plan:
            continue
        ours = by_plan["doorstep"]["total_cost_usd"]
        parts = []
        for name in (*SINGLE_CHANNEL, OWN_DRIVERS, MULTI_TRIP):
            if name not in by_plan:
                continue
            theirs = by_plan[name]["total_cost_usd"]
            if name == MULTI_TRIP:
                multi.append(theirs - ours)
                parts.append(
                    f"multi-trip {theirs - ours:+,.2f} $ ({100 * (theirs / ours - 1):+.2f} %)"
                )
                continue
            if name in SINGLE_CHANNEL:
                cheaper_everywhere &= ours < theirs
            else:
                own_cheaper += ours < theirs
                own_dearer += ours > theirs
            parts.append(
                f"{ours - theirs:+,.2f} $ ({100 * (ours / theirs - 1):+.2f} %) against {name}"
            )
        lines.append(f"seed {seed}: doorstep {', '.join(parts)}")
    if set(SINGLE_CHANNEL) <= ran:
        lines.append(
            f"doorstep cheaper than both baselines ({' and '.join(SINGLE_CHANNEL)}) on every "
            f"seed: {cheaper_everywhere}"
        )
    if OWN_DRIVERS in ran:
        lines.append(
            f"against {OWN_DRIVERS}: cheaper on {own_cheaper} of {len(seeds)} seeds, "
            f"dearer on {own_dearer}"
        )
    if multi:
        lines.append(
            f"multi-trip against doorstep: cheaper on {sum(d < 0 for d in multi)} of "
            f"{len(multi)} seeds, dearer on {sum(d > 0 for d in multi)}, "
            f"mean {sum(multi) / len(multi):+,.2f} $"
        )
    return lines


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds takes whole numbers separated by commas, got {text!r}"
        ) from None
    return seeds


def _count(values: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


if __name__ == "__main__":
    raise SystemExit(main())
