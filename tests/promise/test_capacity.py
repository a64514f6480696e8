from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.promise.capacity import CommittedVolumeCache, committed_volume
from tests.factories import make_node, make_package

TODAY = date(2026, 11, 24)


def test_committed_volume_counts_live_packages_per_node_and_day(session: Session) -> None:
    station, other = make_node(session), make_node(session)
    for day in (23, 24, 24, 27, 28):  # the 28th is past the window (today + 3)
        make_package(session, serving_node_id=station.id, service_date=date(2026, 11, day))
    make_package(session, serving_node_id=other.id, service_date=TODAY)
    cancelled = make_package(session, serving_node_id=station.id, service_date=TODAY)
    transition_package(session, cancelled, PackageState.CANCELLED, actor="merchant:1")
    counts = committed_volume(session, TODAY)
    assert counts[(station.id, TODAY)] == 2
    assert counts[(station.id, date(2026, 11, 23))] == 1
    assert counts[(station.id, date(2026, 11, 27))] == 1
    assert (station.id, date(2026, 11, 28)) not in counts
    assert committed_volume(session, TODAY, [other.id]) == {(other.id, TODAY): 1}


def test_cache_recounts_after_its_time_or_on_a_new_day(session: Session) -> None:
    station = make_node(session)
    seconds = [0.0]
    cache = CommittedVolumeCache(ttl_s=1.0, clock=lambda: seconds[0])
    make_package(session, serving_node_id=station.id, service_date=TODAY)
    assert cache.get(session, TODAY)[(station.id, TODAY)] == 1

    make_package(session, serving_node_id=station.id, service_date=TODAY)
    seconds[0] = 0.5
    assert cache.get(session, TODAY)[(station.id, TODAY)] == 1  # within its second: reused
    seconds[0] = 1.5
    assert cache.get(session, TODAY)[(station.id, TODAY)] == 2  # recounted
    make_package(session, serving_node_id=station.id, service_date=TODAY)
    assert cache.get(session, date(2026, 11, 25))[(station.id, TODAY)] == 3  # a new day
