"""The one travel model: the speed profile, the router it asks, the settings that build it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest

from doorstep.geo import (
    DEFAULT_SPEEDS_KMH,
    HaversineTravel,
    OsrmTravel,
    Router,
    RouterKind,
    SpeedProfile,
    TravelModel,
    ValhallaError,
    ValhallaTravel,
    parse_matrix,
)
from doorstep.settings import Settings

DATA = Path(__file__).parent / "data"
STATION = (33.2744, -111.8887)
DOWNTOWN = (33.3035, -111.8410)
HOUR = 3600


def test_the_default_model_drives_slower_in_the_peaks() -> None:
    model = TravelModel()
    off_peak = model.seconds(STATION, DOWNTOWN, depart_s=10 * HOUR)
    peak = model.seconds(STATION, DOWNTOWN, depart_s=17 * HOUR + 30 * 60)
    assert peak == pytest.approx(off_peak * 40 / 32, abs=1)
    # The same straight line × circuity, whatever the hour.
    assert (
        model.matrix([STATION], [DOWNTOWN], depart_s=8 * HOUR).distances[0, 0]
        == model.matrix([STATION], [DOWNTOWN], depart_s=13 * HOUR).distances[0, 0]
    )


def test_a_model_is_the_haversine_provider_at_the_hours_speed() -> None:
    model = TravelModel(circuity=1.25, speeds=SpeedProfile.flat(36.0))
    points = [STATION, DOWNTOWN, (33.2797, -111.7639)]
    expected = HaversineTravel(circuity=1.25, speed_kmh=36.0).matrix(points)
    got = model.matrix(points, depart_s=3 * HOUR)
    assert np.array_equal(got.durations, expected.durations)
    assert np.array_equal(got.distances, expected.distances)


def test_the_profile_wraps_past_midnight_and_defaults_to_the_morning_off_peak() -> None:
    profile = SpeedProfile()
    assert profile.at(25 * HOUR) == DEFAULT_SPEEDS_KMH[1]
    assert profile.at(None) == DEFAULT_SPEEDS_KMH[9]


@pytest.mark.parametrize(
    ("kmh", "message"), [((40.0,) * 23, "24 hourly"), ((40.0,) * 23 + (0.0,), "positive")]
)
def test_a_bad_profile_is_refused(kmh: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SpeedProfile(kmh)


def test_a_configured_router_answers_instead_of_the_straight_line() -> None:
    osrm = TravelModel(router=Router(RouterKind.OSRM, "http://osrm:5000"))
    valhalla = TravelModel(router=Router(RouterKind.VALHALLA, "http://valhalla:8002"))
    assert isinstance(osrm.provider(), OsrmTravel)
    assert isinstance(valhalla.provider(), ValhallaTravel)
    assert valhalla.describe() == "valhalla at http://valhalla:8002"


def test_settings_build_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().travel_model() == TravelModel()
    monkeypatch.setenv("DOORSTEP_TRAVEL_SPEEDS_KMH", json.dumps([30] * 24))
    monkeypatch.setenv("DOORSTEP_TRAVEL_CIRCUITY", "1.4")
    assert Settings().travel_model() == TravelModel(1.4, SpeedProfile.flat(30.0))
    monkeypatch.setenv("DOORSTEP_TRAVEL_ROUTER", "osrm")
    with pytest.raises(ValueError, match="DOORSTEP_TRAVEL_ROUTER_URL"):
        Settings()
    monkeypatch.setenv("DOORSTEP_TRAVEL_ROUTER_URL", "http://osrm:5000")
    assert Settings().travel_model().router == Router(RouterKind.OSRM, "http://osrm:5000")


def test_settings_refuse_a_profile_of_the_wrong_length(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_TRAVEL_SPEEDS_KMH", json.dumps([30] * 12))
    with pytest.raises(ValueError, match="24"):
        Settings()


def test_valhalla_answers_map_to_metres_and_seconds() -> None:
    matrix = parse_matrix(json.loads((DATA / "valhalla_matrix_2x3.json").read_text()))
    assert matrix.distances.tolist() == [[0, 4512, 9870], [4600, 0, 6204]]
    assert matrix.durations[1, 2] == 566


def test_valhalla_without_a_route_is_an_error() -> None:
    with pytest.raises(ValhallaError, match="no route"):
        parse_matrix(json.loads((DATA / "valhalla_no_route.json").read_text()))


def test_valhalla_client_posts_sources_and_targets() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=json.loads((DATA / "valhalla_matrix_2x3.json").read_text()))

    client = httpx.Client(transport=httpx.MockTransport(handler))
    travel = ValhallaTravel("http://valhalla:8002", client=client)
    matrix = travel.matrix([STATION, DOWNTOWN], [STATION, DOWNTOWN, (33.2797, -111.7639)])
    assert matrix.durations[0, 2] == 802
    assert seen[0]["costing"] == "auto"
    assert seen[0]["sources"] == [
        {"lat": STATION[0], "lon": STATION[1]},
        {"lat": DOWNTOWN[0], "lon": DOWNTOWN[1]},
    ]
