"""The token behind an app's request: a bearer token (a phone app, a script), or the page
session's cookie with the header only the app's own pages send on a change.

Every app with pages and an API (drivers, partner stores) takes its token this way::

    store_token = token_from(SESSION_COOKIE, "A partner store staff token (stf_…)")
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from doorstep.access.service import NotSignedIn, has_shape_of
from doorstep.errors import DomainError
from doorstep.models import Principal

# A browser sends a cookie with any site's form; it sends this header only from a script of
# the page's own origin (a cross-site script would need a CORS preflight nobody answers).
CSRF_HEADER = "X-Doorstep-Csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfHeaderMissing(DomainError):
    status = 403
    code = "csrf_header_missing"


# No ``from __future__ import annotations`` here: FastAPI reads the closure's annotations,
# and as strings they would name ``bearer``, which only the closure knows.


def token_from(
    cookie: str, description: str, principal: Principal | None = None
) -> Callable[..., str]:
    """A dependency that answers the request's token: the bearer token, else the cookie
    ``cookie`` (with `CSRF_HEADER` on anything that changes state). With ``principal``, a
    bearer token not shaped like that principal's (a merchant's key, another app's token) is
    refused at once, before any body is read; the token itself is checked by the endpoint."""
    bearer = HTTPBearer(auto_error=False, description=description)

    def token(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if credentials is not None:
            if principal is not None and not has_shape_of(credentials.credentials, principal):
                raise NotSignedIn("the token is not valid; sign in again")
            return credentials.credentials
        value = request.cookies.get(cookie)
        if value:
            if request.method not in _SAFE_METHODS and not request.headers.get(CSRF_HEADER):
                raise CsrfHeaderMissing(
                    f"a change made with the page session's cookie needs the {CSRF_HEADER} header"
                )
            return value
        raise NotSignedIn("missing 'Authorization: Bearer <token>' header; sign in first")

    return token
