"""The shopper's tracking page, ``/track/{token}``: no login, the link is the key.

Every answer about an unknown token (the page, its live stream, its photo, its forms) is the
same 404 page, found by the same one digest lookup, so a guess learns nothing but "no".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session

from doorstep.api.deps import DbSession, Now, SettingsDep
from doorstep.db import READ_ONLY_BEGIN, unit_of_work
from doorstep.errors import DomainError
from doorstep.settings import Settings
from doorstep.storage.service import BlobNotFound, BlobStore
from doorstep.tracking import counter_choice, returns
from doorstep.tracking import service as tracking
from doorstep.tracking.push import Broadcaster
from doorstep.tracking.returns import DoorCollection
from doorstep.tracking.schemas import TrackingView
from doorstep.web import pages
from doorstep.web.barcodes import code128_svg

router = APIRouter(prefix="/track", include_in_schema=False)

KEEP_ALIVE_S = 15.0
# The page opens a stream to its own origin and shows its own photo; nothing else.
_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def reading(session: Session) -> None:
    """This request only reads: on SQLite a snapshot that does not queue behind writers."""
    session.connection(execution_options={"sqlite_begin": READ_ONLY_BEGIN})


def missing() -> HTMLResponse:
    return pages.render("track_missing.html", 404)


PAGE_HEADERS = {
    "Content-Security-Policy": _POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(
    token: str,
    view: TrackingView,
    status_code: int = 200,
    *,
    error: DomainError | None = None,
    saved: bool = False,
) -> HTMLResponse:
    return pages.render(
        "track.html",
        status_code,
        policy=_POLICY,
        view=view,
        base=f"/track/{token}",
        color=view.color,
        text_color=view.text_color,
        error=None
        if error is None
        else {"code": error.code, "detail": error.detail, "field": error.context.get("field")},
        saved=saved,
        barcode=None
        if view.counter is None or view.counter.barcode is None
        else code128_svg(view.counter.barcode, label=f"Pick-up barcode {view.counter.barcode}"),
    )


@router.get("/{token}", response_class=HTMLResponse)
async def page(
    token: str, request: Request, now: Now, settings: SettingsDep, saved: bool = False
) -> HTMLResponse:
    """From this process's cache when it holds the page (no database, no thread), else
    rendered from a read-only snapshot."""
    broadcaster: Broadcaster = request.app.state.tracking_push
    if broadcaster.cache_s > 0:
        broadcaster.ensure_running()  # its outbox reads are what keep the cache true
    package_id = broadcaster.package_of(token)
    # Straight after a form (?saved=1, ?return=started): rendered afresh, whatever is cached.
    fresh = bool(request.url.query)
    if package_id is not None and not fresh:
        html = broadcaster.cached_page(package_id)
        if html is not None:
            return HTMLResponse(html, headers=PAGE_HEADERS)

    def render() -> HTMLResponse | None:
        since = time.monotonic()
        with unit_of_work(request.app.state.session_factory) as session:
            reading(session)
            try:
                found, view = tracking.tracking_view(
                    session,
                    token,
                    now=now,
                    max_attempts=settings.max_delivery_attempts,
                    secret_key=settings.secret_key,
                    doors=DoorCollection.from_settings(settings),
                )
            except tracking.TrackingNotFound:
                return None
        response = _page(token, view, saved=saved)
        broadcaster.remember_token(token, found)
        if not fresh:
            broadcaster.remember_page(found, bytes(response.body).decode(), since=since)
        return response

    return await run_in_threadpool(render) or missing()


@router.post("/{token}/instructions", response_class=HTMLResponse)
def instructions(
    token: str,
    request: Request,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    text: Annotated[str, Form(alias="instructions", max_length=1000)] = "",
) -> Response:
    return _form(
        request,
        session,
        token,
        now,
        settings,
        lambda: tracking.update_instructions(session, token, text, now=now),
        "?saved=1",
    )


@router.post("/{token}/return", response_class=HTMLResponse)
def start_return(
    token: str,
    request: Request,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    reason: Annotated[str, Form(max_length=500)] = "",
    method: Annotated[returns.ReturnMethod, Form()] = returns.ReturnMethod.COUNTER,
) -> Response:
    """Start a return, left at a counter or collected from the door (``method``)."""
    return _form(
        request,
        session,
        token,
        now,
        settings,
        lambda: returns.request_return(session, token, reason=reason, now=now, method=method),
        "?return=started",
    )


@router.post("/{token}/counter", response_class=HTMLResponse)
def collect_at_counter(
    token: str,
    request: Request,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    store: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """After a failed delivery: collect it at this partner store's counter instead."""
    return _form(
        request,
        session,
        token,
        now,
        settings,
        lambda: counter_choice.choose_counter(session, token, store, now=now),
        "?counter=chosen",
    )


def _form(
    request: Request,
    session: Session,
    token: str,
    now: datetime,
    settings: Settings,
    action: Callable[[], object],
    then: str,
) -> Response:
    """Run a form's change; refused (it writes nothing then), the page again with the
    refusal's status and stable code."""
    try:
        action()
    except tracking.TrackingNotFound:
        return missing()
    except DomainError as error:
        _, view = tracking.tracking_view(
            session,
            token,
            now=now,
            max_attempts=settings.max_delivery_attempts,
            secret_key=settings.secret_key,
            doors=DoorCollection.from_settings(settings),
        )
        return _page(token, view, error.status, error=error)
    # This process's cached pages of the order go (others': at their next outbox read, or
    # after DOORSTEP_TRACKING_PAGE_CACHE_SECONDS for instructions, which write no event).
    broadcaster: Broadcaster = request.app.state.tracking_push
    broadcaster.forget(tracking.order_package_ids(session, token))
    return RedirectResponse(f"/track/{token}{then}", status_code=303)


@router.get("/{token}/photo")
def photo(token: str, request: Request, session: DbSession) -> Response:
    reading(session)
    try:
        key = tracking.photo_key(session, token)
        store: BlobStore = request.app.state.blob_store
        blob = store.get(key)
    except (tracking.TrackingNotFound, tracking.PhotoNotFound, BlobNotFound):
        return missing()
    return Response(
        blob.data,
        media_type=blob.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get("/{token}/events")
async def events(token: str, request: Request, now: Now, settings: SettingsDep) -> Response:
    """The page's state now, then again after every change on its route (server-sent
    events, ``event: view``, JSON); a comment every 15 s keeps proxies from closing it."""

    def first() -> tuple[int, str]:
        with unit_of_work(request.app.state.session_factory) as session:
            reading(session)
            package_id, view = tracking.tracking_view(
                session,
                token,
                now=now,
                max_attempts=settings.max_delivery_attempts,
                secret_key=settings.secret_key,
                doors=DoorCollection.from_settings(settings),
            )
            return package_id, view.model_dump_json()

    try:
        package_id, initial = await run_in_threadpool(first)
    except tracking.TrackingNotFound:
        return missing()
    broadcaster: Broadcaster = request.app.state.tracking_push
    queue = broadcaster.subscribe(package_id)

    async def stream() -> AsyncIterator[str]:
        try:
            yield f"retry: 5000\nevent: view\ndata: {initial}\n\n"
            while True:
                try:
                    async with asyncio.timeout(KEEP_ALIVE_S):
                        payload = await queue.get()
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: view\ndata: {payload}\n\n"
        finally:
            broadcaster.unsubscribe(package_id, queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
