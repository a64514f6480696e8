"""Deliveries and attempts through the API: a form with a photo and a signature, the photo in
the blob store, a wrong PIN counted although the request fails, a re-sent form accepted once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from doorstep.drivers import proof
from doorstep.models import DeliveryProof, Package, Stop
from doorstep.orders.lifecycle import PackageState
from doorstep.storage.service import LocalBlobStore
from tests.drivers.road import TINY_JPEG, TINY_PNG, Road, delivery_stops
from tests.shop import local

PHOTO_KEY = re.compile(r"^pod/2026/11/24/[0-9a-f]{32}\.jpg$")


@pytest.fixture
def store(road: Road, tmp_path: Path) -> LocalBlobStore:
    blobs = LocalBlobStore(tmp_path / "blobs")
    road.client.app.state.blob_store = blobs  # type: ignore[attr-defined]
    return blobs


@pytest.fixture
def loaded(road: Road, store: LocalBlobStore) -> Road:
    assert road.check_in().status_code == 200
    road.scan_all()
    road.set_clock(local(11, 20))
    return road


def _form(stop: Stop, **fields: Any) -> dict[str, Any]:
    return {
        "lat": str(stop.lat),
        "lng": str(stop.lng),
        "accuracy_m": "6",
        "at": local(11, 19).isoformat(),
        "client_event_id": f"door-{stop.id}",
    } | fields


def _deliver(road: Road, stop: Stop, files: dict[str, Any] | None = None, **fields: Any) -> Any:
    return road.client.post(
        road.url(f"/stops/{stop.id}/deliver"),
        data=_form(stop, **fields),
        files=files if files is not None else {"photo": ("door.jpg", TINY_JPEG, "image/jpeg")},
        headers=road.headers,
    )


def _blobs(store: LocalBlobStore) -> list[Path]:
    return sorted(p for p in store.root.rglob("*") if p.is_file() and ".types" not in p.parts)


def test_a_delivery_with_its_photo_is_stored_and_accepted_once(
    loaded: Road, store: LocalBlobStore
) -> None:
    road = loaded
    first = delivery_stops(road.session, road.block)[0]
    answer = _deliver(road, first)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["replayed"] is False
    assert body["stop_status"] == "completed"
    key = body["proofs"][0]["photo_key"]
    assert PHOTO_KEY.match(key)
    assert store.get(key).data == TINY_JPEG
    assert store.get(key).content_type == "image/jpeg"
    # The phone re-sends after a dead spot: the first answer, no second proof, no new blob.
    again = _deliver(road, first)
    assert again.status_code == 200
    assert again.json() == body | {"replayed": True}
    assert len(_blobs(store)) == 1
    proofs = road.session.scalar(select(func.count()).select_from(DeliveryProof))
    assert proofs == len(body["proofs"])


def test_a_photo_that_is_not_an_image_or_too_large_is_refused_and_nothing_written(
    loaded: Road, store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    road = loaded
    first = delivery_stops(road.session, road.block)[0]
    pdf = _deliver(road, first, {"photo": ("door.jpg", b"%PDF-1.7 not a photo", "image/jpeg")})
    assert pdf.status_code == 422
    assert pdf.json()["error"] == "not_an_image"
    assert pdf.json()["context"]["field"] == "photo"
    signed = _deliver(
        road,
        first,
        {
            "photo": ("door.jpg", TINY_JPEG, "image/jpeg"),
            "signature": ("sig.png", TINY_JPEG, "image/png"),
        },
    )
    assert signed.status_code == 422
    assert signed.json()["context"]["field"] == "signature"
    settings = road.client.app.state.settings  # type: ignore[attr-defined]
    road.client.app.state.settings = settings.model_copy(update={"photo_max_bytes": 10})  # type: ignore[attr-defined]
    big = _deliver(road, first)
    assert big.status_code == 413
    assert big.json()["error"] == "photo_too_large"
    road.client.app.state.settings = settings  # type: ignore[attr-defined]
    no_fix = _form(first)
    del no_fix["lat"], no_fix["lng"]
    blind = road.client.post(
        road.url(f"/stops/{first.id}/deliver"),
        data=no_fix,
        files={"photo": ("door.jpg", TINY_JPEG, "image/jpeg")},
        headers=road.headers,
    )
    assert blind.status_code == 422
    assert blind.json()["error"] == "position_required"
    assert _blobs(store) == []
    road.session.expire_all()
    assert all(p.state is PackageState.PICKED_UP for p in road.load().live[first.id])
    assert road.session.scalar(select(func.count()).select_from(DeliveryProof)) == 0


def test_a_wrong_pin_counts_although_the_request_fails(loaded: Road, store: LocalBlobStore) -> None:
    road = loaded
    first = delivery_stops(road.session, road.block)[0]
    package = road.load().live[first.id][0]
    package.proof_policy = {"pin": "required"}
    settings = road.client.app.state.settings  # type: ignore[attr-defined]
    pin = proof.issue_pin(package, secret_key=settings.secret_key)
    road.session.flush()
    wrong = "0000" if pin != "0000" else "1111"
    for tries_left in (4, 3, 2, 1):
        answer = _deliver(road, first, pin=wrong, client_event_id=f"try-{tries_left}")
        assert answer.status_code == 409
        assert answer.json()["error"] == "pin_wrong"
        assert answer.json()["context"]["tries_left"] == tries_left
    locked = _deliver(road, first, pin=wrong, client_event_id="try-0")
    assert locked.status_code == 423
    assert locked.json()["error"] == "pin_locked"
    road.session.expire_all()
    assert road.session.get_one(Package, package.id).pin_attempts == 5
    assert _blobs(store) == []


def test_an_attempt_with_a_photo(loaded: Road, store: LocalBlobStore) -> None:
    road = loaded
    first = delivery_stops(road.session, road.block)[0]
    answer = road.client.post(
        road.url(f"/stops/{first.id}/attempt"),
        data=_form(first, reason="business_closed", note="closed for a holiday"),
        files={"photo": ("shut.png", TINY_PNG, "image/png")},
        headers=road.headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["reason"] == "business_closed"
    assert body["stop_status"] == "failed"
    assert body["proofs"][0]["photo_key"].endswith(".png")
    assert [p["next"] for p in body["parcels"]] == ["retry"] * len(body["parcels"])
    bad = road.client.post(
        road.url(f"/stops/{first.id}/attempt"),
        data=_form(first, reason="aliens", client_event_id="x"),
        headers=road.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["error"] == "validation_error"
