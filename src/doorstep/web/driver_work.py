"""The driver app's work screens under ``/driver/``: offers, a block held, and the road
(check-in, loading scans, the stop list, a door, returns).

Each page reads through the same services as the driver API; each button on it calls that API
(``/v1/driver/…``) from the page's script with the session cookie and the CSRF header, so a tap
made in a dead spot goes through the service worker's queue like any other call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from doorstep.api.deps import DbSession, Now, RowId, get_settings_dep
from doorstep.drivers import held, offers
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road import stops
from doorstep.drivers.road_schemas import (
    AttemptReason,
    ItineraryOut,
    ItineraryStop,
)
from doorstep.errors import DomainError
from doorstep.models import BlockStatus, Driver, StopKind, StopStatus
from doorstep.orders.lifecycle import PackageState
from doorstep.partners import run
from doorstep.settings import Settings
from doorstep.web.driver import clock_for, render, signed_in_driver

router = APIRouter(prefix="/driver", include_in_schema=False)

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

SIGN_IN = "/driver/sign-in"

# Unable to deliver: the fixed reasons, in the driver's words.
REASONS: tuple[tuple[AttemptReason, str], ...] = (
    (AttemptReason.RECIPIENT_UNAVAILABLE, "Nobody there"),
    (AttemptReason.NO_ACCESS, "Can't get in"),
    (AttemptReason.BUSINESS_CLOSED, "Business closed"),
    (AttemptReason.WRONG_ADDRESS, "Wrong address"),
    (AttemptReason.UNSAFE_LOCATION, "Not safe"),
    (AttemptReason.DAMAGED, "Parcel damaged"),
)

# A parcel still in the car after its door: it goes back to the station.
IN_THE_CAR = (
    PackageState.DELIVERY_ATTEMPTED,
    PackageState.OUT_FOR_DELIVERY,
    PackageState.PICKED_UP,
)
TO_DELIVER = (PackageState.OUT_FOR_DELIVERY, PackageState.PICKED_UP)
ON_THE_ROAD = (BlockStatus.IN_PROGRESS, BlockStatus.RETURNING)
DONE = (StopStatus.COMPLETED, StopStatus.FAILED, StopStatus.SKIPPED)


def _policy(settings: Settings) -> OfferPolicy:
    return OfferPolicy.from_settings(settings)


@router.get("/offers", response_class=HTMLResponse)
def offers_page(request: Request, session: DbSession, now: Now, settings: SettingsDep) -> Response:
    driver = signed_in_driver(request, session, now)
    if driver is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    policy = _policy(settings)
    return render(
        "offers.html",
        driver,
        "offers",
        offers=offers.list_offers(session, driver, now=now, policy=policy),
        results=offers.round_results(session, driver, now=now, policy=policy),
        clock=clock_for(session, driver, now),
        paused=driver.status.value == "paused",
    )


@dataclass(frozen=True)
class Road:
    """What the block's screens show besides the itinerary."""

    next_stop: ItineraryStop | None  # the first stop not done
    deliveries: int  # doors of the block (a partner run: its stores)
    done: int  # doors done
    to_return: list[Back]  # parcels in the car once every stop is done
    partner_run: bool = False  # the morning run to the partner stores
    # Failed doors whose parcels are still in the car: (stop, recipients) to try again.
    again: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Back:
    """Something to bring back to the station: a parcel, or a shopper's return."""

    code: str
    recipient: str


def _road(itinerary: ItineraryOut) -> Road:
    partner_run = any(s.kind is StopKind.DROP_OFF for s in itinerary.stops)
    doors = [s for s in itinerary.stops if s.kind in (StopKind.DELIVERY, StopKind.DROP_OFF)]
    ahead = [s for s in itinerary.stops if s.status not in DONE]
    back = [
        Back(p.code, p.recipient)
        for s in itinerary.stops
        # A partner run's collections (its pickups at the stores) ride back to the station.
        if s.kind is StopKind.DELIVERY or (partner_run and s.kind is StopKind.PICKUP)
        for p in s.parcels
        if p.state in IN_THE_CAR and s.status in DONE
    ] + [Back(code, "shopper's return") for code in itinerary.returns_in_car]
    return Road(
        next_stop=ahead[0] if ahead else None,
        deliveries=len(doors),
        done=sum(1 for s in doors if s.status in DONE),
        to_return=back,
        partner_run=partner_run,
        again=[
            (s.id, ", ".join(s.recipients))
            for s in itinerary.stops
            if s.kind is StopKind.DELIVERY
            and s.status is StopStatus.FAILED
            and any(p.state is PackageState.DELIVERY_ATTEMPTED for p in s.parcels)
        ],
    )


