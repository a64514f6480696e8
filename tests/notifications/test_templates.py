"""Every template renders for both channels; SMS fit one message; HTML is escaped and branded;
a missing variable is an error, not a hole."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.merchants.branding import brand_of
from doorstep.models import MessageChannel
from doorstep.notifications import templates
from doorstep.notifications.templates import (
    KINDS,
    SMS_LIMIT,
    TemplateContextError,
    UnknownTemplate,
    render,
)

TEMPLATES = Path(templates.__file__).parent / "templates"
BRAND = brand_of("Copper Pot Kitchenware", None, {"color": "#b45309"})

# Values as callers will pass them: realistic lengths, the longest likely merchant name.
FULL = {
    "code": "482913",
    "message": "Please return today's undelivered parcels to the station by 10:00.",
    "tracking_url": "https://doorstep.example/t/Xy7kQ2pL9vR4sT1u",
    "promise": "Today by 9 pm",
    "order_ref": "#1042",
    "eta_window": "2:10-2:40 pm",
    "stops_away": 3,
    "delivered_at": "2:31 pm",
    "left_at": "at the front door",
    "photo_url": "https://doorstep.example/pod/2026/12/03/5f2b.jpg",
    "reason": "nobody was home to sign",
    "next_step": "We will try again tomorrow.",
    "pickup_code": "482913",
    "store_name": "Ocotillo Flowers",
    "store_address": "2150 S Gilbert Rd, Chandler, AZ 85286",
    "store_hours": "Mon-Sat 8 am-6 pm",
    "pickup_by": "Fri 18 Dec",
    "new_date": "Thu 17 Dec",
    "headline": "A driver comes for your return on Thu 17 Dec",
    "recipient_name": "Ana",
    "tracking_code": "DS-7K2Q9X",
}
# What each kind needs at the least (everything else is optional).
REQUIRED = {
    "sign_in_code": {"code"},
    "driver_reminder": {"message"},
    "operator_note": {"message", "tracking_code"},
    "order_confirmed": {"tracking_url", "promise"},
    "out_for_delivery": {"tracking_url", "eta_window"},
    "arriving": {"tracking_url", "eta_window"},
    "delivered": {"tracking_url", "delivered_at"},
    "attempted": {"tracking_url", "reason", "next_step"},
    "ready_at_counter": {
        "tracking_url",
        "pickup_code",
        "store_name",
        "store_address",
        "store_hours",
    },
    "delayed": {"tracking_url", "new_date"},
    "return_received": {"next_step"},
    "return_collection": {"headline", "next_step"},
}
GSM_SAFE = set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?'\"()#&%+-/=@_*<>$"
)


def test_every_kind_has_its_files_documented_and_its_required_variables_listed() -> None:
    assert set(REQUIRED) == set(KINDS)
    for kind, variables in REQUIRED.items():
        text = (TEMPLATES / f"{kind}.txt").read_text()
        assert text.startswith("{#-"), kind
        header = text.split("-#}")[0]
        for variable in variables:
            assert f"  {variable} " in header, (kind, variable)
        assert (TEMPLATES / f"{kind}.html").read_text().startswith("{#-"), kind


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_renders_with_all_and_with_only_its_required_variables(kind: str) -> None:
    minimal = {name: FULL[name] for name in REQUIRED[kind]}
    for context in (FULL, minimal):
        email = render(kind, MessageChannel.EMAIL, context, brand=BRAND)
        assert email.subject
        assert "\n" not in email.subject
        assert email.text.strip()
        assert email.text.endswith("\n")
        assert email.html is not None
        assert email.html.startswith("<!doctype html>")
        assert "{{" not in email.text + email.html
        sms = render(kind, MessageChannel.SMS, context, brand=BRAND)
        assert (sms.subject, sms.html) == (None, None)
        assert "\n" not in sms.text


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_sms_fits_one_message_in_the_gsm_alphabet(kind: str) -> None:
    text = render(kind, MessageChannel.SMS, FULL, brand=BRAND).text
    assert len(text) <= SMS_LIMIT, (len(text), text)
    assert set(text) <= GSM_SAFE, set(text) - GSM_SAFE


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_missing_required_variable_is_an_error(kind: str) -> None:
    for missing in REQUIRED[kind]:
        context = {name: FULL[name] for name in REQUIRED[kind] - {missing}}
        with pytest.raises(TemplateContextError, match=missing):
            render(kind, MessageChannel.EMAIL, context, brand=BRAND)


def test_html_escapes_what_callers_pass_and_text_does_not() -> None:
    context = {
        **FULL,
        "recipient_name": '<script>alert("x")</script>',
        "reason": "the gate code <1234> & buzzer did not work",
        "next_step": "We'll try again tomorrow.",
    }
    email = render("attempted", MessageChannel.EMAIL, context, brand=BRAND)
    assert email.html is not None
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in email.html
    assert "the gate code &lt;1234&gt; &amp; buzzer did not work" in email.html
    assert "We&#39;ll try again tomorrow." in email.html
    assert "the gate code <1234> & buzzer did not work" in email.text
    assert "We'll try again tomorrow." in email.text


def test_links_must_be_http() -> None:
    for url in ("javascript:alert(1)", "/t/abc", "data:text/html,hi", "ftp://x.example/t"):
        with pytest.raises(TemplateContextError, match="not an http"):
            render("delivered", MessageChannel.SMS, {**FULL, "tracking_url": url}, brand=BRAND)
    with pytest.raises(TemplateContextError):
        render(
            "delivered", MessageChannel.EMAIL, {**FULL, "photo_url": "javascript:x"}, brand=BRAND
        )


def test_the_brand_s_name_and_colour_with_readable_text() -> None:
    dark = render("delivered", MessageChannel.EMAIL, FULL, brand=BRAND)
    assert dark.subject == "Copper Pot Kitchenware: your parcel was delivered"
    assert dark.html is not None
    assert "background:#b45309;color:#ffffff" in dark.html
    light = brand_of("Lemon Grove", "Lemon Grove Market", {"color": "#FDE047"})
    bright = render("delivered", MessageChannel.EMAIL, FULL, brand=light)
    assert bright.html is not None
    assert "background:#fde047;color:#111827" in bright.html
    assert bright.subject is not None
    assert bright.subject.startswith("Lemon Grove Market:")
    # A colour that is not one falls back to doorstep's.
    odd = brand_of("Odd", None, {"color": "red; background:url(x)"})
    assert odd.color == "#0f766e"


def test_optional_parts_appear_only_when_given() -> None:
    with_photo = render("delivered", MessageChannel.EMAIL, FULL, brand=BRAND)
    assert with_photo.html is not None
    assert '<img src="https://doorstep.example/pod/' in with_photo.html
    minimal = {name: FULL[name] for name in REQUIRED["delivered"]}
    without = render("delivered", MessageChannel.EMAIL, minimal, brand=BRAND)
    assert without.html is not None
    assert "<img" not in without.html
    assert "Hello," in without.text
    assert render("arriving", MessageChannel.SMS, {**FULL, "stops_away": 1}, brand=BRAND).text == (
        "Copper Pot Kitchenware: Your driver is 1 stop away, arriving 2:10-2:40 pm. "
        "Track it: https://doorstep.example/t/Xy7kQ2pL9vR4sT1u"
    )


def test_the_sign_in_code() -> None:
    sms = render("sign_in_code", MessageChannel.SMS, {"code": "123456"}, brand=BRAND)
    assert sms.text.startswith("Your doorstep sign-in code is 123456. It works for 10 minutes.")
    email = render("sign_in_code", MessageChannel.EMAIL, {"code": "123456"}, brand=BRAND)
    assert email.subject == "Your doorstep sign-in code"
    assert "123456" not in (email.subject or "")  # a lock screen shows subjects
    assert "Your doorstep sign-in code is 123456" in email.text


def test_an_unknown_template() -> None:
    with pytest.raises(UnknownTemplate, match="no notification template 'welcome'"):
        render("welcome", MessageChannel.EMAIL, {}, brand=BRAND)
