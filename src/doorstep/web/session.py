"""The merchant console's sign-in: a signed, HttpOnly, SameSite=Lax cookie.

The cookie holds the user's and merchant's ids, signed with ``settings.secret_key`` and
stamped with the time of sign-in; it is refused after ``MAX_AGE``. Every page re-reads the user,
so deleting a console user ends its sessions at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from doorstep.merchants import service as merchants
from doorstep.models import MerchantUser
from doorstep.settings import Settings

COOKIE = "doorstep_console"
COOKIE_PATH = "/console"
MAX_AGE = 12 * 3600
_SALT = "doorstep.console.session"


@dataclass(frozen=True)
class ConsoleUser:
    user_id: int
    email: str
    merchant_id: int
    merchant_name: str


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_SALT)


def sign_in(response: Response, request: Request, settings: Settings, user: MerchantUser) -> None:
    value = _serializer(settings).dumps({"u": user.id, "m": user.merchant_id})
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax")


def current_user(request: Request, session: Session, settings: Settings) -> ConsoleUser | None:
    """The signed-in console user, or None (no cookie, bad signature, too old, user gone)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        data = _serializer(settings).loads(value, max_age=MAX_AGE)
        user_id, merchant_id = int(data["u"]), int(data["m"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    found = merchants.active_console_user(session, user_id, merchant_id)
    if found is None:
        return None
    email, name = found
    return ConsoleUser(user_id, email, merchant_id, name)