def _itinerary(
    request: Request, session: DbSession, now: Now, block_id: int
) -> tuple[Driver, ItineraryOut] | Response:
    """The signed-in driver and the block's itinerary, or where to go instead: sign-in, or
    today's screen for a block the driver does not hold."""
    driver = signed_in_driver(request, session, now)
    if driver is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    try:
        return driver, stops.itinerary(session, driver, block_id)
    except DomainError:
        return RedirectResponse("/driver/", status_code=303)


@router.get("/blocks/{block_id}", response_class=HTMLResponse)
def block_page(
    block_id: RowId, request: Request, session: DbSession, now: Now, settings: SettingsDep
) -> Response:
    found = _itinerary(request, session, now, block_id)
    if isinstance(found, Response):
        return found
    driver, itinerary = found
    terms = next(
        (
            b
            for b in held.held_blocks(session, driver, policy=_policy(settings))
            if b.block_id == block_id
        ),
        None,
    )
    return render(
        "block.html",
        driver,
        "home",
        block=itinerary,
        terms=terms,
        road=_road(itinerary),
        can_forfeit=terms is not None and now <= terms.forfeit_until,
        clock=clock_for(session, driver, now),
        radius_m=settings.checkin_radius_m,
        cutoff_minutes=settings.forfeit_cutoff_minutes,
    )


@router.get("/blocks/{block_id}/scan", response_class=HTMLResponse)
def scan_page(
    block_id: RowId,
    request: Request,
    session: DbSession,
    now: Now,
    stop: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    back: Annotated[bool, Query()] = False,
    collect: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Loading at the start node (or a store's stop with ``stop``), the parcels brought back
    at the station (``back``), or what a partner store sends back (``collect``, its drop-off
    stop): the camera, typed entry, what is left to scan."""
    found = _itinerary(request, session, now, block_id)
    if isinstance(found, Response):
        return found
    driver, itinerary = found
    road = _road(itinerary)
    pickup = next((s for s in itinerary.stops if s.id == stop), None) if stop else None
    store = next((s for s in itinerary.stops if s.id == collect), None) if collect else None
    at_door = store is not None and store.kind is StopKind.PICKUP and store.site is None
    if store is not None and at_door:
        left = [r.code for r in store.returns if not r.collected]
        place = store.address
    elif store is not None and store.kind is StopKind.DROP_OFF:
        left = [g.code for g in run.going_back_at(session, driver, block_id, store.id)]
        place = store.name or store.address
    elif back:
        left = [p.code for p in road.to_return]
        place = itinerary.station
    elif pickup is not None:
        left = [p.code for p in pickup.parcels if p.state is PackageState.ASSIGNED]
        place = pickup.name or pickup.address
    else:
        left = itinerary.start.to_scan
        place = itinerary.start.name
    return render(
        "scan.html",
        driver,
        "home",
        block=itinerary,
        left=left,
        place=place,
        pickup=pickup,
        back=back,
        store=store if store is not None and (store.kind is StopKind.DROP_OFF or at_door) else None,
        at_door=at_door,
        clock=clock_for(session, driver, now),
    )


@router.get("/blocks/{block_id}/stops/{stop_id}", response_class=HTMLResponse)
def stop_page(
    block_id: RowId, stop_id: RowId, request: Request, session: DbSession, now: Now
) -> Response:
    found = _itinerary(request, session, now, block_id)
    if isinstance(found, Response):
        return found
    driver, itinerary = found
    stop = next((s for s in itinerary.stops if s.id == stop_id), None)
    if stop is None:
        return RedirectResponse(f"/driver/blocks/{block_id}", status_code=303)
    later = [s for s in itinerary.stops if s.sequence > stop.sequence and s.status not in DONE]
    after = f"/driver/blocks/{block_id}" + (f"/stops/{later[0].id}" if later else "")
    # A door that failed in this block may be tried again while its parcels are in the car.
    again = stop.status is StopStatus.FAILED and itinerary.status in ON_THE_ROAD
    to_deliver = [
        p
        for p in stop.parcels
        if p.state in ((PackageState.DELIVERY_ATTEMPTED,) if again else TO_DELIVER)
    ]
    return render(
        "stop.html",
        driver,
        "home",
        block=itinerary,
        stop=stop,
        number=[s.id for s in itinerary.stops].index(stop.id) + 1,
        after=after,
        reasons=REASONS,
        to_deliver=to_deliver,
        again=again and bool(to_deliver),
        going_back=run.going_back_at(session, driver, block_id, stop.id)
        if stop.kind is StopKind.DROP_OFF
        else [],
        in_progress=itinerary.status is BlockStatus.IN_PROGRESS,
        clock=clock_for(session, driver, now),
    )
