"""What hands a message to the outside world: a `Sender` per channel.

A sender never raises for the provider's answer: it returns an `Outcome` (sent, retry later,
or refused for good), which the job records. The adapters are `smtp.SmtpSender` (e-mail) and
`twilio.TwilioSender` (SMS); `worker.senders_from_settings` picks one per channel. Without a
configured provider, outside production, messages go to the dev outbox: marked sent by
provider ``dev-outbox`` and read at ``/dev/outbox``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from doorstep.models import MessageChannel

DEV_OUTBOX = "dev-outbox"
"""The provider of messages kept in the dev outbox only."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A queued message, as a sender needs it."""

    id: int
    channel: MessageChannel
    recipient: str
    subject: str | None
    text: str
    html: str | None
    template: str
    created_at: datetime


class Result(StrEnum):
    SENT = "sent"  # the provider took it
    RETRY = "retry"  # try again later (a timeout, a 5xx, a 4xx SMTP reply, a setup problem)
    REFUSED = "refused"  # never: the address is invalid, the recipient opted out


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    provider: str
    provider_message_id: str | None = None
    error: str | None = None
    # The provider refused because the recipient opted out with it (SMS error 21610): the
    # number is added to our own opt-outs.
    opted_out: bool = False

    @classmethod
    def sent(cls, provider: str, provider_message_id: str | None) -> Outcome:
        return cls(Result.SENT, provider, provider_message_id)

    @classmethod
    def retry(cls, provider: str, error: str) -> Outcome:
        return cls(Result.RETRY, provider, error=error)

    @classmethod
    def refused(cls, provider: str, error: str, *, opted_out: bool = False) -> Outcome:
        return cls(Result.REFUSED, provider, error=error, opted_out=opted_out)


class Sender(Protocol):
    """Hands one message to a provider and says what happened; never raises for that."""

    @property
    def provider(self) -> str: ...

    async def send(self, message: Outgoing) -> Outcome: ...


class DevOutbox:
    """Keeps the message in the database only; the dev outbox page shows it."""

    provider = DEV_OUTBOX

    async def send(self, message: Outgoing) -> Outcome:
        return Outcome.sent(DEV_OUTBOX, f"dev-{message.id}")


@dataclass(frozen=True)
class Unconfigured:
    """Production without a provider for a channel: its messages fail, saying what to set."""

    provider: str
    missing: str

    async def send(self, message: Outgoing) -> Outcome:
        return Outcome.refused(
            self.provider, f"{message.channel} is not configured: set {self.missing}"
        )


@dataclass(frozen=True)
class Senders:
    """A sender per channel."""

    email: Sender
    sms: Sender

    def for_channel(self, channel: MessageChannel) -> Sender:
        return self.email if channel is MessageChannel.EMAIL else self.sms
