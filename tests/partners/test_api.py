"""A partner store's day through its API: sign-in, onboarding, scan-in, the staff route, the
counter, the statement; and the bad input each refuses with nothing written."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from doorstep.models import (
    BackToStation,
    DeliveryProof,
    ExceptionKind,
    Message,
    OpsException,
    Order,
    OutboxEvent,
    Package,
    PackageDelay,
    PackageEvent,
    StopPackage,
)
from doorstep.notifications import milestones
from doorstep.orders.lifecycle import STRAIGHT_TO_THE_DOOR, PackageState
from doorstep.partners import counter
from doorstep.settings import Settings
from doorstep.tracking import delays
from tests.partners.store import Store, at, door, held, open_store, scanned_in
from tests.shop import PHOENIX

SECRET = "test-secret-key"  # conftest's settings use the default development key


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Tracking pages rendered afresh, with no outbox reader on the test's connection."""
    return settings.model_copy(update={"tracking_page_cache_seconds": 0})


def test_sign_in_by_a_code_from_the_outbox(store: Store, session: Session) -> None:
    client = store.client
    sent = client.post("/v1/store/sign-in", json={"email": "clerk@example.com"})
    assert sent.status_code == 202
    assert sent.json()["sent_to"] == "c****@example.com"
    unknown = client.post("/v1/store/sign-in", json={"email": "nobody@example.com"})
    assert unknown.status_code == 202  # the same answer
    message = session.scalars(
        select(Message).where(Message.recipient == "clerk@example.com").order_by(Message.id.desc())
    ).first()
    assert message is not None
    code = re.search(r"\b(\d{6})\b", message.body_text or "")
    assert code is not None
    wrong = client.post(
        "/v1/store/sign-in/verify",
        json={"email": "clerk@example.com", "code": f"{(int(code[1]) + 1) % 1_000_000:06d}"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "sign_in_code_refused"
    verified = client.post(
        "/v1/store/sign-in/verify", json={"email": "clerk@example.com", "code": code[1]}
    )
    assert verified.status_code == 200, verified.text
    token = verified.json()["token"]
    assert token.startswith("stf_")
    me = client.get("/v1/store/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["code"] == "PS-MARICOPA-HARDWARE"
    assert me.json()["service_radius_m"] == 16_093
    # A driver's token is not a store's.
    assert client.get("/v1/store/me", headers={"Authorization": "Bearer drv_x"}).status_code == 401


def test_onboarding_checks_the_location_then_takes_the_settings(store: Store) -> None:
    profile = {
        "opening_hours": "mon-fri 07:00-19:00; sat 08:00-17:00",
        "closed_days": ["2026-12-25"],
        "daily_capacity": 90,
        "service_radius_m": 12_000,
        "accept_pay": True,
    }
    early = store.client.put("/v1/store/profile", json=profile, headers=store.headers)
    assert early.status_code == 409
    assert early.json()["error"] == "location_not_checked"
    far = store.post("/location", json={"lat": store.node.lat + 0.05, "lng": store.node.lng})
    assert far.status_code == 422
    assert far.json()["error"] == "outside_geofence"
    near = store.post("/location", json={"lat": store.node.lat + 0.0005, "lng": store.node.lng})
    assert near.status_code == 200, near.text
    unpaid = store.client.put(
        "/v1/store/profile", json=profile | {"accept_pay": False}, headers=store.headers
    )
    assert unpaid.json()["error"] == "pay_not_accepted"
    assert store.get("/me").json()["onboarded_at"] is None
    too_far = store.client.put(
        "/v1/store/profile", json=profile | {"service_radius_m": 20_000}, headers=store.headers
    )
    assert too_far.status_code == 422
    saved = store.client.put("/v1/store/profile", json=profile, headers=store.headers)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["onboarded_at"] is not None
    assert body["daily_capacity"] == 90
    assert body["closed_days"] == ["2026-12-25"]
    assert body["opening_hours"]["sat"] == ["08:00", "17:00"]
    assert "sun" not in body["opening_hours"]


def test_scan_in_with_one_missing_one_damaged_and_compliance(
    store: Store, session: Session
) -> None:
    codes = store.codes()
    assert len(codes) == 4
    drop = store.client.post(
        f"/v1/partner-stores/{store.node.code}/drop",
        headers={"Authorization": "Bearer test-operator-token"},
    )
    assert drop.status_code == 200, drop.text
    store.set_clock(at(8, 10))
    first = store.post("/manifest/scans", json={"code": codes[0]})
    assert first.status_code == 200, first.text
    assert first.json()["on_time"] is True
    assert first.json()["state"] == "at_partner_store"
    again = store.post("/manifest/scans", json={"code": codes[0]})
    assert again.json()["replayed"] is True
    store.set_clock(at(8, 45))  # past the 30 minutes
    late = store.post("/manifest/scans", json={"code": codes[1]})
    assert late.json()["on_time"] is False
    outbox_before = _count(session, OutboxEvent)
    missing = store.post("/manifest/missing", json={"codes": [codes[2]], "note": "not in the bag"})
    assert missing.status_code == 200, missing.text
    assert store.package(codes[2]).state is PackageState.MISSING
    event = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(1)).one()
    assert event.event_type == "package.missing"  # the merchant's webhook
    assert _count(session, OutboxEvent) == outbox_before + 1
    damaged = store.post("/manifest/damaged", json={"codes": [codes[3]]})
    assert damaged.status_code == 200
    kinds = set(session.scalars(select(OpsException.kind)))
    assert {ExceptionKind.MISSING_AT_SCAN_IN, ExceptionKind.DAMAGED_AT_SCAN_IN} <= kinds
    view = store.get("/manifest").json()
    assert view["left_to_scan"] == 0
    assert view["status"] == "scanned_in"
    assert view["compliance"] == {"scanned": 2, "on_time": 1, "share": 0.5}
    assert [b["reason"] for b in view["back_to_station"]] == ["damaged"]


def test_scan_in_refuses_what_is_not_ours_and_writes_nothing(
    store: Store, session: Session, client: TestClient
) -> None:
    codes = store.codes()
    events = _count(session, PackageEvent)
    unknown = store.post("/manifest/scans", json={"code": "NOT-A-PARCEL"})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_package"
    # A clerk of another store scans this store's parcel.
    from doorstep.partners import accounts

    other = accounts.invite(
        session, "PS-QC-FLORIST", email="other@example.com", name="Otto", now=at(7)
    )
    refused = client.post(
        "/v1/store/manifest/scans",
        json={"code": codes[0]},
        headers={"Authorization": f"Bearer {other.token}"},
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "package_on_another_manifest"
    mixed = store.post("/manifest/missing", json={"codes": [codes[0], "NOT-A-PARCEL"]})
    assert mixed.status_code == 404
    assert _count(session, PackageEvent) == events
    assert store.package(codes[0]).state is PackageState.ASSIGNED
    # The other clerk puts it on the run back, flagged.
    flagged = client.post(
        "/v1/store/manifest/unexpected",
        json={"code": codes[0]},
        headers={"Authorization": f"Bearer {other.token}"},
    )
    assert flagged.status_code == 200
    assert session.scalar(select(BackToStation.reason)) == "unexpected"
    own = store.post("/manifest/unexpected", json={"code": codes[1]})
    assert own.json()["error"] == "package_on_manifest"


def test_staff_route_delivers_with_photo_and_fails_one_to_the_counter(
    store: Store, session: Session
) -> None:
    codes = scanned_in(store, missing=1)
    route = store.get("/route").json()
    assert [len(s["parcels"]) for s in route["stops"]] == [1, 1, 1]
    assert all(s["navigation"]["geo"].startswith("geo:") for s in route["stops"])
    assert route["stops"][0]["eta_at"] is not None
    assert route["distance_m"] > 0
    order = [s["parcels"][0]["code"] for s in route["stops"]]
    assert set(order) == set(codes[1:])
    no_photo = store.post(
        f"/route/stops/{route['stops'][0]['stop_id']}/deliver",
        data={
            "client_event_id": "evt-nophoto-1",
            "at": at(10).isoformat(),
            "lat": str(route["stops"][0]["lat"]),
            "lng": str(route["stops"][0]["lng"]),
        },
    )
    assert no_photo.status_code == 422
    assert no_photo.json()["error"] == "proof_required"
    delivered = door(store, order[0], "deliver")
    assert delivered.status_code == 200, delivered.text  # type: ignore[attr-defined]
    assert delivered.json()["outcome"] == "delivered"  # type: ignore[attr-defined]
    again = door(store, order[0], "deliver")
    assert again.json()["replayed"] is True  # type: ignore[attr-defined]
    assert store.package(order[0]).state is PackageState.DELIVERED
    assert door(store, order[1], "deliver").status_code == 200  # type: ignore[attr-defined]
    failed = door(store, order[2], "attempt", reason="no_one_home")
    assert failed.status_code == 200, failed.text  # type: ignore[attr-defined]
    assert failed.json()["outcome"] == "at_counter"  # type: ignore[attr-defined]
    package = store.package(order[2])
    assert package.state is PackageState.AT_PARTNER_STORE
    assert package.delivery_attempts == 1
    proofs = session.scalars(select(DeliveryProof).order_by(DeliveryProof.id)).all()
    assert [p.outcome.value for p in proofs] == ["delivered", "delivered", "attempted"]
    assert all(p.photo_key and p.actor.startswith("store:") for p in proofs)
    told = session.scalars(select(Message).where(Message.template == "ready_at_counter")).all()
    assert [m.recipient for m in told] == [f"neighbour{order[2][-1]}@example.com"] or len(told) == 1
    waiting = store.get("/counter").json()
    assert [w["code"] for w in waiting] == [order[2]]
    statuses = [s["status"] for s in store.get("/route").json()["stops"]]
    assert statuses == ["delivered", "delivered", "at_counter"]


def test_a_store_delivered_parcels_instructions_change_until_the_staff_take_it(
    store: Store, session: Session
) -> None:
    """The staff route reads the instructions when it delivers: at the store, a parcel's
    shopper can still change them; once it is held at the counter no one takes it to a door.
    A shared door shows every order's."""
    first, second, *_ = scanned_in(store)
    package, neighbour = store.package(first), store.package(second)
    assert package.state is PackageState.AT_PARTNER_STORE
    page = store.client.get(f"/track/{package.tracking_token}")
    assert f'action="/track/{package.tracking_token}/instructions"' in page.text
    saved = store.client.post(
        f"/track/{package.tracking_token}/instructions",
        data={"instructions": "Gate code 4321"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    # The neighbour's parcel joins the same door, with its own instructions.
    session.execute(
        update(StopPackage)
        .where(
            StopPackage.package_id == neighbour.id,
            StopPackage.stop_id == store.stop_of(second).id,
        )
        .values(stop_id=store.stop_of(first).id)
    )
    session.execute(
        update(Order)
        .where(Order.id == neighbour.order_id)
        .values(delivery_instructions="Ring twice")
    )
    session.flush()
    [shared] = [
        s for s in store.get("/route").json()["stops"] if s["stop_id"] == store.stop_of(first).id
    ]
    assert shared["instructions"] == "Gate code 4321 · Ring twice"

    failed = door(store, first, "attempt", reason="no_one_home")
    assert failed.json()["outcome"] == "at_counter"  # type: ignore[attr-defined]
    held_back = store.client.post(
        f"/track/{package.tracking_token}/instructions", data={"instructions": "Back door"}
    )
    assert held_back.status_code == 409
    assert 'data-error="instructions_locked"' in held_back.text
    session.expire_all()
    assert session.get_one(Order, package.order_id).delivery_instructions == "Gate code 4321"


def test_doors_the_staff_did_not_get_to_stay_on_the_next_days_route(
    store: Store, session: Session
) -> None:
    """A parcel scanned in and not delivered on its day is still at the store: the next
    morning's route starts with its door (no plan takes it off the shelf); a delivered door
    and one kept at the counter do not come back."""
    delivered, at_counter, *left = scanned_in(store)
    assert store.post("/route/start").status_code == 200  # out for delivery overnight
    assert door(store, delivered, "deliver").status_code == 200  # type: ignore[attr-defined]
    kept = door(store, at_counter, "attempt", reason="no_one_home")
    assert kept.json()["outcome"] == "at_counter"  # type: ignore[attr-defined]

    next_morning = at(9) + timedelta(days=1)
    # Their shoppers hear of the new date (the counter's was told where to collect).
    assert delays.find_slipped(session, next_morning) == len(left)
    told = set(session.scalars(select(Package.tracking_code).join(PackageDelay)))
    assert told == set(left)
    [expected] = set(session.scalars(select(PackageDelay.new_date)))
    assert expected == next_morning.astimezone(PHOENIX).date()
    store.set_clock(next_morning)
    route = store.get("/route")
    assert route.status_code == 200, route.text
    stops = route.json()["stops"]
    listed = [p["code"] for s in stops for p in s["parcels"]]
    assert sorted(listed) == sorted(left)
    assert {s["status"] for s in stops} == {"to_deliver"}
    assert stops[0]["eta_at"] is not None
    done = door(store, listed[0], "deliver")
    assert done.status_code == 200, done.text  # type: ignore[attr-defined]
    assert store.package(listed[0]).state is PackageState.DELIVERED
    # Done, an earlier day's door leaves the list (today's stay, marked delivered).
    after = [p["code"] for s in store.get("/route").json()["stops"] for p in s["parcels"]]
    assert after == listed[1:]


def test_a_staff_delivery_far_from_the_address_needs_confirming_and_tells_the_operator(
    store: Store, session: Session
) -> None:
    code = scanned_in(store)[0]
    stop = store.stop_of(code)
    away = {"lat": str(stop.lat + 0.01), "lng": str(stop.lng)}  # about 1.1 km north
    refused = door(store, code, "deliver", **away)
    assert refused.status_code == 409, refused.text  # type: ignore[attr-defined]
    assert refused.json()["context"]["field"] == "confirm_far"  # type: ignore[attr-defined]
    confirmed = door(store, code, "deliver", **away, confirm_far="true")
    assert confirmed.status_code == 200, confirmed.text  # type: ignore[attr-defined]
    [flagged] = session.scalars(
        select(OpsException).where(OpsException.kind == ExceptionKind.FAR_FROM_ADDRESS)
    ).all()
    assert flagged.package_id == store.package(code).id
    assert flagged.node_id == store.node.id
    assert flagged.opened_by.startswith(f"store:{store.node.id}/staff:")
    assert f"(confirmed by {store.node.code}'s staff)" in flagged.detail
    assert 1000 < flagged.data["distance_m"] < 1300


def _milestones(session: Session, code: str) -> dict[str, str]:
    """The milestone messages a parcel's shopper got, by template (their text)."""
    package = session.scalars(select(Package).where(Package.tracking_code == code)).one()
    return {
        f"{m.template}:{m.channel.value}": m.body_text
        for m in session.scalars(select(Message).where(Message.package_id == package.id))
    }


def _follow(session: Session, when: datetime) -> None:
    milestones.follow_outbox(session, when, public_url="https://track.example", max_attempts=3)


def test_staff_who_set_off_tell_their_shoppers_when_and_the_first_door_that_it_is_next(
    store: Store, session: Session
) -> None:
    codes = scanned_in(store)
    session.execute(update(Order).values(recipient_phone="+14805550100"))
    _follow(session, at(9))  # what scanning in said is read: only what follows counts
    session.execute(delete(Message))
    route = store.get("/route").json()
    assert route["started"] is False
    first, second, *_ = [s["parcels"][0]["code"] for s in route["stops"]]

    started = store.post("/route/start")
    assert started.status_code == 200, started.text
    assert started.json()["started"] is True
    assert {store.package(c).state for c in codes} == {PackageState.OUT_FOR_DELIVERY}
    assert store.stop_of(first).eta_at is not None
    _follow(session, at(8, 1))
    told = _milestones(session, first)
    window = r"\d{1,2}:\d{2}-\d{1,2}:\d{2} [ap]m"
    assert re.search(f"out for delivery, arriving {window}", told["out_for_delivery:sms"])
    assert re.search(f"nearly there, arriving {window}", told["arriving:sms"])
    assert "arriving:sms" not in _milestones(session, second)
    page = store.client.get(f"/track/{store.package(second).tracking_token}").text
    assert "Arriving between" in page
    assert "1 stop away" in page

    # At the door: no second "out for delivery"; the next door hears it is next.
    assert door(store, first, "deliver").status_code == 200  # type: ignore[attr-defined]
    _follow(session, at(10, 1))
    assert "arriving:sms" in _milestones(session, second)
    outs = session.scalar(
        select(func.count()).select_from(Message).where(Message.template == "out_for_delivery")
    )
    assert outs == 2 * len(codes)  # e-mail and SMS, once each


def test_a_door_the_staff_did_not_set_off_for_says_delivered_alone(
    store: Store, session: Session
) -> None:
    code = scanned_in(store)[0]
    _follow(session, at(9))
    session.execute(delete(Message))
    assert door(store, code, "deliver").status_code == 200  # type: ignore[attr-defined]
    _follow(session, at(10, 1))
    assert set(_milestones(session, code)) == {"delivered:email"}
    [moved] = session.scalars(
        select(PackageEvent.reason).where(
            PackageEvent.package_id == store.package(code).id,
            PackageEvent.to_state == PackageState.OUT_FOR_DELIVERY,
        )
    ).all()
    assert moved == STRAIGHT_TO_THE_DOOR


def test_counter_hands_over_by_code_and_the_shopper_was_told_it(
    store: Store, session: Session
) -> None:
    code, pickup = held(store, session)
    message = session.scalars(select(Message).where(Message.template == "ready_at_counter")).one()
    assert pickup.code in (message.body_text or "")
    handed = store.post("/counter/hand-over", json={"package": code, "pickup_code": pickup.code})
    assert handed.status_code == 200, handed.text
    assert handed.json()["state"] == "picked_up_at_counter"
    again = store.post("/counter/hand-over", json={"package": code, "pickup_code": pickup.code})
    assert again.json()["error"] == "counter_parcel_collected"


def test_counter_hands_over_by_barcode(store: Store, session: Session) -> None:
    code, pickup = held(store, session)
    handed = store.post("/counter/hand-over", json={"barcode": pickup.barcode})
    assert handed.status_code == 200, handed.text
    assert handed.json()["how"] == "barcode"
    assert store.package(code).state is PackageState.PICKED_UP_AT_COUNTER


def test_five_wrong_codes_lock_the_parcel_until_the_operator_unlocks_it(
    store: Store, session: Session
) -> None:
    code, pickup = held(store, session)
    wrong = f"{(int(pickup.code) + 1) % 1_000_000:06d}"
    answers = [
        store.post("/counter/hand-over", json={"package": code, "pickup_code": wrong})
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [409, 409, 409, 409, 423]
    assert answers[0].json()["context"]["tries_left"] == 4
    locked = store.post("/counter/hand-over", json={"package": code, "pickup_code": pickup.code})
    assert locked.status_code == 423
    assert locked.json()["error"] == "pickup_code_locked"
    assert store.package(code).state is PackageState.AT_PARTNER_STORE
    counter.unlock(session, code, now=at(12), by="operator")
    handed = store.post("/counter/hand-over", json={"package": code, "pickup_code": pickup.code})
    assert handed.status_code == 200, handed.text


def test_a_code_on_another_stores_parcel_is_a_404_and_codes_are_limited_per_store(
    store: Store, session: Session, client: TestClient
) -> None:
    code, pickup = held(store, session)
    from doorstep.partners import accounts

    other = accounts.invite(session, "PS-QC-FLORIST", email="o@example.com", name="O", now=at(7))
    headers = {"Authorization": f"Bearer {other.token}"}
    elsewhere = client.post(
        "/v1/store/counter/hand-over",
        json={"package": code, "pickup_code": pickup.code},
        headers=headers,
    )
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"] == "counter_parcel_not_found"
    assert store.package(code).state is PackageState.AT_PARTNER_STORE
    neither = store.post("/counter/hand-over", json={"package": code})
    assert neither.status_code == 422
    assert neither.json()["error"] == "hand_over_needs_code"
    app = client.app
    app.state.settings = app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"store_wrong_codes_per_hour": 3}
    )
    for _ in range(3):
        client.post("/v1/store/counter/hand-over", json={"barcode": "DSNOPE"}, headers=headers)
    limited = client.post(
        "/v1/store/counter/hand-over", json={"barcode": "DSNOPE"}, headers=headers
    )
    assert limited.status_code == 429
    assert limited.json()["error"] == "counter_codes_rate_limited"
    # The limit is the other store's: this one still hands over.
    ok = store.post("/counter/hand-over", json={"package": code, "pickup_code": pickup.code})
    assert ok.status_code == 200


def test_uncollected_parcels_ride_back_after_the_counter_days(
    store: Store, session: Session
) -> None:
    held(store, session)
    assert counter.send_back_overdue(session, at(12) + timedelta(days=13)) == 0
    assert counter.send_back_overdue(session, at(12) + timedelta(days=14)) == 1
    assert counter.send_back_overdue(session, at(12) + timedelta(days=15)) == 0
    assert session.scalar(select(BackToStation.reason)) == "uncollected"
    assert session.scalar(
        select(OpsException.kind).where(OpsException.kind == ExceptionKind.COUNTER_OVERDUE)
    )
    assert store.get("/counter").json() == []


def test_statement_lists_each_parcel_with_its_pay_and_as_csv(
    store: Store, session: Session
) -> None:
    code, pickup = held(store, session)
    route = store.get("/route").json()
    for stop in route["stops"]:
        if stop["status"] == "to_deliver":
            assert door(store, stop["parcels"][0]["code"], "deliver").status_code == 200  # type: ignore[attr-defined]
    store.post("/counter/hand-over", json={"package": code, "pickup_code": pickup.code})
    out = store.get("/statement", params={"start": "2026-11-25", "end": "2026-11-25"}).json()
    assert out["delivered"] == 3
    assert out["handed_over"] == 1
    assert out["total_cents"] == 4 * 275
    csv = store.get("/statement.csv", params={"start": "2026-11-25", "end": "2026-11-25"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "day,time_utc,parcel,what,pay"
    assert lines[-1].endswith("11.00")
    backwards = store.get("/statement", params={"start": "2026-11-25", "end": "2026-11-01"})
    assert backwards.json()["error"] == "statement_period_invalid"


def test_a_second_clerk_of_the_same_store_shares_its_counter(
    store: Store, session: Session, client: TestClient
) -> None:
    second = open_store(session, client, email="second@example.com")
    assert second.get("/me").json()["code"] == store.node.code


def test_the_morning_run_is_a_planned_route_through_the_stores(
    store: Store, session: Session
) -> None:
    from doorstep.models import Channel, Node, Route, Stop, StopKind

    # A block drivers are offered (tests/partners/test_partner_run.py takes it on the road).
    run = session.scalars(
        select(Route)
        .join(Node, Node.id == Route.start_node_id)
        .where(Node.code == "DCH1", Route.channel == Channel.PARTNER_STORE)
    ).one()
    assert run.block_id is not None
    stops = session.scalars(select(Stop).where(Stop.route_id == run.id)).all()
    assert [(s.kind, s.node_id) for s in stops] == [(StopKind.DROP_OFF, store.node.id)]
    assert run.distance_m > 0
    assert run.cost_cents > 0
    arrival = stops[0].planned_arrival_at
    assert run.planned_start_at is not None
    assert arrival is not None
    assert run.planned_end_at is not None
    assert run.planned_start_at < arrival < run.planned_end_at
    view = store.get("/manifest").json()
    assert view["run_due_at"] is not None
