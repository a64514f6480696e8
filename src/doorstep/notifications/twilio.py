"""SMS through a Twilio-compatible REST API: a pure response mapper, a thin client, and the
signature check of the provider's inbound posts.

Sending is ``POST {base}/2010-04-01/Accounts/{sid}/Messages.json`` with basic auth (account
SID and auth token) and the form fields ``To``, ``From``, ``Body``. A created message answers
201 with its ``sid``; a refusal answers 4xx with ``{"code", "message", "more_info",
"status"}``. `outcome_of` maps the answer: 2xx is sent; 429, 5xx and the codes that name our
own account or sending number (a setting to fix) are retried; any other 4xx refuses the
message for good — among them 21211 (not a valid number), 21614 (not a mobile number) and
21610 (the recipient replied STOP: the number joins our opt-outs too).

Inbound posts (a reply, STOP, START) carry ``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed
with the auth token, over the full URL the provider posted to followed by every form field's
name and value, sorted by name (`compute_signature`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from doorstep.notifications.senders import Outcome, Outgoing
from doorstep.settings import Settings

PROVIDER = "twilio"
USER_AGENT = "doorstep-notifications/1"

UNSUBSCRIBED = 21610
"""The recipient replied STOP to our number; the provider refuses to send until START."""

# Refusals that name our account or sending number, not the recipient: an operator fixes the
# setting, so the message waits and is tried again.
ACCOUNT_PROBLEMS = frozenset(
    {
        20003,  # authentication failed
        20404,  # the account (or resource) was not found
        21212,  # the From number is invalid
        21606,  # the From number cannot send SMS
        21659,  # the From number is not one of the account's
        21660,  # the From number does not belong to the account
    }
)


@dataclass(frozen=True)
class TwilioConfig:
    base_url: str
    account_sid: str
    auth_token: str
    from_number: str
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioConfig | None:
        """The account from settings, or None if no account is configured."""
        if not (settings.sms_account_sid and settings.sms_auth_token and settings.sms_from):
            return None
        return cls(
            base_url=settings.sms_base_url.rstrip("/"),
            account_sid=settings.sms_account_sid,
            auth_token=settings.sms_auth_token.get_secret_value(),
            from_number=settings.sms_from,
        )

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"


def form_of(message: Outgoing, config: TwilioConfig) -> dict[str, str]:
    """The form fields that create the message."""
    return {"To": message.recipient, "From": config.from_number, "Body": message.text}


def outcome_of(status_code: int, body: bytes) -> Outcome:
    """What the provider's answer to a create means for the message."""
    document = _json(body)
    if 200 <= status_code < 300:
        sid = document.get("sid")
        if not isinstance(sid, str) or not sid:
            return Outcome.retry(PROVIDER, f"HTTP {status_code} without a message sid")
        if document.get("status") in ("failed", "undelivered") and document.get("error_code"):
            return Outcome.refused(
                PROVIDER, _error(document.get("error_code"), document.get("error_message"))
            )
        return Outcome.sent(PROVIDER, sid)
    code = document.get("code")
    error = f"HTTP {status_code}: " + _error(code, document.get("message"))
    if status_code == 429 or status_code >= 500 or status_code in (401, 403, 404):
        return Outcome.retry(PROVIDER, error)
    if code in ACCOUNT_PROBLEMS:
        return Outcome.retry(PROVIDER, error)
    return Outcome.refused(PROVIDER, error, opted_out=code == UNSUBSCRIBED)


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return document if isinstance(document, dict) else {}


def _error(code: object, message: object) -> str:
    text = " ".join(str(message).split())[:300] if message else "no message"
    return f"{code}: {text}" if code is not None else text


class TwilioSender:
    """Creates messages through the REST API. ``transport`` replaces the network (tests)."""

    provider = PROVIDER

    def __init__(
        self, config: TwilioConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.transport = transport

    async def send(self, message: Outgoing) -> Outcome:
        config = self.config
        try:
            async with httpx.AsyncClient(
                transport=self.transport,
                timeout=config.timeout,
                auth=(config.account_sid, config.auth_token),
                follow_redirects=False,
                headers={"user-agent": USER_AGENT, "accept": "application/json"},
            ) as client:
                response = await client.post(config.messages_url, data=form_of(message, config))
        # A timeout, a refused connection, a TLS failure: the provider may be back soon.
        except httpx.HTTPError as error:
            return Outcome.retry(PROVIDER, f"{type(error).__name__}: {error}")
        return outcome_of(response.status_code, response.content)


def compute_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """``X-Twilio-Signature`` of a post of ``params`` to ``url``: the URL, then each field's
    name and value sorted by name (a repeated name's values sorted too), HMAC-SHA1 with the
    auth token, base64."""
    payload = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(
    url: str, params: Iterable[tuple[str, str]], signature: str, auth_token: str
) -> bool:
    """Whether ``signature`` signs this post. The URL is tried as given and with its default
    port added or removed, as the provider's own validators do (a proxy may add or drop it)."""
    pairs = list(params)
    return any(
        hmac.compare_digest(compute_signature(candidate, pairs, auth_token), signature)
        for candidate in _url_variants(url)
    )


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    without_port = urlunsplit(parts._replace(netloc=prefix + host))
    variants = [url, without_port]
    if default_port is not None:
        variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default_port}")))
    return list(dict.fromkeys(variants))
