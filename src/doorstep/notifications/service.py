"""Notifications: queue an e-mail or SMS in the caller's transaction, opt phone numbers out of
SMS and back in, read what was sent.

The API other domains call is `send`::

    from doorstep.notifications import service as notifications

    notifications.send(
        session,
        channel=MessageChannel.SMS,
        to=order.recipient_phone,
        template="out_for_delivery",
        context={"tracking_url": url, "eta_window": "2:10-2:40 pm"},
        now=now,
        merchant_id=order.merchant_id,
        dedupe_key=f"package:{package.id}:out_for_delivery",
        related=Related(order_id=order.id, package_id=package.id),
    )

It renders the template and writes the message and its ``notifications.send`` job in the
caller's transaction: both exist exactly when the caller's change is committed, so nothing
acknowledged is lost and nothing is sent for a change that was rolled back. The job
(`doorstep.notifications.worker`) sends it later, outside any transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep import jobs
from doorstep.errors import DomainError, InvalidInput, NotFound
from doorstep.merchants.branding import DEFAULT_COLOR, Brand, brand_of, text_on
from doorstep.models import Merchant, Message, MessageChannel, MessageStatus, OptOutSource
from doorstep.notifications import repository, templates
from doorstep.notifications.addresses import normalize_email, normalize_phone
from doorstep.notifications.senders import DEV_OUTBOX, Outcome, Outgoing, Result

log = structlog.get_logger(__name__)

SEND_JOB = "notifications.send"
"""The job kind that sends one message; its payload is ``{"message_id": id}``."""

DOORSTEP_BRAND = Brand(name="doorstep", color=DEFAULT_COLOR, text_color=text_on(DEFAULT_COLOR))
"""The brand of messages that no merchant sends (sign-in codes, drivers' reminders)."""

REDACTED = "[removed after sending: it held a one-time code]"
_ERROR_LIMIT = 1000  # notification_messages.last_error is VARCHAR(1000)
_KEY_LIMIT = 200  # notification_messages.dedupe_key is VARCHAR(200)


class InvalidPhoneNumber(InvalidInput):
    code = "invalid_phone_number"


class MessageNotFound(NotFound):
    code = "message_not_found"


class UnknownMerchant(DomainError):
    status = 404
    code = "merchant_not_found"


@dataclass(frozen=True, slots=True)
class Related:
    """What a message is about, kept on its row (a package's messages, an order's)."""

    order_id: int | None = None
    package_id: int | None = None


NOTHING = Related()


def send(
    session: Session,
    *,
    channel: MessageChannel,
    to: str,
    template: str,
    context: Mapping[str, Any],
    now: datetime,
    merchant_id: int | None = None,
    dedupe_key: str | None = None,
    related: Related = NOTHING,
) -> Message | None:
    """Render ``template`` for ``to`` and queue it, in the caller's transaction.

    - ``to``: an e-mail address, or for SMS a phone number (``+1 480 555 0101``, ``(480)
      555-0101``; stored as E.164).
    - ``template``: one of `templates.KINDS`; ``context``: the variables its ``.txt`` file
      lists at its top. The brand (the merchant's display name and colour, or doorstep's
      without ``merchant_id``) is added.
    - ``dedupe_key``: the same key on the same channel queues one message ever (until
      retention removes it), e.g. ``f"package:{id}:delivered"``; the channel is added to it,
      so one key can serve an e-mail and an SMS of the same milestone.

    Returns the queued message; or None when nothing will be sent: the key was used before,
    or the phone number opted out of SMS (that message is still written, ``suppressed``, so
    the dev outbox and an operator see what was held back). An address that is not one gives
    a ``failed`` message, with the reason in ``last_error`` and no job: a shopper's mistyped
    address must not undo the caller's change. A template with a missing variable raises
    `templates.TemplateContextError` (a bug of the caller), an unknown one
    `templates.UnknownTemplate`.
    """
    stored_key = f"{channel}:{dedupe_key}" if dedupe_key is not None else None
    if stored_key is not None and len(stored_key) > _KEY_LIMIT:
        raise ValueError(f"dedupe_key is longer than {_KEY_LIMIT - len(channel) - 1} characters")
    brand = _brand(session, merchant_id)
    rendered = templates.render(template, channel, context, brand=brand)
    recipient, problem = _recipient(channel, to)
    status = MessageStatus.QUEUED
    if problem is not None:
        status = MessageStatus.FAILED
    elif channel is MessageChannel.SMS and repository.is_opted_out(session, recipient):
        status = MessageStatus.SUPPRESSED
    message = repository.insert_message(
        session,
        {
            "channel": channel,
            "recipient": recipient,
            "subject": rendered.subject,
            "body_text": rendered.text,
            "body_html": rendered.html,
            "template": template,
            "merchant_id": merchant_id,
            "order_id": related.order_id,
            "package_id": related.package_id,
            "status": status,
            "attempts": 0,
            "last_error": problem,
            "dedupe_key": stored_key,
            "created_at": now,
        },
    )
    if message is None:
        log.info("notification_deduplicated", template=template, dedupe_key=dedupe_key)
        return None
    if status is MessageStatus.SUPPRESSED:
        log.info("notification_suppressed", message_id=message.id, template=template)
        return None
    if status is MessageStatus.QUEUED:
        jobs.enqueue(session, SEND_JOB, {"message_id": message.id}, run_at=now)
    return message


def _recipient(channel: MessageChannel, to: str) -> tuple[str, str | None]:
    """The normalized address, or the raw one and why it is not an address."""
    if channel is MessageChannel.SMS:
        phone = normalize_phone(to)
        return (phone, None) if phone else (to[:320], "not a phone number")
    email = normalize_email(to)
    return (email, None) if email else (to[:320], "not an e-mail address")


def _brand(session: Session, merchant_id: int | None) -> Brand:
    if merchant_id is None:
        return DOORSTEP_BRAND
    row = session.execute(
        select(Merchant.name, Merchant.display_name, Merchant.button_settings).where(
            Merchant.id == merchant_id
        )
    ).one_or_none()
    if row is None:
        raise UnknownMerchant(f"no merchant {merchant_id}", merchant_id=merchant_id)
    return brand_of(row.name, row.display_name, row.button_settings)


# Opt-outs


def opt_out(
    session: Session, phone: str, *, now: datetime, source: OptOutSource = OptOutSource.OPERATOR
) -> bool:
    """No more SMS to ``phone``: queued ones are suppressed when their job runs, new ones when
    they are queued. True if it was not opted out already. Raises `InvalidPhoneNumber`."""
    added = repository.add_opt_out(session, _phone(phone), source, now)
    if added:
        log.info("sms_opted_out", source=str(source))
    return added


def opt_in(session: Session, phone: str) -> bool:
    """SMS to ``phone`` again; True if it had opted out. Raises `InvalidPhoneNumber`."""
    removed = repository.remove_opt_out(session, _phone(phone))
    if removed:
        log.info("sms_opted_in")
    return removed


def is_opted_out(session: Session, phone: str) -> bool:
    """Whether ``phone`` opted out of SMS. Raises `InvalidPhoneNumber`."""
    return repository.is_opted_out(session, _phone(phone))


def _phone(raw: str) -> str:
    phone = normalize_phone(raw)
    if phone is None:
        raise InvalidPhoneNumber("not a phone number", field="phone")
    return phone


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    NONE = "none"


# The provider's standard keywords: a message that is exactly one of them (any case).
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})


