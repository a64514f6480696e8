"""The partner store's API under ``/v1/store/…`` (a staff token, ``stf_…``, or the store pages'
cookie), and the operator's part under ``/v1/partner-stores/…``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from doorstep.access.service import CodeRefused, NotSignedIn, TooManyCodeTries, masked, revoke_token
from doorstep.api.deps import DbSession, Now, RowId, SettingsDep
from doorstep.api.errors import error_responses
from doorstep.api.operators import operator_may
from doorstep.api.sessions import token_from
from doorstep.api.uploads import Blobs, Photo, Travel, read_upload
from doorstep.db import unit_of_work
from doorstep.drivers import proof
from doorstep.drivers.road import door, load
from doorstep.drivers.road.deliveries import FarFromAddress
from doorstep.models import Principal
from doorstep.ops.policy import Action
from doorstep.partners import accounts, counter, onboarding, run, scanin, staff_route, statement
from doorstep.partners.accounts import Staff
from doorstep.partners.schemas import (
    CodeSent,
    CodesIn,
    CounterParcelOut,
    CounterReturnIn,
    CounterReturnOut,
    DoorOut,
    DropOut,
    HandOverIn,
    HandOverOut,
    LocationIn,
    LocationOut,
    ManifestOut,
    ProfileIn,
    ReportOut,
    RouteOut,
    ScanIn,
    ScanOut,
    SignInCodeIn,
    SignInIn,
    StaffAttemptIn,
    StaffDoorIn,
    StatementOut,
    StoreOut,
    TokenOut,
    UnexpectedIn,
)
from doorstep.storage.images import NotAnImage, PhotoTooLarge
from doorstep.tracking import returns as shopper_returns

# The store pages keep their session in this cookie (HttpOnly, SameSite=Lax).
SESSION_COOKIE = "doorstep_store"

store_token = token_from(
    SESSION_COOKIE, "A partner store staff token (stf_…)", Principal.PARTNER_STAFF
)
StoreToken = Annotated[str, Depends(store_token)]


def _current_staff(session: DbSession, now: Now, token: StoreToken) -> Staff:
    return accounts.authenticate(session, token, now=now)


CurrentStaff = Annotated[Staff, Depends(_current_staff)]

router = APIRouter(
    prefix="/v1/store",
    tags=["partner stores"],
    responses=error_responses(NotSignedIn, accounts.StaffDeactivated),
)
operator = APIRouter(
    prefix="/v1/partner-stores",
    tags=["partner stores"],
    dependencies=[Depends(operator_may(Action.PARTNER_DROP))],
)


@router.post(
    "/sign-in",
    status_code=202,
    summary="Send a one-time sign-in code to a staff member's e-mail",
    description="The same answer whether or not an account uses the address.",
)
def sign_in(body: SignInIn, session: DbSession, now: Now, settings: SettingsDep) -> CodeSent:
    ttl = accounts.send_sign_in_code(session, body.email, now=now, secret_key=settings.secret_key)
    return CodeSent(sent_to=masked(body.email), expires_in_s=ttl)


@router.post(
    "/sign-in/verify",
    summary="Trade the code for a bearer token (five wrong codes use the code up)",
    responses=error_responses(CodeRefused, TooManyCodeTries),
)
def verify_code(body: SignInCodeIn, request: Request, now: Now, settings: SettingsDep) -> TokenOut:
    # Its own transaction, committed before a refusal is raised: a wrong try must count.
    with unit_of_work(request.app.state.session_factory) as session:
        token, refusal = accounts.redeem_sign_in_code(
            session, body.email, body.code, now=now, secret_key=settings.secret_key, page=False
        )
        staff = accounts.authenticate(session, token, now=now) if token else None
        out = (
            TokenOut(token=token, staff_id=staff.user.id, store=staff.node.code)
            if token and staff
            else None
        )
    if refusal is not None:
        raise refusal
    assert out is not None
    return out


@router.post("/sign-out", status_code=204, summary="Revoke the token this request carries")
def sign_out(token: StoreToken, session: DbSession, now: Now) -> Response:
    revoke_token(session, token, now=now)
    return Response(status_code=204)


@router.get("/me", summary="The store, its settings and its onboarding, and who is signed in")
def get_me(staff: CurrentStaff, session: DbSession) -> StoreOut:
    return onboarding.store_out(session, staff)


@router.post(
    "/location",
    summary="Onboarding: check the store's location from a phone at the store",
    responses=error_responses(load.PositionRequired, load.OutsideGeofence),
)
def check_location(
    body: LocationIn, staff: CurrentStaff, session: DbSession, now: Now, settings: SettingsDep
) -> LocationOut:
    return onboarding.check_location(
        session, staff, body, now=now, radius_m=settings.store_location_m
    )


@router.put(
    "/profile",
    summary="Onboarding and after: hours, closed days, daily capacity, radius; accept the pay",
    responses=error_responses(onboarding.LocationNotChecked, onboarding.PayNotAccepted),
)
def put_profile(body: ProfileIn, staff: CurrentStaff, session: DbSession, now: Now) -> StoreOut:
    return onboarding.save_profile(session, staff, body, now=now)


_SCAN_ERRORS = (
    load.UnknownPackage,
    scanin.PackageOnAnotherManifest,
    scanin.PackageNotOnManifest,
    scanin.PackageAlreadyReported,
    scanin.NoManifestToday,
)


@router.get("/manifest", summary="The day's manifest (today by default), scans and compliance")
def get_manifest(
    staff: CurrentStaff, session: DbSession, now: Now, day: date | None = None
) -> ManifestOut:
    return scanin.manifest_view(session, staff, day or scanin.store_today(staff.node, now))


@router.post(
    "/manifest/scans",
    summary="Scan a parcel of today's batch in (typed or by camera); again: the same answer",
    responses=error_responses(*_SCAN_ERRORS),
)
def scan(
    body: ScanIn, staff: CurrentStaff, session: DbSession, now: Now, settings: SettingsDep
) -> ScanOut:
    return scanin.scan(
        session,
        staff,
        body.code,
        now=now,
        scan_minutes=settings.store_scan_in_minutes,
        hold=counter.HoldSettings(
            secret_key=settings.secret_key,
            counter_days=settings.store_counter_days,
            public_url=settings.public_url,
        ),
    )


@router.post(
    "/manifest/unexpected",
    summary="A parcel that is not on this store's manifest: flagged, on the run back",
    responses=error_responses(load.UnknownPackage, scanin.PackageOnManifest),
)
def flag_unexpected(
    body: UnexpectedIn, staff: CurrentStaff, session: DbSession, now: Now
) -> ReportOut:
    return scanin.flag_unexpected(session, staff, body.code, now=now, note=body.note)


@router.post(
    "/manifest/{outcome}",
    summary="Report parcels of the manifest not in the batch (missing: the operator and the "
    "merchant are told), or refuse damaged ones (they ride back with the run)",
    responses=error_responses(*_SCAN_ERRORS),
)
def report(
    outcome: Literal["missing", "damaged"],
    body: CodesIn,
    staff: CurrentStaff,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
) -> ReportOut:
    return scanin.report(
        session,
        staff,
        body.codes,
        outcome,
        now=now,
        note=body.note,
        scan_minutes=settings.store_scan_in_minutes,
    )


@router.post(
    "/returns",
    summary="A shopper leaves a return at the counter (its code): it rides back to the station",
    responses=error_responses(
        shopper_returns.ReturnNotFound,
        shopper_returns.ReturnAlreadyReceived,
        shopper_returns.ReturnNotAtThisStore,
    ),
)
def take_return(
    body: CounterReturnIn, staff: CurrentStaff, session: DbSession, now: Now
) -> CounterReturnOut:
    return run.take_return(session, staff, body.code, now=now)


@router.get("/route", summary="Today's deliveries in driving order, ETAs and navigation links")
def get_route(staff: CurrentStaff, session: DbSession, now: Now, travel: Travel) -> RouteOut:
    return staff_route.route(session, staff, now=now, travel=travel)


@router.post(
    "/route/start",
    summary="Set off: the parcels still to deliver go out for delivery (their shoppers are "
    "told, with an ETA); again later sends the rest and times the doors anew",
)
def start_route(staff: CurrentStaff, session: DbSession, now: Now, travel: Travel) -> RouteOut:
    return staff_route.start(session, staff, now=now, travel=travel)


_DOOR_ERRORS = (
    load.StopNotFound,
    load.PositionRequired,
    door.StopAlreadyDone,
    NotAnImage,
    PhotoTooLarge,
)


@router.post(
    "/route/stops/{stop_id}/deliver",
    summary="Deliver at a door with the proof drivers give (a form with the photo); the same "
    "client_event_id is accepted once",
    responses=error_responses(
        *_DOOR_ERRORS, FarFromAddress, proof.ProofRequired, proof.ProofSkipNotConfirmed
    ),
)
def deliver(
    stop_id: RowId,
    form: Annotated[StaffDoorIn, Form()],
    request: Request,
    token: StoreToken,
    now: Now,
    settings: SettingsDep,
    blobs: Blobs,
    photo: Photo = None,
) -> DoorOut:
    return staff_route.from_the_phone(
        request.app.state.session_factory,
        token,
        photo=read_upload(photo, settings.photo_max_bytes),
        now=now,
        settings=settings,
        store=blobs,
        act=lambda session, staff, key: staff_route.deliver(
            session, staff, stop_id, form, photo_key=key, now=now, far_m=settings.delivery_far_m
        ),
    )


@router.post(
    "/route/stops/{stop_id}/attempt",
    summary="Unable to deliver: the parcels wait at the counter and the shopper gets the code",
    responses=error_responses(*_DOOR_ERRORS),
)
def attempt(
    stop_id: RowId,
    form: Annotated[StaffAttemptIn, Form()],
    request: Request,
    token: StoreToken,
    now: Now,
    settings: SettingsDep,
    blobs: Blobs,
    photo: Photo = None,
) -> DoorOut:
    return staff_route.from_the_phone(
        request.app.state.session_factory,
        token,
        photo=read_upload(photo, settings.photo_max_bytes),
        now=now,
        settings=settings,
        store=blobs,
        act=lambda session, staff, key: staff_route.attempt(
            session,
            staff,
            stop_id,
            form,
            photo_key=key,
            now=now,
            secret_key=settings.secret_key,
            counter_days=settings.store_counter_days,
            public_url=settings.public_url,
        ),
    )


@router.get("/counter", summary="The parcels waiting at the counter for their shoppers")
def get_counter(staff: CurrentStaff, session: DbSession) -> list[CounterParcelOut]:
    return counter.waiting(session, staff)


@router.post(
    "/counter/hand-over",
    summary="Hand a parcel over by the shopper's code (with its label) or barcode",
    responses=error_responses(
        counter.HandOverNeedsCode,
        counter.CounterParcelNotFound,
        counter.CounterParcelCollected,
        counter.PickupCodeWrong,
        counter.PickupCodeLocked,
        counter.CounterCodesLimited,
    ),
)
def hand_over(
    body: HandOverIn, request: Request, token: StoreToken, now: Now, settings: SettingsDep
) -> HandOverOut:
    # Its own transaction, committed before a wrong code's refusal is raised: it must count.
    with unit_of_work(request.app.state.session_factory) as session:
        staff = accounts.authenticate(session, token, now=now)
        result = counter.hand_over(
            session,
            staff,
            body,
            now=now,
            secret_key=settings.secret_key,
            wrong_per_hour=settings.store_wrong_codes_per_hour,
        )
    if not isinstance(result, HandOverOut):
        raise result
    return result


Period = tuple[date, date]


def _period(
    now: Now,
    start: Annotated[
        date | None, Query(description="First day (default: 1st of the month)")
    ] = None,
    end: Annotated[date | None, Query(description="Last day (default: today)")] = None,
) -> Period:
    today = now.date()
    return start or today.replace(day=1), end or today


@router.get(
    "/statement",
    summary="The pay statement for a period: each parcel delivered or handed over, its pay",
    responses=error_responses(statement.PeriodInvalid),
)
def get_statement(
    staff: CurrentStaff, session: DbSession, period: Annotated[Period, Depends(_period)]
) -> StatementOut:
    return statement.statement(session, staff.node, *period)


@router.get(
    "/statement.csv",
    summary="The pay statement as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **error_responses(statement.PeriodInvalid)},
)
def get_statement_csv(
    staff: CurrentStaff, session: DbSession, period: Annotated[Period, Depends(_period)]
) -> Response:
    out = statement.statement(session, staff.node, *period)
    name = f"statement-{out.store}-{out.start}-{out.end}.csv"
    return Response(
        statement.as_csv(out),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@operator.post(
    "/{code}/drop",
    summary="The morning run left today's batch at the store: the scan-in clock starts",
    responses=error_responses(accounts.PartnerStoreNotFound, scanin.NoManifestToday),
)
def drop(code: str, session: DbSession, now: Now, settings: SettingsDep) -> DropOut:
    node = accounts.partner_node(session, code)
    manifest = scanin.drop(
        session, node, now=now, by="operator", scan_minutes=settings.store_scan_in_minutes
    )
    assert manifest.dropped_at is not None and manifest.scan_deadline_at is not None
    return DropOut(
        store=node.code,
        service_date=manifest.service_date,
        dropped_at=manifest.dropped_at,
        scan_deadline_at=manifest.scan_deadline_at,
    )
