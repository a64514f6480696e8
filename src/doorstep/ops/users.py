"""Operator accounts: create, sign in (password), API tokens (issue, list, revoke), and who is
behind a request.

Tokens are the shared `doorstep.access` tokens of principal ``operator`` (``opr_…``, kept as
a digest). The account is read again on every request: deactivating it, or changing its role,
takes effect at once for its tokens and page sessions alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.access import service as access
from doorstep.errors import DomainError, InvalidInput, NotFound
from doorstep.models import AccessToken, OperatorRole, OperatorUser, Principal
from doorstep.ops import audit
from doorstep.ops.audit import Actor

_passwords = PasswordHash.recommended()
MIN_PASSWORD = 10


class OperatorEmailTaken(DomainError):
    status = 409
    code = "operator_email_taken"


class OperatorNotFound(NotFound):
    code = "operator_not_found"


class TokenNotFound(NotFound):
    code = "operator_token_not_found"


@dataclass(frozen=True)
class Operator:
    """The operator behind a request: the account's id (None for the development token),
    what to call them in the audit log, and their role."""

    user_id: int | None
    label: str
    role: OperatorRole

    @property
    def actor(self) -> Actor:
        return Actor(self.label, self.user_id)


@dataclass(frozen=True)
class NewOperator:
    user: OperatorUser
    token: str  # shown once


@dataclass(frozen=True)
class TokenView:
    id: int
    user_id: int
    email: str
    prefix: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def normal_email(email: str) -> str:
    address = email.strip().lower()
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or len(address) > 320:
        raise InvalidInput(f"'{email}' is not an e-mail address", field="email")
    return address


def _picture(user: OperatorUser) -> dict[str, object]:
    return {"email": user.email, "name": user.name, "role": user.role.value, "active": user.active}


def create_operator(
    session: Session,
    email: str,
    role: OperatorRole,
    *,
    name: str | None,
    password: str | None,
    by: Actor,
    now: datetime,
) -> NewOperator:
    """A new account with its first API token (returned once, in plain text)."""
    address = normal_email(email)
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    if session.scalar(select(OperatorUser.id).where(OperatorUser.email == address)) is not None:
        raise OperatorEmailTaken(f"'{address}' already has an operator account", field="email")
    user = OperatorUser(
        email=address,
        name=(name or "").strip() or address.split("@")[0],
        role=role,
        password_hash=_passwords.hash(password) if password else None,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    issued = access.issue_token(session, Principal.OPERATOR, user.id, now=now, label="api")
    audit.record(
        session, by, "users.create", "operator_user", user.id, at=now, after=_picture(user)
    )
    return NewOperator(user, issued.plaintext)


def get_operator(session: Session, user_id: int) -> OperatorUser:
    user = session.get(OperatorUser, user_id)
    if user is None:
        raise OperatorNotFound(f"no operator {user_id}", field="user_id", user_id=user_id)
    return user


def find_by_email(session: Session, email: str) -> OperatorUser:
    user = session.scalar(select(OperatorUser).where(OperatorUser.email == email.strip().lower()))
    if user is None:
        raise OperatorNotFound(f"no operator '{email}'", field="email")
    return user


def list_operators(session: Session) -> Sequence[OperatorUser]:
    return session.scalars(select(OperatorUser).order_by(OperatorUser.id)).all()


def update_operator(
    session: Session,
    user_id: int,
    *,
    role: OperatorRole | None,
    active: bool | None,
    name: str | None,
    by: Actor,
    now: datetime,
) -> OperatorUser:
    user = get_operator(session, user_id)
    before = _picture(user)
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
    if name is not None and name.strip():
        user.name = name.strip()
    session.flush()
    audit.record(
        session,
        by,
        "users.update",
        "operator_user",
        user.id,
        at=now,
        before=before,
        after=_picture(user),
    )
    return user


def set_password(
    session: Session, user_id: int, password: str, *, by: Actor, now: datetime
) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    user = get_operator(session, user_id)
    user.password_hash = _passwords.hash(password)
    session.flush()
    # The audit keeps that it changed, never the hash.
    audit.record(session, by, "users.password", "operator_user", user.id, at=now)


def verify_login(session: Session, email: str, password: str) -> OperatorUser | None:
    """The active account with this e-mail and password, else None (same work either way)."""
    user = session.scalar(select(OperatorUser).where(OperatorUser.email == email.strip().lower()))
    if user is None or user.password_hash is None or not user.active:
        _passwords.hash(password)  # the timing says nothing about the account
        return None
    return user if _passwords.verify(password, user.password_hash) else None


def operator_of(user: OperatorUser) -> Operator:
    return Operator(user.id, user.email, user.role)


def active_operator(session: Session, user_id: int) -> Operator | None:
    user = session.get(OperatorUser, user_id)
    if user is None or not user.active:
        return None
    return operator_of(user)


def authenticate(session: Session, token: str, *, now: datetime) -> Operator:
    """The active operator behind an ``opr_…`` token, else `access.NotSignedIn`."""
    user_id = access.authenticate(session, token, Principal.OPERATOR, now=now)
    found = active_operator(session, user_id)
    if found is None:
        raise access.NotSignedIn("the token is not valid; sign in again")
    return found


def issue_token(
    session: Session, user_id: int, *, label: str | None, by: Actor, now: datetime
) -> str:
    user = get_operator(session, user_id)
    issued = access.issue_token(session, Principal.OPERATOR, user.id, now=now, label=label)
    audit.record(
        session,
        by,
        "tokens.issue",
        "operator_token",
        issued.token.id,
        at=now,
        after={"user_id": user.id, "prefix": issued.token.prefix, "label": label},
    )
    return issued.plaintext


def list_tokens(session: Session, user_id: int | None = None) -> list[TokenView]:
    query = (
        select(AccessToken, OperatorUser.email)
        .join(OperatorUser, OperatorUser.id == AccessToken.subject_id)
        .where(AccessToken.principal == Principal.OPERATOR)
        .order_by(AccessToken.id)
    )
    if user_id is not None:
        query = query.where(AccessToken.subject_id == user_id)
    return [
        TokenView(
            t.id,
            t.subject_id,
            email,
            t.prefix,
            t.label,
            t.created_at,
            t.last_used_at,
            t.revoked_at,
        )
        for t, email in session.execute(query).all()
    ]


def revoke_token(session: Session, token_id: int, *, by: Actor, now: datetime) -> TokenView:
    """Revoke an operator's token by its id or its public prefix (``opr_…``)."""
    token = session.scalar(
        select(AccessToken).where(
            AccessToken.principal == Principal.OPERATOR, AccessToken.id == token_id
        )
    )
    if token is None:
        raise TokenNotFound(f"no operator token {token_id}", field="token_id")
    return _revoke(session, token, by=by, now=now)


def revoke_token_by_prefix(session: Session, prefix: str, *, by: Actor, now: datetime) -> TokenView:
    token = session.scalar(
        select(AccessToken).where(
            AccessToken.principal == Principal.OPERATOR, AccessToken.prefix == prefix.strip()
        )
    )
    if token is None:
        raise TokenNotFound(f"no operator token '{prefix}'", field="token")
    return _revoke(session, token, by=by, now=now)


def _revoke(session: Session, token: AccessToken, *, by: Actor, now: datetime) -> TokenView:
    before = {"revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
        audit.record(
            session,
            by,
            "tokens.revoke",
            "operator_token",
            token.id,
            at=now,
            before=before,
            after={"revoked_at": now.isoformat(), "prefix": token.prefix},
        )
    [view] = [t for t in list_tokens(session, token.subject_id) if t.id == token.id]
    return view
