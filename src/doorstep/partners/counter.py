"""Counter pick-up: a parcel waits at the store for its shopper, who shows a six-digit code or
a barcode; the clerk hands it over by either.

The code and the barcode are derived from the row's random ``nonce`` with the process's secret
key (HMAC), so the shopper's page and messages can show them again while the database alone
gives none away; only the barcode's digest is stored, to find the parcel from a scan. A wrong
code counts even though the request fails (the caller commits, then raises the refusal); the
fifth locks the parcel until an operator unlocks it (``doorstep partners unlock``). Wrong codes
are also limited per store (``DOORSTEP_STORE_WRONG_CODES_PER_HOUR``), and a parcel of another
store answers exactly as a parcel unknown here (404): a counter learns nothing about parcels
that are not its own. Uncollected by ``collect_by`` (``DOORSTEP_STORE_COUNTER_DAYS`` after it
came to the counter), a parcel joins the next run back to the station (a periodic job).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.drivers.road.load import local_zone, package_by_code
from doorstep.errors import DomainError, InvalidInput, NotFound
from doorstep.models import (
    BackToStation,
    CounterChoice,
    CounterCodeAttempt,
    CounterParcel,
    ExceptionKind,
    ExceptionStatus,
    Node,
    OpsException,
    Order,
    Package,
    PartnerStore,
)
from doorstep.notifications import milestones
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.partners.accounts import Staff
from doorstep.partners.schemas import CounterParcelOut, HandOverIn, HandOverOut
from doorstep.promise import rules

CODE_TRIES = 5
SYSTEM_ACTOR = "doorstep"


class CounterParcelNotFound(NotFound):
    code = "counter_parcel_not_found"


class CounterParcelCollected(DomainError):
    status = 409
    code = "counter_parcel_collected"


class PickupCodeWrong(DomainError):
    status = 409
    code = "pickup_code_wrong"


class PickupCodeLocked(DomainError):
    status = 423
    code = "pickup_code_locked"


class CounterCodesLimited(DomainError):
    status = 429
    code = "counter_codes_rate_limited"


class HandOverNeedsCode(InvalidInput):
    code = "hand_over_needs_code"


@dataclass(frozen=True)
class HoldSettings:
    """What keeping a parcel at the counter needs from the process's settings."""

    secret_key: str
    counter_days: int  # DOORSTEP_STORE_COUNTER_DAYS
    public_url: str  # where the shopper's tracking link starts


def chosen_counter(session: Session, package: Package) -> int | None:
    """The partner store whose counter the shopper chose for ``package`` (None: delivery)."""
    return session.scalar(
        select(CounterChoice.partner_store_id).where(CounterChoice.package_id == package.id)
    )


@dataclass(frozen=True)
class CounterStore:
    """A partner store's counter as a shopper is told it."""

    code: str
    name: str
    address: str
    hours: str


def counter_store(session: Session, store_id: int) -> CounterStore:
    store = session.get_one(PartnerStore, store_id)
    node = session.get_one(Node, store_id)
    return CounterStore(node.code, node.name, node.address or node.name, hours_text(store))


@dataclass(frozen=True)
class Pickup:
    """What the shopper shows at the counter."""

    code: str
    barcode: str


def pickup_of(row: CounterParcel, *, secret_key: str) -> Pickup:
    """The row's code and barcode (the shopper's page and messages show them)."""
    digest = hmac.new(
        secret_key.encode(), f"counter:{row.package_id}:{row.nonce}".encode(), hashlib.sha256
    ).digest()
    code = f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"
    barcode = "DS" + digest[8:20].hex().upper()
    return Pickup(code, barcode)


def hold(
    session: Session,
    node: Node,
    package: Package,
    *,
    now: datetime,
    by: str,
    secret_key: str,
    counter_days: int,
    public_url: str,
) -> CounterParcel:
    """Keep ``package`` (already ``at_partner_store``) at the counter for its shopper, and tell
    the shopper the code (the message commits with the hold)."""
    row = session.get(CounterParcel, package.id)
    if row is None:
        row = CounterParcel(
            package_id=package.id,
            partner_store_id=node.id,
            nonce=secrets.token_hex(16),
            barcode_hash="",
            attempts=0,
            ready_at=now,
            collect_by=now + timedelta(days=counter_days),
        )
        row.barcode_hash = _digest(pickup_of(row, secret_key=secret_key).barcode)
        session.add(row)
        session.flush()
    _tell_shopper(session, node, package, row, now=now, secret_key=secret_key, url=public_url)
    return row


