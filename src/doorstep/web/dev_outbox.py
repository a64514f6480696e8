"""The dev outbox: every e-mail and SMS doorstep queued, newest first, and one message as its
recipient would see it. Development and test only (404 in production): it shows sign-in codes,
which is the point (a developer signs in as a driver without a mail server) and why it must
never be served in production."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from doorstep.api.deps import DbSession, get_settings_dep
from doorstep.errors import NotFound
from doorstep.notifications import service as notifications
from doorstep.settings import Environment, Settings
from doorstep.web import pages

PAGE_SIZE = 100


async def _development_only(settings: Annotated[Settings, Depends(get_settings_dep)]) -> None:
    if settings.environment is Environment.PRODUCTION:
        raise NotFound("not found")


router = APIRouter(
    prefix="/dev/outbox", include_in_schema=False, dependencies=[Depends(_development_only)]
)


@router.get("", response_class=HTMLResponse)
def outbox(session: DbSession, before: Annotated[int | None, Query(ge=1)] = None) -> HTMLResponse:
    messages = notifications.latest_messages(session, limit=PAGE_SIZE + 1, before_id=before)
    older = messages[PAGE_SIZE].id + 1 if len(messages) > PAGE_SIZE else None
    return pages.render(
        "dev_outbox.html", messages=messages[:PAGE_SIZE], older=older, first_page=before is None
    )


@router.get("/{message_id}", response_class=HTMLResponse)
def message(message_id: int, session: DbSession) -> HTMLResponse:
    return pages.render(
        "dev_outbox_message.html", message=notifications.get_message(session, message_id)
    )
