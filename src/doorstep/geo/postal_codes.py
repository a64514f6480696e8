"""Postal codes resolved to an approximate centroid, from a table shipped with the package.

The widget needs coordinates for a promise, and doorstep calls no geocoding service: a shopper
who types a ZIP code gets its centroid, good enough to say which station or partner store serves
it. The driver still gets the street address typed at checkout.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from doorstep.errors import NotFound
from doorstep.geo import haversine_m

_US_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")


class UnknownPostalCode(NotFound):
    code = "unknown_postal_code"


@dataclass(frozen=True)
class PostalCode:
    code: str
    place: str  # "Chandler", or "Chandler (Sun Lakes)" for a community inside the city's ZIP
    state: str  # two letters
    lat: float
    lng: float

    @property
    def city(self) -> str:
        """The city a postal address names (the post office's, without the community)."""
        return self.place.split(" (")[0]


@lru_cache(maxsize=1)
def table() -> dict[str, PostalCode]:
    text = files("doorstep.geo").joinpath("data/postal_codes.csv").read_text(encoding="utf-8")
    return {
        row["postal_code"]: PostalCode(
            row["postal_code"], row["place"], row["state"], float(row["lat"]), float(row["lng"])
        )
        for row in csv.DictReader(text.splitlines())
    }


def normalise(code: str) -> str | None:
    """``"85225"``, ``" 85225-1234 "`` → ``"85225"``; anything else → None."""
    match = _US_ZIP.match(code.strip())
    return match.group(1) if match else None


def lookup(code: str) -> PostalCode:
    normal = normalise(code)
    if normal is None:
        raise UnknownPostalCode(
            f"'{code.strip()[:20]}' is not a ZIP code; use 5 digits, like 85225",
            field="postal_code",
        )
    found = table().get(normal)
    if found is None:
        raise UnknownPostalCode(
            f"we don't deliver to ZIP code {normal} yet", field="postal_code", postal_code=normal
        )
    return found


def nearest(lat: float, lng: float) -> PostalCode:
    """The ZIP code whose centroid is nearest the point (a stand-in for geocoding)."""
    return min(table().values(), key=lambda p: (haversine_m(lat, lng, p.lat, p.lng), p.code))
