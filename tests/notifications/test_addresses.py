"""Phone numbers to E.164 and e-mail addresses, as recipients."""

from __future__ import annotations

import pytest

from doorstep.notifications.addresses import normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+1 480 555 0101", "+14805550101"),
        ("(480) 555-0101", "+14805550101"),
        ("480.555.0101", "+14805550101"),
        ("1-480-555-0101", "+14805550101"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("555-0101", None),
        ("+0 480 555 0101", None),
        ("+1 480 555 0101 ext 2", None),
        ("", None),
        ("not a number", None),
        ("+1234567890123456", None),
    ],
)
def test_phone_numbers(raw: str, e164: str | None) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  Ana.Ruiz+orders@Example.COM ", "Ana.Ruiz+orders@example.com"),
        ("ana@localhost", None),
        ("ana example.com", None),
        ("ana@example.com\r\nBcc: all@example.com", None),
        ("a@b@example.com", None),
        ("", None),
    ],
)
def test_email_addresses(raw: str, address: str | None) -> None:
    assert normalize_email(raw) == address
