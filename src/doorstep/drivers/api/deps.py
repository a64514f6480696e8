"""The driver behind a request: a bearer token from the app, or the page session's cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from doorstep.access.service import NotSignedIn, has_shape_of
from doorstep.api.deps import DbSession, Now
from doorstep.drivers import accounts
from doorstep.errors import DomainError
from doorstep.models import Driver, Principal

# The driver pages keep their session in this cookie (HttpOnly, SameSite=Lax).
SESSION_COOKIE = "doorstep_driver"

_bearer = HTTPBearer(auto_error=False, description="A driver's token (drv_…)")


# A browser sends a cookie with any site's form; it sends this header only from a script of
# the page's own origin (a cross-site script would need a CORS preflight nobody answers).
CSRF_HEADER = "X-Doorstep-Csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfHeaderMissing(DomainError):
    status = 403
    code = "csrf_header_missing"


def driver_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The app's bearer token, else the page session's cookie (with the header that only the
    app's own pages send, on anything that changes state).

    What is not shaped like a driver's token (a merchant's key, the operator's token) is
    refused here, before any body is read; the token itself is checked by the endpoint."""
    if credentials is not None:
        return _driver_shaped(credentials.credentials)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        if request.method not in _SAFE_METHODS and not request.headers.get(CSRF_HEADER):
            raise CsrfHeaderMissing(
                f"a change made with the page session's cookie needs the {CSRF_HEADER} header"
            )
        return _driver_shaped(cookie)
    raise NotSignedIn("missing 'Authorization: Bearer <driver token>' header; sign in first")


def _driver_shaped(token: str) -> str:
    if not has_shape_of(token, Principal.DRIVER):
        raise NotSignedIn("the token is not valid; sign in again")
    return token


def _current_driver(
    session: DbSession, now: Now, token: Annotated[str, Depends(driver_token)]
) -> Driver:
    return accounts.authenticate(session, token, now=now)


CurrentDriver = Annotated[Driver, Depends(_current_driver)]
