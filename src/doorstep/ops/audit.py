"""The audit log: every change an operator makes, written in the change's own transaction.

`record` only adds the row; the caller's transaction commits it with the change or drops it
with the change. ``before`` and ``after`` are small JSON pictures of what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who acts: an operator account (``user_id``), the development token, or the CLI."""

    label: str
    user_id: int | None = None


COMMAND_LINE = Actor("command line")


def record(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object | None,
    *,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        actor_user_id=actor.user_id,
        actor=actor.label,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def recent(
    session: Session,
    *,
    limit: int = 100,
    subject_type: str | None = None,
    subject_id: str | None = None,
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject_type is not None:
        query = query.where(AuditEntry.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    return session.scalars(query).all()
