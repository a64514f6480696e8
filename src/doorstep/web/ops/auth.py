"""Who is signed in to the operator's console, and whether the policy lets them see a page.

The page session is the merchant console's signed cookie (`web.session.PageSession`) under its
own name, path and salt; the account is read again on every page, so a deactivated operator
or a changed role counts at once. What each role may do is `doorstep.ops.policy`'s alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from doorstep.ops import policy, users
from doorstep.ops.policy import Action
from doorstep.ops.users import Operator
from doorstep.settings import Settings
from doorstep.web import login_throttle, pages
from doorstep.web.session import PageSession

OPS_SESSION = PageSession("doorstep_ops", "/ops", "doorstep.ops.session")
HOME = "/ops/"

#: The console's sections, in the order of its navigation, each with the action it needs.
SECTIONS = (
    ("/ops/", "Today", Action.CONSOLE_VIEW),
    ("/ops/map", "Map", Action.MAP_VIEW),
    ("/ops/exceptions", "Exceptions", Action.EXCEPTIONS_READ),
    ("/ops/numbers", "Numbers", Action.NUMBERS_READ),
    ("/ops/plans", "Plans", Action.PLANS_READ),
    ("/ops/network", "Network", Action.NETWORK_READ),
    ("/ops/users", "People", Action.USERS_READ),
)


def safe_next(target: str | None) -> str:
    return login_throttle.safe_next(target, within="/ops/", home=HOME)


def signed_in(request: Request, session: Session, settings: Settings) -> Operator | None:
    data = OPS_SESSION.read(request, settings)
    if data is None or "u" not in data:
        return None
    return users.active_operator(session, data["u"])


def page_operator(
    request: Request, session: Session, settings: Settings, action: Action
) -> Operator | HTMLResponse | RedirectResponse:
    """The signed-in operator allowed ``action``; else the sign-in page (not signed in) or a
    403 page (signed in, role not allowed)."""
    operator = signed_in(request, session, settings)
    if operator is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ops/sign-in?{urlencode({'next': here})}", status_code=303)
    if not policy.may(operator.role, action):
        return render(
            "ops/denied.html",
            operator,
            status_code=403,
            action=action.value,
            roles=", ".join(sorted(policy.ALLOWED[action])),
        )
    return operator


def render(
    template: str,
    operator: Operator,
    status_code: int = 200,
    *,
    csp: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """A console page with its navigation (only the sections the role may open)."""
    nav = [(href, label) for href, label, action in SECTIONS if policy.may(operator.role, action)]
    return pages.render(
        template,
        status_code=status_code,
        policy=csp,
        operator=operator,
        nav=nav,
        may=lambda action: policy.may(operator.role, Action(action)),
        **context,
    )
