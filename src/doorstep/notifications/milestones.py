"""Milestone messages to shoppers: the one place that turns package events into messages.

A periodic job (`follow_outbox`, every poll of ``doorstep worker``) reads the outbox events
committed since it last looked, in id order, maps each to the shopper's milestone, and
queues the message through `service.send` in the same transaction that moves its cursor
(``outbox_cursors``): an event becomes its messages once, never twice, never not at all
(dedupe keys make a replay harmless even so).

- ``package.created``: confirmed;
- ``package.out_for_delivery``: out for delivery (with the arrival window);
- ``package.delivered``: delivered (with the photo link); ``package.delivery_attempted``:
  attempted (what happens next); after either, **arriving** for the parcels of the route's
  next door (the driver is one stop away);
- ``package.delayed``: delayed (the new date);
- ``return.collection_planned``: a driver comes for the return at the door (the day);
  ``return.collection_failed``: nobody was home (another day, or a counter instead);
- ``return.received``: return received.

Ready at the counter is sent by the partner side when it has the pick-up code
(`ready_at_counter`): the code is not in the outbox.

Each merchant chooses the milestones and channels its shoppers get (`settings_of`,
``GET/PUT /v1/notification-settings``); a shopper without an e-mail address or a phone number
gets what the other channel carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from doorstep.jobs import Registry
from doorstep.models import (
    MessageChannel,
    NotificationSettings,
    OutboxCursor,
    OutboxEvent,
    Return,
    Stop,
    StopKind,
    StopPackage,
    StopStatus,
)
from doorstep.notifications import service
from doorstep.notifications.service import Related
from doorstep.orders.lifecycle import STRAIGHT_TO_THE_DOOR, TRIED_AGAIN
from doorstep.orders.views import tracking_url
from doorstep.settings import Settings
from doorstep.tracking import wording
from doorstep.tracking.eta import eta_window
from doorstep.tracking.repository import Facts, load_facts
from doorstep.webhooks.service import wait_for_outbox_writers

CURSOR = "milestones"
PERIODIC_NAME = "notifications.milestones"
EMAIL, SMS = MessageChannel.EMAIL, MessageChannel.SMS


class Milestone(StrEnum):
    CONFIRMED = "confirmed"
    OUT_FOR_DELIVERY = "out_for_delivery"
    ARRIVING = "arriving"
    DELIVERED = "delivered"
    ATTEMPTED = "attempted"
    READY_AT_COUNTER = "ready_at_counter"
    DELAYED = "delayed"
    RETURN_COLLECTION = "return_collection"
    RETURN_RECEIVED = "return_received"


TEMPLATES: dict[Milestone, str] = {
    Milestone.CONFIRMED: "order_confirmed",
    Milestone.OUT_FOR_DELIVERY: "out_for_delivery",
    Milestone.ARRIVING: "arriving",
    Milestone.DELIVERED: "delivered",
    Milestone.ATTEMPTED: "attempted",
    Milestone.READY_AT_COUNTER: "ready_at_counter",
    Milestone.DELAYED: "delayed",
    Milestone.RETURN_COLLECTION: "return_collection",
    Milestone.RETURN_RECEIVED: "return_received",
}

# Without a merchant's choice: every milestone by e-mail; by SMS what cannot wait for the
# shopper to read their mail.
DEFAULTS: dict[Milestone, tuple[MessageChannel, ...]] = {
    Milestone.CONFIRMED: (EMAIL,),
    Milestone.OUT_FOR_DELIVERY: (EMAIL, SMS),
    Milestone.ARRIVING: (SMS,),
    Milestone.DELIVERED: (EMAIL, SMS),
    Milestone.ATTEMPTED: (EMAIL, SMS),
    Milestone.READY_AT_COUNTER: (EMAIL, SMS),
    Milestone.DELAYED: (EMAIL, SMS),
    Milestone.RETURN_COLLECTION: (EMAIL, SMS),
    Milestone.RETURN_RECEIVED: (EMAIL,),
}

EVENTS = (
    "package.created",
    "package.out_for_delivery",
    "package.delivered",
    "package.delivery_attempted",
    "package.delayed",
    "return.collection_planned",
    "return.collection_failed",
    "return.received",
)


# ---- each merchant's choice -------------------------------------------------------------------


def settings_of(session: Session, merchant_id: int) -> dict[Milestone, list[MessageChannel]]:
    """Every milestone with the channels the merchant's shoppers get it by."""
    row = session.get(NotificationSettings, merchant_id)
    chosen = row.milestones if row is not None else {}
    return {
        milestone: [MessageChannel(c) for c in chosen.get(milestone.value, DEFAULTS[milestone])]
        for milestone in Milestone
    }


