"""The day's numbers page: a table by day over a chosen range, and its CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from doorstep.api.deps import DbSession, Now, get_settings_dep
from doorstep.errors import DomainError
from doorstep.ops import console, numbers
from doorstep.ops.policy import Action
from doorstep.settings import Settings
from doorstep.web.ops.auth import page_operator, render

router = APIRouter(prefix="/ops", include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CHANNELS = ("station_route", "store_pickup", "partner_store", "carrier")


def _range(session: DbSession, now: Now, start: str, end: str) -> tuple[date, date]:
    today = console.local_day(session, now)
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=6)
    except ValueError:
        last, first = today, today - timedelta(days=6)
    return first, last


@router.get("/numbers", response_class=HTMLResponse)
@router.get("/numbers.csv")
def numbers_page(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    now: Now,
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    """The page, or (``/ops/numbers.csv``) the same rows as CSV."""
    operator = page_operator(request, session, settings, Action.NUMBERS_READ)
    if isinstance(operator, Response):
        return operator
    first, last = _range(session, now, start, end)
    problem = None
    try:
        rows = numbers.compute(session, first, last, zone=console.network_zone(session), now=now)
    except DomainError as exc:
        rows, problem = [], exc.detail
    if request.url.path.endswith(".csv"):
        return Response(
            "".join(numbers.csv_lines(rows)) if problem is None else problem,
            status_code=200 if problem is None else 422,
            media_type="text/csv; charset=utf-8" if problem is None else "text/plain",
            headers={
                "Content-Disposition": f'attachment; filename="numbers-{first}-{last}.csv"',
                "Cache-Control": "no-store",
            },
        )
    return render(
        "ops/numbers.html",
        operator,
        rows=list(reversed(rows)),
        first=first,
        last=last,
        problem=problem,
        channels=CHANNELS,
        csv_url="/ops/numbers.csv?" + urlencode({"from": first, "to": last}),
    )
