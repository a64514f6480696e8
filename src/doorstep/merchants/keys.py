"""API key format, generation and verification.

A key reads ``sk_<lookup>_<secret>`` (secret, server to server) or ``pk_<lookup>_<secret>``
(publishable, in the widget). ``<kind>_<lookup>`` is stored in clear to find the row; the whole
key is stored only as a SHA-256 digest. The keys are 190 random bits, so a fast digest is as safe
as a slow password hash here, and it keeps authentication off the request's critical path
(argon2 would cost tens of milliseconds on every call).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from doorstep.models import ApiKeyKind

KIND_PREFIX = {ApiKeyKind.SECRET: "sk", ApiKeyKind.PUBLISHABLE: "pk"}
KEY_PATTERN = re.compile(r"^(?P<prefix>(?:sk|pk)_[0-9a-f]{12})_[A-Za-z0-9_-]{32}$")

# What each kind of key may do. Publishable keys live in web pages anyone can read.
SCOPES = {
    ApiKeyKind.SECRET: ["*"],
    ApiKeyKind.PUBLISHABLE: ["previews:create", "checkout:create"],
}


@dataclass(frozen=True)
class IssuedKey:
    plaintext: str  # shown once, never stored
    prefix: str
    digest: str


def issue_key(kind: ApiKeyKind) -> IssuedKey:
    prefix = f"{KIND_PREFIX[kind]}_{secrets.token_hex(6)}"
    plaintext = f"{prefix}_{secrets.token_urlsafe(24)}"
    return IssuedKey(plaintext=plaintext, prefix=prefix, digest=digest_of(plaintext))


def digest_of(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def prefix_of(plaintext: str) -> str | None:
    """The lookup prefix of a well-formed key, or None."""
    match = KEY_PATTERN.match(plaintext)
    return match["prefix"] if match else None


def matches(plaintext: str, digest: str) -> bool:
    return hmac.compare_digest(digest_of(plaintext), digest)
