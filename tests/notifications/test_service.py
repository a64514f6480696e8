"""Queueing a message: with its job in the caller's transaction, once per dedupe key, never to
a number that opted out; opt-outs; inbound keywords."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from doorstep.models import (
    Job,
    Message,
    MessageChannel,
    MessageStatus,
    OptOutSource,
    SmsOptOut,
)
from doorstep.notifications import service
from doorstep.notifications.service import Keyword, Related
from doorstep.notifications.templates import TemplateContextError, UnknownTemplate
from tests.factories import make_merchant, make_package
from tests.notifications.conftest import (
    OUT_FOR_DELIVERY,
    T0,
    count,
    jobs_of,
    run_jobs,
    send,
    senders,
    sms_sender,
)


def test_send_writes_the_rendered_message_and_its_job(session: Session) -> None:
    package = make_package(session)
    merchant = make_merchant(session, name="Copper Pot Kitchenware", display_name="Copper Pot")

    message = service.send(
        session,
        channel=MessageChannel.EMAIL,
        to="  Ana@Example.COM ",
        template="out_for_delivery",
        context=OUT_FOR_DELIVERY,
        now=T0,
        merchant_id=merchant.id,
        dedupe_key=f"package:{package.id}:out_for_delivery",
        related=Related(order_id=package.order_id, package_id=package.id),
    )

    assert message is not None
    assert message.recipient == "Ana@example.com"
    assert message.subject == "Copper Pot: your parcel is out for delivery"
    assert "Hi Ana," in message.body_text
    assert message.body_html is not None
    assert "Copper Pot" in message.body_html
    assert (message.status, message.attempts, message.created_at) == (MessageStatus.QUEUED, 0, T0)
    assert (message.order_id, message.package_id) == (package.order_id, package.id)
    assert message.dedupe_key == f"email:package:{package.id}:out_for_delivery"
    [job] = jobs_of(session)
    assert (job.kind, job.payload, job.run_at) == (
        "notifications.send",
        {"message_id": message.id},
        T0,
    )


def test_nothing_is_queued_or_sent_for_a_rolled_back_change(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    sender, provider = sms_sender("message_created_201.json")
    with session_factory() as caller:
        assert send(caller) is not None
        caller.rollback()  # the caller's change failed after it queued the message

    assert count(session, Message) == 0
    assert count(session, Job) == 0
    assert run_jobs(session_factory, senders(sms=sender), T0).jobs_run == 0
    assert provider.requests == []


def test_a_dedupe_key_queues_one_message_per_channel(session: Session) -> None:
    first = send(session, dedupe_key="package:7:delivered")
    again = send(session, "+14805550199", dedupe_key="package:7:delivered")
    by_mail = send(session, "ana@example.com", dedupe_key="package:7:delivered")

    assert first is not None
    assert by_mail is not None
    assert again is None
    assert count(session, Message) == 2
    assert len(jobs_of(session)) == 2


def test_a_number_that_opted_out_gets_a_suppressed_row_and_no_job(session: Session) -> None:
    assert service.opt_out(session, "(480) 555-0101", now=T0)

    assert send(session, "+1 480 555 0101") is None

    [message] = session.query(Message).all()
    assert (message.status, message.recipient) == (MessageStatus.SUPPRESSED, "+14805550101")
    assert jobs_of(session) == []
    # E-mail to the same person is not affected.
    assert send(session, "ana@example.com") is not None


def test_opting_out_and_back_in(session: Session) -> None:
    assert not service.is_opted_out(session, "+14805550101")
    assert service.opt_out(session, "+14805550101", now=T0)
    assert not service.opt_out(session, "480-555-0101", now=T0)  # already
    assert service.is_opted_out(session, "4805550101")
    assert session.get_one(SmsOptOut, "+14805550101").source is OptOutSource.OPERATOR

    assert service.opt_in(session, "+1 (480) 555-0101")
    assert not service.opt_in(session, "+14805550101")
    assert not service.is_opted_out(session, "+14805550101")
    assert send(session) is not None

    with pytest.raises(service.InvalidPhoneNumber):
        service.opt_out(session, "call me maybe", now=T0)


def test_an_address_that_is_not_one_fails_the_message_without_a_job(session: Session) -> None:
    message = send(session, "not a number")
    mail = send(session, "ana at example.com", channel=MessageChannel.EMAIL)

    assert message is not None
    assert mail is not None
    assert (message.status, message.last_error) == (MessageStatus.FAILED, "not a phone number")
    assert (mail.status, mail.last_error) == (MessageStatus.FAILED, "not an e-mail address")
    assert jobs_of(session) == []


def test_a_caller_s_mistakes_raise_before_anything_is_written(session: Session) -> None:
    with pytest.raises(TemplateContextError, match="eta_window"):
        send(session, context={"tracking_url": "https://doorstep.example/t/x"})
    with pytest.raises(UnknownTemplate):
        send(session, template="out_for_delivery_v2")
    with pytest.raises(TemplateContextError, match="not an http"):
        send(session, context={**OUT_FOR_DELIVERY, "tracking_url": "javascript:alert(1)"})
    with pytest.raises(service.UnknownMerchant):
        send(session, merchant_id=999_999)
    with pytest.raises(ValueError, match="dedupe_key is longer than 196 characters"):
        send(session, dedupe_key="x" * 197)
    assert count(session, Message) == 0


@pytest.mark.parametrize(
    ("body", "opt_out_type", "keyword"),
    [
        ("STOP", None, Keyword.OPT_OUT),
        ("  stop\n", None, Keyword.OPT_OUT),
        ("Unsubscribe", None, Keyword.OPT_OUT),
        ("quit", None, Keyword.OPT_OUT),
        ("START", None, Keyword.OPT_IN),
        ("unstop", None, Keyword.OPT_IN),
        ("stop please", None, Keyword.NONE),  # one word only, as the provider reads it
        ("Thanks, see you at 2!", None, Keyword.NONE),
        ("arrete", "STOP", Keyword.OPT_OUT),  # the provider's own reading wins
        ("oui", "START", Keyword.OPT_IN),
        ("HELP", "HELP", Keyword.NONE),
    ],
)
def test_keywords(body: str, opt_out_type: str | None, keyword: Keyword) -> None:
    assert service.keyword_of(body, opt_out_type) is keyword


def test_receiving_stop_and_start(session: Session) -> None:
    assert service.receive_sms(session, sender="+14805550101", body="STOP", now=T0) is (
        Keyword.OPT_OUT
    )
    assert session.get_one(SmsOptOut, "+14805550101").source is OptOutSource.KEYWORD
    assert send(session) is None

    assert service.receive_sms(session, sender="+14805550101", body="Start", now=T0) is (
        Keyword.OPT_IN
    )
    assert send(session) is not None
    assert service.receive_sms(session, sender="unknown", body="STOP", now=T0) is Keyword.NONE


def test_messages_done_are_deleted_after_the_retention_period(session: Session) -> None:
    from datetime import timedelta

    from doorstep.notifications.service import prune

    old_sent = send(session, dedupe_key="package:1:delivered")
    old_waiting = send(session, "+14805550102")
    recent = send(session, "+14805550103", now=T0 + timedelta(days=25))
    assert old_sent is not None
    assert old_waiting is not None
    assert recent is not None
    old_sent.status = recent.status = MessageStatus.SENT
    session.flush()
    ids = old_sent.id, old_waiting.id, recent.id

    assert prune(session, now=T0 + timedelta(days=30, seconds=1), days=30) == 1

    session.expunge_all()
    assert [session.get(Message, message_id) is not None for message_id in ids] == [
        False,
        True,  # still to send: kept
        True,
    ]
    # Its dedupe key can be used again.
    assert send(session, dedupe_key="package:1:delivered") is not None
