"""Milestone messages: from the package events, once each, as each merchant chose."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from doorstep.models import (
    Message,
    MessageChannel,
    Order,
    OutboxCursor,
    OutboxEvent,
    Package,
    Stop,
)
from doorstep.notifications import milestones
from doorstep.notifications.milestones import Milestone
from doorstep.orders.lifecycle import PackageState
from doorstep.tracking import delays
from tests.drivers.road import Road, delivery_stops
from tests.shop import local, open_shop
from tests.tracking.conftest import parcels_at

URL = "https://track.example"


def _start_reading_here(session: Session) -> int:
    newest = session.scalar(select(func.max(OutboxEvent.id))) or 0
    session.merge(OutboxCursor(name=milestones.CURSOR, last_event_id=newest))
    session.flush()
    return newest


def _follow(session: Session, now_minute: int = 12) -> int:
    return milestones.follow_outbox(session, local(11, now_minute), public_url=URL, max_attempts=3)


def _messages(session: Session, package: Package) -> dict[tuple[str, str], Message]:
    rows = session.scalars(select(Message).where(Message.package_id == package.id))
    return {(m.template, m.channel.value): m for m in rows}


def _reachable(session: Session, packages: list[Package]) -> None:
    for number, package in enumerate(packages):
        session.execute(
            update(Order)
            .where(Order.id == package.order_id)
            .values(
                recipient_email=f"shopper{number}@example.com",
                recipient_phone=f"+1480555{number:04d}",
            )
        )
    session.flush()


def test_a_door_sends_delivered_to_its_shopper_and_arriving_to_the_next(loaded: Road) -> None:
    road, session = loaded, loaded.session
    first, second, *_ = delivery_stops(session, road.block)
    here, next_door = parcels_at(session, first), parcels_at(session, second)
    _reachable(session, here + next_door)
    start = _start_reading_here(session)
    road.deliver(first, now=local(11, 10))
    assert _follow(session) > 0
    delivered = _messages(session, here[0])
    assert set(delivered) == {
        ("out_for_delivery", "email"),
        ("out_for_delivery", "sms"),
        ("delivered", "email"),
        ("delivered", "sms"),
    }
    mail = delivered[("delivered", "email")]
    assert f"{URL}/track/{here[0].tracking_token}" in mail.body_text
    assert f"{URL}/track/{here[0].tracking_token}/photo" in (mail.body_html or "")
    arriving = _messages(session, next_door[0])
    assert ("arriving", "sms") in arriving
    assert "arriving" in arriving[("arriving", "sms")].body_text
    # Read again: nothing new, nothing twice.
    count = session.scalar(select(func.count()).select_from(Message))
    session.execute(update(OutboxCursor).values(last_event_id=start))
    _follow(session)
    assert session.scalar(select(func.count()).select_from(Message)) == count


def test_the_first_door_hears_arriving_as_the_car_leaves(loaded: Road) -> None:
    """No door before it will be done to say the driver is next: leaving says it."""
    road, session = loaded, loaded.session
    first, second, *_ = delivery_stops(session, road.block)
    here, next_door = parcels_at(session, first), parcels_at(session, second)
    _reachable(session, here + next_door)
    _start_reading_here(session)
    left = road.post("/depart", {})
    assert left.status_code == 200, left.text
    session.expire_all()  # the API moved the parcels on: read them again
    assert _follow(session, now_minute=1) > 0
    first_door = _messages(session, here[0])
    assert {("out_for_delivery", "sms"), ("arriving", "sms")} <= set(first_door)
    text = first_door[("arriving", "sms")].body_text
    assert "nearly there" in text or "1 stop away" in text
    assert ("arriving", "sms") not in _messages(session, next_door[0])
    # Its door done, the next one hears it; the first does not hear it twice.
    road.deliver(first, now=local(11, 10))
    _follow(session)
    assert ("arriving", "sms") in _messages(session, next_door[0])
    assert (
        session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.package_id == here[0].id, Message.template == "arriving")
        )
        == 1
    )


def _first_door_attempted(road: Road) -> tuple[Stop, list[Package]]:
    """The first door's shoppers reachable, its attempt at 11:10 and its messages sent."""
    first = delivery_stops(road.session, road.block)[0]
    parcels = parcels_at(road.session, first)
    _reachable(road.session, parcels)
    _start_reading_here(road.session)
    road.attempt(first, now=local(11, 10))
    _follow(road.session)
    return first, parcels


