"""Standard Webhooks signing: the secret, the body and the three ``webhook-*`` headers.

The spec (https://www.standardwebhooks.com) signs ``"{id}.{timestamp}.{body}"`` with
HMAC-SHA256; the `standardwebhooks` library does the signing so that what we send is exactly
what its ``Webhook.verify`` (and every other conforming verifier) accepts.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
# 32 random bytes: the same strength as the HMAC-SHA256 key length.
_SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret, ``whsec_`` + base64 of random bytes (the spec's format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def message_id(event_id: int) -> str:
    """The ``webhook-id`` of an event: the same on every attempt, so receivers can dedupe."""
    return f"evt_{event_id}"


def event_body(event_type: str, occurred_at: datetime, payload: dict[str, Any]) -> str:
    """The spec's recommended envelope: ``{"type", "timestamp", "data"}``.

    ``timestamp`` is when the event happened, not when this attempt is sent.
    """
    envelope = {"type": event_type, "timestamp": occurred_at.isoformat(), "data": payload}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class SignedMessage:
    headers: dict[str, str]
    body: str


def sign(
    secret: str, msg_id: str, body: str, sent_at: datetime, *, also: Sequence[str] = ()
) -> SignedMessage:
    """Headers for one attempt; the signature covers the id, the send time and the body.

    ``also``: further secrets (a rotated-out one still valid) whose signatures are sent as
    well, space-separated as the spec allows; a receiver accepts the message if any matches.
    """
    signatures = [
        Webhook(s).sign(msg_id=msg_id, timestamp=sent_at, data=body) for s in (secret, *also)
    ]
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }
    return SignedMessage(headers=headers, body=body)
