"""The shopper's side of the milestone e-mails in the browser tests: queue what the outbox
says, send it to the local SMTP server (aiosmtpd), and find the tracking link in what arrived."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from doorstep.notifications import milestones
from doorstep.notifications.smtp import SmtpSender
from tests.notifications.conftest import Inbox, run_jobs, senders

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/track/[A-Za-z0-9_-]{43})")


def send_mail(
    sessions: sessionmaker[Session], mailer: SmtpSender, now: datetime, *, public_url: str
) -> None:
    """The milestones of the events committed so far queued, then every due message sent."""
    with sessions() as session:
        milestones.follow_outbox(session, now, public_url=public_url, max_attempts=3)
        session.commit()
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(run_jobs, sessions, senders(email=mailer), now).result()


def mails_to(inbox: Inbox, recipient: str) -> list[tuple[str, str]]:
    """(subject, plain text) of each e-mail the SMTP server accepted for ``recipient``."""
    found = []
    for envelope, mail in inbox.messages:
        if recipient in envelope.rcpt_tos:
            assert mail["To"] == recipient
            body = mail.get_body(preferencelist=("plain",))
            assert body is not None
            found.append((str(mail["Subject"]), str(body.get_content())))
    return found


def tracking_link(text: str) -> str:
    link = LINK.search(text)
    assert link is not None, text
    return link.group(1)
