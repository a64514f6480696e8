"""The tracking page: its timeline, the live ETA window, the photo only through the token,
instructions until the parcel is out for delivery, and nothing for a guessed token."""

from __future__ import annotations

import re
import secrets

from fastapi.testclient import TestClient
from sqlalchemy import select

from doorstep.models import Order, Package
from doorstep.orders.lifecycle import PackageState
from doorstep.tracking.repository import package_id_by_token
from tests.drivers.road import PHOTO_KEY, TINY_JPEG, Road, delivery_stops
from tests.shop import local
from tests.tracking.conftest import parcels_at


def _page(client: TestClient, package: Package) -> str:
    answer = client.get(f"/track/{package.tracking_token}")
    assert answer.status_code == 200, answer.text
    return str(answer.text)


def _summary(html: str) -> str:
    found = re.search(r"data-eta-summary>([^<]*)<", html)
    assert found is not None
    return found.group(1)


def _window_minutes(html: str) -> int:
    found = re.search(r"data-eta-window>(\d+):(\d+)(?: (am|pm))?-(\d+):(\d+) (am|pm)<", html)
    assert found is not None, html
    h1, m1, _, h2, m2, _ = found.groups()
    return (int(h2) % 12 * 60 + int(m2)) - (int(h1) % 12 * 60 + int(m1))


def test_the_page_shows_the_timeline_and_an_eta_window_that_narrows(loaded: Road) -> None:
    road, client = loaded, loaded.client
    stops = delivery_stops(road.session, road.block)
    assert len(stops) >= 3
    watched = parcels_at(road.session, stops[2])[0]
    before = _page(client, watched)
    assert "On its way" in before  # the scan at the station, in the timeline
    assert "Order confirmed" in before
    assert _summary(before).startswith("2 stops away")
    wide = _window_minutes(before)
    road.deliver(stops[0], now=local(11, 10))
    road.deliver(stops[1], now=local(11, 20))
    road.set_clock(local(11, 21))
    after = _page(client, watched)
    assert _summary(after).startswith("Next stop, about")
    assert "Out for delivery" in after
    assert _window_minutes(after) < wide


def test_the_photo_only_through_the_token(loaded: Road) -> None:
    road, client = loaded, loaded.client
    first = delivery_stops(road.session, road.block)[0]
    client.app.state.blob_store.put(PHOTO_KEY, TINY_JPEG, "image/jpeg")  # type: ignore[attr-defined]
    road.deliver(first, now=local(11, 10))
    package = parcels_at(road.session, first)[0]
    assert package.state is PackageState.DELIVERED
    html = _page(client, package)
    assert "Where we left it" in html
    photo = client.get(f"/track/{package.tracking_token}/photo")
    assert photo.status_code == 200
    assert photo.content == TINY_JPEG
    assert photo.headers["cache-control"] == "private, no-store"
    for path in (f"/{PHOTO_KEY}", f"/blobs/{PHOTO_KEY}", f"/track/{PHOTO_KEY}", "/track/photo"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/track/{secrets.token_urlsafe(32)}/photo").status_code == 404
    # A parcel not delivered has no photo either.
    other = parcels_at(road.session, delivery_stops(road.session, road.block)[1])[0]
    assert client.get(f"/track/{other.tracking_token}/photo").status_code == 404


def test_guessed_tokens_find_nothing(loaded: Road) -> None:
    road, client = loaded, loaded.client
    hits = sum(
        package_id_by_token(road.session, secrets.token_urlsafe(32)) is not None
        for _ in range(10_000)
    )
    assert hits == 0
    answers = {
        client.get(f"/track/{guess}").text
        for guess in (
            secrets.token_urlsafe(24)[:32],
            secrets.token_urlsafe(32),
            "x",
            "a" * 500,
        )
    }
    assert len(answers) == 1  # the same answer, whatever was guessed
    random32 = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
    missing = client.get(f"/track/{random32}")
    assert missing.status_code == 404
    assert "We can't find this parcel" in missing.text
    assert client.get(f"/track/{random32}/events").status_code == 404


def test_instructions_change_until_the_parcel_is_out_for_delivery(loaded: Road) -> None:
    road, client = loaded, loaded.client
    stops = delivery_stops(road.session, road.block)
    package = parcels_at(road.session, stops[1])[0]
    assert package.state is PackageState.PICKED_UP
    saved = client.post(
        f"/track/{package.tracking_token}/instructions",
        data={"instructions": "Gate code 4321, leave by the blue door"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    road.session.expire_all()
    order = road.session.get_one(Order, package.order_id)
    assert order.delivery_instructions == "Gate code 4321, leave by the blue door"
    road.deliver(stops[0], now=local(11, 10))  # the first door: everyone is out for delivery
    late = client.post(
        f"/track/{package.tracking_token}/instructions", data={"instructions": "Back door"}
    )
    assert late.status_code == 409
    assert 'data-error="instructions_locked"' in late.text
    road.session.expire_all()
    kept = road.session.get_one(Order, package.order_id).delivery_instructions
    assert kept is not None
    assert kept.startswith("Gate")
    assert road.session.scalar(select(Package.state).where(Package.id == package.id)) is (
        PackageState.OUT_FOR_DELIVERY
    )
