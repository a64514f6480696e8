"""Fair offers against the fastest tap: a simulated week of block offers, run under ``rounds``
and under ``first_come`` through doorstep's own services.

The week (seeded, the same in both modes): the Chandler example network's two stations, DCH1
and DGB1, publish the next day's blocks at 17:00 (station time), 30 and 20 a day, 2 to 5 hours
long, starting between 07:00 and 16:00. More drivers than blocks (60 and 40) with their own
weekly hours (4 to 6 working days, a preferred start window) and eagerness:

* ``fast``: 15 %, open the app about 20 seconds after blocks are published (they always tap
  first);
* ``regular``: 55 %, about 20 minutes after;
* ``casual``: 30 %, about two hours after.

A driver wants one block on each working day, starting in their window. At each look at the
app (up to four, until they hold a block that day) they list their offers
(`drivers.offers.list_offers`); during an open round they state interest in the three best of
their window (`accept_offer`: interest), otherwise they tap them in order until one is theirs.
Rounds close at 17:30 and 18:00 (`drivers.rounds.close_due_rounds`, the worker's function,
with the simulated clock); after that the blocks left are first come.

Reported per mode: the Gini coefficient of earnings per available hour across the drivers who
wanted work, the mean of it per eagerness class, and the cost to the network: blocks nobody
took by their start (to be filled with instant offers, +25 % pay), minutes from publication to
taken (median, 90th percentile), blocks taken more than two hours after publication.

    .venv/bin/python benchmarks/offer_fairness.py                 # seeds 1, 2, 3
    .venv/bin/python benchmarks/offer_fairness.py --seeds 1 --drivers 60,40 --blocks 30,20

Not a test: it prints a table (and writes benchmarks/results/offer_fairness.json). Each run
uses a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import tempfile
import time as clock
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.drivers import accounts, availability, offers, rounds
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.publish import publish_plan
from doorstep.drivers.schemas import VehicleIn, WeeklyStretch
from doorstep.errors import DomainError
from doorstep.migrate import upgrade
from doorstep.models import Block, Driver, Node, OfferMode, Plan, PlanStatus
from doorstep.network.service import import_network_file

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
NETWORK = ROOT / "examples" / "chandler-az" / "network.geojson"
PHOENIX = ZoneInfo("America/Phoenix")
MONDAY = date(2026, 12, 7)
STATIONS = ("DCH1", "DGB1")
PUBLISH_AT = time(17, 0)  # the evening before
WINDOW = timedelta(hours=1, minutes=55)  # narrower than the shortest block: all overlap
HOURLY_CENTS = 2200
CENTS_PER_KM = 19  # $0.30 a mile
EAGERNESS = {"fast": (0.15, 20.0), "regular": (0.55, 20 * 60.0), "casual": (0.30, 2 * 3600.0)}
LOOKS = 4  # times a driver opens the app for a day at most
INSTANT_PREMIUM = 0.25
console = Console(width=150)


@dataclass(frozen=True)
class SimDriver:
    key: int
    station: str
    eagerness: str
    days: tuple[int, ...]  # weekdays worked
    window: time  # preferred first start

    @property
    def available_hours(self) -> float:
        return len(self.days) * 7.0


@dataclass(frozen=True)
class SimBlock:
    station: str
    day: date
    start: time
    hours: int
    distance_km: int


@dataclass
class Week:
    drivers: list[SimDriver]
    blocks: list[SimBlock]
    delays: dict[tuple[int, date, int], float]  # (driver, day, look) → seconds


@dataclass
class Outcome:
    mode: str
    seed: int
    gini: float
    per_class: dict[str, float]
    blocks: int
    unfilled: int
    unfilled_premium_cents: int
    median_fill_min: float
    p90_fill_min: float
    filled_after_2h: int
    runtime_s: float
    drivers_with_work: int
    drivers: int = 0
    earnings: list[float] = field(default_factory=list, repr=False)


def make_week(seed: int, drivers: tuple[int, int], blocks: tuple[int, int]) -> Week:
    """The same week for both modes: who drives, which blocks, how quickly each looks."""
    rng = random.Random(seed)
    sim_drivers: list[SimDriver] = []
    for station, count in zip(STATIONS, drivers, strict=True):
        for _ in range(count):
            eagerness = rng.choices(list(EAGERNESS), [w for w, _ in EAGERNESS.values()])[0]
            days = tuple(sorted(rng.sample(range(7), rng.randint(4, 6))))
            window = time(rng.choice((7, 8, 9, 10, 11, 12, 13, 14)))
            sim_drivers.append(SimDriver(len(sim_drivers), station, eagerness, days, window))
    sim_blocks: list[SimBlock] = []
    for offset in range(7):
        day = MONDAY + timedelta(days=offset)
        for station, count in zip(STATIONS, blocks, strict=True):
            for _ in range(count):
                start = time(rng.randint(7, 15), rng.choice((0, 15, 30, 45)))
                hours = rng.choice((2, 3, 3, 4, 4, 5))
                sim_blocks.append(SimBlock(station, day, start, hours, rng.randint(12, 18) * hours))
    delays = {}
    for driver in sim_drivers:
        mean = EAGERNESS[driver.eagerness][1]
        for offset in range(7):
            day = MONDAY + timedelta(days=offset)
            for look in range(LOOKS):
                delays[(driver.key, day, look)] = rng.expovariate(1 / mean)
    return Week(sim_drivers, sim_blocks, delays)


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=PHOENIX).astimezone(UTC)


def run(week: Week, policy: OfferPolicy, seed: int, folder: Path) -> Outcome:
    started = clock.perf_counter()
    mode = policy.mode
    engine = create_db_engine(f"sqlite:///{folder / f'{mode.value}-{seed}.sqlite3'}")
    upgrade(engine)
    sessions = session_factory(engine)
    ids = setup(sessions, week)
    events: list[tuple[datetime, int, str, tuple[int, date, int]]] = []
    days = sorted({b.day for b in week.blocks})
    for day in days:
        published = local(day - timedelta(days=1), PUBLISH_AT)
        heapq.heappush(events, (published, 0, "publish", (0, day, 0)))
        if mode is OfferMode.ROUNDS:
            for n in range(1, policy.rounds + 1):
                heapq.heappush(
                    events, (published + n * policy.round_length, 1, "close", (0, day, n))
                )
        for driver in week.drivers:
            if day.weekday() in driver.days:
                first = published + timedelta(seconds=week.delays[(driver.key, day, 0)])
                heapq.heappush(events, (first, 2, "look", (driver.key, day, 0)))
    published_at: dict[date, datetime] = {}
    wanting: set[int] = set()
    while events:
        now, _, kind, (key, day, look) = heapq.heappop(events)
        with unit_of_work(sessions) as session:
            if kind == "publish":
                publish_day(session, week, day, now, policy)
                published_at[day] = now
            elif kind == "close":
                rounds.close_due_rounds(session, now=now, policy=policy)
            else:
                later = look_at_app(session, week.drivers[key], ids, day, now, policy, wanting)
                if later is not None and look + 1 < LOOKS:
                    later += timedelta(seconds=week.delays[(key, day, look + 1)])
                    if later < local(day, time(6)):
                        heapq.heappush(events, (later, 2, "look", (key, day, look + 1)))
    outcome = measure(sessions, week, ids, wanting, published_at, mode, seed)
    outcome.runtime_s = clock.perf_counter() - started
    engine.dispose()
    return outcome


def setup(sessions: sessionmaker[Session], week: Week) -> dict[int, int]:
    """The network and the drivers with their weekly hours; returns sim key → driver id."""
    ids = {}
    with unit_of_work(sessions) as session:
        import_network_file(session, NETWORK)
        for driver in week.drivers:
            row = accounts.create_driver(
                session,
                name=f"Driver {driver.key}",
                email=f"driver{driver.key}@example.com",
                station_code=driver.station,
                vehicle=VehicleIn(description="Own car", cargo_litres=1200),
                now=local(MONDAY - timedelta(days=7), time(9)),
                with_token=False,
            ).driver
            end = (datetime.combine(MONDAY, driver.window) + timedelta(hours=7)).time()
            availability.set_weekly(
                session,
                row,
                [WeeklyStretch(weekday=d, start=driver.window, end=end) for d in driver.days],
            )
            ids[driver.key] = row.id
    return ids


def publish_day(
    session: Session, week: Week, day: date, now: datetime, policy: OfferPolicy
) -> None:
    """Both stations' blocks of ``day`` as one plan each, published the evening before."""
    nodes = {n.code: n for n in session.scalars(select(Node).where(Node.code.in_(STATIONS)))}
    for code in STATIONS:
        station = nodes[code]
        plan = Plan(
            station_id=station.id,
            service_date=day,
            status=PlanStatus.CURRENT,
            seed=0,
            runtime_s=0.0,
            input_fingerprint=f"{code}-{day}",
            totals={},
            unassigned=[],
            decisions=[],
        )
        session.add(plan)
        session.flush()
        for block in week.blocks:
            if block.station == code and block.day == day:
                starts = local(day, block.start)
                session.add(
                    Block(
                        start_node_id=station.id,
                        station_id=station.id,
                        plan_id=plan.id,
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=block.hours),
                        pay_cents=HOURLY_CENTS * block.hours + CENTS_PER_KM * block.distance_km,
                        estimated_distance_m=block.distance_km * 1000,
                        stop_count=12 * block.hours,
                        package_count=16 * block.hours,
                        required_capacity_cm3=400_000,
                        required_weight_g=120_000,
                    )
                )
        session.flush()
        publish_plan(session, plan.id, now=now, policy=policy)


