"""The driver behind a request: a bearer token from the app, or the page session's cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from doorstep.access.service import NotSignedIn, has_shape_of
from doorstep.api.deps import DbSession, Now
from doorstep.api.sessions import CSRF_HEADER as CSRF_HEADER
from doorstep.api.sessions import CsrfHeaderMissing as CsrfHeaderMissing
from doorstep.api.sessions import token_from
from doorstep.drivers import accounts
from doorstep.models import Driver, Principal

# The driver pages keep their session in this cookie (HttpOnly, SameSite=Lax).
SESSION_COOKIE = "doorstep_driver"

_any_token = token_from(SESSION_COOKIE, "A driver's token (drv_…)")


def driver_token(token: Annotated[str, Depends(_any_token)]) -> str:
    """The app's bearer token, else the page session's cookie (see `api.sessions.token_from`).

    What is not shaped like a driver's token (a merchant's key, the operator's token) is
    refused here, before any body is read; the token itself is checked by the endpoint."""
    return _driver_shaped(token)


def _driver_shaped(token: str) -> str:
    if not has_shape_of(token, Principal.DRIVER):
        raise NotSignedIn("the token is not valid; sign in again")
    return token


def _current_driver(
    session: DbSession, now: Now, token: Annotated[str, Depends(driver_token)]
) -> Driver:
    return accounts.authenticate(session, token, now=now)


CurrentDriver = Annotated[Driver, Depends(_current_driver)]
