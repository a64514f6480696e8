"""The plan page's map projection: true shapes, centred, as large as the frame allows."""

from __future__ import annotations

import pytest

from doorstep.planning.page import HEIGHT, MARGIN, WIDTH, projection

CHANDLER = (33.30, -111.84)


def test_a_wide_area_fills_the_width_and_is_centred_vertically() -> None:
    west, east = (33.30, -112.05), (33.30, -111.55)  # 0.5 degrees of longitude apart
    xy = projection([west, east, CHANDLER])
    (x0, y0), (x1, y1) = xy(*west), xy(*east)
    assert (x0, x1) == (MARGIN, WIDTH - MARGIN)
    assert y0 == y1 == pytest.approx(HEIGHT / 2, abs=0.1)


def test_a_tall_area_fills_the_height_and_is_centred_horizontally() -> None:
    south, north = (33.05, -111.84), (33.45, -111.84)
    xy = projection([south, north])
    (x0, y0), (x1, y1) = xy(*south), xy(*north)
    assert (y0, y1) == (HEIGHT - MARGIN, MARGIN)
    assert x0 == x1 == pytest.approx(WIDTH / 2, abs=0.1)


def test_a_kilometre_east_is_as_long_as_a_kilometre_north() -> None:
    # At 60 degrees north a degree of longitude is half a degree of latitude.
    base, east, north = (60.0, 10.0), (60.0, 10.02), (60.01, 10.0)
    xy = projection([base, (60.3, 10.5)])
    dx = xy(*east)[0] - xy(*base)[0]
    dy = xy(*base)[1] - xy(*north)[1]
    assert dx == pytest.approx(dy, rel=0.02)


def test_a_single_stop_sits_in_the_middle() -> None:
    xy = projection([CHANDLER])
    assert xy(*CHANDLER) == pytest.approx((WIDTH / 2, HEIGHT / 2), abs=0.1)