def look_at_app(
    session: Session,
    sim: SimDriver,
    ids: dict[int, int],
    day: date,
    now: datetime,
    policy: OfferPolicy,
    wanting: set[int],
) -> datetime | None:
    """One look at the app for ``day``: None once the driver holds a block that day, else
    when they look again (after the round's close, which the app tells them, or ten minutes
    and their usual delay after a first-come miss)."""
    driver = session.get_one(Driver, ids[sim.key])
    window_start = local(day, sim.window)
    in_window = (Block.starts_at >= window_start, Block.starts_at < window_start + WINDOW)
    if session.scalar(select(Block.id).where(Block.driver_id == driver.id, *in_window)):
        return None
    wanted = sorted(
        (
            v
            for v in offers.list_offers(session, driver, now=now, policy=policy)
            if window_start <= v.starts_at < window_start + WINDOW
        ),
        key=lambda v: (-v.net_pay_per_hour_cents, v.starts_at, v.block_id),
    )
    if wanted:
        wanting.add(sim.key)
    in_round = [v for v in wanted if v.mode is OfferMode.ROUNDS]
    if in_round:
        for view in in_round[:3]:
            offers.accept_offer(session, driver, view.id, now=now, policy=policy)
        closes = min(v.round_closes_at for v in in_round if v.round_closes_at is not None)
        return max(closes, now)
    for view in wanted:
        try:
            offers.accept_offer(session, driver, view.id, now=now, policy=policy)
        except DomainError:
            continue  # someone was quicker
        return None
    return now + timedelta(minutes=10)


