"""The e-mail composer and what each SMTP failure means; a sender keeps its connection."""

from __future__ import annotations

import smtplib
import socket
from dataclasses import replace
from datetime import timedelta

import pytest

from doorstep.models import MessageChannel
from doorstep.notifications.senders import Outgoing, Result
from doorstep.notifications.smtp import SmtpConfig, SmtpSender, compose, outcome_of
from doorstep.settings import Settings
from tests.notifications.conftest import MAIL_FROM, T0, Inbox

MESSAGE = Outgoing(
    id=42,
    channel=MessageChannel.EMAIL,
    recipient="ana@example.com",
    subject="Copper Pot: your parcel was delivered",
    text="Delivered at 2:31 pm.\n",
    html="<p>Delivered at 2:31 pm.</p>",
    template="delivered",
    created_at=T0,
)


def test_compose_makes_text_and_html_alternatives_with_a_stable_id() -> None:
    email = compose(MESSAGE, mail_from=MAIL_FROM)
    assert email["From"] == MAIL_FROM
    assert email["To"] == "ana@example.com"
    assert email["Subject"] == "Copper Pot: your parcel was delivered"
    assert email["Message-ID"] == "<message-42.20261203180000@doorstep.example>"
    assert compose(MESSAGE, mail_from=MAIL_FROM)["Message-ID"] == email["Message-ID"]
    parts = [part.get_content_type() for part in email.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # the last is the preferred one


def test_compose_refuses_a_header_with_a_line_break() -> None:
    forged = replace(MESSAGE, subject="Hi\nBcc: everyone@example.com")
    with pytest.raises(ValueError, match=r"linefeed|newline|header"):
        compose(forged, mail_from=MAIL_FROM).as_bytes()


def test_what_smtp_failures_mean() -> None:
    refused = smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"5.1.1 No such user")})
    assert outcome_of(refused).result is Result.REFUSED
    busy = smtplib.SMTPRecipientsRefused({"a@example.com": (452, b"4.2.2 Mailbox full")})
    assert outcome_of(busy).result is Result.RETRY
    assert outcome_of(smtplib.SMTPDataError(554, b"5.7.1 Spam")).result is Result.REFUSED
    assert outcome_of(smtplib.SMTPDataError(451, b"4.3.0 Later")).result is Result.RETRY
    # Our own sender or credentials: a setting to fix, so the message waits.
    assert outcome_of(smtplib.SMTPSenderRefused(553, b"5.7.1 Not yours", "x")).result is (
        Result.RETRY
    )
    assert outcome_of(smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad")).result is Result.RETRY
    assert outcome_of(smtplib.SMTPServerDisconnected("gone")).result is Result.RETRY
    assert outcome_of(TimeoutError("timed out")).result is Result.RETRY
    assert outcome_of(socket.gaierror(-2, "Name or service not known")).result is Result.RETRY
    assert outcome_of(refused).error == "recipient refused: 550 5.1.1 No such user"


def test_a_sender_reuses_its_connection(smtp_server: tuple[Inbox, int], mailer: SmtpSender) -> None:
    inbox, _ = smtp_server
    for n in range(3):
        outcome = mailer.send_blocking(replace(MESSAGE, id=n, created_at=T0 + timedelta(seconds=n)))
        assert outcome.result is Result.SENT
    assert len(inbox.messages) == 3
    assert inbox.sessions == 1


def test_a_pooled_connection_the_server_dropped_is_replaced(
    smtp_server: tuple[Inbox, int], mailer: SmtpSender
) -> None:
    inbox, _ = smtp_server
    assert mailer.send_blocking(MESSAGE).result is Result.SENT
    [idle] = mailer._idle
    assert idle.sock is not None
    idle.sock.close()  # as if the server had timed the idle session out
    assert mailer.send_blocking(MESSAGE).result is Result.SENT
    assert len(inbox.messages) == 2


def test_the_server_comes_from_settings() -> None:
    config = SmtpConfig.from_settings(
        Settings(
            smtp_host="mail.example",
            smtp_port=2525,
            smtp_username="doorstep",
            smtp_password="secret",
            smtp_starttls=False,
            mail_from="Chandler Delivery <no-reply@chandler.example>",
            _env_file=None,
        )
    )
    assert (config.host, config.port, config.username, config.password) == (
        "mail.example",
        2525,
        "doorstep",
        "secret",
    )
    assert (config.starttls, config.envelope_from) == (False, "no-reply@chandler.example")
