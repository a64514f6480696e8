"""The arrival window: around the stored ETA, narrower as the driver gets closer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from doorstep.tracking.eta import MAX_HALF, eta_window

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def test_the_window_narrows_with_fewer_stops_ahead() -> None:
    far = eta_window(NOW + timedelta(minutes=40), NOW, 8)
    near = eta_window(NOW + timedelta(minutes=12), NOW + timedelta(minutes=28), 0)
    assert far.latest - far.earliest > near.latest - near.earliest
    assert far.summary == "8 stops away, about 40 minutes"
    assert near.summary == "Next stop, any minute now"
    assert (
        eta_window(NOW + timedelta(minutes=12), NOW, 1).summary == "1 stop away, about 12 minutes"
    )


@given(
    minutes=st.integers(min_value=-30, max_value=600),
    stops=st.integers(min_value=0, max_value=80),
)
def test_the_window_holds_the_eta_on_five_minute_marks(minutes: int, stops: int) -> None:
    eta = NOW + timedelta(minutes=minutes, seconds=17)
    window = eta_window(eta, NOW, stops)
    assert window.earliest <= max(eta, NOW)
    assert window.latest >= eta
    assert window.earliest >= NOW - timedelta(minutes=5)
    assert window.latest - window.earliest <= 2 * MAX_HALF + timedelta(minutes=10)
    for edge in (window.earliest, window.latest):
        assert edge.second == 0
        assert edge.minute % 5 == 0
