"""Sign-in by a one-time code on an app's pages (the driver app, the partner store's): the
e-mail form, the code form, and the page session's cookie once the code is right.

Each app gives its own template, cookie and the two account calls; the flow is one::

    SIGN_IN = CodeSignIn(template="store/sign_in.html", cookie=..., home="/store/", ...)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from doorstep.access.service import masked
from doorstep.api.deps import Now, SettingsDep
from doorstep.db import unit_of_work
from doorstep.drivers.schemas import SignInCodeIn, SignInIn
from doorstep.errors import DomainError
from doorstep.settings import Environment, Settings

SendCode = Callable[[Session, str, datetime, str], int]
"""Mail a code to the account with this e-mail (nothing for an unknown one); its lifetime, s."""

Redeem = Callable[[Session, str, str, datetime, str], tuple[str | None, DomainError | None]]
"""A page session's token for the account whose code this is, or the refusal."""


Account = TypeVar("Account")


def signed_in_by_cookie(
    request: Request,
    session: Session,
    now: datetime,
    cookie: str,
    authenticate: Callable[..., Account],
) -> Account | None:
    """The account of the page session's ``cookie`` (``authenticate(session, token, now=now)``),
    or None: no cookie, or a token expired or revoked."""
    token = request.cookies.get(cookie)
    if not token:
        return None
    try:
        return authenticate(session, token, now=now)
    except DomainError:
        return None


@dataclass(frozen=True)
class CodeSignIn:
    template: str
    cookie: str
    ttl: timedelta
    home: str
    send: SendCode
    redeem: Redeem
    render: Callable[..., HTMLResponse]
    email_error: str

    def install(self, router: APIRouter) -> None:
        """``POST {prefix}/sign-in`` (the e-mail) and ``POST {prefix}/sign-in/code``."""

        @router.post("/sign-in", response_class=HTMLResponse)
        def send_code(
            request: Request,
            settings: SettingsDep,
            now: Now,
            email: Annotated[str, Form(max_length=320)] = "",
        ) -> HTMLResponse:
            return self.send_code(request, settings, now, email)

        @router.post("/sign-in/code", response_class=HTMLResponse)
        def check_code(
            request: Request,
            settings: SettingsDep,
            now: Now,
            email: Annotated[str, Form(max_length=320)] = "",
            code: Annotated[str, Form(max_length=20)] = "",
        ) -> Response:
            return self.check_code(request, settings, now, email, code)

    def page(self, **context: Any) -> HTMLResponse:
        return self.render(self.template, None, **context)

    def send_code(
        self, request: Request, settings: Settings, now: datetime, email: str
    ) -> HTMLResponse:
        try:
            address = SignInIn(email=email).email
        except ValidationError:
            return self.page(status_code=422, step="email", email=email, error=self.email_error)
        with unit_of_work(request.app.state.session_factory) as session:
            ttl = self.send(session, address, now, settings.secret_key)
        return self.page(
            step="code",
            email=address,
            masked=masked(address),
            error=None,
            notice=f"Code sent. It works for {ttl // 60} minutes.",
        )

    def check_code(
        self, request: Request, settings: Settings, now: datetime, email: str, code: str
    ) -> Response:
        try:
            body = SignInCodeIn(email=email, code=code)
        except ValidationError:
            return self.page(
                status_code=422,
                step="code",
                email=email,
                masked=email,
                error="The code is the six digits in the message.",
            )
        # Its own transaction, committed even when the code is refused: a wrong try counts.
        with unit_of_work(request.app.state.session_factory) as session:
            token, refusal = self.redeem(session, body.email, body.code, now, settings.secret_key)
        if refusal is not None or token is None:
            return self.page(
                status_code=401,
                step="code",
                email=body.email,
                masked=masked(body.email),
                error=refusal.detail if refusal else "That code is not right.",
            )
        response = RedirectResponse(self.home, status_code=303)
        response.set_cookie(
            self.cookie,
            token,
            max_age=int(self.ttl.total_seconds()),
            httponly=True,
            samesite="lax",
            # Over HTTPS (direct, or behind a trusted TLS proxy) and always in production.
            secure=request.url.scheme == "https" or settings.environment is Environment.PRODUCTION,
            path="/",
        )
        return response
