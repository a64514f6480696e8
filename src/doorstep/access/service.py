"""Tokens and one-time sign-in codes, for every kind of account but merchants' API keys.

A token reads ``<kind>_<lookup>_<secret>`` (``drv_`` a driver, ``stf_`` partner staff, ``opr_``
an operator); ``<kind>_<lookup>`` finds the row, the whole token is kept only as a SHA-256
digest. Tokens carry 256 random bits, so a fast digest is as safe as a slow password hash and
keeps the check off every request's critical path.

A sign-in code is six digits, good for ten minutes and five tries; only its digest is kept
(salted with the row's id and the process's secret key, since six digits alone are easy to
enumerate). The caller sends the code (notifications) in the same transaction that creates it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from doorstep.errors import DomainError
from doorstep.models import AccessToken, Principal, SignInCode

TOKEN_PREFIX = {Principal.DRIVER: "drv", Principal.PARTNER_STAFF: "stf", Principal.OPERATOR: "opr"}
_TOKEN = re.compile(r"^(?P<prefix>(?:drv|stf|opr)_[0-9a-f]{12})_[A-Za-z0-9_-]{43}$")
CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 5


class NotSignedIn(DomainError):
    status = 401
    code = "not_authenticated"


class CodeRefused(DomainError):
    status = 401
    code = "sign_in_code_refused"


class TooManyCodeTries(DomainError):
    status = 429
    code = "sign_in_code_locked"


@dataclass(frozen=True)
class IssuedToken:
    plaintext: str  # shown once, never stored
    token: AccessToken


def issue_token(
    session: Session,
    principal: Principal,
    subject_id: int,
    *,
    now: datetime,
    label: str | None = None,
    ttl: timedelta | None = None,
) -> IssuedToken:
    prefix = f"{TOKEN_PREFIX[principal]}_{secrets.token_hex(6)}"
    plaintext = f"{prefix}_{secrets.token_urlsafe(32)}"
    token = AccessToken(
        principal=principal,
        subject_id=subject_id,
        prefix=prefix,
        secret_hash=_digest(plaintext),
        label=label,
        created_at=now,
        expires_at=now + ttl if ttl else None,
    )
    session.add(token)
    session.flush()
    return IssuedToken(plaintext, token)


def has_shape_of(plaintext: str, principal: Principal) -> bool:
    """Whether ``plaintext`` looks like a token of ``principal`` (no database look-up): what a
    face may check before reading a request's body, so another kind of credential is a 401
    at once rather than a 422 about a body it could never have sent."""
    match = _TOKEN.match(plaintext)
    return match is not None and match["prefix"].startswith(TOKEN_PREFIX[principal] + "_")


def authenticate(session: Session, plaintext: str, principal: Principal, *, now: datetime) -> int:
    """The subject id of a valid, unexpired, unrevoked token of ``principal``; else
    `NotSignedIn` (the same answer whatever was wrong, so it tells a prober nothing)."""
    match = _TOKEN.match(plaintext)
    refused = NotSignedIn("the token is not valid; sign in again")
    if match is None or not has_shape_of(plaintext, principal):
        raise refused
    token = session.scalar(select(AccessToken).where(AccessToken.prefix == match["prefix"]))
    if (
        token is None
        or token.principal is not principal
        or not hmac.compare_digest(_digest(plaintext), token.secret_hash)
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
    ):
        raise refused
    return token.subject_id


def revoke_token(session: Session, plaintext: str, *, now: datetime) -> None:
    """Sign a token out (unknown or malformed tokens: nothing to do). The whole token must
    match: its lookup part alone (which operators' token lists show) signs no one out."""
    match = _TOKEN.match(plaintext)
    if match is None:
        return
    session.execute(
        update(AccessToken)
        .where(
            AccessToken.prefix == match["prefix"],
            AccessToken.secret_hash == _digest(plaintext),
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


def new_sign_in_code(
    session: Session, principal: Principal, subject_id: int, *, now: datetime, secret_key: str
) -> str:
    """A fresh six-digit code for the account (earlier unused codes stop working)."""
    session.execute(
        update(SignInCode)
        .where(
            SignInCode.principal == principal,
            SignInCode.subject_id == subject_id,
            SignInCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = SignInCode(
        principal=principal,
        subject_id=subject_id,
        code_hash="",
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(row)
    session.flush()
    row.code_hash = _code_digest(row.id, code, secret_key)
    return code


def mail_sign_in_code(
    session: Session,
    principal: Principal,
    subject_id: int,
    *,
    email: str,
    name: str,
    now: datetime,
    secret_key: str,
) -> str:
    """A fresh code for the account, e-mailed to ``email`` in the caller's transaction (the
    message and the code commit together); returns the code."""
    from doorstep.models import MessageChannel
    from doorstep.notifications import service as notifications

    code = new_sign_in_code(session, principal, subject_id, now=now, secret_key=secret_key)
    notifications.send(
        session,
        channel=MessageChannel.EMAIL,
        to=email,
        template="sign_in_code",
        context={
            "code": code,
            "valid_minutes": int(CODE_TTL.total_seconds()) // 60,
            "recipient_name": name.split(" ")[0],
        },
        now=now,
    )
    return code


def masked(email: str) -> str:
    """``ada@example.com`` → ``a**@example.com``: enough to recognise, not to harvest."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}{'*' * max(2, len(name) - 1)}@{domain}"


def redeem_sign_in_code(
    session: Session,
    principal: Principal,
    subject_id: int,
    code: str,
    *,
    now: datetime,
    secret_key: str,
) -> DomainError | None:
    """Accept the account's current code once (None), or say why not. A wrong code uses up
    one of its five tries; a sixth try is refused even with the right code.

    The refusal is returned, not raised: the caller commits first, so a wrong try counts even
    though the request fails, then raises it.
    """
    row = session.scalar(
        select(SignInCode)
        .where(
            SignInCode.principal == principal,
            SignInCode.subject_id == subject_id,
            SignInCode.used_at.is_(None),
            SignInCode.expires_at > now,
        )
        .order_by(SignInCode.id.desc())
        .with_for_update()
    )
    if row is None:
        return CodeRefused("no sign-in code is waiting: ask for a new one", field="code")
    if row.attempts >= CODE_TRIES:
        return TooManyCodeTries("too many wrong codes: ask for a new one", field="code")
    if not hmac.compare_digest(row.code_hash, _code_digest(row.id, code.strip(), secret_key)):
        row.attempts += 1
        left = CODE_TRIES - row.attempts
        return CodeRefused(
            f"that code is not right ({left} {'try' if left == 1 else 'tries'} left)",
            field="code",
            tries_left=left,
        )
    row.used_at = now
    return None


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _code_digest(row_id: int, code: str, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), f"{row_id}:{code}".encode(), hashlib.sha256).hexdigest()
