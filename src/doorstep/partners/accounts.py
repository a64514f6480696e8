"""Partner-store staff: the operator's invitation, sign-in by a one-time code, and the token
that identifies the staff's phone or the counter's browser afterwards (as drivers do it, with
the shared `access` service)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from doorstep.access import service as access
from doorstep.access.service import CODE_TTL
from doorstep.errors import DomainError, NotFound
from doorstep.models import Node, NodeKind, PartnerStaff, PartnerStore, Principal

# A counter's page session lasts a month; an API token until it is revoked.
PAGE_SESSION_TTL = timedelta(days=30)


class StaffEmailTaken(DomainError):
    status = 409
    code = "staff_email_taken"


class PartnerStoreNotFound(NotFound):
    code = "partner_store_not_found"


class StaffDeactivated(DomainError):
    status = 403
    code = "staff_deactivated"


@dataclass(frozen=True)
class Staff:
    """A signed-in staff member with the store they work at."""

    user: PartnerStaff
    store: PartnerStore
    node: Node

    @property
    def actor(self) -> str:
        """Who did it, in events and proofs: the store first, so a statement finds its own."""
        return f"store:{self.node.id}/staff:{self.user.id}"


def store_actor_prefix(node_id: int) -> str:
    return f"store:{node_id}/"


@dataclass(frozen=True)
class Invited:
    staff: PartnerStaff
    token: str  # a bearer token, shown once


def partner_node(session: Session, code: str) -> Node:
    node = session.scalar(
        select(Node)
        .where(Node.code == code, Node.kind == NodeKind.PARTNER_STORE)
        .options(selectinload(Node.partner_store))
    )
    if node is None or node.partner_store is None:
        raise PartnerStoreNotFound(f"no partner store with code '{code}'", field="node_code")
    return node


def invite(
    session: Session,
    node_code: str,
    *,
    email: str,
    name: str,
    now: datetime,
    phone: str | None = None,
    pay_per_package_cents: int | None = None,
) -> Invited:
    """The operator invites a store's staff member: the account and a bearer token (the store
    finishes its onboarding signed in). ``pay_per_package_cents``: what the operator offers."""
    node = partner_node(session, node_code)
    assert node.partner_store is not None
    if pay_per_package_cents is not None:
        node.partner_store.pay_per_package_cents = pay_per_package_cents
    staff = PartnerStaff(
        partner_store_id=node.id, name=name, email=email.strip().lower(), phone=phone
    )
    savepoint = session.begin_nested()
    try:
        session.add(staff)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise StaffEmailTaken(
            f"a staff account already uses {email}", field="email", email=email
        ) from None
    savepoint.commit()
    token = access.issue_token(
        session, Principal.PARTNER_STAFF, staff.id, now=now, label="invitation"
    ).plaintext
    return Invited(staff, token)


def staff_by_email(session: Session, email: str) -> PartnerStaff | None:
    return session.scalar(select(PartnerStaff).where(PartnerStaff.email == email.strip().lower()))


def send_sign_in_code(session: Session, email: str, *, now: datetime, secret_key: str) -> int:
    """Mail a fresh code to the staff account with this e-mail; an unknown e-mail gets the
    same answer (seconds the code lasts) and nothing is sent."""
    staff = staff_by_email(session, email)
    if staff is not None and staff.active:
        access.mail_sign_in_code(
            session,
            Principal.PARTNER_STAFF,
            staff.id,
            email=staff.email,
            name=staff.name,
            now=now,
            secret_key=secret_key,
        )
    return int(CODE_TTL.total_seconds())


def redeem_sign_in_code(
    session: Session, email: str, code: str, *, now: datetime, secret_key: str, page: bool
) -> tuple[str | None, DomainError | None]:
    """A token for the account whose current code this is, or the refusal to raise after the
    caller has committed (a wrong try counts)."""
    staff = staff_by_email(session, email)
    if staff is None or not staff.active:
        return None, access.CodeRefused(
            "no sign-in code is waiting: ask for a new one", field="code"
        )
    refusal = access.redeem_sign_in_code(
        session, Principal.PARTNER_STAFF, staff.id, code, now=now, secret_key=secret_key
    )
    if refusal is not None:
        return None, refusal
    token = access.issue_token(
        session,
        Principal.PARTNER_STAFF,
        staff.id,
        now=now,
        label="page session" if page else "app",
        ttl=PAGE_SESSION_TTL if page else None,
    ).plaintext
    return token, None


def authenticate(session: Session, token: str, *, now: datetime) -> Staff:
    """The staff member behind a token, with the store; a deactivated account is refused."""
    staff_id = access.authenticate(session, token, Principal.PARTNER_STAFF, now=now)
    user = session.get(PartnerStaff, staff_id)
    if user is None:
        raise access.NotSignedIn("the token is not valid; sign in again")
    if not user.active:
        raise StaffDeactivated("this staff account is deactivated; contact the operator")
    store = session.get_one(PartnerStore, user.partner_store_id)
    return Staff(user, store, session.get_one(Node, user.partner_store_id))
