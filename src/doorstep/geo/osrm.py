"""OSRM table-API client: a pure response mapper plus a thin HTTP client (httpx).

OSRM's ``/table`` service returns ``durations`` (s) and ``distances`` (m) between
coordinates.  Servers cap the table size (``--max-table-size``, 100 by default), so large
requests are split into blocks of sources x destinations and stitched together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from doorstep.geo.haversine import as_points
from doorstep.geo.matrix import TravelMatrix


class OsrmError(RuntimeError):
    """OSRM answered with an error or an unusable table."""


def parse_table(payload: dict[str, Any]) -> TravelMatrix:
    """Map an OSRM table response to a :class:`TravelMatrix` (pure, no I/O)."""
    if payload.get("code") != "Ok":
        raise OsrmError(f"OSRM error {payload.get('code')}: {payload.get('message', '')}")
    try:
        durations = np.array(payload["durations"], dtype=np.float64)
        distances = np.array(payload["distances"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as error:
        raise OsrmError("OSRM table lacks durations and distances annotations") from error
    if np.isnan(durations).any() or np.isnan(distances).any():
        # OSRM returns null where no route exists (e.g. an island without a ferry).
        raise OsrmError("OSRM found no route between some points")
    return TravelMatrix.explicit(distances, durations)


@dataclass
class OsrmTravel:
    """Travel matrices from an OSRM server at ``base_url`` (e.g. http://localhost:5000)."""

    base_url: str
    profile: str = "driving"
    max_table_size: int = 100
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
        block = max(1, self.max_table_size // 2)
        client = self.client or httpx.Client(timeout=self.timeout_s)
        try:
            for i in range(0, len(src), block):
                for j in range(0, len(dst), block):
                    part = self._table(client, src[i : i + block], dst[j : j + block])
                    distances[i : i + block, j : j + block] = part.distances
                    durations[i : i + block, j : j + block] = part.durations
        finally:
            if self.client is None:
                client.close()
        return TravelMatrix(distances, durations)

    def _table(
        self,
        client: httpx.Client,
        sources: npt.NDArray[np.float64],
        destinations: npt.NDArray[np.float64],
    ) -> TravelMatrix:
        points = np.vstack([sources, destinations])
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        n = len(sources)
        params = {
            "sources": ";".join(map(str, range(n))),
            "destinations": ";".join(map(str, range(n, len(points)))),
            "annotations": "duration,distance",
        }
        url = f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}"
        try:
            response = client.get(url, params=params)
        except httpx.HTTPError as error:
            raise OsrmError(f"OSRM request failed: {error}") from error
        if response.status_code >= 500:
            raise OsrmError(f"OSRM server error {response.status_code}")
        return parse_table(response.json())
