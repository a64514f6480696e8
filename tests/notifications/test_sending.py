"""The sending job: e-mail through a real SMTP server, SMS through recorded provider answers;
retries, permanent refusals, opt-outs, idempotence, and messages that do not wait for each
other."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from doorstep.jobs import enqueue, queue
from doorstep.models import JobStatus, MessageStatus, OptOutSource, SmsOptOut
from doorstep.notifications import service
from doorstep.notifications.service import REDACTED, SEND_JOB
from doorstep.notifications.smtp import SmtpConfig, SmtpSender
from tests.factories import make_merchant
from tests.notifications.conftest import (
    EXACT,
    MAIL_FROM,
    T0,
    TWILIO,
    Mail,
    count,
    free_port,
    jobs_of,
    queued,
    reload,
    run_jobs,
    send,
    senders,
    sms_sender,
)

Sessions = sessionmaker[Session]


def test_an_email_goes_through_the_smtp_server_with_its_text_and_html(
    session: Session, session_factory: Sessions, mail: Mail
) -> None:
    merchant = make_merchant(
        session, display_name="Copper Pot", button_settings={"color": "#B45309"}
    )
    message_id = queued(session, "ana@example.com", merchant_id=merchant.id)

    report = run_jobs(session_factory, mail.senders, T0 + timedelta(seconds=1))

    assert (report.succeeded, report.jobs_run) == (1, 1)
    [(envelope, email)] = mail.inbox.messages
    assert envelope.mail_from == "no-reply@doorstep.example"
    assert envelope.rcpt_tos == ["ana@example.com"]
    assert email["From"] == MAIL_FROM
    assert email["To"] == "ana@example.com"
    assert email["Subject"] == "Copper Pot: your parcel is out for delivery"
    assert email["Auto-Submitted"] == "auto-generated"
    assert email.get_content_type() == "multipart/alternative"
    text = email.get_body(preferencelist=("plain",))
    html = email.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "Arriving: 2:10-2:40 pm" in text.get_content()
    assert "https://doorstep.example/t/Xy7kQ2pL9vR4sT1u" in text.get_content()
    assert "background:#b45309" in html.get_content()  # the merchant's colour
    assert 'href="https://doorstep.example/t/Xy7kQ2pL9vR4sT1u"' in html.get_content()

    sent = reload(session, message_id)
    assert sent.status is MessageStatus.SENT
    assert (sent.provider, sent.provider_message_id) == ("smtp", email["Message-ID"])
    assert (sent.sent_at, sent.attempts, sent.last_error) == (T0 + timedelta(seconds=1), 1, None)
    assert [job.status for job in jobs_of(session)] == [JobStatus.SUCCEEDED]


def test_a_job_delivered_twice_sends_once(
    session: Session, session_factory: Sessions, mail: Mail
) -> None:
    message_id = queued(session, "ana@example.com")
    # The same message's job again, as a runner that lost its lease would run it.
    enqueue(session, SEND_JOB, {"message_id": message_id}, run_at=T0)
    session.commit()

    report = run_jobs(session_factory, mail.senders, T0, concurrency=1)

    assert report.succeeded == 2
    assert len(mail.inbox.messages) == 1
    assert reload(session, message_id).attempts == 1


def test_a_refused_recipient_fails_for_good_and_a_busy_one_is_retried(
    session: Session, session_factory: Sessions, mail: Mail
) -> None:
    mail.inbox.refuse = {
        "gone@example.com": "550 5.1.1 No such mailbox",
        "busy@example.com": "451 4.3.0 Try again later",
    }
    gone = queued(session, "gone@example.com")
    busy = queued(session, "busy@example.com")

    report = run_jobs(session_factory, mail.senders, T0)

    assert (report.succeeded, report.retrying) == (1, 1)
    refused = reload(session, gone)
    assert refused.status is MessageStatus.FAILED
    assert refused.last_error == "recipient refused: 550 5.1.1 No such mailbox"
    waiting = reload(session, busy)
    assert (waiting.status, waiting.attempts) == (MessageStatus.QUEUED, 1)
    assert waiting.last_error == "recipient refused: 451 4.3.0 Try again later"
    # The mailbox is back: the retry, after the runner's backoff, goes through.
    mail.inbox.refuse = {}
    assert run_jobs(session_factory, mail.senders, T0 + timedelta(seconds=9)).jobs_run == 0
    assert run_jobs(session_factory, mail.senders, T0 + timedelta(seconds=10)).succeeded
    assert reload(session, busy).status is MessageStatus.SENT
    assert [envelope.rcpt_tos for envelope, _ in mail.inbox.messages] == [["busy@example.com"]]


def test_a_failing_message_does_not_hold_up_the_next(
    session: Session, session_factory: Sessions, mail: Mail
) -> None:
    mail.inbox.refuse = {"busy@example.com": "421 4.7.0 Slow down"}
    first = queued(session, "busy@example.com")
    second = queued(session, "ana@example.com")

    # One job at a time: the second runs after the first has failed.
    report = run_jobs(session_factory, mail.senders, T0, concurrency=1)

    assert (report.retrying, report.succeeded) == (1, 1)
    assert reload(session, first).status is MessageStatus.QUEUED
    assert reload(session, second).status is MessageStatus.SENT


def test_every_attempt_failing_fails_the_message_and_an_operator_s_retry_sends_it(
    session: Session, session_factory: Sessions, mail: Mail
) -> None:
    mail.inbox.refuse = {"busy@example.com": "452 4.2.2 Mailbox full"}
    message_id = queued(session, "busy@example.com")

    now = T0
    for _ in range(EXACT.max_attempts):
        run_jobs(session_factory, mail.senders, now)
        now += timedelta(hours=1)

    failed = reload(session, message_id)
    assert (failed.status, failed.attempts) == (MessageStatus.FAILED, EXACT.max_attempts)
    assert failed.last_error == "recipient refused: 452 4.2.2 Mailbox full"
    [job] = jobs_of(session)
    assert job.status is JobStatus.FAILED
    assert run_jobs(session_factory, mail.senders, now + timedelta(days=1)).jobs_run == 0

    # The mailbox has room again; an operator retries the job (doorstep jobs retry).
    mail.inbox.refuse = {}
    queue.retry(session, job.id, now=now)
    session.commit()
    assert run_jobs(session_factory, mail.senders, now).succeeded == 1
    sent = reload(session, message_id)
    assert (sent.status, sent.attempts, sent.last_error) == (MessageStatus.SENT, 1, None)
    assert len(mail.inbox.messages) == 1


def test_an_unreachable_server_is_retried(session: Session, session_factory: Sessions) -> None:
    nowhere = SmtpSender(SmtpConfig(host="127.0.0.1", port=free_port(), starttls=False, timeout=2))
    message_id = queued(session, "ana@example.com")

    report = run_jobs(session_factory, senders(email=nowhere), T0)

    assert report.retrying == 1
    waiting = reload(session, message_id)
    assert waiting.status is MessageStatus.QUEUED
    assert "ConnectionRefusedError" in (waiting.last_error or "")


def test_a_sign_in_code_is_blanked_once_sent_but_kept_in_the_dev_outbox(
    session: Session, session_factory: Sessions, mail: Mail
) -> None:
    code = {"template": "sign_in_code", "context": {"code": "482913"}}
    by_mail = queued(session, "driver@example.com", **code)
    by_dev_outbox = queued(session, "+14805550102", **code)

    run_jobs(session_factory, mail.senders, T0)

    [(_, email)] = mail.inbox.messages
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Your doorstep sign-in code is 482913" in body.get_content()
    mailed = reload(session, by_mail)
    assert (mailed.status, mailed.body_text, mailed.body_html) == (
        MessageStatus.SENT,
        REDACTED,
        None,
    )
    kept = reload(session, by_dev_outbox)
    assert (kept.status, kept.provider) == (MessageStatus.SENT, "dev-outbox")
    assert "482913" in kept.body_text


# SMS


def test_an_sms_is_created_with_the_provider(session: Session, session_factory: Sessions) -> None:
    sender, provider = sms_sender("message_created_201.json")
    message_id = queued(session, "+1 480 555 0101")

    report = run_jobs(session_factory, senders(sms=sender), T0)

    assert report.succeeded == 1
    [request] = provider.requests
    assert request.method == "POST"
    assert str(request.url) == (
        "https://sms.test/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
    )
    assert request.headers["authorization"].startswith("Basic ")
    [form] = provider.forms()
    assert form["To"] == "+14805550101"
    assert form["From"] == TWILIO.from_number
    assert form["Body"].startswith("doorstep: Your parcel is out for delivery, arriving 2:10-2:40")
    sent = reload(session, message_id)
    assert (sent.status, sent.provider, sent.provider_message_id) == (
        MessageStatus.SENT,
        "twilio",
        "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    )


def test_a_provider_error_is_retried_and_then_sent(
    session: Session, session_factory: Sessions
) -> None:
    sender, provider = sms_sender("service_unavailable_503.json", "message_created_201.json")
    message_id = queued(session)

    assert run_jobs(session_factory, senders(sms=sender), T0).retrying == 1
    waiting = reload(session, message_id)
    assert waiting.status is MessageStatus.QUEUED
    assert waiting.last_error == "HTTP 503: 20503: Service unavailable"
    [job] = jobs_of(session)
    assert (job.status, job.run_at) == (JobStatus.QUEUED, T0 + EXACT.first)

    assert run_jobs(session_factory, senders(sms=sender), T0 + EXACT.first).succeeded == 1
    assert reload(session, message_id).status is MessageStatus.SENT
    assert len(provider.requests) == 2


def test_an_invalid_number_fails_without_a_retry(
    session: Session, session_factory: Sessions
) -> None:
    sender, provider = sms_sender("invalid_to_number_400.json")
    message_id = queued(session)

    report = run_jobs(session_factory, senders(sms=sender), T0)

    assert (report.succeeded, report.retrying) == (1, 0)  # the job did its work
    failed = reload(session, message_id)
    assert failed.status is MessageStatus.FAILED
    assert failed.last_error == "HTTP 400: 21211: Invalid 'To' Phone Number: +1480555XXXX"
    assert run_jobs(session_factory, senders(sms=sender), T0 + timedelta(days=1)).jobs_run == 0
    assert len(provider.requests) == 1
    assert count(session, SmsOptOut) == 0


def test_a_number_the_provider_knows_as_unsubscribed_joins_the_opt_outs(
    session: Session, session_factory: Sessions
) -> None:
    sender, _ = sms_sender("unsubscribed_recipient_400.json")
    message_id = queued(session)

    run_jobs(session_factory, senders(sms=sender), T0)

    assert reload(session, message_id).status is MessageStatus.FAILED
    opt_out = session.get_one(SmsOptOut, "+14805550101")
    assert opt_out.source is OptOutSource.PROVIDER
    # The next SMS to that number is not even queued.
    assert send(session, "(480) 555-0101", template="arriving") is None


def test_a_number_that_opts_out_after_queueing_is_not_sent_to(
    session: Session, session_factory: Sessions
) -> None:
    sender, provider = sms_sender("message_created_201.json")
    message_id = queued(session)
    service.opt_out(session, "+14805550101", now=T0)
    session.commit()

    assert run_jobs(session_factory, senders(sms=sender), T0).succeeded == 1

    assert reload(session, message_id).status is MessageStatus.SUPPRESSED
    assert provider.requests == []


def test_a_message_carries_its_merchant_s_name(session: Session, session_factory: Sessions) -> None:
    sender, provider = sms_sender("message_created_201.json")
    merchant = make_merchant(session, name="Saguaro Supply Co")
    queued(session, merchant_id=merchant.id)

    run_jobs(session_factory, senders(sms=sender), T0)

    [form] = provider.forms()
    assert form["Body"].startswith("Saguaro Supply Co: Your parcel is out for delivery")
