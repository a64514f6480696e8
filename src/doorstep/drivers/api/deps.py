"""The driver behind a request: a bearer token from the app, or the page session's cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from doorstep.api.deps import DbSession, Now
from doorstep.api.sessions import CSRF_HEADER as CSRF_HEADER
from doorstep.api.sessions import CsrfHeaderMissing as CsrfHeaderMissing
from doorstep.api.sessions import token_from
from doorstep.drivers import accounts
from doorstep.models import Driver

# The driver pages keep their session in this cookie (HttpOnly, SameSite=Lax).
SESSION_COOKIE = "doorstep_driver"

driver_token = token_from(SESSION_COOKIE, "A driver's token (drv_…)")


def _current_driver(
    session: DbSession, now: Now, token: Annotated[str, Depends(driver_token)]
) -> Driver:
    return accounts.authenticate(session, token, now=now)


CurrentDriver = Annotated[Driver, Depends(_current_driver)]
