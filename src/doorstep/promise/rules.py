"""The promise rules, as a pure function of what is known now (no database).

For each speed (same day, next day, two days) find a way to fulfil the whole basket: from one
node that holds everything if possible, else item by item from the nearest node with stock. A
way holds when, for every node it uses, the destination is covered (a station's service area or
a partner store's radius), the node's cut-off has not passed, the travel fits, and the serving
station or partner store has capacity left on that day. What can't be offered is reported with
the reason of the best attempt.

Counter pick-up (`counter_options`): the nearest partner stores whose radius contains the
address offer to keep the basket at their counter. The basket rides the station's morning run
to the store (so only warehouse and station stock, never a merchant store's shelf) on the first
of the next two days the store is open and has room; it is ready from
``PromisePolicy.counter_ready_at`` or the store's opening, whichever is later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from doorstep.geo import TravelModel, haversine_m
from doorstep.models import Channel, DeliverySpeed, NodeKind

STORE_KINDS = (NodeKind.MALL_STORE, NodeKind.LOCAL_STORE)
DAYS_AHEAD = {DeliverySpeed.SAME_DAY: 0, DeliverySpeed.NEXT_DAY: 1, DeliverySpeed.TWO_DAY: 2}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Place:
    """A node as the rules see it."""

    id: int
    code: str
    name: str
    kind: NodeKind
    lat: float
    lng: float
    tz: ZoneInfo
    same_day_cutoff: time | None = None
    daily_capacity: int | None = None


@dataclass(frozen=True)
class PartnerCoverage:
    """A partner store whose radius contains the destination."""

    place: Place
    distance_m: float
    opening_hours: Mapping[str, Sequence[str]]
    closed_days: frozenset[date]
    address: str | None = None

    def opening_time(self, day: date) -> time | None:
        """When the store opens on ``day``, or None if it is closed that day."""
        if day in self.closed_days:
            return None
        hours = self.opening_hours.get(WEEKDAYS[day.weekday()])
        return time.fromisoformat(hours[0]) if hours else None

    def closing_time(self, day: date) -> time | None:
        """When the store closes on ``day``, or None if it is closed that day."""
        if day in self.closed_days:
            return None
        hours = self.opening_hours.get(WEEKDAYS[day.weekday()])
        return time.fromisoformat(hours[1]) if hours else None


@dataclass(frozen=True)
class Line:
    """One basket line with the nodes that hold enough of it."""

    sku: str
    quantity: int
    unit_volume_cm3: int
    unit_weight_g: int
    candidates: tuple[Place, ...]


@dataclass(frozen=True)
class PromisePolicy:
    # Same-day and next-day deliveries finish by this local time.
    delivered_by: time = time(21, 0)
    fees_cents: Mapping[DeliverySpeed, int] = field(
        default_factory=lambda: {
            DeliverySpeed.SAME_DAY: 599,
            DeliverySpeed.NEXT_DAY: 299,
            DeliverySpeed.TWO_DAY: 0,
        }
    )
    # A store further than this drive from the door can't promise same day.
    max_same_day_drive_s: int = 75 * 60
    # The process's one travel model (`Settings.travel_model`), the planner's too.
    travel: TravelModel = field(default_factory=TravelModel)
    # Counter pick-up: free (the shopper does the last mile), at the nearest this many stores,
    # ready from this local time (the morning run drops the batch by 09:00 and the store has
    # half an hour to scan it in) or the store's opening, whichever is later.
    pickup_fee_cents: int = 0
    pickup_stores: int = 2
    counter_ready_at: time = time(10, 0)


@dataclass(frozen=True)
class Leg:
    place: Place
    channel: Channel
    serving: Place | None  # the station or partner store whose capacity it uses
    service_date: date
    promised_by: datetime
    skus: tuple[str, ...]


@dataclass(frozen=True)
class Option:
    speed: DeliverySpeed
    promised_by: datetime
    fee_cents: int
    legs: tuple[Leg, ...]
    # Counter pick-up at this store (promised_by: ready from); None: delivered to the door.
    pickup: PartnerCoverage | None = None

    @property
    def id(self) -> str:
        """What the shopper's choice is called: the speed, or ``pickup:<store code>``."""
        return self.speed.value if self.pickup is None else pickup_id(self.pickup.place.code)

    @property
    def channel(self) -> Channel:
        counts: dict[Channel, int] = defaultdict(int)
        for leg in self.legs:
            counts[leg.channel] += len(leg.skus)
        return max(counts, key=lambda c: counts[c])