def update_settings(
    session: Session,
    merchant_id: int,
    choices: Mapping[Milestone, Sequence[MessageChannel]],
    *,
    now: datetime,
) -> dict[Milestone, list[MessageChannel]]:
    """Set the channels of the milestones in ``choices`` (an empty list: not sent); the
    others keep theirs."""
    row = session.get(NotificationSettings, merchant_id)
    if row is None:
        row = NotificationSettings(merchant_id=merchant_id, milestones={})
        session.add(row)
    merged = dict(row.milestones)
    for milestone, channels in choices.items():
        merged[milestone.value] = sorted({c.value for c in channels})
    row.milestones = merged
    row.updated_at = now
    session.flush()
    return settings_of(session, merchant_id)


# ---- the outbox reader ------------------------------------------------------------------------


def follow_outbox(
    session: Session, now: datetime, *, public_url: str, max_attempts: int, batch: int = 500
) -> int:
    """Queue the milestone messages of the events committed since the last run; returns how
    many events were read."""
    wait_for_outbox_writers(session)
    cursor = session.get(OutboxCursor, CURSOR, with_for_update=True)
    if cursor is None:
        # The first run starts at the outbox's end: no message for what happened before.
        newest = session.scalar(select(func.max(OutboxEvent.id))) or 0
        session.add(OutboxCursor(name=CURSOR, last_event_id=newest))
        session.flush()
        return 0
    events = list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.id > cursor.last_event_id, OutboxEvent.event_type.in_(EVENTS))
            .order_by(OutboxEvent.id)
            .limit(batch)
        )
    )
    if not events:
        newest = session.scalar(select(func.max(OutboxEvent.id))) or 0
        cursor.last_event_id = max(cursor.last_event_id, newest)
        return 0
    Mailer(session, now, public_url, max_attempts).handle(events)
    cursor.last_event_id = events[-1].id
    session.flush()
    return len(events)


