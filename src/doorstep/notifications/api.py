"""The SMS provider's inbound posts: replies to our number, where STOP and START opt a phone
number out of SMS and back in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from doorstep.api.deps import (
    DbSession,
    KeyNotAllowed,
    NotAuthenticated,
    Now,
    SecretKeyCaller,
    get_settings_dep,
)
from doorstep.api.errors import error_responses
from doorstep.errors import DomainError
from doorstep.merchants.service import InvalidApiKey
from doorstep.notifications import milestones, service
from doorstep.notifications.schemas import NotificationSettingsIn, NotificationSettingsOut
from doorstep.notifications.twilio import signature_valid
from doorstep.settings import Environment, Settings

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])

SIGNATURE_HEADER = "X-Twilio-Signature"
# An empty TwiML answer: the provider sends its own standard reply to STOP and START.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class InvalidSignature(DomainError):
    status = 403
    code = "invalid_signature"


class InboundSmsNotConfigured(DomainError):
    status = 403
    code = "inbound_sms_not_configured"


@dataclass(frozen=True)
class InboundSms:
    sender: str
    body: str
    opt_out_type: str | None


async def _signed_form(
    request: Request, settings: Annotated[Settings, Depends(get_settings_dep)]
) -> InboundSms:
    """The posted form, once its signature holds (with an auth token configured). Without a
    token, posts are taken unsigned outside production and refused in production."""
    form = await request.form()
    fields = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    token = settings.sms_auth_token.get_secret_value() if settings.sms_auth_token else None
    if token:
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise InvalidSignature(f"the post carries no {SIGNATURE_HEADER} header")
        # The URL the provider posted to; behind a proxy, the one configured there.
        url = settings.sms_inbound_url or str(request.url)
        if not signature_valid(url, fields, signature, token):
            raise InvalidSignature(f"the {SIGNATURE_HEADER} header does not sign this post")
    elif settings.environment is Environment.PRODUCTION:
        raise InboundSmsNotConfigured(
            "set DOORSTEP_SMS_AUTH_TOKEN: unsigned posts could opt anyone in or out"
        )
    values = dict(fields)
    return InboundSms(
        sender=values.get("From", ""),
        body=values.get("Body", ""),
        opt_out_type=values.get("OptOutType"),
    )


@router.post(
    "/sms/inbound",
    summary="The SMS provider posts a reply here (STOP opts out of SMS, START back in)",
    description="A Twilio-compatible form post (From, To, Body, …), signed with "
    "X-Twilio-Signature when DOORSTEP_SMS_AUTH_TOKEN is set. Answers empty TwiML.",
    response_class=Response,
    responses={
        200: {"content": {"text/xml": {}}, "description": "Empty TwiML"},
        **error_responses(InvalidSignature, InboundSmsNotConfigured),
    },
)
def sms_inbound(
    sms: Annotated[InboundSms, Depends(_signed_form)], session: DbSession, now: Now
) -> Response:
    service.receive_sms(
        session, sender=sms.sender, body=sms.body, now=now, opt_out_type=sms.opt_out_type
    )
    return Response(EMPTY_TWIML, media_type="text/xml")


# Each merchant's milestone messages (docs/notifications.md, "Milestones").
settings_router = APIRouter(
    prefix="/v1/notification-settings",
    tags=["notifications"],
    responses=error_responses(NotAuthenticated, InvalidApiKey, KeyNotAllowed),
)


@settings_router.get("", summary="Which milestones the merchant's shoppers get, by which channel")
def get_notification_settings(
    caller: SecretKeyCaller, session: DbSession
) -> NotificationSettingsOut:
    return NotificationSettingsOut(milestones=milestones.settings_of(session, caller.merchant_id))


@settings_router.put("", summary="Choose milestones and channels (an empty list: none)")
def put_notification_settings(
    body: NotificationSettingsIn, caller: SecretKeyCaller, session: DbSession, now: Now
) -> NotificationSettingsOut:
    chosen = milestones.update_settings(session, caller.merchant_id, body.milestones, now=now)
    return NotificationSettingsOut(milestones=chosen)
