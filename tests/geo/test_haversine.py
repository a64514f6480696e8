from __future__ import annotations

import time

import numpy as np
import pytest

from doorstep.geo import HaversineTravel, TravelMatrix, haversine_m, haversine_matrix
from doorstep.geo.matrix import ExplicitTravel

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)


def test_known_distance() -> None:
    assert haversine_m(*PARIS, *LONDON) == pytest.approx(343_500, rel=0.005)
    assert haversine_m(*PARIS, *PARIS) == 0.0


def test_scalar_distance_agrees_with_the_matrix() -> None:
    rng = np.random.default_rng(3)
    points = np.column_stack([rng.uniform(-89, 89, 200), rng.uniform(-179, 179, 200)])
    matrix = haversine_matrix(points)
    for i, j in rng.integers(0, 200, size=(300, 2)):
        assert haversine_m(*points[i], *points[j]) == pytest.approx(matrix[i, j], abs=1e-6)
    with pytest.raises(ValueError, match="latitude"):
        haversine_m(91.0, 0.0, 0.0, 0.0)


def test_matrix_is_symmetric_with_zero_diagonal() -> None:
    m = haversine_matrix([PARIS, LONDON, (52.37, 4.89)])
    assert np.allclose(m, m.T)
    assert np.all(np.diag(m) == 0)
    rectangular = haversine_matrix([PARIS], [LONDON, PARIS])
    assert rectangular.shape == (1, 2)


def test_large_matrix_is_vectorised() -> None:
    rng = np.random.default_rng(0)
    points = np.column_stack([rng.uniform(52.2, 52.5, 2000), rng.uniform(4.7, 5.1, 2000)])
    started = time.perf_counter()
    travel = HaversineTravel().matrix(points)
    assert time.perf_counter() - started < 5  # 4 million pairs; a Python loop takes minutes
    assert travel.distances.shape == (2000, 2000)
    assert travel.distances.dtype == np.int64


def test_travel_model_defaults_and_settings() -> None:
    straight = haversine_m(*PARIS, 48.8666, 2.3522)  # about 1.1 km due north
    m = HaversineTravel().matrix([PARIS, (48.8666, 2.3522)])
    assert m.distances[0, 1] == round(straight * 1.3)
    assert m.durations[0, 1] == round(straight * 1.3 / (30 / 3.6))
    slow = HaversineTravel(circuity=1.0, speed_kmh=15).matrix([PARIS, (48.8666, 2.3522)])
    assert slow.durations[0, 1] == round(straight / (15 / 3.6))
    with pytest.raises(ValueError, match="circuity"):
        HaversineTravel(circuity=0.9)
    with pytest.raises(ValueError, match="speed"):
        HaversineTravel(speed_kmh=0)


def test_bad_points_are_rejected() -> None:
    with pytest.raises(ValueError, match="shape"):
        haversine_matrix([1.0, 2.0])
    with pytest.raises(ValueError, match="latitude"):
        haversine_matrix([(95.0, 0.0)])


def test_explicit_matrix_lookup() -> None:
    points = np.array([PARIS, LONDON])
    travel = TravelMatrix.explicit([[0, 10.4], [12.6, 0]], [[0, 5], [6, 0]])
    provider = ExplicitTravel(points, travel)
    sub = provider.matrix([LONDON, PARIS])
    assert sub.distances.tolist() == [[0, 13], [10, 0]]
    with pytest.raises(KeyError):
        provider.matrix([(0.0, 0.0)])
    with pytest.raises(ValueError, match="non-negative"):
        TravelMatrix.explicit([[-1]], [[0]])
