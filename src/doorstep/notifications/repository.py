"""The queries of notifications: messages and opt-outs. Every function works in the caller's
transaction and only flushes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from doorstep.models import Message, MessageChannel, MessageStatus, OptOutSource, SmsOptOut


def _insert(session: Session) -> Any:
    # INSERT … ON CONFLICT: the dialect's own insert construct.
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_message(session: Session, values: dict[str, Any]) -> Message | None:
    """Write a message; None (nothing written) if its dedupe key is taken.

    ON CONFLICT rather than a look-up first: of two transactions queueing the same key at
    once, the second waits for the first and then does nothing instead of failing.
    """
    statement = (
        _insert(session)(Message)
        .values(values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Message)
    )
    return session.scalars(statement).one_or_none()


def message(session: Session, message_id: int) -> Message | None:
    return session.get(Message, message_id)


OutgoingRow = Row[
    int, MessageStatus, MessageChannel, str, str | None, str, str | None, str, datetime
]
"""id, status, channel, recipient, subject, body_text, body_html, template, created_at"""


def outgoing(session: Session, message_ids: Collection[int]) -> dict[int, OutgoingRow]:
    """What sending the messages needs, as plain columns, by id (the jobs started together
    read theirs with one query)."""
    rows = session.execute(
        select(
            Message.id,
            Message.status,
            Message.channel,
            Message.recipient,
            Message.subject,
            Message.body_text,
            Message.body_html,
            Message.template,
            Message.created_at,
        ).where(Message.id.in_(list(message_ids)))
    )
    return {row.id: row for row in rows}


def requeue_failed(session: Session, message_id: int) -> bool:
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.FAILED)
        .values(status=MessageStatus.QUEUED)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def update_queued(session: Session, message_id: int, values: dict[str, Any]) -> bool:
    """Change a message that is still queued; False (nothing changed) if it is not."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.QUEUED)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def latest_messages(
    session: Session, *, limit: int, before_id: int | None = None
) -> Sequence[Message]:
    """Messages newest first (by id, which follows the order they were queued)."""
    query = select(Message).order_by(Message.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return session.scalars(query).all()


def is_opted_out(session: Session, phone: str) -> bool:
    found = session.scalar(select(SmsOptOut.phone).where(SmsOptOut.phone == phone))
    return found is not None


def add_opt_out(session: Session, phone: str, source: OptOutSource, now: datetime) -> bool:
    """Record an opt-out; False if the number had opted out already (the first one stays)."""
    statement = (
        _insert(session)(SmsOptOut)
        .values(phone=phone, source=source, created_at=now)
        .on_conflict_do_nothing(index_elements=["phone"])
        .returning(SmsOptOut.phone)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def remove_opt_out(session: Session, phone: str) -> bool:
    """Forget an opt-out; False if there was none."""
    result = session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def delete_finished(session: Session, *, before: datetime, batch: int) -> int:
    """Delete up to ``batch`` of the oldest messages queued before ``before`` that are done
    (sent, failed or suppressed); a queued one is never deleted."""
    finished = (Message.status != MessageStatus.QUEUED, Message.created_at < before)
    oldest = select(Message.id).where(*finished).order_by(Message.id).limit(batch)
    result = session.execute(
        delete(Message)
        .where(Message.id.in_(oldest.scalar_subquery()), *finished)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
