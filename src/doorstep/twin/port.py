"""The port of the simulated world, implemented with doorstep's own services, in-process, on
the real database: each call is one transaction at the simulated moment (``now``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter, process_time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, object_session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.drivers import accounts, boost, held, offers, rounds
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road import attempts, checkin, deliveries, returns, scans
from doorstep.drivers.road.load import load_block, package_by_code
from doorstep.drivers.road_schemas import (
    AttemptIn,
    CheckInIn,
    DeliveryIn,
    DepartIn,
    ReturnScanIn,
    ScanIn,
)
from doorstep.drivers.schemas import VehicleIn
from doorstep.errors import DomainError
from doorstep.geo import TravelModel, postal_codes
from doorstep.models import (
    Block,
    CounterParcel,
    Driver,
    ExceptionKind,
    Node,
    PartnerStaff,
    PartnerStore,
    Stop,
    StopKind,
)
from doorstep.ops import detectors, exceptions, settled
from doorstep.ops.audit import Actor
from doorstep.ops.exceptions import Act
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.schemas import OrderIn
from doorstep.orders.service import place_order
from doorstep.partners import accounts as partner_accounts
from doorstep.partners import counter, scanin, staff_route
from doorstep.partners.accounts import Staff
from doorstep.partners.schemas import HandOverIn, StaffAttemptIn, StaffDoorIn
from doorstep.planning.core.model import CostModel
from doorstep.planning.core.routing import PlanningBug
from doorstep.planning.distributed import plan_waves
from doorstep.planning.loading import DriverPlan, load_wave
from doorstep.planning.persist import release_previous
from doorstep.planning.service import DispatchMoment, PlanRun, station_codes
from doorstep.promise.network import NetworkSnapshot, load_snapshot
from doorstep.promise.rules import PromisePolicy
from doorstep.shipments import handover, labels, tracking
from doorstep.sim.port import (
    Area,
    BlockOffer,
    CarrierParcel,
    Catalog,
    HeldBlock,
    ManifestView,
    NetworkView,
    OrderRequest,
    PartnerRun,
    Placed,
    Returned,
    RouteView,
    Site,
    StopView,
    Ticked,
)
from doorstep.tracking import delays
from doorstep.twin import partner_adapter, repository
from doorstep.twin.carrier import TwinCarrier
from doorstep.twin.partner_adapter import MIDDLE_MILE

if TYPE_CHECKING:
    from distributed import Client

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STREETS = ("Chandler Blvd", "Ray Rd", "Warner Rd", "Alma School Rd", "Gilbert Rd", "Hunt Hwy")
CAR = VehicleIn(description="Own car", cargo_litres=1500, payload_kg=350)
#: The one photo every simulated delivery is proved by (`twin.service.simulate_day` stores
#: it when given the blob store): a shopper's tracking page then shows a picture that says
#: it is simulated, not a broken image.
PHOTO_KEY = "twin/delivery-photo.jpg"
#: Who acts on the console's exceptions in the twin (the audit log's actor).
DISPATCHER = Actor("twin dispatcher")
#: The solver's effort in the twin (see `TwinSettings`).
MAX_ITERATIONS = 10
DISPATCH_MAX_ITERATIONS = 20
TIME_LIMIT_S = 300.0
DISPATCH_TIME_LIMIT_S = 2.0
# The planner's carrier services, by name: how many days each takes.
TRANSIT_DAYS = {"ground": 2, "next_day": 1, "same_day_courier": 0}


@dataclass(frozen=True)
class TwinSettings:
    """The network's side of a simulated day: how it plans and offers (what `doorstep plan`
    and the settings decide in production)."""

    day: date
    timezone: str = "America/Phoenix"
    seed: int = 1
    # The solver's effort is set in iterations, so the same seed plans the same on a busy
    # machine as on a quiet one: each territory's search stops at ``max_iterations``, each
    # search of a same-day decision at ``dispatch_max_iterations``. The time limits are safety
    # nets a search should not reach (a plan's is shared by its territories). By the clock
    # alone (``None``), a loaded machine planned worse and differently: at load 12 the 2 s
    # budget ended most territories' searches after 0–7 iterations, their first routes.
    time_limit_s: float = TIME_LIMIT_S
    max_iterations: int | None = MAX_ITERATIONS
    dispatch_max_iterations: int | None = DISPATCH_MAX_ITERATIONS
    # Station plans solved at once on a local Dask cluster of this many processes (1: here).
    workers: int = 1
    # The same-day decision at a dispatch moment (`doorstep plan --at`): its budget sets how
    # many futures it samples (two a round at 2 s) and is each search's safety net (the
    # planner's default of 10 s per decision would make a day's six dispatch moments the
    # twin's biggest cost).
    dispatch_time_limit_s: float = DISPATCH_TIME_LIMIT_S
    # The day's last dispatch moment (`DOORSTEP_PLANNING_LAST_DISPATCH`); None: the world's
    # last dispatch hour (`SimConfig.dispatch_hours`), set by `twin.service.simulate_day`.
    last_dispatch: time | None = None
    drivers: DriverPlan = field(default_factory=lambda: DriverPlan(30, 6))
    offers: OfferPolicy = field(default_factory=OfferPolicy)
    travel: TravelModel = field(default_factory=TravelModel)
    checkin_radius_m: int = 150
    far_m: int = 150
    max_attempts: int = 3
    # The planner's prices (driver pay per hour, …): None, the planner's defaults.
    costs: CostModel | None = None
    secret_key: str = "twin-secret-key-for-pins-0123456789"
    data_dir: str = "var"
    # The partner stores' settings (`DOORSTEP_STORE_*`, `DOORSTEP_PUBLIC_URL`).
    scan_in_minutes: int = 30
    counter_days: int = 14
    wrong_codes_per_hour: int = 20
    public_url: str = "http://localhost:8000"


@dataclass
class Counts:
    """Calls that went through, and refusals the world met (by the service's error code)."""

    calls: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)


