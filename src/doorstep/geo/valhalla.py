"""Valhalla matrix client (``/sources_to_targets``): a pure response mapper and a thin client.

Valhalla answers one row per source, one cell per target, with ``distance`` in the request's
units (kilometres by default) and ``time`` in seconds; a cell without a route has nulls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from doorstep.geo.haversine import as_points
from doorstep.geo.matrix import TravelMatrix


class ValhallaError(RuntimeError):
    """Valhalla answered with an error or an unusable matrix."""


_METRES_PER_UNIT = {"kilometers": 1000.0, "miles": 1609.344}


def parse_matrix(payload: dict[str, Any]) -> TravelMatrix:
    """Map a Valhalla ``sources_to_targets`` response to a :class:`TravelMatrix` (pure)."""
    if "error" in payload or "error_code" in payload:
        raise ValhallaError(
            f"Valhalla error {payload.get('error_code', '')}: {payload.get('error', '')}".strip()
        )
    try:
        rows = payload["sources_to_targets"]
        per_unit = _METRES_PER_UNIT[payload.get("units", "kilometers")]
        cells = [[(cell["distance"], cell["time"]) for cell in row] for row in rows]
    except (KeyError, TypeError) as error:
        raise ValhallaError(
            "Valhalla matrix lacks sources_to_targets distances and times"
        ) from error
    if any(d is None or t is None for row in cells for d, t in row):
        raise ValhallaError("Valhalla found no route between some points")
    values = np.array(cells, dtype=np.float64).reshape(len(rows), -1, 2)
    return TravelMatrix.explicit(values[:, :, 0] * per_unit, values[:, :, 1])


@dataclass
class ValhallaTravel:
    """Travel matrices from a Valhalla server at ``base_url`` (e.g. http://localhost:8002)."""

    base_url: str
    costing: str = "auto"
    max_matrix_locations: int = 100
    timeout_s: float = 30.0
    client: httpx.Client | None = None

    def matrix(
        self,
        origins: npt.ArrayLike,
        destinations: npt.ArrayLike | None = None,
        *,
        depart_s: int | None = None,
    ) -> TravelMatrix:
        src = as_points(origins)
        dst = src if destinations is None else as_points(destinations)
        distances = np.zeros((len(src), len(dst)), dtype=np.int64)
        durations = np.zeros((len(src), len(dst)), dtype=np.int64)
        block = max(1, self.max_matrix_locations // 2)
        client = self.client or httpx.Client(timeout=self.timeout_s)
        try:
            for i in range(0, len(src), block):
                for j in range(0, len(dst), block):
                    part = self._request(client, src[i : i + block], dst[j : j + block])
                    distances[i : i + block, j : j + block] = part.distances
                    durations[i : i + block, j : j + block] = part.durations
        finally:
            if self.client is None:
                client.close()
        return TravelMatrix(distances, durations)

    def _request(
        self,
        client: httpx.Client,
        sources: npt.NDArray[np.float64],
        targets: npt.NDArray[np.float64],
    ) -> TravelMatrix:
        body = {
            "sources": [{"lat": float(lat), "lon": float(lon)} for lat, lon in sources],
            "targets": [{"lat": float(lat), "lon": float(lon)} for lat, lon in targets],
            "costing": self.costing,
            "units": "kilometers",
        }
        url = f"{self.base_url.rstrip('/')}/sources_to_targets"
        try:
            response = client.post(url, json=body)
        except httpx.HTTPError as error:
            raise ValhallaError(f"Valhalla request failed: {error}") from error
        if response.status_code >= 500:
            raise ValhallaError(f"Valhalla server error {response.status_code}")
        return parse_matrix(response.json())