def measure(
    sessions: sessionmaker[Session],
    week: Week,
    ids: dict[int, int],
    wanting: set[int],
    published_at: dict[date, datetime],
    mode: OfferMode,
    seed: int,
) -> Outcome:
    """Earnings per available hour of the drivers who wanted work, and how blocks filled."""
    with unit_of_work(sessions) as session:
        blocks = session.scalars(select(Block)).all()
        earned: dict[int, int] = defaultdict(int)
        fills = []
        for block in blocks:
            if block.driver_id is not None and block.accepted_at is not None:
                earned[block.driver_id] += block.pay_cents
                day = block.starts_at.astimezone(PHOENIX).date()
                fills.append((block.accepted_at - published_at[day]).total_seconds() / 60)
        unfilled = [b for b in blocks if b.driver_id is None]
    per_hour = {
        sim.key: earned[ids[sim.key]] / 100 / sim.available_hours
        for sim in week.drivers
        if sim.key in wanting
    }
    classes: dict[str, list[float]] = defaultdict(list)
    for sim in week.drivers:
        if sim.key in per_hour:
            classes[sim.eagerness].append(per_hour[sim.key])
    values = list(per_hour.values())
    fills.sort()
    return Outcome(
        mode=mode.value,
        seed=seed,
        gini=gini(values),
        per_class={k: statistics.fmean(v) for k, v in sorted(classes.items())},
        blocks=len(blocks),
        unfilled=len(unfilled),
        unfilled_premium_cents=round(INSTANT_PREMIUM * sum(b.pay_cents for b in unfilled)),
        median_fill_min=statistics.median(fills) if fills else float("nan"),
        p90_fill_min=fills[int(0.9 * (len(fills) - 1))] if fills else float("nan"),
        filled_after_2h=sum(1 for f in fills if f > 120),
        runtime_s=0.0,
        drivers_with_work=sum(1 for v in values if v > 0),
        drivers=len(values),
        earnings=values,
    )