class Mailer:
    """Turns one batch of events into messages (their packages read once, together)."""

    def __init__(self, session: Session, now: datetime, public_url: str, max_attempts: int):
        self.session, self.now = session, now
        self.public_url, self.max_attempts = public_url, max_attempts
        self._settings: dict[int, dict[Milestone, list[MessageChannel]]] = {}

    def handle(self, events: Sequence[OutboxEvent]) -> None:
        returns = {
            r.id: r
            for r in self.session.scalars(
                select(Return).where(
                    Return.id.in_([e.aggregate_id for e in events if e.aggregate_type == "return"])
                )
            )
        }
        package_ids = {e.aggregate_id for e in events if e.aggregate_type == "package"}
        package_ids |= {r.package_id for r in returns.values()}
        facts = load_facts(self.session, package_ids)
        for event in events:
            if event.aggregate_type == "return":
                returned = returns.get(event.aggregate_id)
                if returned is not None and returned.package_id in facts:
                    self._return_event(event, facts[returned.package_id], returned)
            elif event.aggregate_id in facts:
                self._package_event(event, facts[event.aggregate_id])

    def _package_event(self, event: OutboxEvent, facts: Facts) -> None:
        kind = event.event_type.removeprefix("package.")
        data: dict[str, Any] = event.payload.get("data") or {}
        tz = wording.zone(facts.node.timezone if facts.node else None)
        if kind == "created":
            promise = wording.moment_text(facts.package.promised_by, tz)
            self.send(
                facts,
                Milestone.CONFIRMED,
                {"promise": f"by {promise}", "order_ref": facts.order.public_id},
                "confirmed",
            )
        elif kind == "out_for_delivery" and event.payload.get("reason") not in (
            TRIED_AGAIN,
            STRAIGHT_TO_THE_DOOR,
        ):
            # (A door tried again, or a store's parcel taken out at its door, is delivered in
            # the same moment: "delivered" says it.)
            self.send(
                facts,
                Milestone.OUT_FOR_DELIVERY,
                {"eta_window": self._window(facts, tz) or "today"},
                f"out_for_delivery:{event.id}",
            )
            self._arriving_first(facts, tz)
        elif kind == "delivered":
            context: dict[str, Any] = {"delivered_at": wording.clock(event.created_at, tz)}
            if data.get("photo_key"):
                context["photo_url"] = self.url(facts) + "/photo"
            self.send(facts, Milestone.DELIVERED, context, "delivered")
            self._arriving_after(data.get("stop_id"))
        elif kind == "delivery_attempted":
            attempts = int(data.get("attempts", facts.package.delivery_attempts))
            self.send(
                facts,
                Milestone.ATTEMPTED,
                {
                    "reason": wording.attempt_reason(event.payload.get("reason")),
                    "next_step": wording.attempt_next_step(attempts, self.max_attempts),
                },
                f"attempted:{attempts}",
            )
            self._arriving_after(data.get("stop_id"))
        elif kind == "delayed":
            new_date = str(data.get("new_date_text") or data.get("new_date"))
            context = {"new_date": new_date}
            if data.get("reason"):
                context["reason"] = data["reason"]
            self.send(facts, Milestone.DELAYED, context, f"delayed:{data.get('new_date')}")

    def _arriving_first(self, facts: Facts, tz: ZoneInfo) -> None:
        """The route's first door hears "arriving" as the car leaves: no door before it will
        be done to tell it that the driver is next (`_arriving_after`)."""
        stop = facts.stop
        window = self._window(facts, tz)
        if stop is None or window is None:
            return
        door_before = self.session.scalar(
            select(Stop.id)
            .where(*_doors_to_do(stop.route_id), Stop.sequence < stop.sequence)
            .limit(1)
        )
        if door_before is None:
            self._arriving(facts, window, stop.id)

    def _arriving_after(self, stop_id: object) -> None:
        """The parcels of the route's next door still to do hear that the driver is one stop
        away."""
        if not isinstance(stop_id, int):
            return
        done = self.session.get(Stop, stop_id)
        if done is None:
            return
        following = self.session.scalars(
            select(Stop)
            .where(*_doors_to_do(done.route_id), Stop.sequence > done.sequence)
            .order_by(Stop.sequence)
            .limit(1)
        ).first()
        if following is None:
            return
        ids = self.session.scalars(
            select(StopPackage.package_id).where(StopPackage.stop_id == following.id)
        ).all()
        for facts in load_facts(self.session, ids).values():
            tz = wording.zone(facts.node.timezone if facts.node else None)
            window = self._window(facts, tz)
            if window is not None:
                self._arriving(facts, window, following.id)

    def _arriving(self, facts: Facts, window: str, stop_id: int) -> None:
        self.send(
            facts,
            Milestone.ARRIVING,
            {"eta_window": window, "stops_away": facts.stops_ahead},
            f"arriving:{stop_id}",
        )

    def _return_event(self, event: OutboxEvent, facts: Facts, returned: Return) -> None:
        data: dict[str, Any] = event.payload.get("return") or {}
        if event.event_type == "return.received":
            self._return_received(facts, returned)
        elif event.event_type == "return.collection_planned":
            day = wording.day_text(date.fromisoformat(str(data["day"])))
            self.send(
                facts,
                Milestone.RETURN_COLLECTION,
                {
                    "headline": f"A driver comes for your return on {day}",
                    "next_step": f"Have it packed at the door with its code {returned.public_id}.",
                    "order_ref": facts.order.public_id,
                },
                f"return:{returned.id}:planned:{data['day']}",
            )
        elif event.event_type == "return.collection_failed":
            again = data.get("collect_from")
            self.send(
                facts,
                Milestone.RETURN_COLLECTION,
                {
                    "headline": "Nobody was home to hand over your return",
                    "next_step": (
                        f"We will come again from {wording.day_text(date.fromisoformat(again))}."
                        if again
                        else f"Please leave it at a partner store's counter with code "
                        f"{returned.public_id}."
                    ),
                    "order_ref": facts.order.public_id,
                },
                f"return:{returned.id}:failed:{data.get('attempts')}",
            )

    def _return_received(self, facts: Facts, returned: Return) -> None:
        self.send(
            facts,
            Milestone.RETURN_RECEIVED,
            {
                "next_step": f"{facts.merchant.display_name or facts.merchant.name} has it back "
                "and will be in touch about your refund.",
                "order_ref": facts.order.public_id,
            },
            f"return:{returned.id}:received",
        )

    def _window(self, facts: Facts, tz: ZoneInfo) -> str | None:
        stop = facts.stop
        if stop is None or stop.eta_at is None or stop.completed_at is not None:
            return None
        window = eta_window(stop.eta_at, self.now, facts.stops_ahead)
        return wording.window_text(window.earliest, window.latest, tz)

    def url(self, facts: Facts) -> str:
        return tracking_url(self.public_url, facts.package.tracking_token)

    def send(self, facts: Facts, milestone: Milestone, context: dict[str, Any], key: str) -> None:
        send_milestone(self.session, facts, milestone, context, key, self.url(facts), self.now)