def test_an_attempt_says_what_happens_next(loaded: Road) -> None:
    session = loaded.session
    _, parcels = _first_door_attempted(loaded)
    message = _messages(session, parcels[0])[("attempted", "email")]
    assert "nobody was there to take it" in message.body_text
    assert "try again" in message.body_text


def test_a_door_tried_again_says_delivered_not_out_for_delivery_once_more(loaded: Road) -> None:
    road, session = loaded, loaded.session
    first, parcels = _first_door_attempted(road)

    def sent(template: str) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.package_id == parcels[0].id, Message.template == template)
            )
            or 0
        )

    out_before = sent("out_for_delivery")
    road.deliver(first, now=local(11, 40), client_event_id="again")
    _follow(session, now_minute=41)
    assert sent("out_for_delivery") == out_before
    assert sent("delivered") == 2  # e-mail and SMS


def test_a_slipped_promise_is_delayed_once_with_its_new_date(loaded: Road) -> None:
    road, session = loaded, loaded.session
    first = delivery_stops(session, road.block)[0]
    package = parcels_at(session, first)[0]
    _reachable(session, [package])
    _start_reading_here(session)
    late = package.promised_by + timedelta(minutes=5)
    assert delays.find_slipped(session, late) >= 1
    assert delays.find_slipped(session, late) == 0  # the same new date: not again
    milestones.follow_outbox(session, late, public_url=URL, max_attempts=3)
    message = _messages(session, package)[("delayed", "email")]
    assert "New delivery date: Tue 24 Nov" in message.body_text
    page = road.client.get(f"/track/{package.tracking_token}").text
    assert "data-delayed" in page


def test_merchants_choose_milestones_and_channels(client: TestClient, session: Session) -> None:
    shop = open_shop(session)
    defaults = client.get("/v1/notification-settings", headers=shop.headers()).json()
    assert defaults["milestones"]["delivered"] == ["email", "sms"]
    assert set(defaults["milestones"]) == {m.value for m in Milestone}
    chosen = client.put(
        "/v1/notification-settings",
        json={"milestones": {"delivered": ["sms"], "confirmed": []}},
        headers=shop.headers(),
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["milestones"]["delivered"] == ["sms"]
    assert chosen.json()["milestones"]["confirmed"] == []
    assert chosen.json()["milestones"]["arriving"] == ["sms"]  # untouched: its default
    wrong = client.put(
        "/v1/notification-settings",
        json={"milestones": {"teleported": ["email"]}},
        headers=shop.headers(),
    )
    assert wrong.status_code == 422
    assert milestones.settings_of(session, shop.merchant_id)[Milestone.DELIVERED] == [
        MessageChannel.SMS
    ]


def test_no_message_for_a_milestone_the_merchant_turned_off(loaded: Road) -> None:
    road, session = loaded, loaded.session
    first = delivery_stops(session, road.block)[0]
    parcels = parcels_at(session, first)
    _reachable(session, parcels)
    merchant_id = session.get_one(Order, parcels[0].order_id).merchant_id
    milestones.update_settings(
        session,
        merchant_id,
        {Milestone.DELIVERED: [], Milestone.OUT_FOR_DELIVERY: [MessageChannel.EMAIL]},
        now=local(9),
    )
    _start_reading_here(session)
    road.deliver(first, now=local(11, 10))
    _follow(session)
    assert set(_messages(session, parcels[0])) == {("out_for_delivery", "email")}
    assert parcels[0].state is PackageState.DELIVERED