@dataclass(frozen=True)
class Unavailable:
    speed: DeliverySpeed
    reason: str
    detail: str


@dataclass(frozen=True)
class Assessment:
    options: tuple[Option, ...]
    unavailable: tuple[Unavailable, ...]


class _Refusal(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def assess(
    *,
    now: datetime,
    destination: tuple[float, float],
    lines: Sequence[Line],
    station: Place | None,
    partners: Sequence[PartnerCoverage],
    used_capacity: Mapping[tuple[int, date], int],
    policy: PromisePolicy,
) -> Assessment:
    """Every speed the basket can get, and why the others can't."""
    missing = [line.sku for line in lines if not line.candidates]
    if missing:
        detail = f"not enough stock of {', '.join(missing)} at any node"
        return Assessment((), tuple(Unavailable(s, "out_of_stock", detail) for s in DAYS_AHEAD))
    if station is None and not partners:
        detail = "the address is outside every service area and partner-store radius"
        return Assessment(
            (), tuple(Unavailable(s, "outside_service_area", detail) for s in DAYS_AHEAD)
        )
    ways = _fulfilment_ways(destination, lines)
    options, unavailable = [], []
    for speed in DAYS_AHEAD:
        first_refusal: _Refusal | None = None
        for way in ways:
            try:
                legs = tuple(
                    _leg(
                        speed,
                        place,
                        skus,
                        now,
                        destination,
                        station,
                        partners,
                        used_capacity,
                        policy,
                    )
                    for place, skus in way
                )
            except _Refusal as refusal:
                first_refusal = first_refusal or refusal
                continue
            options.append(
                Option(
                    speed=speed,
                    promised_by=max(leg.promised_by for leg in legs),
                    fee_cents=policy.fees_cents[speed],
                    legs=legs,
                )
            )
            break
        else:
            assert first_refusal is not None
            unavailable.append(Unavailable(speed, first_refusal.reason, first_refusal.detail))
    pickups = counter_options(
        now=now,
        destination=destination,
        lines=lines,
        partners=partners,
        used_capacity=used_capacity,
        policy=policy,
    )
    return Assessment((*options, *pickups), tuple(unavailable))


PICKUP_PREFIX = "pickup:"


def pickup_id(store_code: str) -> str:
    return f"{PICKUP_PREFIX}{store_code}"


def counter_options(
    *,
    now: datetime,
    destination: tuple[float, float],
    lines: Sequence[Line],
    partners: Sequence[PartnerCoverage],
    used_capacity: Mapping[tuple[int, date], int],
    policy: PromisePolicy,
) -> tuple[Option, ...]:
    """Counter pick-up at the nearest partner stores that reach the address, are open on one
    of the next two days and have room then (none: nothing to offer, no reason given)."""
    if not partners or any(not line.candidates for line in lines):
        return ()
    # The morning run carries the station's stock: a way that needs a store's shelf can't.
    way = next(
        (
            w
            for w in _fulfilment_ways(destination, lines)
            if all(place.kind not in STORE_KINDS for place, _ in w)
        ),
        None,
    )
    if way is None:
        return ()
    options: list[Option] = []
    for partner in sorted(partners, key=lambda p: (p.distance_m, p.place.id)):
        if len(options) >= policy.pickup_stores:
            break
        found = counter_day(partner, now, used_capacity, policy)
        if found is None:
            continue
        speed, day, ready = found
        legs = tuple(
            Leg(
                place=place,
                channel=Channel.PARTNER_STORE,
                serving=partner.place,
                service_date=day,
                promised_by=ready,
                skus=skus,
            )
            for place, skus in way
        )
        options.append(Option(speed, ready, policy.pickup_fee_cents, legs, pickup=partner))
    return tuple(options)


def counter_day(
    partner: PartnerCoverage,
    now: datetime,
    used: Mapping[tuple[int, date], int],
    policy: PromisePolicy,
) -> tuple[DeliverySpeed, date, datetime] | None:
    """The first of the next two days ``partner`` is open with room, as (speed, day, ready
    from), or None."""
    tz = partner.place.tz
    today = now.astimezone(tz).date()
    for speed in (DeliverySpeed.NEXT_DAY, DeliverySpeed.TWO_DAY):
        day = today + timedelta(days=DAYS_AHEAD[speed])
        opens, closes = partner.opening_time(day), partner.closing_time(day)
        if opens is None or closes is None:
            continue
        capacity = partner.place.daily_capacity
        if capacity is not None and used.get((partner.place.id, day), 0) >= capacity:
            continue
        ready = max(opens, policy.counter_ready_at)
        if ready >= closes:
            continue
        return speed, day, _at(day, ready, tz)
    return None


def _fulfilment_ways(
    destination: tuple[float, float], lines: Sequence[Line]
) -> list[list[tuple[Place, tuple[str, ...]]]]:
    """Single nodes holding the whole basket (nearest first), then the nearest node per line."""

    def distance(place: Place) -> float:
        return haversine_m(place.lat, place.lng, *destination)

    holders = set(lines[0].candidates)
    for line in lines[1:]:
        holders &= set(line.candidates)
    skus = tuple(line.sku for line in lines)
    ways: list[list[tuple[Place, tuple[str, ...]]]] = [
        [(place, skus)] for place in sorted(holders, key=lambda p: (distance(p), p.id))
    ]
    split: dict[Place, list[str]] = defaultdict(list)
    for line in lines:
        split[min(line.candidates, key=lambda p: (distance(p), p.id))].append(line.sku)
    if len(split) > 1:
        ways.append([(place, tuple(s)) for place, s in split.items()])
    return ways


def _leg(
    speed: DeliverySpeed,
    place: Place,
    skus: tuple[str, ...],
    now: datetime,
    destination: tuple[float, float],
    station: Place | None,
    partners: Sequence[PartnerCoverage],
    used: Mapping[tuple[int, date], int],
    policy: PromisePolicy,
) -> Leg:
    if station is not None:
        return _station_leg(speed, place, skus, now, destination, station, used, policy)
    if place.kind in STORE_KINDS:
        # A partner store's batch comes on the station's morning run, which carries the
        # station's stock; a merchant store's shelf is not on it. Two days gives a carrier time.
        if speed is DeliverySpeed.TWO_DAY:
            day = now.astimezone(place.tz).date() + timedelta(days=DAYS_AHEAD[speed])
            return _carrier_leg(place, skus, day, place.tz, policy)
        raise _Refusal(
            "outside_service_area",
            f"{place.name} delivers itself only inside our service areas; "
            "outside them its stock goes by carrier in two days",
        )
    return _partner_leg(speed, place, skus, now, partners, used)


def _station_leg(
    speed: DeliverySpeed,
    place: Place,
    skus: tuple[str, ...],
    now: datetime,
    destination: tuple[float, float],
    station: Place,
    used: Mapping[tuple[int, date], int],
    policy: PromisePolicy,
) -> Leg:
    local_now = now.astimezone(station.tz)
    day = local_now.date() + timedelta(days=DAYS_AHEAD[speed])
    from_store = place.kind in STORE_KINDS
    if speed is DeliverySpeed.SAME_DAY:
        # A store hands over to a pickup run; warehouse stock must reach the station first.
        cutoff = place.same_day_cutoff if from_store else station.same_day_cutoff
        if cutoff is None:
            raise _Refusal("past_cutoff", f"{place.name} does not ship same day")
        if local_now.time() >= cutoff:
            raise _Refusal("past_cutoff", f"same-day cut-off at {place.name} was {cutoff:%H:%M}")
        clock = local_now.hour * 3600 + local_now.minute * 60
        drive_s = policy.travel.seconds((place.lat, place.lng), destination, depart_s=clock)
        if drive_s > policy.max_same_day_drive_s:
            raise _Refusal("too_far", f"{place.name} is {drive_s // 60} min away by car")
    capacity = station.daily_capacity
    if capacity is not None and used.get((station.id, day), 0) >= capacity:
        if speed is DeliverySpeed.TWO_DAY:
            return _carrier_leg(place, skus, day, station.tz, policy)
        raise _Refusal("no_capacity", f"{station.name} is full for {day:%a %d %b}")
    return Leg(
        place=place,
        channel=Channel.STORE_PICKUP if from_store else Channel.STATION_ROUTE,
        serving=station,
        service_date=day,
        promised_by=_at(day, policy.delivered_by, station.tz),
        skus=skus,
    )


def _partner_leg(
    speed: DeliverySpeed,
    place: Place,
    skus: tuple[str, ...],
    now: datetime,
    partners: Sequence[PartnerCoverage],
    used: Mapping[tuple[int, date], int],
) -> Leg:
    if speed is DeliverySpeed.SAME_DAY:
        # Partner stores get their packages in the morning drop-off: next day at the earliest.
        raise _Refusal(
            "outside_service_area", "same day is not offered here; partner stores deliver next day"
        )
    refusal = _Refusal("no_capacity", "no partner store near the address can take it that day")
    for partner in sorted(partners, key=lambda p: (p.distance_m, p.place.id)):
        tz = partner.place.tz
        day = now.astimezone(tz).date() + timedelta(days=DAYS_AHEAD[speed])
        closes = partner.closing_time(day)
        if closes is None:
            refusal = _Refusal("partner_closed", f"{partner.place.name} is closed {day:%a %d %b}")
            continue
        capacity = partner.place.daily_capacity
        if capacity is not None and used.get((partner.place.id, day), 0) >= capacity:
            continue
        return Leg(
            place=place,
            channel=Channel.PARTNER_STORE,
            serving=partner.place,
            service_date=day,
            promised_by=_at(day, closes, tz),
            skus=skus,
        )
    raise refusal


def _carrier_leg(
    place: Place, skus: tuple[str, ...], day: date, tz: ZoneInfo, policy: PromisePolicy
) -> Leg:
    return Leg(
        place=place,
        channel=Channel.CARRIER,
        serving=None,
        service_date=day,
        promised_by=_at(day, policy.delivered_by, tz),
        skus=skus,
    )


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def label(speed: DeliverySpeed, promised_by: datetime, tz: ZoneInfo) -> str:
    """What a shopper reads: "Today by 9 pm", "Tomorrow by 6 pm", "In 2 days"."""
    local = promised_by.astimezone(tz)
    hour = local.strftime("%I").lstrip("0") + (local.strftime(":%M") if local.minute else "")
    by = f"by {hour} {local.strftime('%p').lower()}"
    if speed is DeliverySpeed.SAME_DAY:
        return f"Today {by}"
    if speed is DeliverySpeed.NEXT_DAY:
        return f"Tomorrow {by}"
    return f"In 2 days ({local:%a %d %b})"


def pickup_label(promised_by: datetime, tz: ZoneInfo, now: datetime) -> str:
    """What a shopper reads for a pick-up: "Ready tomorrow from 10 am", "Ready Fri 05 Dec ..."."""
    local = promised_by.astimezone(tz)
    hour = local.strftime("%I").lstrip("0") + (local.strftime(":%M") if local.minute else "")
    when = (
        "tomorrow"
        if local.date() == now.astimezone(tz).date() + timedelta(days=1)
        else f"{local:%a %d %b}"
    )
    return f"Ready {when} from {hour} {local.strftime('%p').lower()}"


def hours_text(opening_hours: Mapping[str, Sequence[str]]) -> str:
    """``{"mon": ["08:00", "18:00"], …}`` → ``Mon-Sat 08:00-18:00`` (runs of equal days)."""
    parts: list[str] = []
    run: list[str] = []
    span: Sequence[str] | None = None
    for day in (*WEEKDAYS, None):
        hours = opening_hours.get(day) if day else None
        if run and hours != span:
            assert span is not None
            days = run[0].title() + (f"-{run[-1].title()}" if len(run) > 1 else "")
            parts.append(f"{days} {span[0]}-{span[1]}")
            run = []
        if day and hours:
            run.append(day)
            span = hours
    return "; ".join(parts) or "ask the store"
