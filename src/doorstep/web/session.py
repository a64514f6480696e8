"""Page sessions of the consoles: a signed, HttpOnly, SameSite=Lax cookie.

The cookie holds the account's ids, signed with ``settings.secret_key`` (a salt per console, so
one console's cookie means nothing to another) and stamped with the time of sign-in; it is
refused after ``MAX_AGE``. Every page re-reads the account, so deleting or deactivating it ends
its sessions at once. `PageSession` is the cookie; the merchant console's functions below and
the operator's console (``web/ops``) each use one.
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


@dataclass(frozen=True)
class PageSession:
    """One console's session cookie: its name, the path it is sent to, its signing salt."""

    cookie: str
    path: str
    salt: str
    max_age: int = MAX_AGE

    def _serializer(self, settings: Settings) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(settings.secret_key, salt=self.salt)

    def sign_in(
        self, response: Response, request: Request, settings: Settings, ids: dict[str, int]
    ) -> None:
        response.set_cookie(
            self.cookie,
            self._serializer(settings).dumps(ids),
            max_age=self.max_age,
            path=self.path,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    def sign_out(self, response: Response) -> None:
        response.delete_cookie(self.cookie, path=self.path, httponly=True, samesite="lax")

    def read(self, request: Request, settings: Settings) -> dict[str, int] | None:
        """The ids the cookie carries, or None (no cookie, bad signature, too old)."""
        value = request.cookies.get(self.cookie)
        if not value:
            return None
        try:
            data = self._serializer(settings).loads(value, max_age=self.max_age)
            return {str(k): int(v) for k, v in dict(data).items()}
        except (BadSignature, TypeError, ValueError):
            return None


MERCHANT_CONSOLE = PageSession(COOKIE, COOKIE_PATH, _SALT)


def sign_in(response: Response, request: Request, settings: Settings, user: MerchantUser) -> None:
    MERCHANT_CONSOLE.sign_in(response, request, settings, {"u": user.id, "m": user.merchant_id})


def sign_out(response: Response) -> None:
    MERCHANT_CONSOLE.sign_out(response)


def current_user(request: Request, session: Session, settings: Settings) -> ConsoleUser | None:
    """The signed-in console user, or None (no cookie, bad signature, too old, user gone)."""
    data = MERCHANT_CONSOLE.read(request, settings)
    if data is None or "u" not in data or "m" not in data:
        return None
    user_id, merchant_id = data["u"], data["m"]
    found = merchants.active_console_user(session, user_id, merchant_id)
    if found is None:
        return None
    email, name = found
    return ConsoleUser(user_id, email, merchant_id, name)
