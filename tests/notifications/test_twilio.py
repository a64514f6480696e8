"""The SMS provider's answers mapped to outcomes (recorded answers), and the signature of its
inbound posts (the provider's own published test vectors)."""

from __future__ import annotations

import pytest

from doorstep.notifications.senders import Result
from doorstep.notifications.twilio import (
    TwilioConfig,
    compute_signature,
    outcome_of,
    signature_valid,
)
from doorstep.settings import Settings
from tests.notifications.conftest import recorded, status_of


@pytest.mark.parametrize(
    ("name", "result", "error"),
    [
        ("message_created_201.json", Result.SENT, None),
        (
            "server_error_500.json",
            Result.RETRY,
            "HTTP 500: 20500: An internal server error has occurred",
        ),
        ("service_unavailable_503.json", Result.RETRY, "HTTP 503: 20503: Service unavailable"),
        ("too_many_requests_429.json", Result.RETRY, "HTTP 429: 20429: Too Many Requests"),
        ("authentication_failed_401.json", Result.RETRY, "HTTP 401: 20003: Authenticate"),
        ("from_not_sms_capable_400.json", Result.RETRY, None),
        (
            "invalid_to_number_400.json",
            Result.REFUSED,
            "HTTP 400: 21211: Invalid 'To' Phone Number: +1480555XXXX",
        ),
        (
            "unsubscribed_recipient_400.json",
            Result.REFUSED,
            "HTTP 400: 21610: Attempt to send to unsubscribed recipient",
        ),
    ],
)
def test_recorded_answers(name: str, result: Result, error: str | None) -> None:
    outcome = outcome_of(status_of(name), recorded(name))
    assert outcome.result is result
    assert outcome.provider == "twilio"
    if error is not None:
        assert outcome.error == error
    assert outcome.opted_out is (name == "unsubscribed_recipient_400.json")
    if result is Result.SENT:
        assert outcome.provider_message_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"


def test_answers_that_are_not_the_documented_shape() -> None:
    assert outcome_of(502, b"<html>Bad gateway</html>").result is Result.RETRY
    assert outcome_of(502, b"<html>Bad gateway</html>").error == "HTTP 502: no message"
    assert outcome_of(201, b"{}").result is Result.RETRY  # no sid: not known to be created
    assert outcome_of(400, b"[]").result is Result.REFUSED
    failed = outcome_of(
        201, b'{"sid": "SM1", "status": "failed", "error_code": 30006, "error_message": "Landline"}'
    )
    assert (failed.result, failed.error) == (Result.REFUSED, "30006: Landline")


# Published with the provider's request validators: auth token 12345, this URL and form.
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TOKEN = "12345"
FORM = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


def test_the_signature_matches_the_published_examples() -> None:
    assert compute_signature(URL, FORM, TOKEN) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert compute_signature(URL, reversed(FORM), TOKEN) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert compute_signature(URL, repeated, TOKEN) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_a_signature_holds_with_or_without_the_default_port() -> None:
    assert signature_valid(URL, FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", TOKEN)
    with_port = URL.replace(".com", ".com:1234")
    assert signature_valid(with_port, FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", TOKEN)
    # Signed with :443 written out, checked against the URL without it.
    assert signature_valid(URL, FORM, "kvajT1Ptam85bY51eRf/AJRuM3w=", TOKEN)
    assert signature_valid(
        URL.replace("https", "http"), FORM, "0ZXoZLH/DfblKGATFgpif+LLRf4=", TOKEN
    )


def test_a_forged_signature_does_not_hold() -> None:
    assert not signature_valid(URL, FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "another-token")
    assert not signature_valid(
        URL, [*FORM, ("Body", "START")], "RSOYDt4T1cUTdK1PDd93/VVr8B8=", TOKEN
    )
    assert not signature_valid(URL + "&baz=3", FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", TOKEN)
    assert not signature_valid(URL, FORM, "", TOKEN)


def test_the_account_comes_from_settings_whole_or_not_at_all() -> None:
    assert TwilioConfig.from_settings(Settings(_env_file=None)) is None
    config = TwilioConfig.from_settings(
        Settings(
            sms_base_url="https://sms.example/",
            sms_account_sid="AC123",
            sms_auth_token="secret",
            sms_from="+14805550199",
            _env_file=None,
        )
    )
    assert config is not None
    assert config.messages_url == "https://sms.example/2010-04-01/Accounts/AC123/Messages.json"
    with pytest.raises(ValueError, match="DOORSTEP_SMS_AUTH_TOKEN and DOORSTEP_SMS_FROM"):
        Settings(sms_account_sid="AC123", _env_file=None)
