"""The counter on the tracking page: a parcel a partner store's clerk kept at the counter shows
its shopper the pick-up code, its barcode, the store's address and hours and the collect-by
day, read from the parcel's counter row; and no event (what merchants' webhooks receive)
carries the code. The "ready at the counter" message with its code."""

from __future__ import annotations

import json
import re
from html import escape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import Message, NodeKind, OutboxEvent, PackageEvent, PartnerStore
from doorstep.notifications import milestones
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.partners import counter
from tests.factories import make_merchant, make_node, make_order, make_package
from tests.partners.store import Store, held, open_store, plan_day
from tests.shop import local
from tests.tracking.barcode import decode_svg


@pytest.fixture
def store(session: Session, client: TestClient) -> Store:
    plan_day(session)
    return open_store(session, client)


def test_the_page_shows_the_code_and_barcode_of_a_parcel_held_at_the_counter(
    client: TestClient, session: Session, store: Store
) -> None:
    code, pickup = held(store, session)
    package = store.package(code)
    page = client.get(f"/track/{package.tracking_token}")
    assert page.status_code == 200
    assert f"data-pickup-code>{pickup.code}<" in page.text
    assert f'data-pickup-barcode="{pickup.barcode}"' in page.text
    svg = re.search(r"<svg.*?</svg>", page.text, re.S)
    assert svg is not None
    assert decode_svg(svg[0]) == pickup.barcode  # the bars read back as the DS… value
    node = store.node
    assert f"Collect it at {escape(node.name)}" in page.text
    assert node.address
    assert escape(node.address) in page.text
    hours = counter.hours_text(session.get_one(PartnerStore, node.id))
    assert f"Open {escape(hours)}" in page.text
    assert re.search(r"Collect by <strong>\w{3} \d{2} \w{3}</strong>", page.text)


def test_the_code_is_in_no_event(client: TestClient, session: Session, store: Store) -> None:
    code, pickup = held(store, session)
    package = store.package(code)
    events = session.scalars(
        select(PackageEvent).where(PackageEvent.package_id == package.id)
    ).all()
    assert PackageState.AT_PARTNER_STORE in [e.to_state for e in events]
    outbox = session.scalars(select(OutboxEvent)).all()
    assert outbox
    for text in [json.dumps(e.payload, default=str) for e in outbox] + [
        json.dumps(e.data, default=str) for e in events
    ]:
        assert f'"{pickup.code}"' not in text  # as a value (any six digits may occur inside)
        assert pickup.barcode not in text
        assert '"counter"' not in text
    # The shopper was told it, by message only.
    told = session.scalars(select(Message.body_text).where(Message.template == "ready_at_counter"))
    assert any(pickup.code in (body or "") for body in told)
    # Handed over, the page says collected and shows no code.
    handed = store.post("/counter/hand-over", json={"package": code, "pickup_code": pickup.code})
    assert handed.status_code == 200, handed.text
    page = client.get(f"/track/{package.tracking_token}")
    assert "Collected at the counter" in page.text
    assert pickup.code not in page.text


def test_ready_at_the_counter_tells_the_shopper_the_code(session: Session) -> None:
    merchant = make_merchant(
        session, display_name="Copper Pot", button_settings={"color": "#7c2d12"}
    )
    order = make_order(
        session, merchant, recipient_email="ana@example.com", recipient_phone="+14805550101"
    )
    store = make_node(session, kind=NodeKind.PARTNER_STORE, name="Ocotillo Flowers")
    package = make_package(session, order=order, origin=store, serving_node_id=store.id)
    for state in (
        PackageState.READY_FOR_PICKUP,
        PackageState.ASSIGNED,
        PackageState.PICKED_UP,
        PackageState.AT_PARTNER_STORE,
    ):
        transition_package(session, package, state, actor="system", at=local(8))
    session.flush()
    milestones.ready_at_counter(
        session,
        package.id,
        pickup_code="482915",
        store_name="Ocotillo Flowers",
        store_address="210 W Ocotillo Rd, Chandler, AZ",
        store_hours="Mon-Sat 8 am-6 pm",
        pickup_by="Tue 8 Dec",
        public_url="https://track.example",
        now=local(9),
    )
    messages = {
        m.channel.value: m
        for m in session.scalars(select(Message).where(Message.package_id == package.id))
    }
    assert set(messages) == {"email", "sms"}
    assert "482915" in messages["sms"].body_text
    assert "https://track.example/track/" in messages["sms"].body_text
    assert "Copper Pot" in (messages["email"].subject or "")
