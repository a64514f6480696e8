"""E-mail over SMTP with the standard library: a pure composer and error mapper, and a thin
client that runs ``smtplib`` in a worker thread.

`compose` builds a multipart/alternative message (plain text first, HTML second, as RFC 2046
orders them: the last part is the preferred one). Its Message-ID is derived from the message's
row, so a retry of the same message carries the same id and a mailbox can collapse a
duplicate. `outcome_of` maps what ``smtplib`` raised to an `Outcome`: a 5xx refusal of the
recipient or the content fails the message for good; a 4xx, a dropped connection, a timeout,
or a refusal of our own sender or credentials (a setting an operator can fix) is retried.

`SmtpSender` keeps a few connections open between messages (a pool): opening one costs a TCP
and often a TLS handshake and an authentication, more than the message itself. A connection
the server dropped while idle is replaced once before the attempt counts as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from doorstep.notifications.senders import Outcome, Outgoing
from doorstep.settings import Settings

PROVIDER = "smtp"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    mail_from: str = "doorstep <no-reply@doorstep.invalid>"
    timeout: float = 30.0
    pool_size: int = 8  # connections kept open between messages

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        if not settings.smtp_host:
            raise ValueError("DOORSTEP_SMTP_HOST is not set")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=(
                settings.smtp_password.get_secret_value() if settings.smtp_password else None
            ),
            starttls=settings.smtp_starttls,
            mail_from=settings.mail_from,
        )

    @property
    def envelope_from(self) -> str:
        return parseaddr(self.mail_from)[1]


def compose(message: Outgoing, *, mail_from: str) -> EmailMessage:
    """The e-mail for a queued message: From, To, Subject, a stable Message-ID, and its text
    and HTML as alternatives."""
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.recipient
    email["Subject"] = message.subject or ""
    email["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "doorstep.invalid"
    email["Message-ID"] = f"<message-{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


def outcome_of(error: Exception) -> Outcome:
    """What an exception of ``smtplib`` (or the socket under it) means for the message."""
    description = _describe(error)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return Outcome.refused(PROVIDER, description)
        return Outcome.retry(PROVIDER, description)
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
        return Outcome.retry(PROVIDER, description)  # our own setting: an operator fixes it
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500:
        return Outcome.refused(PROVIDER, description)
    return Outcome.retry(PROVIDER, description)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = "; ".join(f"{code} {_text(reply)}" for code, reply in error.recipients.values())
        return f"recipient refused: {replies}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


class SmtpSender:
    """Sends through one SMTP server, with up to ``config.pool_size`` idle connections kept."""

    provider = PROVIDER

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    async def send(self, message: Outgoing) -> Outcome:
        # smtplib blocks: it runs in a worker thread, with no transaction open.
        return await asyncio.to_thread(self.send_blocking, message)

    def send_blocking(self, message: Outgoing) -> Outcome:
        try:
            email = compose(message, mail_from=self.config.mail_from)
        except ValueError as error:  # a header no mail server would take: never sendable
            return Outcome.refused(PROVIDER, f"cannot compose the e-mail: {error}")
        connection, reused = self._take()
        try:
            if connection is None:
                connection = self._connect()
            try:
                connection.send_message(
                    email, from_addr=self.config.envelope_from, to_addrs=[message.recipient]
                )
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # The server closed it while it sat in the pool: once more, on a new one.
                _close(connection)
                connection = self._connect()
                connection.send_message(
                    email, from_addr=self.config.envelope_from, to_addrs=[message.recipient]
                )
        except Exception as error:
            if connection is not None:
                self._after_failure(error, connection)
            return outcome_of(error)
        self._give(connection)
        return Outcome.sent(PROVIDER, email["Message-ID"])

    def close(self) -> None:
        """Close the idle connections (the sender stays usable)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            _quit(connection)

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            connection.ehlo()
            if config.starttls:
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if config.username:
                connection.login(config.username, config.password or "")
        except Exception:
            _close(connection)
            raise
        return connection

    def _take(self) -> tuple[smtplib.SMTP | None, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return None, False

    def _after_failure(self, error: Exception, connection: smtplib.SMTP) -> None:
        # A refusal of this message leaves the session usable (RSET clears it); anything else
        # (a dropped connection, a timeout) leaves it in an unknown state.
        if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException):
            try:
                connection.rset()
            except Exception:
                _close(connection)
                return
            self._give(connection)
            return
        _close(connection)

    def _give(self, connection: smtplib.SMTP) -> None:
        with self._lock:
            if len(self._idle) < self.config.pool_size:
                self._idle.append(connection)
                return
        _quit(connection)


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except Exception:
        _close(connection)


def _close(connection: smtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        connection.close()