def waiting(session: Session, staff: Staff) -> list[CounterParcelOut]:
    """The parcels at this counter for their shoppers, oldest first."""
    rows = session.execute(
        select(CounterParcel, Package.tracking_code, Order.recipient_name)
        .join(Package, Package.id == CounterParcel.package_id)
        .join(Order, Order.id == Package.order_id)
        .where(
            CounterParcel.partner_store_id == staff.node.id,
            CounterParcel.handed_over_at.is_(None),
            CounterParcel.overdue_at.is_(None),
        )
        .order_by(CounterParcel.ready_at, CounterParcel.package_id)
    )
    return [
        CounterParcelOut(
            code=code,
            recipient=recipient,
            ready_at=row.ready_at,
            collect_by=row.collect_by,
            attempts=row.attempts,
            locked=row.locked_at is not None,
        )
        for row, code, recipient in rows
    ]


def hand_over(
    session: Session,
    staff: Staff,
    body: HandOverIn,
    *,
    now: datetime,
    secret_key: str,
    wrong_per_hour: int,
) -> HandOverOut | DomainError:
    """Hand the parcel over, or return the refusal for the caller to raise once it has
    committed the wrong try; any other refusal is raised having written nothing."""
    by_barcode = body.barcode is not None
    if by_barcode == (body.pickup_code is not None) or (not by_barcode and body.package is None):
        raise HandOverNeedsCode(
            "give the shopper's six-digit code with the parcel's label code, or scan the "
            "shopper's barcode",
            field="pickup_code",
        )
    wrong = session.scalar(
        select(func.count())
        .select_from(CounterCodeAttempt)
        .where(
            CounterCodeAttempt.partner_store_id == staff.node.id,
            CounterCodeAttempt.right.is_(False),
            CounterCodeAttempt.at > now - timedelta(hours=1),
        )
    )
    if (wrong or 0) >= wrong_per_hour:
        raise CounterCodesLimited(
            f"{wrong} wrong codes at this counter in the last hour: wait before trying again",
            wrong=wrong,
            limit=wrong_per_hour,
        )
    row = _row(session, staff, body)
    if row is None:
        _attempt(session, staff, None, right=False, now=now)
        return CounterParcelNotFound(
            "no parcel waits at this counter for that code",
            field="barcode" if by_barcode else "package",
        )
    package = session.get_one(Package, row.package_id)
    if row.handed_over_at is not None:
        raise CounterParcelCollected(
            f"parcel {package.tracking_code} was handed over already",
            code=package.tracking_code,
        )
    if row.locked_at is not None:
        raise _locked(package)
    if not by_barcode:
        expected = pickup_of(row, secret_key=secret_key).code
        assert body.pickup_code is not None
        if not hmac.compare_digest(expected, body.pickup_code):
            row.attempts += 1
            _attempt(session, staff, package, right=False, now=now)
            if row.attempts >= CODE_TRIES:
                row.locked_at = now
                session.add(
                    OpsException(
                        kind=ExceptionKind.PIN_LOCKED,
                        package_id=package.id,
                        node_id=staff.node.id,
                        detail=f"five wrong pick-up codes for {package.tracking_code} at "
                        f"{staff.node.name}: check who asks, then unlock it",
                        data={"code": package.tracking_code, "counter": True},
                        opened_at=now,
                        opened_by=staff.actor,
                    )
                )
                session.flush()
                return _locked(package)
            session.flush()
            left = CODE_TRIES - row.attempts
            return PickupCodeWrong(
                f"that code is not right ({left} {'try' if left == 1 else 'tries'} left)",
                field="pickup_code",
                tries_left=left,
            )
    transition_package(
        session,
        package,
        PackageState.PICKED_UP_AT_COUNTER,
        actor=staff.actor,
        reason="handed_over",
        data={
            "store": staff.node.code,
            "how": "barcode" if by_barcode else "code",
            "pay_cents": staff.store.pay_per_package_cents,
        },
        at=now,
    )
    row.handed_over_at, row.handed_over_by = now, staff.actor
    _attempt(session, staff, package, right=True, now=now)
    session.flush()
    order = session.get_one(Order, package.order_id)
    return HandOverOut(
        code=package.tracking_code,
        recipient=order.recipient_name,
        state=package.state,
        handed_over_at=now,
        how="barcode" if by_barcode else "code",
    )


