"""The exceptions page: what went wrong today, each with the actions that resolve it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from doorstep.api.deps import DbSession, Now, RowId, get_settings_dep
from doorstep.drivers.policy import OfferPolicy
from doorstep.errors import DomainError
from doorstep.models import ExceptionStatus
from doorstep.ops import exceptions as ops_exceptions
from doorstep.ops.policy import Action
from doorstep.settings import Settings
from doorstep.web import pages
from doorstep.web.checkout import zone_of
from doorstep.web.ops.auth import page_operator, render

router = APIRouter(prefix="/ops", include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

LABELS = {
    ops_exceptions.Act.REOFFER: "Re-offer the block",
    ops_exceptions.Act.RAISE_PAY: "Raise the pay",
    ops_exceptions.Act.CARRIER: "Send by carrier",
    ops_exceptions.Act.CONTACT_DRIVER: "Message the driver",
    ops_exceptions.Act.CONTACT_SHOPPER: "Message the shopper",
    ops_exceptions.Act.RESOLVE: "Mark resolved",
}


@router.get("/exceptions", response_class=HTMLResponse)
def exceptions_page(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    status: Annotated[str, Query(max_length=20)] = "open",
    done: Annotated[str, Query(max_length=300)] = "",
    problem: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    operator = page_operator(request, session, settings, Action.EXCEPTIONS_READ)
    if isinstance(operator, Response):
        return operator
    chosen = ExceptionStatus(status) if status in {s.value for s in ExceptionStatus} else None
    return render(
        "ops/exceptions.html",
        operator,
        rows=ops_exceptions.list_exceptions(session, status=chosen),
        status=chosen.value if chosen else "all",
        labels=LABELS,
        services=list(ops_exceptions.CARRIER_SERVICES),
        done=done,
        problem=problem,
        zone=zone_of(session, []),
        local_time=pages.local_time,
    )


@router.post("/exceptions/{exception_id}/act")
def act(
    exception_id: RowId,
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    now: Now,
    action: Annotated[str, Form(max_length=30)] = "",
    note: Annotated[str, Form(max_length=400)] = "",
    message: Annotated[str, Form(max_length=600)] = "",
    service: Annotated[str, Form(max_length=50)] = "next_day",
    percent: Annotated[int, Form()] = 25,
) -> Response:
    operator = page_operator(request, session, settings, Action.EXCEPTIONS_ACT)
    if isinstance(operator, Response):
        return operator
    try:
        # A savepoint: a refused action keeps nothing of what it began.
        with session.begin_nested():
            row = ops_exceptions.act(
                session,
                exception_id,
                ops_exceptions.Act(action),
                by=operator.actor,
                now=now,
                note=note,
                message=message,
                service=service,
                percent=percent,
                offers=OfferPolicy.from_settings(settings),
            )
    except ValueError:
        query = {"problem": f"Unknown action '{action}'."}
    except DomainError as exc:
        query = {"problem": f"Exception {exception_id}: {exc.detail}"}
    else:
        query = {"done": f"Exception {row.id}: {row.resolution}"}
    return RedirectResponse(f"/ops/exceptions?{urlencode(query)}", status_code=303)
