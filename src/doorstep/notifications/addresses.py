"""Recipients: phone numbers in E.164 and e-mail addresses, checked before a message is queued.

Pure. The network serves the United States, so a ten-digit number (or eleven starting with 1)
is taken as North American; any other number must be written with its ``+`` and country code.
"""

from __future__ import annotations

import re

_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
# Deliberately loose: one @, something on each side, a dot in the domain, no spaces or
# control characters (a line break in an address would be a header injection).
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")


def normalize_phone(raw: str) -> str | None:
    """``raw`` as E.164 (``+14805550101``), or None if it is not a phone number.

    ``+1 480 555 0101``, ``(480) 555-0101`` and ``1-480-555-0101`` all give ``+14805550101``.
    """
    digits = _PHONE_PUNCTUATION.sub("", raw.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not digits.startswith("+"):
        if not digits.isdigit():
            return None
        if len(digits) == 10:
            digits = "+1" + digits
        elif len(digits) == 11 and digits.startswith("1"):
            digits = "+" + digits
        else:
            return None
    return digits if _E164.match(digits) else None


def normalize_email(raw: str) -> str | None:
    """``raw`` trimmed, with its domain in lower case, or None if it is not an address."""
    address = raw.strip()
    if len(address) > 320 or not _EMAIL.match(address):
        return None
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"
