"""The simulated world as SimPy processes: shoppers, the planner's clock, drivers, partner
stores' staff and counters, the carrier.

Pure: it talks to doorstep only through the `Network` port, and every random draw comes from a
`random.Random` seeded from the configuration's seed (one stream per kind of draw, so a change
in how drivers behave does not move where shoppers live). The same seed and the same network
give the same day.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from doorstep.geo import haversine_m
from doorstep.sim.config import SimConfig
from doorstep.sim.port import (
    DAY_S,
    CarrierParcel,
    HeldBlock,
    ManifestView,
    Network,
    NetworkView,
    OrderRequest,
    Placed,
    RouteView,
    Site,
    StopView,
)

HOUR_S = 3600
Process = Generator[simpy.Event, Any, None]
#: A block can be given back until this long before it starts (the network's default).
FORFEIT_BEFORE_S = 45 * 60
#: A driver who does not turn up is flagged this long after the slot closes.
NO_SHOW_AFTER_S = 30 * 60
#: Doors worth passing again before heading back: nobody was in (a closed gate, an unsafe
#: place or a wrong address will be the same an hour later).
TRIED_AGAIN_REASONS = frozenset({"recipient_unavailable"})
#: Ringing again at a door already found.
RING_AGAIN_S = 60


@dataclass
class Trip:
    """A block as it was driven."""

    block_id: int
    driver: str
    starts_s: float
    slot_closes_s: float
    pay_cents: int
    checked_in_s: float = 0.0
    ended_s: float = 0.0
    busy_s: float = 0.0  # driving and at doors
    waiting_s: float = 0.0  # at store pickups
    metres: float = 0.0
    doors: int = 0
    failed: int = 0
    path: list[tuple[float, float]] = field(default_factory=list)
    kind: str = "station"  # where the block starts: station or store (a store or mall run)


@dataclass
class StaffRun:
    store: str
    day: int
    parcels: int
    delivered: int = 0
    kept: int = 0
    metres: float = 0.0
    path: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class SimLog:
    """What happened, as the world saw it (the twin reads the rest from the database)."""

    orders: list[tuple[float, OrderRequest, Placed]] = field(default_factory=list)
    trips: list[Trip] = field(default_factory=list)
    staff_runs: list[StaffRun] = field(default_factory=list)
    plans: list[tuple[float, int, bool, int]] = field(default_factory=list)  # at, day, dispatch, n
    rolled_over: list[tuple[int, int]] = field(default_factory=list)  # day, parcels
    forfeits: int = 0
    late_check_ins: int = 0
    no_shows: int = 0
    no_show_blocks_reoffered: int = 0
    turned_away: int = 0  # drivers who came so late their block had gone to another
    tried_again: int = 0  # doors nobody answered, passed again after the last stop
    delivered_on_another_try: int = 0
    counter_collected: int = 0
    counter_expired: int = 0
    carrier_handed: int = 0
    carrier_delivered: int = 0
    timeline: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    days: int = 0
    ended_s: float = 0.0

    def count(self, what: str, at: float, n: int = 1) -> None:
        """Add ``n`` to ``what`` in the hour of ``at`` (for the hour-by-hour timeline)."""
        self.timeline[what][int(at // HOUR_S)] += n


class Simulation:
    """One seeded run of the world against ``port``; `run` returns the log."""

    def __init__(
        self,
        port: Network,
        config: SimConfig,
        *,
        progress: Callable[[float, int], None] | None = None,
    ) -> None:
        self.port = port
        self.config = config
        self.env = simpy.Environment()
        self.log = SimLog()
        self.progress = progress
        seed = config.seed
        self.demand_rng = random.Random(f"{seed}:demand")
        self.driver_rng = random.Random(f"{seed}:drivers")
        self.door_rng = random.Random(f"{seed}:doors")
        self.partner_rng = random.Random(f"{seed}:partners")
        self.carrier_rng = random.Random(f"{seed}:carrier")
        self.again_rng = random.Random(f"{seed}:again")
        self.network: NetworkView = port.network()
        self.counter_choice: dict[str, bool] = {}  # parcel code → collects at the counter
        self.claimed: set[int] = set()  # blocks a driver process is working
        self.registered: set[str] = set()
        # Each plan (or forfeit) that put blocks on offer is a new generation: a driver who
        # looked at this one and took nothing waits for the next instead of asking again.
        # Before the first (generation 0) there is nothing to open the app's offers for. One
        # driver's empty listing says nothing of the others': offers are each driver's own.
        self.generation = 0
        self.seen: dict[str, int] = {}
        self.on_shift: set[str] = set()  # drivers with a process looking or working
        self.holding: dict[str, float] = {}  # driver → when it last accepted or stated interest
        # Drivers whose held blocks may have changed since they last looked: a round close gave
        # them a block (the port's `tick` says whom), an accept went through, a block ended. A
        # driver asks the network for its held blocks only then; between those moments the
        # answer could not differ (its held blocks change by nothing else), so the day is the
        # same as when it asked at each look, at a tenth of the calls.
        self.news: set[str] = set()
        self.worked: dict[str, float] = {}  # driver → when its last block ended
        self.finished = self.env.event()
        self.driving_days: set[int] = set()

    # The run ------------------------------------------------------------------------------

    def run(self) -> SimLog:
        self.env.process(self._demand())
        self.env.process(self._planner())
        self.env.process(self._ticker())
        self.env.run(until=self.finished)
        self.log.ended_s = self.env.now
        return self.log

    def _now(self) -> float:
        return float(self.env.now)

    def _until(self, at: float) -> simpy.Event:
        return self.env.timeout(max(0.0, at - self.env.now))

    def _ticker(self) -> Process:
        while True:
            hour = (self.env.now % DAY_S) / HOUR_S
            # Nothing is on offer or on the road at night, nor on a day without drivers.
            if 5 <= hour < 23 and int(self.env.now // DAY_S) in self.driving_days:
                ticked = self.port.tick(self._now())
                self.news.update(ticked.winners)
                if ticked.reopened:
                    self._on_offer_again()
                self._reoffer_no_shows()
            yield self.env.timeout(self.config.tick_s)

    # Shoppers ------------------------------------------------------------------------------

    def _demand(self) -> Process:
        rng, config = self.demand_rng, self.config
        hours = list(range(24))
        times = sorted(
            hour * HOUR_S + rng.random() * HOUR_S
            for hour in rng.choices(hours, weights=config.hourly_profile, k=config.orders)
        )
        for number, at in enumerate(times):
            yield self._until(at)
            request = self._shopper(number)
            placed = self.port.place_order(request, self._now())
            self.log.orders.append((self._now(), request, placed))
            self.log.count("orders", self._now())
            for code in placed.parcels:
                self.counter_choice[code] = request.counter_pickup
            if self.progress:
                self.progress(self._now(), number + 1)

    def _shopper(self, number: int) -> OrderRequest:
        rng, config, net = self.demand_rng, self.config, self.network
        catalog = rng.choice(net.catalogs)
        lines = rng.sample(
            catalog.skus, rng.randint(1, min(config.max_basket_lines, len(catalog.skus)))
        )
        partners = self._demand_partners()
        draw = rng.random()
        counter = False
        if draw < config.beyond_reach_share:
            lat, lng = self._beyond_reach(rng)
        elif draw < config.beyond_reach_share + config.near_partner_share and partners:
            store = rng.choice(partners)
            lat, lng = _within(rng, store, store.radius_m * 0.9)
            counter = rng.random() < config.counter_pickup_share
        else:
            area = rng.choice(net.areas)
            lat = rng.uniform(area.min_lat, area.max_lat)
            lng = rng.uniform(area.min_lng, area.max_lng)
        speeds = [s for s, _ in config.speed_mix]
        wanted = rng.choices(speeds, weights=[w for _, w in config.speed_mix])[0]
        return OrderRequest(
            number=number,
            merchant=catalog.merchant,
            items=tuple((sku, rng.randint(1, 2)) for sku in lines),
            lat=lat,
            lng=lng,
            speeds=tuple(speeds[speeds.index(wanted) :]),
            counter_pickup=counter,
        )

    def _demand_partners(self) -> list[Site]:
        """The catchments shoppers near a partner store are drawn from: the network's stores
        (but those left out) and the configured places, in that order."""
        excluded = self.config.demand_excludes
        stores = [s for s in self.network.of_kind("partner_store") if s.code not in excluded]
        places = [
            Site(f"catchment-{n}", "partner_store", lat, lng, radius_m)
            for n, (lat, lng, radius_m) in enumerate(self.config.catchments)
        ]
        return stores + places

    def _beyond_reach(self, rng: random.Random) -> tuple[float, float]:
        """A point outside every service area and partner radius (Phoenix's far suburbs)."""
        net = self.network
        for _ in range(50):
            site = rng.choice(net.of_kind("station"))
            lat, lng = _within(rng, site, 60_000)
            inside = any(
                a.min_lat <= lat <= a.max_lat and a.min_lng <= lng <= a.max_lng for a in net.areas
            ) or any(
                haversine_m(lat, lng, p.lat, p.lng) <= p.radius_m for p in self._demand_partners()
            )
            if not inside:
                return lat, lng
        return lat, lng

    # The planner's clock --------------------------------------------------------------------

    def _planner(self) -> Process:
        config = self.config
        for day in range(config.max_days):
            base = day * DAY_S
            self.log.days = day + 1
            yield self._until(base + config.morning_plan_hour * HOUR_S)
            blocks = self._plan(day, dispatch=False)
            if day == 0 or blocks:
                self._drivers_for(day)
            self._partner_runs(day)
            if day == 0:
                for hour in config.dispatch_hours:
                    yield self._until(base + hour * HOUR_S)
                    self._plan(day, dispatch=True)
            yield self._until(base + config.final_plan_hour * HOUR_S)
            self._plan(day, dispatch=False)
            for ahead in (1, 2):  # tomorrow's and the next day's waves: carrier parcels go today
                self._plan(day + ahead, dispatch=False)
            self.env.process(self._partner_later(day, config.final_plan_hour + 0.25))
            yield self._until(base + config.carrier_handover_hour * HOUR_S)
            self._carrier(day)
            yield self._until(base + config.end_of_day_hour * HOUR_S)
            moved = self.port.end_of_day(day, self._now())
            if moved:
                self.log.rolled_over.append((day, moved))
            if self.progress:
                self.progress(self._now(), len(self.log.orders))
            if day >= 2 and self.port.open_parcels() == 0:
                break
        self.finished.succeed()

    def _plan(self, day: int, *, dispatch: bool) -> int:
        blocks = self.port.plan(day, self._now(), dispatch=dispatch)
        self.log.plans.append((self._now(), day, dispatch, blocks))
        if blocks:
            self._on_offer_again()
        return blocks

    def _reoffer_no_shows(self) -> None:
        """The dispatcher on duty: a no-show's block goes back on offer, for drivers still
        looking; the driver who had it, turning up after all, finds it gone."""
        after = self.config.reoffer_no_shows_after_s
        if after < 0:
            return
        blocks = self.port.reoffer_no_shows(self._now() - after, self._now())
        if blocks:
            self.log.no_show_blocks_reoffered += len(blocks)
            self.claimed.difference_update(blocks)
            self._on_offer_again()

    def _on_offer_again(self) -> None:
        """Blocks were put on offer (a plan, a round left without a winner, a forfeit): a new
        generation, which every driver looks at once."""
        self.generation += 1

    # Drivers -------------------------------------------------------------------------------

    def _drivers_for(self, day: int) -> None:
        config, rng = self.config, self.driver_rng
        self.driving_days.update((day, day + 1))  # a block may run past midnight
        for station in self.network.of_kind("station"):
            for hour, count in enumerate(config.drivers_by_hour):
                for number in range(round(count * config.driver_scale)):
                    key = f"{station.code}-{hour:02d}-{number}"
                    if key not in self.registered:
                        self.port.add_driver(key, station.code, self._now())
                        self.registered.add(key)
                    online = day * DAY_S + hour * HOUR_S + rng.random() * HOUR_S
                    self.env.process(self._driver(key, station, online))

    def _driver(self, key: str, home: Site, online: float) -> Process:
        config, rng = self.config, self.driver_rng
        yield self._until(online)
        # One driver, one process: a day's shift that starts while yesterday's block is
        # still ahead begins after it. Two at once shared the driver's interest and news,
        # and the first, done with its block, forgot a round the second had joined.
        while key in self.on_shift:
            yield self.env.timeout(config.look_every_s)
        self.on_shift.add(key)
        leaves = online + config.online_s
        while True:
            mine = []
            if key in self.holding:
                if key in self.news:
                    self.news.discard(key)
                    mine = [
                        h
                        for h in self.port.held(key, self._now())
                        if h.block_id not in self.claimed
                    ]
                if not mine and (
                    self._now() - self.holding[key] > 2 * HOUR_S
                    or self.worked.get(key, -1.0) > self.holding[key]
                ):
                    # A round it showed interest in went to others, or its block is done and
                    # nothing more was won since: it stops looking at its held blocks. (Interest
                    # stated the moment a block ended is after it: the round is still ahead.)
                    del self.holding[key]
            if mine:
                block = min(mine, key=lambda h: h.starts_s)
                self.claimed.add(block.block_id)
                yield from self._work(key, home, block)
                self.worked[key] = self._now()
                self.news.add(key)  # it may hold another block, or this one back (a forfeit)
                continue
            if self._now() >= leaves and key not in self.holding:
                self.on_shift.discard(key)
                return  # a driver who stated interest waits for the round's close
            if self.generation == 0 or self.seen.get(key, -1) == self.generation:
                yield self.env.timeout(config.look_every_s)
                continue
            self.seen[key] = self.generation
            # An empty listing is this driver's own (its hours, its car, an instant offer
            # while it is far): the others of the station still look at this generation.
            offers = self.port.offers(key, self._now(), home.lat, home.lng)
            # Online for work now: a block starting while it is still online comes first,
            # however well a later day's pays (stating interest in tomorrow's round instead
            # left today's same-day blocks to nobody).
            soon = [o for o in offers if o.starts_s <= leaves]
            best = max(
                soon or offers,
                key=lambda o: o.pay_cents / max(o.ends_s - o.starts_s, 1.0),
                default=None,
            )
            if best is not None:
                per_hour = best.pay_cents * HOUR_S / max(best.ends_s - best.starts_s, 1.0)
                keen = 1 / (
                    1
                    + math.exp(
                        -(per_hour - config.accept_pay_per_hour_cents) / config.accept_spread_cents
                    )
                )
                if rng.random() < keen:
                    if self.port.accept(key, best, self._now()):
                        self.holding[key] = self._now()
                        self.news.add(key)  # taken at once (first come, instant offers)
                    else:
                        self.seen.pop(key, None)  # taken first by another: look again
                    continue
            yield self.env.timeout(config.look_every_s)

    def _work(self, key: str, home: Site, block: HeldBlock) -> Process:
        config, rng = self.config, self.driver_rng
        now = self._now()
        if rng.random() < config.forfeit_rate and now < block.starts_s - FORFEIT_BEFORE_S - 600:
            yield self._until(now + rng.random() * (block.starts_s - FORFEIT_BEFORE_S - now))
            if self.port.forfeit(key, block.block_id, self._now()):
                self.log.forfeits += 1
                self._on_offer_again()
                self.claimed.discard(block.block_id)
                return
        draw = rng.random()
        arrive = block.slot_closes_s - rng.random() * 300
        if draw < config.no_show_rate:
            self.log.no_shows += 1
            if rng.random() < config.no_show_never_share:
                # Never comes: the block waits for the dispatcher (`_reoffer_no_shows`).
                yield self._until(max(block.ends_s, self._now()))
                return
            arrive = block.slot_closes_s + NO_SHOW_AFTER_S + 600 + rng.random() * 1800
        elif draw < config.no_show_rate + config.late_rate:
            arrive = block.slot_closes_s + rng.expovariate(1 / config.late_mean_s)
            self.log.late_check_ins += 1
        yield self._until(max(arrive, self._now()))
        if self._now() > block.slot_closes_s + NO_SHOW_AFTER_S and block.block_id not in {
            h.block_id for h in self.port.held(key, self._now())
        }:
            self.log.turned_away += 1  # flagged a no-show, and the block offered again
            return
        trip = Trip(block.block_id, key, block.starts_s, block.slot_closes_s, block.pay_cents)
        trip.checked_in_s = self._now()
        route = self.port.check_in(key, block.block_id, self._now())
        self.log.count("blocks started", self._now())
        yield from self._drive(key, route, trip)
        trip.ended_s = self._now()
        self.log.trips.append(trip)

    def _drive(self, key: str, route: RouteView, trip: Trip) -> Process:
        config, rng = self.config, self.door_rng
        where = (route.start_lat, route.start_lng)
        trip.path.append(where)
        if route.at_start:
            self.port.scan(key, route.block_id, route.at_start, self._now())
            yield self.env.timeout(5 * len(route.at_start))
        else:
            trip.kind = "store"
        self.port.depart(key, route.block_id, self._now())
        planned_from = None
        failures = [reason for reason, _ in config.failures]
        weights = [rate for _, rate in config.failures]
        fail_rate = sum(weights)
        unanswered: list[StopView] = []
        for stop in route.stops:
            yield from self._leg(trip, where, stop, planned_from)
            where = (stop.lat, stop.lng)
            planned_from = (stop.planned_s or self._now()) + stop.service_s
            if stop.kind == "pickup":
                wait = rng.uniform(60, 420)
                trip.waiting_s += wait
                yield self.env.timeout(wait)
                self.port.scan(key, route.block_id, stop.parcels, self._now())
                trip.kind = "store"
                continue
            service = rng.gammavariate(4, max(stop.service_s, config.service_s) / 4)
            trip.busy_s += service
            yield self.env.timeout(service)
            trip.doors += 1
            if rng.random() < fail_rate:
                reason = rng.choices(failures, weights=weights)[0]
                self.port.attempt(key, route.block_id, stop, reason, self._now())
                trip.failed += 1
                self.log.count("failed doors", self._now())
                if reason in TRIED_AGAIN_REASONS:
                    unanswered.append(stop)
            else:
                self.port.deliver(key, route.block_id, stop, self._now())
                self.log.count("delivered", self._now(), len(stop.parcels))
        for stop in unanswered if config.try_again_within_m > 0 else []:
            if haversine_m(where[0], where[1], stop.lat, stop.lng) > config.try_again_within_m:
                continue
            # Its own draws: trying again leaves the other doors' outcomes as they were.
            yield from self._leg(trip, where, stop, None, self.again_rng)
            where = (stop.lat, stop.lng)
            trip.busy_s += RING_AGAIN_S
            yield self.env.timeout(RING_AGAIN_S)
            self.log.tried_again += 1
            if self.again_rng.random() < config.home_again_share:
                self.port.deliver(key, route.block_id, stop, self._now())
                trip.failed -= 1
                self.log.delivered_on_another_try += 1
                self.log.count("delivered", self._now(), len(stop.parcels))
        if trip.failed:
            back = StopView(0, "station", route.start_lat, route.start_lng, None, 0, ())
            yield from self._leg(trip, where, back, None)
            self.port.return_parcels(key, route.block_id, self._now())

    def _leg(
        self,
        trip: Trip,
        where: tuple[float, float],
        stop: StopView,
        planned_from: float | None,
        rng: random.Random | None = None,
    ) -> Process:
        """Drive to ``stop``; its time's noise drawn from ``rng`` (the doors' by default)."""
        config, rng = self.config, rng or self.door_rng
        metres = haversine_m(where[0], where[1], stop.lat, stop.lng) * config.circuity
        planned = None
        if planned_from is not None and stop.planned_s is not None:
            planned = stop.planned_s - planned_from
        if planned is None or planned <= 0:
            planned = metres / (config.speed_kmh / 3.6)
        drive = planned * rng.lognormvariate(0.0, config.drive_noise)
        trip.metres += metres
        trip.busy_s += drive
        trip.path.append((stop.lat, stop.lng))
        yield self.env.timeout(drive)

    # Partner stores --------------------------------------------------------------------------

    def _partner_runs(self, day: int) -> None:
        """The van's run to each store with a batch waiting, at the plan's drop time."""
        for run in self.port.partner_runs(day, self._now()):
            due = run.due_s
            if due is None:
                due = day * DAY_S + self.config.middle_mile_hour * HOUR_S
            self.env.process(self._drop(day, run.store, due))

    def _partner_later(self, day: int, hour: float) -> Process:
        """After the afternoon plan the van brings what later plans added to the batches."""
        yield self._until(day * DAY_S + hour * HOUR_S)
        self._partner_runs(day)

    def _drop(self, day: int, store: str, due: float) -> Process:
        yield self._until(max(due, self._now()))
        manifest = self.port.partner_drop(store, self._now())
        if manifest.parcels:
            self.env.process(self._staff(day, manifest))

    def _staff(self, day: int, manifest: ManifestView) -> Process:
        config, rng = self.config, self.partner_rng
        store = next(s for s in self.network.sites if s.code == manifest.store)
        codes = tuple(code for code, _, _ in manifest.parcels)
        # The clerk scans the batch in within the store's time limit of the drop.
        yield self.env.timeout(rng.uniform(0.1, 1.0) * config.scan_in_within_s)
        self.port.partner_scan_in(store.code, codes, self._now())
        self.log.count("partner scan-ins", self._now(), len(codes))
        for code in codes:
            if self.counter_choice.get(code, False):
                self.port.counter_hold(store.code, code, self._now())
                self.env.process(self._counter(store.code, code, day))
        opens = day * DAY_S + store.opens_s
        yield self._until(max(self._now() + 600, opens))
        if any(not self.counter_choice.get(code, False) for code in codes):
            self.port.partner_set_off(store.code, self._now())
        run = StaffRun(store.code, day, len(codes))
        where = (store.lat, store.lng)
        run.path.append(where)
        for code, lat, lng in manifest.parcels:
            if self.counter_choice.get(code, False):
                continue
            metres = haversine_m(where[0], where[1], lat, lng) * config.circuity
            yield self.env.timeout(
                metres / (config.speed_kmh / 3.6) * rng.lognormvariate(0, config.drive_noise)
                + rng.gammavariate(4, config.service_s / 4)
            )
            run.metres += metres
            where = (lat, lng)
            run.path.append(where)
            if rng.random() < config.partner_failure_rate:
                self.port.partner_keep_at_counter(store.code, code, "no_one_home", self._now())
                run.kept += 1
                self.env.process(self._counter(store.code, code, day))
            else:
                self.port.partner_deliver(store.code, code, self._now())
                run.delivered += 1
                self.log.count("delivered", self._now())
        run.metres += haversine_m(where[0], where[1], store.lat, store.lng) * config.circuity
        run.path.append((store.lat, store.lng))
        self.log.staff_runs.append(run)

    def _counter(self, store: str, code: str, day: int) -> Process:
        """The shopper collects it on one of the following days, or it goes back."""
        config, rng = self.config, self.partner_rng
        site = next(s for s in self.network.sites if s.code == store)
        for wait in range(config.counter_days + 1):
            moment = (day + wait) * DAY_S + rng.uniform(site.opens_s, site.closes_s - 600)
            if moment <= self._now():
                continue
            if rng.random() < config.counter_collect_per_day:
                yield self._until(moment)
                self.port.counter_pickup(store, code, self._now())
                self.log.counter_collected += 1
                self.log.count("collected at counters", self._now())
                return
        yield self._until((day + config.counter_days + 1) * DAY_S + site.opens_s)
        self.port.counter_expired(store, code, self._now())
        self.log.counter_expired += 1

    # The carrier ---------------------------------------------------------------------------

    def _carrier(self, day: int) -> None:
        parcels = self.port.carrier_labels(day, self._now())
        if not parcels:
            return
        self.port.hand_to_carrier(tuple(p.tracking_number for p in parcels), self._now())
        self.log.carrier_handed += len(parcels)
        self.log.count("handed to carrier", self._now(), len(parcels))
        for parcel in parcels:
            self.env.process(self._in_transit(day, parcel))

    def _in_transit(self, day: int, parcel: CarrierParcel) -> Process:
        rng = self.carrier_rng
        if parcel.transit_days == 0:
            at = self._now() + rng.uniform(1.5, 3.5) * HOUR_S
        else:
            hour = self.config.carrier_delivery_hour + rng.uniform(-4, 4)
            at = (day + parcel.transit_days) * DAY_S + hour * HOUR_S
        yield self._until(at)
        self.port.carrier_delivered((parcel.tracking_number,), self._now())
        self.log.carrier_delivered += 1
        self.log.count("delivered", self._now())


def _within(rng: random.Random, site: Site, radius_m: float) -> tuple[float, float]:
    """A point uniformly inside ``radius_m`` of ``site``."""
    distance = radius_m * math.sqrt(rng.random())
    bearing = rng.random() * 2 * math.pi
    dlat = distance * math.cos(bearing) / 111_320
    dlng = distance * math.sin(bearing) / (111_320 * math.cos(math.radians(site.lat)))
    return site.lat + dlat, site.lng + dlng
