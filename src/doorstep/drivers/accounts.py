"""Driver accounts: sign-up in the app, an operator onboarding a driver in person, the car,
sign-in by a one-time code, and the token that identifies the driver's phone afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from doorstep.access import service as access
from doorstep.access.service import CODE_TTL
from doorstep.access.service import masked as masked
from doorstep.drivers.schemas import DriverUpdate, SignUpIn, VehicleIn
from doorstep.errors import DomainError, InvalidInput, NotFound
from doorstep.models import (
    Driver,
    DriverStatus,
    Node,
    NodeKind,
    Principal,
    Vehicle,
)

# A page session lasts a month of shifts; an API token until it is revoked.
PAGE_SESSION_TTL = timedelta(days=30)


class DriverEmailTaken(DomainError):
    status = 409
    code = "driver_email_taken"


class DriverNotFound(NotFound):
    code = "driver_not_found"


class UnknownStation(InvalidInput):
    code = "unknown_station"


class DriverDeactivated(DomainError):
    status = 403
    code = "driver_deactivated"


@dataclass(frozen=True)
class Onboarded:
    driver: Driver
    vehicle: Vehicle
    token: str | None  # a bearer token when the operator asked for one (shown once)


def sign_up(session: Session, body: SignUpIn, *, now: datetime) -> Onboarded:
    """A driver's own sign-up: the account, active, with its car; no token until the
    driver proves the e-mail with a sign-in code."""
    return create_driver(
        session,
        name=body.name,
        email=body.email,
        phone=body.phone,
        station_code=body.home_station,
        vehicle=body.vehicle,
        now=now,
        with_token=False,
    )


def create_driver(
    session: Session,
    *,
    name: str,
    email: str,
    station_code: str,
    vehicle: VehicleIn,
    now: datetime,
    phone: str | None = None,
    with_token: bool = True,
) -> Onboarded:
    """An account with its car at a home station (the operator's onboarding, and sign-up).
    Available every day until the driver sets a weekly pattern."""
    station = session.scalar(
        select(Node).where(Node.code == station_code, Node.kind == NodeKind.STATION)
    )
    if station is None:
        raise UnknownStation(
            f"no delivery station with code '{station_code}'", field="home_station"
        )
    driver = Driver(
        name=name,
        email=email,
        phone=phone,
        status=DriverStatus.ACTIVE,
        home_node_id=station.id,
        home_lat=station.lat,
        home_lng=station.lng,
    )
    savepoint = session.begin_nested()
    try:
        session.add(driver)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise DriverEmailTaken(
            f"a driver account already uses {email}; sign in instead", field="email"
        ) from None
    savepoint.commit()
    car = _vehicle(driver, vehicle)
    session.add(car)
    session.flush()
    token = None
    if with_token:
        token = access.issue_token(
            session, Principal.DRIVER, driver.id, now=now, label="onboarding"
        ).plaintext
    return Onboarded(driver, car, token)


@dataclass(frozen=True)
class RosterRow:
    id: int
    name: str
    status: str
    station: str | None
    car: str | None


def roster(session: Session, station_code: str | None = None) -> list[RosterRow]:
    """Every driver (of one home station) with the car they drive now, by name."""
    query = (
        select(Driver, Node.code, Vehicle.description, Vehicle.capacity_cm3)
        .outerjoin(Node, Node.id == Driver.home_node_id)
        .outerjoin(Vehicle, (Vehicle.driver_id == Driver.id) & Vehicle.active.is_(True))
        .order_by(Driver.name, Driver.id)
    )
    if station_code:
        query = query.where(Node.code == station_code)
    return [
        RosterRow(
            driver.id,
            driver.name,
            driver.status.value,
            code,
            f"{car} ({litres // 1000} l)" if car else None,
        )
        for driver, code, car, litres in session.execute(query)
    ]


@dataclass(frozen=True)
class Summary:
    """What the app's first screen says about the driver."""

    name: str
    status: DriverStatus
    station: str | None  # the home station's name
    car: str | None
    cargo_litres: int | None
    always_available: bool


def summary(session: Session, driver: Driver) -> Summary:
    car = current_vehicle(session, driver)
    station = session.get(Node, driver.home_node_id) if driver.home_node_id else None
    return Summary(
        name=driver.name,
        status=driver.status,
        station=station.name if station else None,
        car=car.description if car else None,
        cargo_litres=car.capacity_cm3 // 1000 if car else None,
        always_available=not driver.has_weekly_pattern,
    )


def get_driver(session: Session, driver_id: int) -> Driver:
    driver = session.get(Driver, driver_id)
    if driver is None:
        raise DriverNotFound(f"no driver {driver_id}", driver_id=driver_id)
    return driver


def driver_by_email(session: Session, email: str) -> Driver | None:
    return session.scalar(select(Driver).where(Driver.email == email.strip().lower()))


def current_vehicle(session: Session, driver: Driver) -> Vehicle | None:
    return session.scalar(
        select(Vehicle)
        .where(Vehicle.driver_id == driver.id, Vehicle.active.is_(True))
        .order_by(Vehicle.id.desc())
        .limit(1)
    )


def home_station_code(session: Session, driver: Driver) -> str | None:
    if driver.home_node_id is None:
        return None
    return session.get_one(Node, driver.home_node_id).code


def home_zone(session: Session, driver: Driver) -> ZoneInfo:
    """The time zone of the driver's home station (UTC without one)."""
    if driver.home_node_id is None:
        return ZoneInfo("UTC")
    return ZoneInfo(session.get_one(Node, driver.home_node_id).timezone)


def update_driver(session: Session, driver: Driver, body: DriverUpdate) -> Driver:
    """The driver's own changes: pause or resume, the phone, a new car."""
    if body.status is not None:
        if body.status is DriverStatus.DEACTIVATED:
            raise InvalidInput(
                "only an operator deactivates an account; pause it instead", field="status"
            )
        if driver.status is DriverStatus.DEACTIVATED:
            raise DriverDeactivated("this account is deactivated; contact the operator")
        driver.status = body.status
    if body.phone is not None:
        driver.phone = body.phone
    if body.vehicle is not None:
        old = current_vehicle(session, driver)
        if old is not None:
            old.active = False
        session.add(_vehicle(driver, body.vehicle))
    session.flush()
    return driver


def set_status(session: Session, driver: Driver, status: DriverStatus) -> Driver:
    """An operator's decision (deactivation included)."""
    driver.status = status
    session.flush()
    return driver


@dataclass(frozen=True)
class CodeRequest:
    driver: Driver | None  # None: no account with that e-mail (answered the same way)
    code: str | None
    expires_in_s: int


def request_sign_in_code(
    session: Session, email: str, *, now: datetime, secret_key: str
) -> CodeRequest:
    """A fresh six-digit code for the account with this e-mail, for the caller to send.

    An unknown e-mail gets the same answer and no code, so the endpoint tells a prober
    nothing about who drives for the network."""
    driver = driver_by_email(session, email)
    if driver is None or driver.status is DriverStatus.DEACTIVATED:
        return CodeRequest(None, None, int(CODE_TTL.total_seconds()))
    code = access.new_sign_in_code(
        session, Principal.DRIVER, driver.id, now=now, secret_key=secret_key
    )
    return CodeRequest(driver, code, int(CODE_TTL.total_seconds()))


def send_sign_in_code(
    session: Session, email: str, *, now: datetime, secret_key: str
) -> CodeRequest:
    """A fresh code for the account with this e-mail, sent to that address in the same
    transaction (the message and the code commit together). Unknown e-mails: nothing sent,
    the same answer."""
    driver = driver_by_email(session, email)
    if driver is None or driver.status is DriverStatus.DEACTIVATED:
        return CodeRequest(None, None, int(CODE_TTL.total_seconds()))
    code = access.mail_sign_in_code(
        session,
        Principal.DRIVER,
        driver.id,
        email=driver.email,
        name=driver.name,
        now=now,
        secret_key=secret_key,
    )
    return CodeRequest(driver, code, int(CODE_TTL.total_seconds()))


def redeem_sign_in_code(
    session: Session, email: str, code: str, *, now: datetime, secret_key: str
) -> tuple[Driver | None, DomainError | None]:
    """The driver whose current code this is, or the refusal to raise after the caller has
    committed (so a wrong try counts)."""
    driver = driver_by_email(session, email)
    if driver is None or driver.status is DriverStatus.DEACTIVATED:
        return None, access.CodeRefused(
            "no sign-in code is waiting: ask for a new one", field="code"
        )
    refusal = access.redeem_sign_in_code(
        session, Principal.DRIVER, driver.id, code, now=now, secret_key=secret_key
    )
    return (None, refusal) if refusal else (driver, None)


def issue_session(session: Session, driver: Driver, *, now: datetime, page: bool) -> str:
    """A bearer token for the app (``page``: a cookie session that expires)."""
    return access.issue_token(
        session,
        Principal.DRIVER,
        driver.id,
        now=now,
        label="page session" if page else "app",
        ttl=PAGE_SESSION_TTL if page else None,
    ).plaintext


def authenticate(session: Session, token: str, *, now: datetime) -> Driver:
    """The driver behind a token; a deactivated account is refused even with a valid one."""
    driver = session.get(Driver, access.authenticate(session, token, Principal.DRIVER, now=now))
    if driver is None:
        raise access.NotSignedIn("the token is not valid; sign in again")
    if driver.status is DriverStatus.DEACTIVATED:
        raise DriverDeactivated("this account is deactivated; contact the operator")
    return driver


def _vehicle(driver: Driver, body: VehicleIn) -> Vehicle:
    return Vehicle(
        driver_id=driver.id,
        description=body.description,
        plate=body.plate,
        capacity_cm3=body.cargo_litres * 1000,
        max_weight_g=body.payload_kg * 1000,
    )