def unlock(session: Session, code: str, *, now: datetime, by: str) -> CounterParcel:
    """An operator's decision after five wrong codes: the tries start again."""
    package = package_by_code(session, code)
    row = session.get(CounterParcel, package.id)
    if row is None:
        raise CounterParcelNotFound(f"parcel {code} is not held at a counter", field="package")
    row.attempts, row.locked_at = 0, None
    for exception in session.scalars(
        select(OpsException).where(
            OpsException.package_id == package.id,
            OpsException.kind == ExceptionKind.PIN_LOCKED,
            OpsException.status == ExceptionStatus.OPEN,
        )
    ):
        exception.status = ExceptionStatus.RESOLVED
        exception.resolved_at, exception.resolved_by = now, by
        exception.resolution = "unlocked"
    session.flush()
    return row


def send_back_overdue(session: Session, now: datetime) -> int:
    """Parcels past their collect-by date join the next run back to the station (the
    operator is told); returns how many. Safe to run again."""
    rows = list(
        session.scalars(
            select(CounterParcel)
            .where(
                CounterParcel.handed_over_at.is_(None),
                CounterParcel.overdue_at.is_(None),
                CounterParcel.collect_by <= now,
            )
            .order_by(CounterParcel.package_id)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.overdue_at = now
        package = session.get_one(Package, row.package_id)
        session.add(
            BackToStation(
                partner_store_id=row.partner_store_id,
                package_id=row.package_id,
                reason="uncollected",
                added_at=now,
                added_by=SYSTEM_ACTOR,
            )
        )
        session.add(
            OpsException(
                kind=ExceptionKind.COUNTER_OVERDUE,
                package_id=row.package_id,
                node_id=row.partner_store_id,
                detail=f"parcel {package.tracking_code} was not collected by "
                f"{row.collect_by:%Y-%m-%d}: it rides back to the station on the next run",
                data={"code": package.tracking_code},
                opened_at=now,
                opened_by=SYSTEM_ACTOR,
            )
        )
    session.flush()
    return len(rows)


def hours_text(store: PartnerStore) -> str:
    """``{"mon": ["08:00", "18:00"], …}`` → ``Mon-Sat 08:00-18:00`` (runs of equal days)."""
    return rules.hours_text(store.opening_hours)


def _row(session: Session, staff: Staff, body: HandOverIn) -> CounterParcel | None:
    if body.barcode is not None:
        return session.scalar(
            select(CounterParcel)
            .where(
                CounterParcel.barcode_hash == _digest(body.barcode.strip().upper()),
                CounterParcel.partner_store_id == staff.node.id,
            )
            .with_for_update()
        )
    assert body.package is not None
    return session.scalar(
        select(CounterParcel)
        .join(Package, Package.id == CounterParcel.package_id)
        .where(
            Package.tracking_code == body.package.strip(),
            CounterParcel.partner_store_id == staff.node.id,
        )
        .with_for_update()
    )


def _attempt(
    session: Session, staff: Staff, package: Package | None, *, right: bool, now: datetime
) -> None:
    session.add(
        CounterCodeAttempt(
            partner_store_id=staff.node.id,
            package_id=package.id if package else None,
            staff_id=staff.user.id,
            right=right,
            at=now,
        )
    )
    session.flush()


def _locked(package: Package) -> PickupCodeLocked:
    return PickupCodeLocked(
        f"too many wrong codes for {package.tracking_code}: it stays locked until the "
        "operator unlocks it",
        field="pickup_code",
        code=package.tracking_code,
    )


def _digest(barcode: str) -> str:
    return hashlib.sha256(barcode.encode()).hexdigest()


def _tell_shopper(
    session: Session,
    node: Node,
    package: Package,
    row: CounterParcel,
    *,
    now: datetime,
    secret_key: str,
    url: str,
) -> None:
    """The shopper's "ready at the counter" message, through the one place that sends the
    milestones (the merchant's choice of milestones and channels, the tracking link)."""
    store = session.get_one(PartnerStore, node.id)
    pickup = pickup_of(row, secret_key=secret_key)
    milestones.ready_at_counter(
        session,
        package.id,
        pickup_code=pickup.code,
        pickup_barcode=pickup.barcode,
        store_name=node.name,
        store_address=node.address or node.name,
        store_hours=hours_text(store),
        pickup_by=f"{row.collect_by.astimezone(local_zone(node)):%a %d %b}",
        public_url=url,
        now=now,
    )