def keyword_of(body: str, opt_out_type: str | None = None) -> Keyword:
    """What an inbound SMS asks for. ``opt_out_type`` is the provider's own reading (its
    ``OptOutType`` field: STOP, START or HELP, sent when it matched a keyword itself)."""
    if opt_out_type:
        kind = opt_out_type.strip().upper()
        return {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN}.get(kind, Keyword.NONE)
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    return Keyword.NONE


def receive_sms(
    session: Session, *, sender: str, body: str, now: datetime, opt_out_type: str | None = None
) -> Keyword:
    """An SMS someone sent to our number: STOP opts the sender out, START back in; anything
    else is only logged. Returns what it was taken for."""
    keyword = keyword_of(body, opt_out_type)
    phone = normalize_phone(sender)
    if phone is None:
        log.info("sms_inbound_unknown_sender")
        return Keyword.NONE
    if keyword is Keyword.OPT_OUT:
        repository.add_opt_out(session, phone, OptOutSource.KEYWORD, now)
    elif keyword is Keyword.OPT_IN:
        repository.remove_opt_out(session, phone)
    log.info("sms_inbound", keyword=str(keyword))
    return keyword


# Reading messages (the dev outbox)


def latest_messages(
    session: Session, *, limit: int = 200, before_id: int | None = None
) -> Sequence[Message]:
    """Messages newest first."""
    return repository.latest_messages(session, limit=limit, before_id=before_id)