class TwinNetwork:
    """`doorstep.sim.port.Network` on the real services."""

    def __init__(self, sessions: sessionmaker[Session], settings: TwinSettings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self.origin = datetime.combine(settings.day, time(0), tzinfo=self.zone).astimezone(UTC)
        self.now = self.origin
        self.drivers: dict[str, int] = {}
        self.driver_keys: dict[int, str] = {}  # the world's key of each driver id
        self.counts = Counts()
        self.policy = PromisePolicy(travel=settings.travel)
        self.carrier = TwinCarrier(settings.seed, clock=lambda: self.now)
        self.phase_s: dict[str, float] = {}  # wall clock by kind of call
        self.phase_cpu_s: dict[str, float] = {}  # this process's CPU by kind of call
        self.carried_over: set[str] = set()  # parcels moved to a later day at its end
        self.plans_checked = 0  # plans routed (each route passed the core's checker)
        self.checker_failures: list[str] = []
        self._resources = ExitStack()
        self._client: Client | None = None
        self._workers_cpu_at_start = 0.0
        with self._tx() as session:
            self.merchants = repository.merchant_ids(session)
            self.stations = station_codes(session)
            self._snapshot: NetworkSnapshot = load_snapshot(session)
            stores = repository.partner_stores(session)
            codes = {n.id: n.code for n in repository.nodes(session)}
            self.partner_pay_cents = {i: s.pay_per_package_cents for i, s in stores.items()}
            self.partner_codes = {i: codes.get(i, str(i)) for i in stores}
            self.partner_capacity = {
                n.id: n.daily_capacity or 0 for n in repository.nodes(session) if n.id in stores
            }
            # A clerk at each store: scans the batch in, drives the staff route, hands over.
            self.staff_ids = {
                code: self._clerk(session, code) for code in self.partner_codes.values()
            }
        self._snapshot_at: datetime | None = None

    def _clerk(self, session: Session, store: str) -> int:
        email = f"clerk-{store.lower()}@twin.example"
        found = partner_accounts.staff_by_email(session, email)
        if found is None:
            found = partner_accounts.invite(
                session, store, email=email, name=f"Clerk at {store}", now=self.now
            ).staff
        return found.id

    # Time ----------------------------------------------------------------------------------

    @property
    def reference_prefix(self) -> str:
        """The merchant reference of every order of this simulated day (its KPIs count them)."""
        return f"TWIN-{self.settings.day:%Y%m%d}-S{self.settings.seed}-"

    def moment(self, at: float) -> datetime:
        return self.origin + timedelta(seconds=at)

    def seconds(self, moment: datetime) -> float:
        return (moment - self.origin).total_seconds()

    def date_of(self, day: int) -> date:
        return self.settings.day + timedelta(days=day)

    @contextmanager
    def _tx(self, at: float | None = None, what: str = "") -> Iterator[Session]:
        if at is not None:
            self.now = self.moment(at)
        if what:
            self.counts.calls[what] = self.counts.calls.get(what, 0) + 1
        with self._timed(what), unit_of_work(self.sessions) as session:
            yield session

    @contextmanager
    def _timed(self, what: str) -> Iterator[None]:
        """Wall clock and this process's CPU of the block, added to ``what`` (if named)."""
        started, cpu = perf_counter(), process_time()
        yield
        if what:
            self.phase_s[what] = self.phase_s.get(what, 0.0) + perf_counter() - started
            self.phase_cpu_s[what] = self.phase_cpu_s.get(what, 0.0) + process_time() - cpu

    def _refused(self, error: DomainError) -> None:
        self.counts.refused[error.code] = self.counts.refused.get(error.code, 0) + 1

    # The network as the world sees it -----------------------------------------------------

    def network(self) -> NetworkView:
        with self._tx() as session:
            partners = repository.partner_stores(session)
            weekday = WEEKDAYS[self.settings.day.weekday()]
            sites = []
            for node in repository.nodes(session):
                radius, opens, closes = 0.0, 8 * 3600, 18 * 3600
                store = partners.get(node.id)
                if store is not None:
                    radius = float(store.service_radius_m)
                    hours = (store.opening_hours or {}).get(weekday)
                    if hours:
                        opens, closes = _seconds(hours[0]), _seconds(hours[1])
                sites.append(
                    Site(node.code, node.kind.value, node.lat, node.lng, radius, opens, closes)
                )
            areas = tuple(
                Area(a.code, station, a.min_lat, a.max_lat, a.min_lng, a.max_lng)
                for a, station in repository.service_areas(session)
            )
            catalogs = tuple(
                Catalog(m.name, tuple(skus)) for m, skus in repository.catalogs(session) if skus
            )
        return NetworkView(tuple(sites), areas, catalogs)

    def tick(self, at: float) -> Ticked:
        with self._tx(at, "periodic jobs") as session:
            closed = rounds.close_due_rounds(session, now=self.now, policy=self.settings.offers)
            boosted = boost.boost_unclaimed(session, self.now, policy=self.settings.offers)
            checkin.flag_no_shows(session, self.now)
            held.give_back_unstarted(session, self.now, policy=self.settings.offers)
            returns.flag_late_returns(session, self.now)
            # The console's checks, as `doorstep worker` runs them: the day's operator sees
            # its late stops and unclaimed blocks.
            detectors.detect(session, self.now, detectors.Thresholds())
            settled.settle(session, self.now)
            # Promises that slipped, as the worker marks them: the tracking page and the
            # merchant's webhook (the outbox) hear of a parcel now expected later.
            delays.find_slipped(session, self.now)
        return Ticked(
            winners=tuple(self.driver_keys[i] for i in closed.winners if i in self.driver_keys),
            # A raised pay is new terms: drivers look at the listing again.
            reopened=closed.next_round + closed.first_come + boosted > 0,
        )

    def reoffer_no_shows(self, flagged_by: float, at: float) -> tuple[int, ...]:
        """The console's "re-offer the block" on every open no-show flagged by ``flagged_by``
        whose block nobody has checked in yet."""
        with self._tx(at, "operator") as session:
            flagged = exceptions.list_exceptions(session, kind=ExceptionKind.NO_CHECK_IN)
            blocks = []
            for row in flagged:
                if row.opened_at > self.moment(flagged_by) or Act.REOFFER not in row.actions:
                    continue
                exceptions.act(
                    session,
                    row.id,
                    Act.REOFFER,
                    by=DISPATCHER,
                    now=self.now,
                    offers=self.settings.offers,
                )
                assert row.block_id is not None
                blocks.append(row.block_id)
            return tuple(blocks)

    # Shoppers --------------------------------------------------------------------------------

    def place_order(self, request: OrderRequest, at: float) -> Placed:
        moment = self.moment(at)
        zip_code = postal_codes.nearest(request.lat, request.lng)
        body = {
            "items": [{"sku": sku, "quantity": q} for sku, q in request.items],
            "destination": {
                "lat": request.lat,
                "lng": request.lng,
                "address": f"{100 + request.number % 4900} {STREETS[request.number % 6]}",
                "city": zip_code.city,
                "state": zip_code.state,
                "postal_code": zip_code.code,
            },
            "recipient": {"name": f"Shopper {request.number + 1}"},
            "merchant_reference": f"{self.reference_prefix}{request.number + 1:05d}",
        }
        refusal = "no_speed"
        offered: list[str] = []
        with self._tx(at, "checkout") as session:
            if self._snapshot_at is None or moment - self._snapshot_at > timedelta(minutes=5):
                self._snapshot, self._snapshot_at = load_snapshot(session), moment
            # A refused speed writes nothing (place_order undoes its own writes with a
            # savepoint), so the next speed is tried in the same transaction.
            for speed in request.speeds:
                try:
                    placed = place_order(
                        session,
                        self.merchants[request.merchant],
                        OrderIn.model_validate({**body, "speed": speed}),
                        idempotency_key=f"twin-{self.settings.day:%Y%m%d}-{self.settings.seed}-"
                        f"{request.number}",
                        now=moment,
                        policy=self.policy,
                        network=self._snapshot,
                    )
                except DomainError as refused:
                    refusal = refused.code
                    continue
                offered.append(speed)
                return Placed(
                    order=placed.order.public_id,
                    speed=placed.order.speed.value,
                    offered=tuple(offered),
                    parcels=tuple(p.tracking_code for p in placed.order.packages),
                )
        return Placed(order=None, speed=None, offered=(), refused=refusal)

    # Planning --------------------------------------------------------------------------------

    def plan(self, day: int, at: float, *, dispatch: bool) -> int:
        """Each station's wave, as `doorstep plan` (``--at`` when ``dispatch``) runs it: every
        wave is read, then solved (on the cluster's workers with ``workers`` > 1, each station
        on its own core, else here), then each plan is stored in its own transaction."""
        self.now = self.moment(at)
        service_date = self.date_of(day)
        self.counts.calls["planning"] = self.counts.calls.get("planning", 0) + len(self.stations)
        limit = self.settings.time_limit_s
        with self._timed("planning"):
            try:
                runs = plan_waves(
                    self.sessions,
                    self.stations,
                    service_date,
                    cluster=self._cluster if self.settings.workers > 1 else None,
                    stored=_stored,
                    drivers=self.settings.drivers,
                    time_limit_s=limit,
                    seed=self.settings.seed,
                    max_iterations=self.settings.max_iterations,
                    moment=self._dispatch_moment() if dispatch else None,
                    travel=self.settings.travel,
                    offers=self.settings.offers,
                    now=self.now,
                    # The twin's drivers deliver doors; the stores' batches arrive by the van.
                    morning_run="van",
                    costs=self.settings.costs,
                )
            except PlanningBug as bug:
                # The optimization core's checker refused a route: an invariant broken.
                self.checker_failures.append(f"{service_date}: {bug}")
                return 0
        self.plans_checked += sum(routed for routed, _ in runs)
        return sum(blocks for _, blocks in runs)

    def _dispatch_moment(self) -> DispatchMoment:
        """Now as a same-day dispatch moment, its decision run as the settings say."""
        settings = self.settings
        return DispatchMoment(
            self.now,
            time_limit_s=settings.dispatch_time_limit_s,
            max_iterations=settings.dispatch_max_iterations,
            last=settings.last_dispatch,
        )

    @contextmanager
    def _cluster(self) -> Iterator[Client]:
        """The run's Dask cluster, started at its first plan and kept until `close`."""
        if self._client is None:
            from doorstep.cluster import open_client

            self._client = self._resources.enter_context(open_client(workers=self.settings.workers))
            self._workers_cpu_at_start = _workers_cpu(self._client)
        yield self._client

    def workers_cpu_s(self) -> float:
        """CPU seconds the cluster's workers spent solving (0 without a cluster)."""
        if self._client is None:
            return 0.0
        return _workers_cpu(self._client) - self._workers_cpu_at_start

    def close(self) -> None:
        """Stop the cluster, if the run started one."""
        self._resources.close()
        self._client = None

    def end_of_day(self, day: int, at: float) -> int:
        """What nobody took or no plan covers moves to tomorrow: the day's open blocks are
        released as a re-plan releases them (`planning.persist.release_previous`), and their
        parcels (with any never planned) get tomorrow's service date, for tomorrow's plan."""
        service_date = self.date_of(day)
        with self._tx(at, "end of day") as session:
            for code in self.stations:
                wave = load_wave(session, code, service_date, self.settings.drivers)
                release_previous(session, wave, now=self.now)
            waiting = repository.waiting_packages(session, service_date)
            for package in waiting:
                package.service_date = service_date + timedelta(days=1)
                self.carried_over.add(package.tracking_code)
            # The ticks stop at night and on days without drivers; the last deliveries (a
            # store's, the carrier's) still settle their exceptions before the day is read.
            settled.settle(session, self.now)
            return len(waiting)

    # Drivers ---------------------------------------------------------------------------------

    def _driver(self, session: Session, key: str) -> Driver:
        return accounts.get_driver(session, self.drivers[key])

    def driver_email(self, key: str) -> str:
        return f"{key.lower()}-{self.settings.day:%Y%m%d}-{self.settings.seed}@twin.example"

    def add_driver(self, key: str, station: str, at: float) -> None:
        with self._tx(at, "drivers") as session:
            email = self.driver_email(key)
            found = accounts.driver_by_email(session, email)
            if found is None:
                found = accounts.create_driver(
                    session,
                    name=f"Driver {key}",
                    email=email,
                    station_code=station,
                    vehicle=CAR,
                    now=self.now,
                    with_token=False,
                ).driver
            self.drivers[key] = found.id
            self.driver_keys[found.id] = key

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]:
        with self._tx(at, "offers") as session:
            who = self._driver(session, driver)
            offers.update_position(session, who, lat, lng, now=self.now)
            views = offers.list_offers(session, who, now=self.now, policy=self.settings.offers)
            return [
                BlockOffer(
                    v.id,
                    v.block_id,
                    self.seconds(v.starts_at),
                    self.seconds(v.ends_at),
                    v.pay_cents,
                    v.estimated_distance_m,
                )
                for v in views
            ]

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool:
        return self._driver_asks(driver, at, offers.accept_offer, offer.offer_id)

    def _driver_asks(
        self, driver: str, at: float, service: Callable[..., object], target: int
    ) -> bool:
        """A driver's request to a service that may refuse (taken first, too late to give
        back): True when it went through, the refusal counted when not."""
        with self._tx(at, "offers") as session:
            savepoint = session.begin_nested()
            try:
                service(
                    session,
                    self._driver(session, driver),
                    target,
                    now=self.now,
                    policy=self.settings.offers,
                )
            except DomainError as refused:
                savepoint.rollback()
                self._refused(refused)
                return False
            savepoint.commit()
            return True

    def held(self, driver: str, at: float) -> list[HeldBlock]:
        with self._tx(at, "held blocks") as session:
            found = held.held_blocks(
                session, self._driver(session, driver), policy=self.settings.offers
            )
            return [
                HeldBlock(
                    h.block_id,
                    self.seconds(h.starts_at),
                    self.seconds(h.ends_at),
                    self.seconds(h.arrival_slot.closes_at if h.arrival_slot else h.starts_at),
                    h.pay_cents,
                )
                for h in found
            ]

    def forfeit(self, driver: str, block_id: int, at: float) -> bool:
        return self._driver_asks(driver, at, held.forfeit_block, block_id)

    # The road --------------------------------------------------------------------------------

    def check_in(self, driver: str, block_id: int, at: float) -> RouteView:
        with self._tx(at, "road") as session:
            who = self._driver(session, driver)
            block = session.get_one(Block, block_id)
            load = load_block(session, block)
            checkin.check_in(
                session,
                who,
                block_id,
                CheckInIn(lat=load.start.lat, lng=load.start.lng, accuracy_m=5, at=self.now),
                now=self.now,
                radius_m=self.settings.checkin_radius_m,
                travel=self.settings.travel,
            )
            load = load_block(session, block)
            stops = tuple(
                StopView(
                    stop.id,
                    "pickup" if stop.kind is StopKind.PICKUP else "delivery",
                    stop.lat,
                    stop.lng,
                    self.seconds(stop.planned_arrival_at) if stop.planned_arrival_at else None,
                    stop.service_s,
                    tuple(p.tracking_code for p in load.live.get(stop.id, [])),
                )
                for stop in load.stops
                if load.live.get(stop.id)
            )
            return RouteView(
                block_id,
                load.start.lat,
                load.start.lng,
                tuple(sorted(p.tracking_code for p in load.unscanned_at_start())),
                stops,
            )

    def scan(self, driver: str, block_id: int, codes: tuple[str, ...], at: float) -> None:
        with self._tx(at, "road") as session:
            scans.scan_many(
                session,
                self._driver(session, driver),
                block_id,
                [
                    ScanIn(code=code, at=self.now, client_event_id=f"scan-{block_id}-{code}")
                    for code in codes
                ],
                now=self.now,
            )

    def depart(self, driver: str, block_id: int, at: float) -> None:
        with self._tx(at, "road") as session:
            scans.depart(
                session,
                self._driver(session, driver),
                block_id,
                DepartIn(at=self.now),
                now=self.now,
                travel=self.settings.travel,
            )

    def deliver(self, driver: str, block_id: int, stop: StopView, at: float) -> None:
        with self._tx(at, "road") as session:
            answer = deliveries.deliver(
                session,
                self._driver(session, driver),
                block_id,
                stop.stop_id,
                DeliveryIn(
                    lat=stop.lat,
                    lng=stop.lng,
                    accuracy_m=5,
                    at=self.now,
                    client_event_id=f"deliver-{block_id}-{stop.stop_id}",
                ),
                photo_key=PHOTO_KEY,
                signature_key=None,
                now=self.now,
                far_m=self.settings.far_m,
                secret_key=self.settings.secret_key,
                travel=self.settings.travel,
            )
            if isinstance(answer, DomainError):
                raise answer

    def attempt(self, driver: str, block_id: int, stop: StopView, reason: str, at: float) -> None:
        with self._tx(at, "road") as session:
            attempts.attempt(
                session,
                self._driver(session, driver),
                block_id,
                stop.stop_id,
                AttemptIn.model_validate(
                    {
                        "reason": reason,
                        "lat": stop.lat,
                        "lng": stop.lng,
                        "at": self.now,
                        "client_event_id": f"attempt-{block_id}-{stop.stop_id}",
                    }
                ),
                photo_key=None,
                now=self.now,
                max_attempts=self.settings.max_attempts,
                travel=self.settings.travel,
            )

    def return_parcels(self, driver: str, block_id: int, at: float) -> Returned:
        returned = Returned()
        with self._tx(at, "road") as session:
            who = self._driver(session, driver)
            load = load_block(session, session.get_one(Block, block_id))
            station = session.get_one(type(load.start), load.block.station_id)
            for package in sorted(load.with_the_driver(), key=lambda p: p.tracking_code):
                answer = returns.scan_return(
                    session,
                    who,
                    block_id,
                    ReturnScanIn(
                        code=package.tracking_code,
                        lat=station.lat,
                        lng=station.lng,
                        at=self.now,
                        client_event_id=f"back-{block_id}-{package.tracking_code}",
                    ),
                    now=self.now,
                    radius_m=self.settings.checkin_radius_m,
                    max_attempts=self.settings.max_attempts,
                )
                returned.codes.append(answer.code)
                if package.state.value == "returned_to_merchant":
                    returned.back_to_merchant += 1
                else:
                    returned.another_try += 1
        return returned

    # Partner stores: the van's drop, the clerk's scan-in, the staff route, the counter ---------

    def _staff(self, session: Session, store: str) -> Staff:
        """The store's clerk (the twin's staff account there), as the store's pages know it."""
        user = session.get_one(PartnerStaff, self.staff_ids[store])
        node = session.get_one(Node, user.partner_store_id)
        return Staff(user, session.get_one(PartnerStore, node.id), node)

    def partner_runs(self, day: int, at: float) -> list[PartnerRun]:
        service_date = self.date_of(day)
        with self._tx(at, "partner stores") as session:
            waiting = repository.manifest_parcels(session, service_date, PackageState.ASSIGNED)
            runs = []
            for node in repository.nodes(session):
                if node.id not in waiting:
                    continue
                due = scanin.run_due(session, node, service_date)
                runs.append(PartnerRun(node.code, self.seconds(due) if due else None))
            return runs

    def partner_drop(self, store: str, at: float) -> ManifestView:
        """The run leaves the batch (`partners.scanin.drop`); parcels a later plan added to a
        batch dropped before ride with the next run and are picked up at its scan-in."""
        with self._tx(at, "partner stores") as session:
            node = repository.node_by_code(session, store)
            service_date = scanin.store_today(node, self.now)
            batch = repository.manifest_parcels(session, service_date, PackageState.ASSIGNED)
            parcels = batch.get(node.id, [])
            if parcels:
                scanin.drop(
                    session,
                    node,
                    now=self.now,
                    by=MIDDLE_MILE,
                    scan_minutes=self.settings.scan_in_minutes,
                )
            return ManifestView(
                node.code,
                node.lat,
                node.lng,
                tuple((p.package.tracking_code, p.lat, p.lng) for p in parcels),
            )

    def partner_scan_in(self, store: str, codes: tuple[str, ...], at: float) -> None:
        with self._tx(at, "partner stores") as session:
            clerk = self._staff(session, store)
            for code in codes:
                scanin.scan(
                    session,
                    clerk,
                    code,
                    now=self.now,
                    scan_minutes=self.settings.scan_in_minutes,
                    hold=counter.HoldSettings(
                        secret_key=self.settings.secret_key,
                        counter_days=self.settings.counter_days,
                        public_url=self.settings.public_url,
                    ),
                )

    def counter_hold(self, store: str, code: str, at: float) -> None:
        with self._tx(at, "partner stores") as session:
            clerk = self._staff(session, store)
            counter.hold(
                session,
                clerk.node,
                package_by_code(session, code),
                now=self.now,
                by=clerk.actor,
                secret_key=self.settings.secret_key,
                counter_days=self.settings.counter_days,
                public_url=self.settings.public_url,
            )

    def partner_set_off(self, store: str, at: float) -> None:
        with self._tx(at, "partner stores") as session:
            staff_route.start(
                session, self._staff(session, store), now=self.now, travel=self.settings.travel
            )

    def partner_deliver(self, store: str, code: str, at: float) -> None:
        with self._tx(at, "partner stores") as session:
            clerk = self._staff(session, store)
            stop = self._staff_stop(session, code)
            staff_route.deliver(
                session,
                clerk,
                stop.id,
                StaffDoorIn(
                    client_event_id=f"staff-deliver-{code}",
                    at=self.now,
                    lat=stop.lat,
                    lng=stop.lng,
                    accuracy_m=5,
                ),
                photo_key=PHOTO_KEY,
                now=self.now,
                far_m=self.settings.far_m,
            )

    def partner_keep_at_counter(self, store: str, code: str, reason: str, at: float) -> None:
        with self._tx(at, "partner stores") as session:
            clerk = self._staff(session, store)
            stop = self._staff_stop(session, code)
            staff_route.attempt(
                session,
                clerk,
                stop.id,
                StaffAttemptIn.model_validate(
                    {
                        "client_event_id": f"staff-attempt-{code}",
                        "at": self.now,
                        "lat": stop.lat,
                        "lng": stop.lng,
                        "accuracy_m": 5,
                        "reason": reason,
                    }
                ),
                photo_key=None,
                now=self.now,
                secret_key=self.settings.secret_key,
                counter_days=self.settings.counter_days,
                public_url=self.settings.public_url,
            )

    def _staff_stop(self, session: Session, code: str) -> Stop:
        stop = repository.staff_stop(session, code)
        if stop is None:
            raise LookupError(f"parcel {code} is on no staff route")
        return stop

    def counter_pickup(self, store: str, code: str, at: float) -> None:
        """The shopper shows the code they were sent; the clerk hands the parcel over."""
        with self._tx(at, "partner stores") as session:
            clerk = self._staff(session, store)
            package = package_by_code(session, code)
            row = session.get_one(CounterParcel, package.id)
            pickup = counter.pickup_of(row, secret_key=self.settings.secret_key)
            answer = counter.hand_over(
                session,
                clerk,
                HandOverIn(package=code, pickup_code=pickup.code),
                now=self.now,
                secret_key=self.settings.secret_key,
                wrong_per_hour=self.settings.wrong_codes_per_hour,
            )
            if isinstance(answer, DomainError):
                raise answer

    def counter_expired(self, store: str, code: str, at: float) -> None:
        """Not collected by its date: the periodic job puts it on the run back
        (`partners.counter.send_back_overdue`), and the run brings it back to the merchant."""
        with self._tx(at, "partner stores") as session:
            counter.send_back_overdue(session, self.now)
            partner_adapter.back_to_merchant(
                session, store, package_by_code(session, code), self.now
            )

    # The carrier -----------------------------------------------------------------------------

    def carrier_labels(self, day: int, at: float) -> list[CarrierParcel]:
        """Buy the labels of the carrier shipments planned so far (today's and the next two
        days'), then list those to hand over today: due by today plus their transit time."""
        self.now = self.moment(at)
        for ahead in range(3):
            labels.buy_labels(
                self.sessions,
                self.date_of(day + ahead),
                self.carrier,
                Path(self.settings.data_dir),
                clock=lambda: self.now,
            )
        today = self.date_of(day)
        with self._tx(at, "carrier") as session:
            due = []
            for shipment, code in repository.labelled_to_hand_over(session, today + timedelta(2)):
                transit = TRANSIT_DAYS.get(shipment.service or "", 2)
                package = repository.package_by_code(session, code)
                if package.service_date is None:
                    continue
                if package.service_date - timedelta(days=transit) <= today:
                    days = max(0, (package.service_date - today).days)
                    due.append(
                        CarrierParcel(shipment.tracking_number or "", code, min(days, transit))
                    )
            return due

    def hand_to_carrier(self, numbers: tuple[str, ...], at: float) -> None:
        with self._tx(at, "carrier") as session:
            handover.hand_over(session, numbers, at=self.now, location="twin counter")
        self.carrier.taken_at.update((number, self.now) for number in numbers)

    def carrier_delivered(self, numbers: tuple[str, ...], at: float) -> None:
        self.now = self.moment(at)
        self.carrier.arrived = set(numbers)
        with self._timed("carrier tracking"):
            # As the carrier's push would: only the parcels that moved are asked about.
            tracking.refresh_tracking(self.sessions, self.carrier, numbers=numbers)
        self.carrier.arrived = set()

    def open_parcels(self) -> int:
        with self._tx(what="open parcels") as session:
            return repository.open_parcels(session, self.reference_prefix)


def _stored(run: PlanRun) -> tuple[bool, int]:
    """Whether the station's plan was routed now (its routes passed the core's checker), and
    its blocks still open."""
    session = object_session(run.plan)
    assert session is not None  # called inside the plan's transaction
    return run.result is not None, repository.open_blocks_of(session, run.plan.id)


def _workers_cpu(client: Client) -> float:
    return float(sum(client.run(process_time).values()))


def _seconds(clock: str) -> int:
    hours, minutes = clock.split(":")[:2]
    return int(hours) * 3600 + int(minutes) * 60


__all__ = ["TwinNetwork", "TwinSettings"]
