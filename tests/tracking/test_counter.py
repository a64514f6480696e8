"""The hooks the partner side calls: the counter on the tracking page, and the "ready at the
counter" message with its code."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import Message, NodeKind, Package
from doorstep.notifications import milestones
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from tests.factories import make_merchant, make_node, make_order, make_package
from tests.shop import local

COUNTER = {
    "store_name": "Ocotillo Flowers",
    "store_address": "210 W Ocotillo Rd, Chandler, AZ",
    "store_hours": "Mon-Sat 8 am-6 pm",
    "code": "482915",
    "pickup_by": "Tue 8 Dec",
}


@pytest.fixture
def at_the_counter(session: Session) -> int:
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
    ):
        transition_package(session, package, state, actor="system", at=local(8))
    transition_package(
        session,
        package,
        PackageState.AT_PARTNER_STORE,
        actor="partner:1",
        data={"counter": COUNTER},
        at=local(9),
    )
    session.flush()
    return package.id


def test_the_page_shows_the_counter_and_its_code(
    client: TestClient, session: Session, at_the_counter: int
) -> None:
    package = session.get_one(Package, at_the_counter)
    page = client.get(f"/track/{package.tracking_token}")
    assert page.status_code == 200
    assert "data-pickup-code>482915<" in page.text
    assert "Collect it at Ocotillo Flowers" in page.text
    assert "Mon-Sat 8 am-6 pm" in page.text
    assert "#7c2d12" in page.text  # the merchant's colour


def test_ready_at_the_counter_tells_the_shopper_the_code(
    session: Session, at_the_counter: int
) -> None:
    milestones.ready_at_counter(
        session,
        at_the_counter,
        pickup_code="482915",
        store_name=COUNTER["store_name"],
        store_address=COUNTER["store_address"],
        store_hours=COUNTER["store_hours"],
        pickup_by=COUNTER["pickup_by"],
        public_url="https://track.example",
        now=local(9),
    )
    messages = {
        m.channel.value: m
        for m in session.scalars(select(Message).where(Message.package_id == at_the_counter))
    }
    assert set(messages) == {"email", "sms"}
    assert "482915" in messages["sms"].body_text
    assert "https://track.example/track/" in messages["sms"].body_text
    assert "Copper Pot" in (messages["email"].subject or "")
