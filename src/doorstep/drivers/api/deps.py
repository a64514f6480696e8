"""The driver behind a request: a bearer token from the app, or the page session's cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from doorstep.access.service import NotSignedIn
from doorstep.api.deps import DbSession, Now
from doorstep.drivers import accounts
from doorstep.models import Driver

# The driver pages keep their session in this cookie (HttpOnly, SameSite=Lax).
SESSION_COOKIE = "doorstep_driver"

_bearer = HTTPBearer(auto_error=False, description="A driver's token (drv_…)")


def driver_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The app's bearer token, else the page session's cookie."""
    if credentials is not None:
        return credentials.credentials
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie
    raise NotSignedIn("missing 'Authorization: Bearer <driver token>' header; sign in first")


def _current_driver(
    session: DbSession, now: Now, token: Annotated[str, Depends(driver_token)]
) -> Driver:
    return accounts.authenticate(session, token, now=now)


CurrentDriver = Annotated[Driver, Depends(_current_driver)]
