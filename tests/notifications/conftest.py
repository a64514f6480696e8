"""A real SMTP server on 127.0.0.1 (aiosmtpd), the SMS provider's recorded answers, and a runner
to send what the tests queue."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from doorstep.jobs import JobPolicy, Registry, Runner, RunReport
from doorstep.models import Job, Message, MessageChannel
from doorstep.notifications import service
from doorstep.notifications.senders import DevOutbox, Sender, Senders
from doorstep.notifications.smtp import SmtpConfig, SmtpSender
from doorstep.notifications.twilio import TwilioConfig, TwilioSender
from doorstep.notifications.worker import Notifier

RECORDED = Path(__file__).parent / "recorded"
T0 = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
MAIL_FROM = "Chandler Delivery <no-reply@doorstep.example>"

# No jitter, three attempts: a schedule the tests can assert.
EXACT = JobPolicy(max_attempts=3, jitter=0.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Inbox:
    """What the SMTP server accepted, and how it answers: a recipient in ``refuse`` gets
    that reply to RCPT TO (``"550 5.1.1 no such mailbox"``)."""

    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    sessions: int = 0

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook names)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def mailer(smtp_server: tuple[Inbox, int]) -> Iterator[SmtpSender]:
    _, port = smtp_server
    sender = SmtpSender(
        SmtpConfig(host="127.0.0.1", port=port, starttls=False, mail_from=MAIL_FROM, timeout=5)
    )
    yield sender
    sender.close()


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def status_of(name: str) -> int:
    return int(Path(name).stem.rsplit("_", 1)[1])


TWILIO = TwilioConfig(
    base_url="https://sms.test",
    account_sid="AC00000000000000000000000000000000",
    auth_token="test-auth-token",
    from_number="+14805550199",
)


@dataclass
class RecordedSms:
    """Answers each create with the next recorded file (the last one again when they run out)
    and keeps what was asked."""

    answers: list[str]
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        name = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return httpx.Response(
            status_of(name),
            content=recorded(name),
            headers={"content-type": "application/json"},
        )

    def forms(self) -> list[dict[str, str]]:
        return [dict(parse_qsl(r.content.decode())) for r in self.requests]


def sms_sender(*answers: str) -> tuple[TwilioSender, RecordedSms]:
    provider = RecordedSms(list(answers))
    return TwilioSender(TWILIO, transport=httpx.MockTransport(provider.handle)), provider


def senders(email: Sender | None = None, sms: Sender | None = None) -> Senders:
    return Senders(email=email or DevOutbox(), sms=sms or DevOutbox())


def run_jobs(
    sessions: sessionmaker[DbSession],
    chosen: Senders,
    now: datetime = T0,
    *,
    policy: JobPolicy = EXACT,
    concurrency: int = 4,
) -> RunReport:
    registry = Registry()
    Notifier(chosen, policy=policy).register(registry)
    runner = Runner(sessions, registry, concurrency=concurrency, name="test-runner")
    return asyncio.run(runner.run_once(now))


def reload(session: DbSession, message_id: int) -> Message:
    """The message as committed, not as the session remembers it."""
    session.expire_all()
    return session.get_one(Message, message_id)


def count(session: DbSession, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def jobs_of(session: DbSession) -> list[Job]:
    session.expire_all()
    return list(session.scalars(select(Job).order_by(Job.id)))


OUT_FOR_DELIVERY = {
    "tracking_url": "https://doorstep.example/t/Xy7kQ2pL9vR4sT1u",
    "eta_window": "2:10-2:40 pm",
    "recipient_name": "Ana",
}


def send(
    session: DbSession,
    to: str = "+14805550101",
    *,
    template: str = "out_for_delivery",
    context: dict[str, Any] | None = None,
    **options: Any,
) -> Message | None:
    """`service.send` with a test's defaults: e-mail when ``to`` has an @, else SMS; an
    out-for-delivery message at T0."""
    channel = MessageChannel.EMAIL if "@" in to else MessageChannel.SMS
    return service.send(
        session,
        channel=options.pop("channel", channel),
        to=to,
        template=template,
        context=OUT_FOR_DELIVERY if context is None else context,
        now=options.pop("now", T0),
        **options,
    )


def queued(session: DbSession, to: str = "+14805550101", **options: Any) -> int:
    """Queue a message (see `send`) and commit it; its id."""
    message = send(session, to, **options)
    assert message is not None
    session.commit()
    return message.id


@dataclass
class Mail:
    """The test's SMTP server and a sender connected to it."""

    inbox: Inbox
    sender: SmtpSender

    @property
    def senders(self) -> Senders:
        return senders(email=self.sender)


@pytest.fixture
def mail(smtp_server: tuple[Inbox, int], mailer: SmtpSender) -> Mail:
    return Mail(smtp_server[0], mailer)