def get_message(session: Session, message_id: int) -> Message:
    message = repository.message(session, message_id)
    if message is None:
        raise MessageNotFound(f"no message {message_id}", message_id=message_id)
    return message


def prune(session: Session, *, now: datetime, days: int, batch: int = 1000) -> int:
    """Delete up to ``batch`` messages done (sent, failed, suppressed) more than ``days`` ago:
    they hold shoppers' addresses and what was said to them. Their dedupe keys can then be
    used again. Returns how many were deleted."""
    return repository.delete_finished(session, before=now - timedelta(days=days), batch=batch)


# The sending job's steps (doorstep.notifications.worker)


@dataclass(frozen=True, slots=True)
class Pending:
    message: Outgoing
    opted_out: bool  # an SMS to a number that opted out after it was queued
    failed: bool  # it failed before: sent again only after `requeue`


def pending(session: Session, message_id: int, *, resend_failed: bool = False) -> Pending | None:
    """The message if it still waits to be sent; None if it was sent, suppressed or failed
    already (a job delivered twice does nothing the second time) or no longer exists.

    ``resend_failed``: a ``failed`` message is returned too (an operator retried its job
    after its attempts ran out: ``doorstep jobs retry``); `requeue` it before sending.
    """
    return pending_many(session, {(message_id, resend_failed)})[(message_id, resend_failed)]


def pending_many(
    session: Session, asked: Collection[tuple[int, bool]]
) -> dict[tuple[int, bool], Pending | None]:
    """`pending` for many ``(message id, resend_failed)`` at once: one query for them all."""
    rows = repository.outgoing(session, {message_id for message_id, _ in asked})
    found: dict[tuple[int, bool], Pending | None] = {}
    for message_id, resend_failed in asked:
        row = rows.get(message_id)
        failed = row is not None and row.status is MessageStatus.FAILED
        if row is None or (
            row.status is not MessageStatus.QUEUED and not (failed and resend_failed)
        ):
            found[(message_id, resend_failed)] = None
            continue
        outgoing = Outgoing(
            id=row.id,
            channel=row.channel,
            recipient=row.recipient,
            subject=row.subject,
            text=row.body_text,
            html=row.body_html,
            template=row.template,
            created_at=row.created_at,
        )
        opted_out = row.channel is MessageChannel.SMS and repository.is_opted_out(
            session, row.recipient
        )
        found[(message_id, resend_failed)] = Pending(outgoing, opted_out, failed)
    return found


def requeue(session: Session, message_id: int) -> bool:
    """A failed message back to ``queued``, to be sent again; False if it is not failed."""
    return repository.requeue_failed(session, message_id)


def suppress(session: Session, message_id: int) -> bool:
    """Hold back a queued message (its recipient opted out since it was queued)."""
    return repository.update_queued(session, message_id, {"status": MessageStatus.SUPPRESSED})


def record(
    session: Session,
    message: Outgoing,
    outcome: Outcome,
    *,
    attempt: int,
    now: datetime,
    last_attempt: bool,
) -> MessageStatus | None:
    """Write what an attempt came to; returns the message's new status, or None if the
    message was no longer queued (another attempt finished first): nothing is written then.

    Sent: ``sent`` with the provider and its id; a sensitive kind (a sign-in code) has its
    body blanked unless it went to the dev outbox. Refused: ``failed`` (an SMS refused
    because the number opted out with the provider also joins our opt-outs). Retry: stays
    ``queued`` with the error, or ``failed`` after the last attempt.
    """
    values: dict[str, Any] = {"attempts": attempt, "provider": outcome.provider}
    if outcome.result is Result.SENT:
        values |= {
            "status": MessageStatus.SENT,
            "sent_at": now,
            "provider_message_id": outcome.provider_message_id,
            "last_error": None,
        }
        if message.template in templates.SENSITIVE and outcome.provider != DEV_OUTBOX:
            values |= {"body_text": REDACTED, "body_html": None}
    else:
        error = (outcome.error or outcome.result.value)[:_ERROR_LIMIT]
        failed = outcome.result is Result.REFUSED or last_attempt
        values |= {
            "last_error": error,
            "status": MessageStatus.FAILED if failed else MessageStatus.QUEUED,
        }
    if not repository.update_queued(session, message.id, values):
        return None
    if outcome.opted_out and message.channel is MessageChannel.SMS:
        repository.add_opt_out(session, message.recipient, OptOutSource.PROVIDER, now)
    status: MessageStatus = values["status"]
    return status
