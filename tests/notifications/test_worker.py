"""Which sender each channel gets from the settings, and the job's place in ``doorstep worker``."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from doorstep.cli.worker import build_registry
from doorstep.models import MessageStatus
from doorstep.notifications import service
from doorstep.notifications.senders import DevOutbox, Outcome, Outgoing, Unconfigured
from doorstep.notifications.smtp import SmtpSender
from doorstep.notifications.twilio import TwilioSender
from doorstep.notifications.worker import PRUNE, senders_from_settings
from doorstep.settings import Environment, Settings
from doorstep.webhooks.addresses import AddressPolicy
from doorstep.webhooks.worker import DeliveryWorker, http_client
from tests.notifications.conftest import T0, queued, reload, run_jobs, senders

LIVE = {
    "operator_token": "op-7fQ2xK9mWv3LrT8bNc4ZhY6dJs1GpE5a",
    "secret_key": "sk-Hq4Vn8Rt2Lx6Bw9Mz3Kc7Pf1Yd5Gj0Sa",
}
SMS_ACCOUNT = {
    "sms_account_sid": "AC00000000000000000000000000000000",
    "sms_auth_token": "token",
    "sms_from": "+14805550199",
}


def test_without_providers_development_keeps_messages_in_the_dev_outbox() -> None:
    chosen = senders_from_settings(Settings(_env_file=None))
    assert isinstance(chosen.email, DevOutbox)
    assert isinstance(chosen.sms, DevOutbox)


def test_configured_providers_are_used() -> None:
    chosen = senders_from_settings(
        Settings(smtp_host="mail.example", **SMS_ACCOUNT, _env_file=None)  # type: ignore[arg-type]
    )
    assert isinstance(chosen.email, SmtpSender)
    assert isinstance(chosen.sms, TwilioSender)


def test_production_without_providers_fails_messages_naming_the_setting(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    chosen = senders_from_settings(
        Settings(environment=Environment.PRODUCTION, **LIVE, _env_file=None)  # type: ignore[arg-type]
    )
    assert isinstance(chosen.email, Unconfigured)
    assert isinstance(chosen.sms, Unconfigured)
    message_id = queued(session, "ana@example.com")

    run_jobs(session_factory, chosen, T0)

    failed = reload(session, message_id)
    assert failed.status is MessageStatus.FAILED
    assert failed.last_error == "email is not configured: set DOORSTEP_SMTP_HOST"


def test_doorstep_worker_runs_the_sending_job_and_the_pruning(
    session_factory: sessionmaker[Session],
) -> None:
    async def registry_kinds() -> set[str]:
        async with http_client(AddressPolicy()) as client:
            registry = build_registry(
                Settings(_env_file=None), DeliveryWorker(session_factory, client)
            )
        return set(registry.handlers) | {periodic.name for periodic in registry.periodic}

    assert {service.SEND_JOB, PRUNE} <= asyncio.run(registry_kinds())


def test_the_dev_outbox_marks_messages_sent(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    message_id = queued(session, template="sign_in_code", context={"code": "123456"})
    assert run_jobs(session_factory, senders(), T0).succeeded == 1
    sent = reload(session, message_id)
    assert (sent.status, sent.provider, sent.provider_message_id) == (
        MessageStatus.SENT,
        "dev-outbox",
        f"dev-{message_id}",
    )
    assert "123456" in sent.body_text


class Broken:
    """A sender with a bug: it raises instead of answering."""

    provider = "broken"

    async def send(self, message: Outgoing) -> Outcome:
        raise KeyError("oops")


def test_a_sender_that_raises_counts_as_a_failed_attempt(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    message_id = queued(session, "ana@example.com")

    report = run_jobs(session_factory, senders(email=Broken()), T0)

    assert report.retrying == 1
    waiting = reload(session, message_id)
    assert (waiting.status, waiting.attempts) == (MessageStatus.QUEUED, 1)
    assert waiting.last_error == "KeyError: 'oops'"


def test_production_mail_needs_a_sender_address_of_its_own() -> None:
    with pytest.raises(ValueError, match="DOORSTEP_MAIL_FROM must be set"):
        Settings(
            environment=Environment.PRODUCTION,
            smtp_host="mail.example",
            **LIVE,  # type: ignore[arg-type]
            _env_file=None,
        )
    Settings(
        environment=Environment.PRODUCTION,
        smtp_host="mail.example",
        mail_from="Chandler Delivery <no-reply@chandler.example>",
        **LIVE,  # type: ignore[arg-type]
        _env_file=None,
    )


def test_jobs_started_together_read_their_messages_with_one_query(
    engine: Engine, session: Session, session_factory: sessionmaker[Session]
) -> None:

    from doorstep.notifications.worker import MessageReads

    ids = [queued(session, f"reader{n}@example.com") for n in range(5)]
    statements: list[str] = []

    def count(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if "FROM notification_messages" in statement:
            statements.append(statement)

    reads = MessageReads(session_factory)

    async def all_at_once() -> list[service.Pending | None]:
        return list(
            await asyncio.gather(
                *(reads.read(i, resend_failed=False) for i in ids),
                reads.read(10**9, resend_failed=False),  # no such message
            )
        )

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = asyncio.run(all_at_once())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert [p.message.id if p else None for p in found] == [*ids, None]
    assert [p.message.recipient for p in found if p] == [f"reader{n}@example.com" for n in range(5)]
