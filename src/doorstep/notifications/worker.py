"""The ``notifications.send`` job: one job per message, run by ``doorstep worker``.

Each attempt reads the message in a short read-only transaction (the jobs the runner starts
together read theirs in one: `MessageReads`), hands it to the channel's sender with no
transaction open, and records the outcome in a second short transaction (the
one in which the runner marks the job done, when there is nothing to retry):

- already sent, failed or suppressed (a job delivered twice): nothing happens;
- an SMS whose number opted out since it was queued: ``suppressed``, not sent;
- sent: ``sent``; refused for good (an invalid address, an opted-out number): ``failed``, and
  the job succeeds (there is nothing to retry);
- a failure worth retrying: the job raises, and the runner queues it again with its backoff
  (`doorstep.jobs.JobPolicy`); after the last attempt the message is ``failed`` too.

Messages do not wait for each other: a message that keeps failing holds its own job only.

Delivery is at least once. If the process dies after the provider took a message and before
the outcome is committed, the next attempt sends it again; an e-mail keeps its Message-ID
across attempts, so a mailbox can tell. The window is the few milliseconds of one commit.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import READ_ONLY_BEGIN, unit_of_work
from doorstep.jobs import DEFAULT_POLICY, ClaimedJob, Finish, JobPolicy, Registry
from doorstep.models import MessageStatus
from doorstep.notifications import service
from doorstep.notifications.senders import (
    DevOutbox,
    Outcome,
    Result,
    Sender,
    Senders,
    Unconfigured,
)
from doorstep.notifications.smtp import SmtpConfig, SmtpSender
from doorstep.notifications.twilio import TwilioConfig, TwilioSender
from doorstep.settings import Environment, Settings

log = structlog.get_logger(__name__)


class SendFailed(Exception):
    """An attempt that should be tried again (the runner records it and backs off)."""


class MessageReads:
    """Reads the messages of the jobs started in one turn of the event loop with one query.

    The runner starts up to its concurrency of jobs at once, and each began with a read
    transaction of its own: a quarter of a message's cost. A read asked for now is made when
    this turn's other jobs have asked for theirs (`loop.call_soon`), all in one transaction.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._asked: dict[tuple[int, bool], list[asyncio.Future[service.Pending | None]]] = {}

    def read(
        self, message_id: int, *, resend_failed: bool
    ) -> asyncio.Future[service.Pending | None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[service.Pending | None] = loop.create_future()
        if not self._asked:
            loop.call_soon(self._read_all)
        self._asked.setdefault((message_id, resend_failed), []).append(future)
        return future

    def _read_all(self) -> None:
        asked, self._asked = self._asked, {}
        try:
            with unit_of_work(self.sessions) as session:
                session.connection(execution_options={"sqlite_begin": READ_ONLY_BEGIN})
                found = service.pending_many(session, list(asked))
        except Exception as error:  # each job fails its attempt and is tried again
            for futures in asked.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
            return
        for key, futures in asked.items():
            for future in futures:
                if not future.done():
                    future.set_result(found[key])


class Notifier:
    """Runs ``notifications.send`` jobs with ``senders``; the job's ``policy`` tells it which
    attempt is the last."""

    def __init__(self, senders: Senders, *, policy: JobPolicy = DEFAULT_POLICY) -> None:
        self.senders = senders
        self.policy = policy
        self._reads: MessageReads | None = None

    def _reads_for(self, sessions: sessionmaker[Session]) -> MessageReads:
        if self._reads is None or self._reads.sessions is not sessions:
            self._reads = MessageReads(sessions)
        return self._reads

    def register(self, registry: Registry) -> None:
        registry.async_job(service.SEND_JOB, self.run, policy=self.policy)

    async def run(self, job: ClaimedJob, sessions: sessionmaker[Session]) -> Finish | None:
        message_id = int(job.payload["message_id"])
        # A first attempt that finds the message failed is an operator's retry.
        reads = self._reads_for(sessions)
        pending = await reads.read(message_id, resend_failed=job.attempt == 1)
        if pending is None:
            return None
        if pending.failed:
            with unit_of_work(sessions) as session:
                if not service.requeue(session, message_id):
                    return None
        if pending.opted_out:
            with unit_of_work(sessions) as session:
                service.suppress(session, message_id)
            return None
        message = pending.message
        sender = self.senders.for_channel(message.channel)
        try:
            outcome = await sender.send(message)
        except Exception as error:  # a sender's bug: counted as an attempt, tried again
            log.exception("notification_sender_failed", message_id=message.id)
            outcome = Outcome.retry(sender.provider, f"{type(error).__name__}: {error}")
        last_attempt = job.attempt >= self.policy.max_attempts

        def record(session: Session) -> MessageStatus | None:
            return service.record(
                session,
                message,
                outcome,
                attempt=job.attempt,
                now=job.now,
                last_attempt=last_attempt,
            )

        if outcome.result is not Result.RETRY:
            return record  # sent, or refused for good: recorded as the job succeeds
        with unit_of_work(sessions) as session:
            status = record(session)
        if status in (MessageStatus.QUEUED, MessageStatus.FAILED):
            raise SendFailed(outcome.error or "the provider did not take the message")
        return None


def senders_from_settings(settings: Settings) -> Senders:
    """SMTP when ``DOORSTEP_SMTP_HOST`` is set, the SMS provider when
    ``DOORSTEP_SMS_ACCOUNT_SID`` is. Without one: the dev outbox, or in production a sender
    that fails each message of that channel, naming the setting to fix."""
    production = settings.environment is Environment.PRODUCTION
    email: Sender
    sms: Sender
    if settings.smtp_host:
        email = SmtpSender(SmtpConfig.from_settings(settings))
    else:
        email = Unconfigured("smtp", "DOORSTEP_SMTP_HOST") if production else DevOutbox()
    twilio = TwilioConfig.from_settings(settings)
    if twilio is not None:
        sms = TwilioSender(twilio)
    else:
        sms = Unconfigured("twilio", "DOORSTEP_SMS_ACCOUNT_SID") if production else DevOutbox()
    return Senders(email=email, sms=sms)


PRUNE = "notifications.prune"
"""The periodic job that deletes old messages; its result is how many it deleted."""


def register(registry: Registry, settings: Settings, *, senders: Senders | None = None) -> None:
    """Add the sending job to a runner's registry (``doorstep worker``), and the deletion of
    messages done more than ``DOORSTEP_RETENTION_DAYS`` ago (a batch a minute)."""
    Notifier(senders or senders_from_settings(settings)).register(registry)
    days = settings.retention_days
    registry.every(
        PRUNE, timedelta(minutes=1), lambda session, now: service.prune(session, now=now, days=days)
    )
