"""Small planning days around Chandler, AZ, built in code (no files, no database)."""

from __future__ import annotations

from dataclasses import replace

from doorstep.planning.core import (
    HOUR,
    CostModel,
    DayInput,
    DriverSupply,
    Package,
    PartnerStore,
    Promise,
    ServiceArea,
    Site,
    SiteKind,
)

STATION = Site("DCH1", SiteKind.STATION, 33.2744, -111.8887, opening=(6 * HOUR, 23 * HOUR))
MALL = Site("MCFC", SiteKind.MALL, 33.3013, -111.8975, opening=(10 * HOUR, 21 * HOUR))
BOOKS = Site(
    "MCFC-BOOKS",
    SiteKind.MALL_STORE,
    33.3010,
    -111.8969,
    parent="MCFC",
    opening=(10 * HOUR, 21 * HOUR),
    pickup_service_s=60,
)
TOYS = Site(
    "MCFC-TOYS",
    SiteKind.MALL_STORE,
    33.3021,
    -111.8972,
    parent="MCFC",
    opening=(10 * HOUR, 21 * HOUR),
    pickup_service_s=60,
)
QUEEN_CREEK = PartnerStore(
    "PS-QC", 33.2472, -111.6349, capacity_left=50, opening=(8 * HOUR, 18 * HOUR)
)
MARICOPA = PartnerStore("PS-MARICOPA", 33.0581, -112.0476, capacity_left=50, open_today=False)
CHANDLER = ServiceArea(
    "SA-CHANDLER",
    ((33.203, -111.972), (33.203, -111.806), (33.36, -111.806), (33.36, -111.972)),
)
SAME_DAY = (11 * HOUR, 21 * HOUR)


def package(
    id: str,
    lat: float,
    lng: float,
    *,
    origin: str = "DCH1",
    promise: Promise = Promise.SAME_DAY,
    window: tuple[int, int] = SAME_DAY,
    ready_s: int = 11 * HOUR,
) -> Package:
    return Package(
        id=id,
        origin=origin,
        lat=lat,
        lng=lng,
        volume_cm3=6_000,
        weight_g=1_200,
        window=window,
        promise=promise,
        service_s=120,
        recipient=f"r-{id}",
        ready_s=ready_s,
    )


def city_packages(count: int, prefix: str = "c", origin: str = "DCH1") -> list[Package]:
    """``count`` addresses on a grid inside the Chandler service area."""
    return [
        package(
            f"{prefix}{n}",
            33.26 + 0.006 * (n % 7),
            -111.90 + 0.007 * (n // 7),
            origin=origin,
            ready_s=11 * HOUR if origin == "DCH1" else 12 * HOUR,
        )
        for n in range(count)
    ]


def small_day(
    packages: list[Package] | None = None, drivers: int = 2, **changes: object
) -> DayInput:
    day = DayInput(
        station="DCH1",
        sites=(STATION, MALL, BOOKS, TOYS),
        partner_stores=(QUEEN_CREEK, MARICOPA),
        service_areas=(CHANDLER,),
        packages=tuple(packages if packages is not None else city_packages(20)),
        drivers=(
            DriverSupply("DCH1", drivers, available=(11 * HOUR, 21 * HOUR)),
            DriverSupply("MCFC", 1, available=(12 * HOUR, 21 * HOUR)),
        ),
        # A contracted price per drop keeps these days about the channel choice; the drop's
        # price on the routed run is tests/planning/test_drops.py's.
        costs=CostModel(middle_mile_cost_per_drop_cents=1800),
    )
    return replace(day, **changes)  # type: ignore[arg-type]