def gini(values: list[float]) -> float:
    """0: everyone earns the same per available hour; 1: one driver earns everything."""
    if not values or sum(values) == 0:
        return 0.0
    ordered = sorted(values)
    n = len(ordered)
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * sum(ordered)) - (n + 1) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--drivers", default="60,40", help="drivers at DCH1,DGB1")
    parser.add_argument("--blocks", default="30,20", help="blocks a day at DCH1,DGB1")
    parser.add_argument("--round-minutes", type=int, default=OfferPolicy().round_minutes)
    parser.add_argument("--rounds", type=int, default=OfferPolicy().rounds)
    args = parser.parse_args()
    policy = OfferPolicy(round_minutes=args.round_minutes, rounds=args.rounds)
    seeds = [int(s) for s in args.seeds.split(",")]
    dch1, dgb1 = (int(n) for n in args.drivers.split(","))
    dch1_blocks, dgb1_blocks = (int(n) for n in args.blocks.split(","))
    drivers, blocks = (dch1, dgb1), (dch1_blocks, dgb1_blocks)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            week = make_week(seed, drivers, blocks)
            for mode in (OfferMode.ROUNDS, OfferMode.FIRST_COME):
                with console.status(f"seed {seed}: a week under {mode.value}…"):
                    outcomes.append(run(week, replace(policy, mode=mode), seed, Path(folder)))
    show(outcomes, drivers, blocks, policy)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"offer_fairness-{stamp}.json").write_text(
        json.dumps([asdict(o) for o in outcomes], indent=2), encoding="utf-8"
    )


def show(
    outcomes: list[Outcome],
    drivers: tuple[int, ...],
    blocks: tuple[int, ...],
    policy: OfferPolicy,
) -> None:
    table = Table(
        title=f"A week of offers: {sum(drivers)} drivers, {sum(blocks)} blocks a day "
        f"({', '.join(STATIONS)}); rounds: {policy.rounds} of {policy.round_minutes} min"
    )
    for column in (
        "seed",
        "mode",
        "Gini $/avail. h",
        "$/avail. h fast · regular · casual",
        "drivers with work",
        "unfilled",
        "instant premium",
        "fill min median · p90",
        "taken > 2 h",
    ):
        table.add_column(column, justify="right")
    for o in outcomes:
        table.add_row(
            str(o.seed),
            o.mode,
            f"{o.gini:.3f}",
            " · ".join(f"{o.per_class.get(k, 0):.2f}" for k in EAGERNESS),
            f"{o.drivers_with_work}/{o.drivers}",
            f"{o.unfilled}/{o.blocks}",
            f"${o.unfilled_premium_cents / 100:,.2f}",
            f"{o.median_fill_min:.0f} · {o.p90_fill_min:.0f}",
            str(o.filled_after_2h),
        )
    console.print(table)
    by_mode: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_mode[o.mode].append(o)
    if {"rounds", "first_come"} <= set(by_mode):
        fair = statistics.fmean(o.gini for o in by_mode["rounds"])
        fast = statistics.fmean(o.gini for o in by_mode["first_come"])
        console.print(
            f"Mean Gini: rounds {fair:.3f}, first come {fast:.3f} "
            f"({(fair - fast) / fast:+.0%} with rounds). Mean runtime per week: "
            f"{statistics.fmean(o.runtime_s for o in outcomes):.1f} s."
        )


if __name__ == "__main__":
    main()
