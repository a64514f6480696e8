"""What a simulated day measured, and the invariants checked on it.

Read from the database (what the services wrote: states, events, blocks, shipments) and from
the world's log (what only the world knows: miles driven, time at doors, waiting at stores).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from doorstep.models import Channel, Order, Package, PackageEvent
from doorstep.orders.lifecycle import TERMINAL_STATES, PackageState
from doorstep.sim.model import SimLog
from doorstep.twin import repository
from doorstep.twin.port import TwinNetwork

S = PackageState
METRES_PER_MILE = 1609.344
#: The JSON's names of the channels (store runs and mall runs are both ``store_pickup``).
CHANNEL_KEYS = {
    Channel.STATION_ROUTE: "station_routes",
    Channel.STORE_PICKUP: "store_and_mall_runs",
    Channel.PARTNER_STORE: "partner_stores",
    Channel.CARRIER: "carrier",
}
DONE = (S.DELIVERED, S.PICKED_UP_AT_COUNTER)


@dataclass
class Outcome:
    """One package's end: when it reached its shopper (or the counter), and whether that
    kept the promise; a late one says why."""

    code: str
    channel: str
    speed: str
    state: str
    promised_by: datetime
    done_at: datetime | None
    on_time: bool | None  # None: cancelled (no promise to keep)
    reason: str | None = None


@dataclass
class DayKpis:
    packages: int = 0
    terminal: dict[str, int] = field(default_factory=dict)
    unresolved: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    on_time_rate: float = 0.0
    on_time_by_speed: dict[str, float] = field(default_factory=dict)
    on_time_by_channel: dict[str, float] = field(default_factory=dict)
    late_reasons: dict[str, int] = field(default_factory=dict)
    cost_cents: dict[str, int] = field(default_factory=dict)
    cost_per_package_cents: int = 0
    cost_per_package_by_channel_cents: dict[str, int] = field(default_factory=dict)
    drivers: dict[str, float] = field(default_factory=dict)
    partner_utilisation: dict[str, float] = field(default_factory=dict)
    carrier_share: float = 0.0
    miles: dict[str, float] = field(default_factory=dict)
    same_day: dict[str, int] = field(default_factory=dict)
    orders: dict[str, int] = field(default_factory=dict)
    invariants: dict[str, Any] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "outcomes"}
        return data


def measure(session: Session, port: TwinNetwork, log: SimLog) -> DayKpis:
    rows = repository.packages_with_orders(session, port.reference_prefix)
    events = repository.events_of(session, [p.id for p, _ in rows])
    kpis = DayKpis(packages=len(rows))
    trips = {t.block_id: t for t in log.trips}
    blocks = repository.blocks_by_id(session, sorted(trips))
    late_blocks = {t.block_id for t in log.trips if t.checked_in_s > t.slot_closes_s + 60}
    terminal: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for package, order in rows:
        history = events[package.id]
        channel = CHANNEL_KEYS.get(package.channel, "none") if package.channel else "none"
        channels[channel] += 1
        if package.state in TERMINAL_STATES:
            terminal[package.state.value] += 1
        kpis.outcomes.append(
            _outcome(package, order, history, channel, late_blocks, port.carried_over)
        )
    kpis.terminal = dict(sorted(terminal.items()))
    kpis.unresolved = kpis.packages - sum(terminal.values())
    kpis.by_channel = {key: channels.get(key, 0) for key in CHANNEL_KEYS.values()}
    _on_time(kpis)
    _costs(session, kpis, rows, log, blocks, port)
    _drivers(kpis, log, port)
    _partners(kpis, rows, port)
    kpis.carrier_share = round(channels["carrier"] / max(kpis.packages, 1), 4)
    _demand(kpis, log)
    kpis.invariants = _invariants(kpis, rows, events, port)
    return kpis


def _outcome(
    package: Package,
    order: Order,
    history: list[PackageEvent],
    channel: str,
    late_blocks: set[int],
    carried_over: set[str],
) -> Outcome:
    done_at = None
    if package.state is S.PICKED_UP_AT_COUNTER:
        # Kept when it was at the counter by the promise (the shopper chose when to come).
        first = next((e for e in history if e.to_state is S.AT_PARTNER_STORE), None)
        done_at = first.occurred_at if first else None
    elif package.state is S.DELIVERED:
        done_at = history[-1].occurred_at if history else None
    outcome = Outcome(
        package.tracking_code,
        channel,
        order.speed.value,
        package.state.value,
        package.promised_by,
        done_at,
        None,
    )
    if package.state is S.CANCELLED:
        return outcome
    outcome.on_time = done_at is not None and _utc(done_at) <= _utc(package.promised_by)
    if not outcome.on_time:
        outcome.reason = _why_late(package, history, channel, late_blocks, carried_over)
    return outcome


def _why_late(
    package: Package,
    history: list[PackageEvent],
    channel: str,
    late_blocks: set[int],
    carried_over: set[str],
) -> str:
    """The first cause the history shows, most specific first."""
    if package.state not in DONE:
        if package.state is S.RETURNED_TO_MERCHANT:
            return "returned_to_merchant"
        return f"not_delivered:{package.state.value}"
    attempted = [e for e in history if e.to_state is S.DELIVERY_ATTEMPTED]
    if attempted:
        return f"failed_attempt:{attempted[0].reason or 'attempted'}"
    if package.tracking_code in carried_over:
        return "carried_over:no_block_taken_or_planned"
    if channel == "carrier":
        return "carrier_transit"
    block_ids = {e.data.get("block_id") for e in history if e.data}
    if block_ids & late_blocks:
        return "late_check_in"
    return "route_ran_late"


def _on_time(kpis: DayKpis) -> None:
    judged = [o for o in kpis.outcomes if o.on_time is not None]
    kpis.on_time_rate = _rate(judged)
    by_speed: dict[str, list[Outcome]] = defaultdict(list)
    by_channel: dict[str, list[Outcome]] = defaultdict(list)
    for o in judged:
        by_speed[o.speed].append(o)
        by_channel[o.channel].append(o)
    kpis.on_time_by_speed = {k: _rate(v) for k, v in sorted(by_speed.items())}
    kpis.on_time_by_channel = {k: _rate(v) for k, v in sorted(by_channel.items())}
    kpis.late_reasons = dict(Counter(o.reason for o in judged if o.reason).most_common())


def _rate(outcomes: list[Outcome]) -> float:
    return round(sum(1 for o in outcomes if o.on_time) / len(outcomes), 4) if outcomes else 0.0


def _costs(
    session: Session,
    kpis: DayKpis,
    rows: list[tuple[Package, Order]],
    log: SimLog,
    blocks: dict[int, Any],
    port: TwinNetwork,
) -> None:
    """What the day cost: blocks driven (their pay), partner stores (per parcel they handled)
    and the van that drops their batches (`_middle_mile`), the carrier (the planner's rate of
    the service)."""
    pay: Counter[str] = Counter()
    for block, route in blocks.values():
        key = CHANNEL_KEYS.get(route.channel, "station_routes") if route else "station_routes"
        pay[key] += block.pay_cents
    partner_rates = port.partner_pay_cents
    partner = 0
    drops = {(r.store, r.day) for r in log.staff_runs}
    for package, _ in rows:
        if package.channel is Channel.PARTNER_STORE and package.serving_node_id is not None:
            partner += partner_rates.get(package.serving_node_id, 0)
    carrier = sum(
        s.rate_cents or 0
        for s in repository.carrier_shipments(session, [p.id for p, _ in rows])
        if s.handed_over_at is not None
    )
    middle_mile = _middle_mile(session, drops, port)
    kpis.cost_cents = {
        "station_routes": pay["station_routes"],
        "store_and_mall_runs": pay["store_and_mall_runs"],
        "partner_stores": partner,
        "middle_mile": middle_mile,
        "carrier": carrier,
    }
    total = sum(kpis.cost_cents.values())
    kpis.cost_cents["total"] = total
    kpis.cost_per_package_cents = round(total / max(kpis.packages, 1))
    per = {
        "station_routes": pay["station_routes"],
        "store_and_mall_runs": pay["store_and_mall_runs"],
        "partner_stores": partner + middle_mile,
        "carrier": carrier,
    }
    kpis.cost_per_package_by_channel_cents = {
        k: round(v / kpis.by_channel[k]) if kpis.by_channel.get(k) else 0 for k, v in per.items()
    }


def _middle_mile(session: Session, drops: set[tuple[str, int]], port: TwinNetwork) -> int:
    """What the van's runs cost, as the plans priced them: the routed run of each day a
    batch was dropped (its cost, shared out to that day's manifests), or the contracted
    price per drop where the planner was given one."""
    fixed = port.settings.costs.middle_mile_cost_per_drop_cents if port.settings.costs else None
    if fixed is not None:
        return len(drops) * fixed
    days = sorted({port.date_of(day) for _, day in drops})
    return repository.van_runs_cents(session, days) if days else 0


def _drivers(kpis: DayKpis, log: SimLog, port: TwinNetwork) -> None:
    trips = log.trips
    hours = sum(max(t.ended_s - t.checked_in_s, 1.0) for t in trips) / 3600
    metres = sum(t.metres for t in trips)
    pay = sum(t.pay_cents for t in trips)
    vehicle = metres / METRES_PER_MILE * port.settings.offers.vehicle_cost_cents_per_mile
    kpis.drivers = {
        "blocks_driven": len(trips),
        "hours": round(hours, 1),
        "pay_per_hour_cents": round(pay / hours) if hours else 0,
        "net_pay_per_hour_cents": round((pay - vehicle) / hours) if hours else 0,
        "utilisation": round(sum(t.busy_s for t in trips) / (hours * 3600), 3) if hours else 0,
        "waiting_at_pickup_min": round(
            sum(t.waiting_s for t in trips) / 60 / max(sum(1 for t in trips if t.waiting_s), 1), 1
        ),
        "late_check_ins": log.late_check_ins,
        "no_shows": log.no_shows,
        "no_show_blocks_reoffered": log.no_show_blocks_reoffered,
        "turned_away": log.turned_away,
        "doors_tried_again": log.tried_again,
        "delivered_on_another_try": log.delivered_on_another_try,
        "forfeits": log.forfeits,
    }
    staff = sum(r.metres for r in log.staff_runs)
    kpis.miles = {
        "drivers": round(metres / METRES_PER_MILE, 1),
        "partner_staff": round(staff / METRES_PER_MILE, 1),
    }


def _partners(kpis: DayKpis, rows: list[tuple[Package, Order]], port: TwinNetwork) -> None:
    """Parcels each partner store handled on its busiest day, against its daily capacity."""
    per_day: Counter[tuple[int, date]] = Counter()
    for package, _ in rows:
        if package.channel is Channel.PARTNER_STORE and package.serving_node_id is not None:
            per_day[(package.serving_node_id, package.service_date or port.settings.day)] += 1
    busiest: dict[int, int] = {}
    for (store, _), count in per_day.items():
        busiest[store] = max(busiest.get(store, 0), count)
    kpis.partner_utilisation = {
        port.partner_codes[store]: round(count / port.partner_capacity[store], 3)
        for store, count in sorted(busiest.items())
        if port.partner_capacity.get(store)
    }


def _demand(kpis: DayKpis, log: SimLog) -> None:
    asked = [(r, p) for _, r, p in log.orders if r.speeds[0] == "same_day"]
    same_day = [o for o in kpis.outcomes if o.speed == "same_day"]
    kpis.same_day = {
        "asked": len(asked),
        "offered": sum(1 for _, p in asked if "same_day" in p.offered),
        "taken": sum(1 for _, _, p in log.orders if p.speed == "same_day"),
        "kept": sum(1 for o in same_day if o.on_time),
        "late": sum(1 for o in same_day if o.on_time is False),
    }
    kpis.orders = {
        "shoppers": len(log.orders),
        "placed": sum(1 for _, _, p in log.orders if p.order),
        "refused": sum(1 for _, _, p in log.orders if not p.order),
    }


def _invariants(
    kpis: DayKpis,
    rows: list[tuple[Package, Order]],
    events: dict[int, list[PackageEvent]],
    port: TwinNetwork,
) -> dict[str, Any]:
    """Each package ends in exactly one terminal state (its state terminal, one event into a
    terminal state, the last); the counts add up; every route passed the optimization core's
    checker; every promise is kept, or late with a reason."""
    broken: list[str] = []
    for package, _ in rows:
        history = events[package.id]
        into_terminal = [e for e in history if e.to_state in TERMINAL_STATES]
        if package.state not in TERMINAL_STATES:
            broken.append(f"{package.tracking_code} ended {package.state.value}")
        elif len(into_terminal) != 1 or history[-1].to_state is not package.state:
            broken.append(f"{package.tracking_code}: {len(into_terminal)} terminal events")
    adds_up = sum(kpis.terminal.values()) + kpis.unresolved == kpis.packages
    unexplained = [o.code for o in kpis.outcomes if o.on_time is False and not o.reason]
    return {
        "one_terminal_state": not broken,
        "counts_add_up": adds_up,
        "routes_checked": port.plans_checked,
        "checker_failures": list(port.checker_failures),
        "late_without_reason": len(unexplained),
        "broken": broken[:20],
        "ok": bool(not broken and adds_up and not port.checker_failures and not unexplained),
    }


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