def send_milestone(
    session: Session,
    facts: Facts,
    milestone: Milestone,
    context: Mapping[str, Any],
    key: str,
    url: str,
    now: datetime,
) -> None:
    """Queue ``milestone`` for the package's shopper on each channel its merchant chose and
    the shopper has an address for; the same ``key`` twice sends once."""
    order = facts.order
    channels = settings_of(session, order.merchant_id)[milestone]
    addresses = {EMAIL: order.recipient_email, SMS: order.recipient_phone}
    first_name = order.recipient_name.split()[0] if order.recipient_name.strip() else None
    for channel in channels:
        to = addresses[channel]
        if not to:
            continue
        service.send(
            session,
            channel=channel,
            to=to,
            template=TEMPLATES[milestone],
            context={"tracking_url": url, "recipient_name": first_name} | dict(context),
            now=now,
            merchant_id=order.merchant_id,
            dedupe_key=f"package:{facts.package.id}:{key}",
            related=Related(order_id=order.id, package_id=facts.package.id),
        )


def ready_at_counter(
    session: Session,
    package_id: int,
    *,
    pickup_code: str,
    pickup_barcode: str | None = None,
    store_name: str,
    store_address: str,
    store_hours: str,
    pickup_by: str | None,
    public_url: str,
    now: datetime,
) -> None:
    """Tell the shopper their parcel waits at a partner store's counter, with its code: what
    the partner side calls in the transaction that puts the parcel at its counter."""
    facts = load_facts(session, [package_id])[package_id]
    context = {
        "pickup_code": pickup_code,
        "store_name": store_name,
        "store_address": store_address,
        "store_hours": store_hours,
    }
    if pickup_by:
        context["pickup_by"] = pickup_by
    if pickup_barcode:
        context["pickup_barcode"] = pickup_barcode
    url = tracking_url(public_url, facts.package.tracking_token)
    attempts = facts.package.delivery_attempts
    send_milestone(
        session,
        facts,
        Milestone.READY_AT_COUNTER,
        context,
        f"ready_at_counter:{attempts}",
        url,
        now,
    )


def register(registry: Registry, settings: Settings) -> None:
    """``doorstep worker`` reads the outbox for milestones on every poll."""
    public_url, max_attempts = settings.public_url, settings.max_delivery_attempts
    registry.every(
        PERIODIC_NAME,
        timedelta(0),
        lambda session, now: follow_outbox(
            session, now, public_url=public_url, max_attempts=max_attempts
        ),
    )


def _doors_to_do(route_id: int) -> tuple[ColumnElement[bool], ...]:
    """The route's delivery stops not done yet (a limit of one reads the first)."""
    return (
        Stop.route_id == route_id,
        Stop.kind == StopKind.DELIVERY,
        Stop.status.in_((StopStatus.PENDING, StopStatus.ARRIVED)),
    )
