"""The shopper's tracking page: finding a package by its token, what its page shows, the
delivery instructions the shopper may still change, and its proof-of-delivery photo.

A token is looked up by its digest (`repository.package_id_by_token`): every unknown token,
well-formed or not, costs the same one indexed query and gets the same `TrackingNotFound`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from doorstep.errors import DomainError, NotFound
from doorstep.merchants.branding import brand_of
from doorstep.models import Node, Order, Package
from doorstep.orders.lifecycle import TERMINAL_STATES, PackageState
from doorstep.partners import counter
from doorstep.tracking import counter_choice, returns, wording
from doorstep.tracking.eta import eta_window
from doorstep.tracking.repository import (
    Facts,
    TrackingNotFound,
    find_package,
    held_at_a_counter,
    load_facts,
    packages_of_order,
)

__all__ = ["TrackingNotFound", "find_package"]
from doorstep.tracking.returns import DoorCollection
from doorstep.tracking.schemas import (
    CounterOffer,
    CounterPickup,
    EtaOut,
    TimelineStep,
    TrackingView,
)

S = PackageState
SCANNED_IN = "scanned_in"  # the reason of a partner store's scan-in (`partners.scanin`)
# A parcel whose shopper chose a counter, before the store scans it in.
ON_THE_WAY_TO_COUNTER = frozenset({S.CREATED, S.READY_FOR_PICKUP, S.ASSIGNED, S.PICKED_UP})
INSTRUCTIONS_LIMIT = 1000  # orders.delivery_instructions is VARCHAR(1000)


class PhotoNotFound(NotFound):
    code = "photo_not_found"


class InstructionsLocked(DomainError):
    status = 409
    code = "instructions_locked"


def tracking_view(
    session: Session,
    token: str,
    *,
    now: datetime,
    max_attempts: int,
    secret_key: str,
    doors: DoorCollection = DoorCollection(),
) -> tuple[int, TrackingView]:
    package_id = find_package(session, token)
    facts = load_facts(session, [package_id])[package_id]
    offers = counter_choice.counter_offers(session, facts.package, facts.order, now=now)
    return package_id, build_view(
        facts,
        now=now,
        max_attempts=max_attempts,
        secret_key=secret_key,
        offers=offers,
        doors=doors,
    )


def views_of(
    session: Session,
    package_ids: Collection[int],
    *,
    now: datetime,
    max_attempts: int,
    secret_key: str,
    doors: DoorCollection = DoorCollection(),
) -> dict[int, TrackingView]:
    """The pages of many packages at once (a route's, after a door): a dozen queries."""
    return {
        package_id: build_view(
            facts,
            now=now,
            max_attempts=max_attempts,
            secret_key=secret_key,
            offers=counter_choice.counter_offers(session, facts.package, facts.order, now=now),
            doors=doors,
        )
        for package_id, facts in load_facts(session, package_ids).items()
    }


def counter_pickup_of(facts: Facts, *, secret_key: str) -> CounterPickup | None:
    """The partner store's counter, for a parcel waiting there: the store's name, address and
    hours, the collect-by day, and the shopper's six-digit code and barcode, derived from the
    parcel's counter row with the process's secret key (`partners.counter.pickup_of`; never
    written to an event, which merchants' webhooks receive). Without a row (not yet held for
    the shopper), the serving store's name and address, no code."""
    chosen = facts.chosen
    if facts.package.state in ON_THE_WAY_TO_COUNTER and chosen is not None:
        # Chosen, not there yet: where and when, no code (it is made at the scan-in).
        return CounterPickup(
            store_name=chosen.node.name,
            store_address=chosen.node.address,
            store_hours=counter.hours_text(chosen.store),
        )
    if facts.package.state is not S.AT_PARTNER_STORE:
        return None
    held = facts.counter
    if held is not None and held.row.handed_over_at is None:
        pickup = counter.pickup_of(held.row, secret_key=secret_key)
        return CounterPickup(
            store_name=held.node.name,
            store_address=held.node.address,
            store_hours=counter.hours_text(held.store),
            code=pickup.code,
            barcode=pickup.barcode,
            pickup_by=wording.day_text(held.row.collect_by.astimezone(_zone(held.node)).date()),
        )
    if facts.node is None:
        return None
    return CounterPickup(store_name=facts.node.name, store_address=facts.node.address)


def _zone(node: Node) -> ZoneInfo:
    return wording.zone(node.timezone)


def _counter_store(facts: Facts) -> str | None:
    if facts.counter is not None:
        return facts.counter.node.name
    return facts.node.name if facts.node is not None else None


def build_view(
    facts: Facts,
    *,
    now: datetime,
    max_attempts: int,
    secret_key: str,
    offers: Sequence[CounterOffer] = (),
    doors: DoorCollection = DoorCollection(),
) -> TrackingView:
    package, order, merchant = facts.package, facts.order, facts.merchant
    tz = wording.zone(facts.node.timezone if facts.node is not None else None)
    brand = brand_of(merchant.name, merchant.display_name, merchant.button_settings)
    state = package.state
    eta = _eta(facts, now, tz)
    delayed_to = None
    if facts.delay is not None and state not in TERMINAL_STATES:
        delayed_to = wording.day_text(facts.delay.new_date)
    headline = wording.HEADLINES[state]
    subline = None
    if delayed_to is not None:
        headline, subline = "Delayed", f"Now expected {delayed_to}"
    elif state is S.DELIVERY_ATTEMPTED:
        subline = wording.attempt_next_step(package.delivery_attempts, max_attempts)
    return TrackingView(
        merchant=brand.name,
        color=brand.color,
        text_color=brand.text_color,
        recipient=order.recipient_name.split()[0] if order.recipient_name.strip() else "",
        state=state,
        headline=headline,
        subline=subline,
        promised_text=None
        if state in TERMINAL_STATES
        else f"Ready to collect from {wording.moment_text(package.promised_by, tz)}"
        if facts.chosen is not None and state in ON_THE_WAY_TO_COUNTER
        else f"Promised by {wording.moment_text(package.promised_by, tz)}",
        delayed_to=delayed_to,
        eta=eta,
        timeline=_timeline(facts, tz, max_attempts),
        has_photo=bool(facts.proof is not None and facts.proof.photo_key and state is S.DELIVERED),
        destination=order.full_address,
        instructions=order.delivery_instructions,
        # No driver comes to the door of a parcel collected at a counter.
        instructions_editable=wording.instructions_open(state, at_counter=facts.counter is not None)
        and facts.chosen is None,
        counter=counter_pickup_of(facts, secret_key=secret_key),
        counter_offers=list(offers),
        return_request=returns.return_out(facts.returned) if facts.returned else None,
        return_offer=returns.offer(facts, now=now, tz=tz, doors=doors),
    )


def _eta(facts: Facts, now: datetime, tz: ZoneInfo) -> EtaOut | None:
    stop = facts.stop
    if (
        facts.package.state not in (S.PICKED_UP, S.OUT_FOR_DELIVERY)
        or stop is None
        or stop.eta_at is None
        or stop.completed_at is not None
    ):
        return None
    window = eta_window(stop.eta_at, now, facts.stops_ahead)
    return EtaOut(
        summary=window.summary,
        window_text=wording.window_text(window.earliest, window.latest, tz),
        earliest=window.earliest,
        latest=window.latest,
        stops_away=window.stops_away,
        minutes_away=window.minutes_away,
    )


def _timeline(facts: Facts, tz: ZoneInfo, max_attempts: int) -> list[TimelineStep]:
    steps: list[tuple[datetime, TimelineStep]] = []
    seen: set[PackageState] = set()
    for event in facts.events:
        state = event.to_state
        if state in wording.ONCE and state in seen:
            continue
        seen.add(state)
        detail = None
        if state is S.DELIVERY_ATTEMPTED:
            attempts = int((event.data or {}).get("attempts", 1))
            next_step = (
                f"It waits for you at {facts.counter.node.name}."
                if facts.counter is not None  # a store's staff kept it at the counter
                else wording.attempt_next_step(attempts, max_attempts)
            )
            detail = f"{wording.attempt_reason(event.reason).capitalize()}. {next_step}"
        elif state is S.AT_PARTNER_STORE:
            store = _counter_store(facts)
            if store is None:
                detail = None
            elif event.reason == SCANNED_IN and facts.chosen is None:  # its staff deliver it
                detail = f"Arrived at {store}, who deliver it"
            else:
                detail = f"Waiting for you at {store}"
        steps.append(
            (event.occurred_at, _step(wording.STEP_LABELS[state], detail, event.occurred_at, tz))
        )
    extras: list[tuple[datetime, TimelineStep]] = []
    if facts.delay is not None:
        delay = facts.delay
        detail = f"Now expected {wording.day_text(delay.new_date)}"
        extras.append((delay.created_at, _step("Delayed", detail, delay.created_at, tz)))
    if facts.returned is not None:
        extras.extend(returns.timeline_steps(facts.returned, tz))
    timeline = _merged(steps, extras)
    state = facts.package.state
    if facts.chosen is not None and state in ON_THE_WAY_TO_COUNTER:
        # Collected at the counter, not delivered to the door.
        for ahead in (S.AT_PARTNER_STORE, S.PICKED_UP_AT_COUNTER):
            timeline.append(TimelineStep(label=wording.STEP_LABELS[ahead], done=False))
    elif state not in TERMINAL_STATES and state is not S.AT_PARTNER_STORE:
        if state not in (S.OUT_FOR_DELIVERY,):
            timeline.append(TimelineStep(label=wording.STEP_LABELS[S.OUT_FOR_DELIVERY], done=False))
        timeline.append(TimelineStep(label=wording.STEP_LABELS[S.DELIVERED], done=False))
    return timeline


def _merged(
    steps: list[tuple[datetime, TimelineStep]], extras: list[tuple[datetime, TimelineStep]]
) -> list[TimelineStep]:
    """The package's steps in the order they happened (their sequence), with each delay or
    return step before the first step later than it."""
    merged = list(steps)
    for at, extra in sorted(extras, key=lambda pair: pair[0]):
        index = next((i for i, (when, _) in enumerate(merged) if when > at), len(merged))
        merged.insert(index, (at, extra))
    return [step for _, step in merged]


def _step(label: str, detail: str | None, at: datetime, tz: ZoneInfo) -> TimelineStep:
    return TimelineStep(label=label, detail=detail, at=at, at_text=wording.moment_text(at, tz))


def update_instructions(session: Session, token: str, text: str, *, now: datetime) -> Order:
    """Change the order's delivery instructions, while none of its parcels is out for
    delivery yet (the driver's stop list reads them) or held at a counter, and while a
    partner store's staff route still has them to deliver; after that, `InstructionsLocked`."""
    package = session.get_one(Package, find_package(session, token))
    order = session.get_one(Order, package.order_id)
    packages = packages_of_order(session, order.id)
    at_counter = held_at_a_counter(session, [p.id for p in packages])
    late = sorted(
        {
            p.state.value
            for p in packages
            if not wording.instructions_open(p.state, at_counter=p.id in at_counter)
        }
    )
    if late:
        raise InstructionsLocked(
            "the parcel is already on its way to the door: the driver has the instructions "
            f"given before (parcels {', '.join(late)})",
            field="instructions",
        )
    cleaned = text.strip()[:INSTRUCTIONS_LIMIT] or None
    order.delivery_instructions = cleaned
    order.updated_at = now
    session.flush()
    return order


def order_package_ids(session: Session, token: str) -> list[int]:
    """The packages of the order of the package behind ``token`` (their pages show its
    instructions)."""
    package = session.get_one(Package, find_package(session, token))
    return [p.id for p in packages_of_order(session, package.order_id)]


def photo_key(session: Session, token: str) -> str:
    """The blob key of the delivery photo of the package behind ``token``."""
    package_id = find_package(session, token)
    facts = load_facts(session, [package_id])[package_id]
    if facts.package.state is not S.DELIVERED or facts.proof is None or not facts.proof.photo_key:
        raise PhotoNotFound("this parcel has no delivery photo")
    return facts.proof.photo_key
