"""Notifications: every e-mail and SMS doorstep sends (or chose not to), and the phone numbers
that opted out of SMS (`doorstep.notifications`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, enum_column, utcnow


class MessageChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class MessageStatus(StrEnum):
    QUEUED = "queued"  # written with the change that caused it; a job sends it
    SENT = "sent"  # the provider (or the dev outbox) accepted it
    FAILED = "failed"  # refused for good, or every attempt failed
    SUPPRESSED = "suppressed"  # never sent: the phone number opted out of SMS


class OptOutSource(StrEnum):
    KEYWORD = "keyword"  # the person texted STOP (the provider's inbound post)
    PROVIDER = "provider"  # the provider refused a message: the number had opted out there
    OPERATOR = "operator"  # by hand (service.opt_out)


class Message(Base):
    """One message to one recipient: rendered when it is queued, so what was sent is what is
    here, whatever the templates say later."""

    __tablename__ = "notification_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[MessageChannel] = mapped_column(enum_column(MessageChannel, "message_channel"))
    # An e-mail address, or a phone number in E.164 (+14805550101).
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(300))  # e-mail only
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)  # e-mail only
    # The template it was rendered from ("out_for_delivery").
    template: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchants.id", ondelete="SET NULL"), index=True
    )
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("packages.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus, "message_status"), default=MessageStatus.QUEUED
    )
    # Attempts to hand it to the provider so far.
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    # Who took it ("smtp", "twilio", "dev-outbox") and the id it gave the message.
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    # "<channel>:<the caller's key>": the same milestone of the same package is sent once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]


class SmsOptOut(Base):
    """A phone number that asked for no more SMS; no SMS is queued or sent to it."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164
    source: Mapped[OptOutSource] = mapped_column(enum_column(OptOutSource, "opt_out_source"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
