"""A block from the plan to the last parcel, through the API: a small wave of the example
network planned, a block handed to a driver, check-in, every parcel scanned, each door
delivered with a photo but one, that parcel brought back to the station, the block completed.
Every parcel's history and its merchant's outbox tell the same story, in order."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from doorstep.drivers.blocks import history
from doorstep.models import BlockStatus, OutboxEvent, PackageEvent
from doorstep.orders.lifecycle import PackageState
from doorstep.storage.service import LocalBlobStore
from tests.drivers.road import TINY_JPEG, Road, delivery_stops
from tests.shop import local

S = PackageState
DELIVERED = [
    S.CREATED,
    S.READY_FOR_PICKUP,
    S.ASSIGNED,
    S.PICKED_UP,
    S.OUT_FOR_DELIVERY,
    S.DELIVERED,
]
BROUGHT_BACK = [
    *DELIVERED[:-1],
    S.DELIVERY_ATTEMPTED,
    S.RETURNED,
    S.READY_FOR_PICKUP,
]


def test_a_block_from_check_in_to_the_last_parcel(road: Road, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    road.client.app.state.blob_store = store  # type: ignore[attr-defined]
    parcels = {p.id: p.tracking_code for p in road.load().packages.values()}
    assert road.check_in().json()["status"] == "in_progress"
    assert sorted(road.scan_all()) == sorted(parcels.values())

    *doors, last = delivery_stops(road.session, road.block)
    assert doors, "the block needs two doors or more"
    minute = 0
    for stop in doors:
        minute += 10
        road.set_clock(local(11, minute))
        answer = road.client.post(
            road.url(f"/stops/{stop.id}/deliver"),
            data={
                "lat": str(stop.lat),
                "lng": str(stop.lng),
                "accuracy_m": "5",
                "at": local(11, minute).isoformat(),
                "client_event_id": f"door-{stop.id}",
            },
            files={"photo": ("door.jpg", TINY_JPEG, "image/jpeg")},
            headers=road.headers,
        )
        assert answer.status_code == 200, answer.text
        assert all(store.exists(p["photo_key"]) for p in answer.json()["proofs"])
    road.set_clock(local(12, 30))
    failed = road.client.post(
        road.url(f"/stops/{last.id}/attempt"),
        data={
            "reason": "recipient_unavailable",
            "lat": str(last.lat),
            "lng": str(last.lng),
            "at": local(12, 30).isoformat(),
            "client_event_id": f"door-{last.id}",
        },
        headers=road.headers,
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["block_status"] == "returning"
    itinerary = road.client.get(road.url(), headers=road.headers).json()
    assert [s["status"] for s in itinerary["stops"]] == ["completed"] * len(doors) + ["failed"]

    station = road.start
    for parcel in failed.json()["parcels"]:
        road.set_clock(local(13, 5))
        back = road.post(
            "/returns",
            {
                "code": parcel["code"],
                "lat": station.lat,
                "lng": station.lng,
                "at": local(13, 5).isoformat(),
                "client_event_id": f"back-{parcel['code']}",
            },
        )
        assert back.status_code == 200, back.text
    assert back.json()["block_status"] == "completed"

    road.session.expire_all()
    assert road.block.status is BlockStatus.COMPLETED
    moves = [(e.from_status, e.to_status) for e in history(road.session, road.block.id)]
    assert moves[-4:] == [
        (BlockStatus.OPEN, BlockStatus.ACCEPTED),
        (BlockStatus.ACCEPTED, BlockStatus.IN_PROGRESS),
        (BlockStatus.IN_PROGRESS, BlockStatus.RETURNING),
        (BlockStatus.RETURNING, BlockStatus.COMPLETED),
    ]
    returned = {p["code"] for p in failed.json()["parcels"]}
    for package_id, code in parcels.items():
        events = road.session.scalars(
            select(PackageEvent)
            .where(PackageEvent.package_id == package_id)
            .order_by(PackageEvent.sequence)
        ).all()
        expected = BROUGHT_BACK if code in returned else DELIVERED
        assert [e.to_state for e in events] == expected, code
        order_id = road.session.scalar(
            select(OutboxEvent.ordering_key).where(OutboxEvent.aggregate_id == package_id)
        )
        outbox = road.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.ordering_key == order_id, OutboxEvent.aggregate_type == "package")
            .where(OutboxEvent.aggregate_id == package_id)
            .order_by(OutboxEvent.id)
        ).all()
        assert [o.event_type for o in outbox] == [f"package.{s.value}" for s in expected]
        delivered = outbox[-1].payload
        if code not in returned:
            assert delivered["data"]["photo_key"].startswith("pod/")
            assert delivered["data"]["proof_id"]
            assert delivered["data"]["distance_m"] == 0
