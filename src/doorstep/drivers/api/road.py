"""A block on the road: check-in, scans, the stop list, deliveries and attempts, returns.

Deliveries and attempts come as multipart forms (the photo and the signature are files); they
run in units of work of their own (`drivers.road.phone`), so a wrong PIN is committed before
its refusal is sent and no transaction waits on the blob store.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from doorstep.access.service import NotSignedIn
from doorstep.api.deps import DbSession, Now, RowId, get_settings_dep
from doorstep.api.errors import error_responses
from doorstep.api.operators import operator_may
from doorstep.api.uploads import Blobs, Photo, Travel, read_upload
from doorstep.drivers import accounts, proof
from doorstep.drivers.api.deps import CurrentDriver, driver_token
from doorstep.drivers.road import (
    again,
    checkin,
    deliveries,
    door,
    door_returns,
    load,
    phone,
    returns,
    scans,
    stops,
)
from doorstep.drivers.road_schemas import (
    AttemptIn,
    AttemptOut,
    CheckInIn,
    CheckInOut,
    DeliveryIn,
    DeliveryOut,
    DepartIn,
    DepartOut,
    DoorMissIn,
    DoorReturnOut,
    ItineraryOut,
    MissingIn,
    MissingOut,
    ReturnPlanIn,
    ReturnPlanOut,
    ReturnScanIn,
    ReturnScanOut,
    ScanIn,
    ScanOut,
    StationReturnIn,
)
from doorstep.ops.policy import Action
from doorstep.partners import run
from doorstep.partners.schemas import CollectIn, CollectOut, RunDropIn, RunDropOut
from doorstep.settings import Settings
from doorstep.storage.images import NotAnImage, PhotoTooLarge
from doorstep.tracking.returns import DoorCollection

router = APIRouter(
    prefix="/v1/driver/blocks",
    tags=["drivers"],
    responses=error_responses(NotSignedIn, accounts.DriverDeactivated, load.BlockNotFound),
)
stations = APIRouter(prefix="/v1/stations", tags=["stations"])

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


@router.get("/{block_id}", summary="The itinerary: stops in driving order, links, proof, ETAs")
def get_itinerary(block_id: RowId, driver: CurrentDriver, session: DbSession) -> ItineraryOut:
    return stops.itinerary(session, driver, block_id)


@router.post(
    "/{block_id}/check-in",
    summary="Check in at the start node (inside its geofence): the block starts",
    responses=error_responses(
        checkin.BlockNotAccepted,
        checkin.TooEarlyToCheckIn,
        load.PositionRequired,
        load.OutsideGeofence,
    ),
)
def check_in(
    block_id: RowId,
    body: CheckInIn,
    driver: CurrentDriver,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    travel: Travel,
) -> CheckInOut:
    return checkin.check_in(
        session,
        driver,
        block_id,
        body,
        now=now,
        radius_m=settings.checkin_radius_m,
        travel=travel,
    )


@router.post(
    "/{block_id}/scans",
    summary="Scan a parcel's label at its pickup: it is picked up (again: the same answer)",
    responses=error_responses(
        load.BlockNotInProgress,
        load.UnknownPackage,
        scans.PackageOnAnotherBlock,
        scans.PackageNotOnBlock,
        scans.PackageCancelled,
    ),
)
def scan(
    block_id: RowId, body: ScanIn, driver: CurrentDriver, session: DbSession, now: Now
) -> ScanOut:
    return scans.scan(session, driver, block_id, body, now=now)


@router.post(
    "/{block_id}/missing",
    summary="Report parcels not at their pickup (or every one not scanned): they leave the "
    "block, go missing, and the operator is told",
    responses=error_responses(
        load.BlockNotInProgress,
        load.UnknownPackage,
        load.StopNotFound,
        scans.PackageOnAnotherBlock,
        scans.PackageNotOnBlock,
        scans.PackageCancelled,
        scans.PackageAlreadyScanned,
    ),
)
def report_missing(
    block_id: RowId,
    body: MissingIn,
    driver: CurrentDriver,
    session: DbSession,
    now: Now,
    travel: Travel,
) -> MissingOut:
    return scans.report_missing(session, driver, block_id, body, now=now, travel=travel)


@router.post(
    "/{block_id}/depart",
    summary="Start deliveries: every parcel in the car goes out for delivery",
    responses=error_responses(load.BlockNotInProgress, scans.UnscannedPackages),
)
def depart(
    block_id: RowId,
    driver: CurrentDriver,
    session: DbSession,
    now: Now,
    travel: Travel,
    body: DepartIn | None = None,
) -> DepartOut:
    return scans.depart(session, driver, block_id, body or DepartIn(), now=now, travel=travel)


DriverToken = Annotated[str, Depends(driver_token)]
_DOOR_ERRORS = (
    load.BlockNotInProgress,
    load.StopNotFound,
    load.PositionRequired,
    door.NotADeliveryStop,
    door.PackageNotOnStop,
    door.PackageNotScanned,
    door.PackageAlreadyDelivered,
    door.StopAlreadyDone,
    door.ClientEventReused,
    scans.UnscannedPackages,
    NotAnImage,
    PhotoTooLarge,
)


@router.post(
    "/{block_id}/stops/{stop_id}/deliver",
    summary="Deliver at a door with its proof (a form: fields and the photo and signature "
    "files); the same client_event_id is accepted once. A door that failed earlier in the "
    "block may be tried again, on the road or on the way back",
    responses=error_responses(
        *_DOOR_ERRORS,
        again.ShopperChoseCounter,
        deliveries.FarFromAddress,
        proof.ProofRequired,
        proof.ProofSkipNotConfirmed,
        proof.PinWrong,
        proof.PinLocked,
    ),
)
def deliver(
    block_id: RowId,
    stop_id: RowId,
    form: Annotated[DeliveryIn, Form()],
    request: Request,
    token: DriverToken,
    now: Now,
    settings: SettingsDep,
    travel: Travel,
    blobs: Blobs,
    photo: Photo = None,
    signature: Annotated[UploadFile | None, File(description="A PNG of the signature")] = None,
) -> DeliveryOut:
    # Its own units of work: a wrong PIN's count is committed before the refusal is sent.
    return phone.deliver(
        request.app.state.session_factory,
        token,
        block_id,
        stop_id,
        form,
        photo=read_upload(photo, settings.photo_max_bytes),
        signature=read_upload(signature, settings.photo_max_bytes),
        now=now,
        settings=settings,
        travel=travel,
        store=blobs,
    )


@router.post(
    "/{block_id}/stops/{stop_id}/attempt",
    summary="Unable to deliver: the reason, the position, a photo if taken (a form)",
    responses=error_responses(*_DOOR_ERRORS),
)
def attempt(
    block_id: RowId,
    stop_id: RowId,
    form: Annotated[AttemptIn, Form()],
    request: Request,
    token: DriverToken,
    now: Now,
    settings: SettingsDep,
    travel: Travel,
    blobs: Blobs,
    photo: Photo = None,
) -> AttemptOut:
    return phone.attempt(
        request.app.state.session_factory,
        token,
        block_id,
        stop_id,
        form,
        photo=read_upload(photo, settings.photo_max_bytes),
        now=now,
        settings=settings,
        travel=travel,
        store=blobs,
    )


@router.post(
    "/{block_id}/return",
    summary="When the undelivered parcels go back: now, or by 10:00 the next morning",
    responses=error_responses(returns.BlockNotReturning),
)
def plan_return(
    block_id: RowId,
    body: ReturnPlanIn,
    driver: CurrentDriver,
    session: DbSession,
    now: Now,
    travel: Travel,
) -> ReturnPlanOut:
    return returns.plan_return(session, driver, block_id, body, now=now, travel=travel)


@router.post(
    "/{block_id}/returns",
    summary="Scan a parcel back at the station: another try, or back to its merchant",
    responses=error_responses(
        returns.BlockNotReturning,
        returns.PackageNotReturnable,
        load.UnknownPackage,
        load.PositionRequired,
        load.OutsideGeofence,
    ),
)
def scan_return(
    block_id: RowId,
    body: ReturnScanIn,
    driver: CurrentDriver,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
) -> ReturnScanOut:
    return returns.scan_return(
        session,
        driver,
        block_id,
        body,
        now=now,
        radius_m=settings.checkin_radius_m,
        max_attempts=settings.max_delivery_attempts,
    )


@router.post(
    "/{block_id}/stops/{stop_id}/drop",
    summary="A partner run: the store's batch handed over (its scan-in clock starts)",
    responses=error_responses(
        load.StopNotFound,
        load.BlockNotInProgress,
        load.PositionRequired,
        load.OutsideGeofence,
        run.NotADropOff,
        scans.UnscannedPackages,
    ),
)
def drop_batch(
    block_id: RowId,
    stop_id: RowId,
    body: RunDropIn,
    driver: CurrentDriver,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    travel: Travel,
) -> RunDropOut:
    return run.drop(
        session,
        driver,
        block_id,
        stop_id,
        body,
        now=now,
        radius_m=settings.checkin_radius_m,
        scan_minutes=settings.store_scan_in_minutes,
        travel=travel,
    )


@router.post(
    "/{block_id}/stops/{stop_id}/collect",
    summary="Scan what a partner store sends back, or the return a shopper hands over at a door",
    responses=error_responses(
        load.StopNotFound,
        load.UnknownPackage,
        load.PositionRequired,
        load.OutsideGeofence,
        load.BlockNotInProgress,
        run.NotADropOff,
        run.NotGoingBack,
        run.RunOver,
        door_returns.WrongReturnCode,
    ),
)
def collect_going_back(
    block_id: RowId,
    stop_id: RowId,
    body: CollectIn,
    driver: CurrentDriver,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    travel: Travel,
) -> CollectOut | DoorReturnOut:
    return run.collect(
        session,
        driver,
        block_id,
        stop_id,
        body,
        now=now,
        radius_m=settings.checkin_radius_m,
        travel=travel,
    )


@router.post(
    "/{block_id}/stops/{stop_id}/not-collected",
    summary="A door pickup: nobody home, the return is let go (another day, or a counter)",
    responses=error_responses(
        load.StopNotFound,
        load.BlockNotInProgress,
        load.PositionRequired,
        door_returns.NotADoorReturn,
    ),
)
def door_not_collected(
    block_id: RowId,
    stop_id: RowId,
    body: DoorMissIn,
    driver: CurrentDriver,
    session: DbSession,
    now: Now,
    travel: Travel,
    settings: SettingsDep,
) -> DoorReturnOut:
    return door_returns.door_missed(
        session,
        driver,
        block_id,
        stop_id,
        body,
        now=now,
        travel=travel,
        doors=DoorCollection.from_settings(settings),
    )


@stations.post(
    "/{code}/returns",
    summary="The station's own scan of a parcel brought back by a driver",
    dependencies=[Depends(operator_may(Action.STATION_RETURN))],
    responses=error_responses(
        returns.StationNotFound, returns.PackageNotReturnable, load.UnknownPackage
    ),
)
def station_return(
    code: str, body: StationReturnIn, session: DbSession, now: Now, settings: SettingsDep
) -> ReturnScanOut:
    return returns.station_return(
        session, code, body, now=now, max_attempts=settings.max_delivery_attempts
    )
