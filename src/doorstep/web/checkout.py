"""The hosted checkout's form flow: signed form tokens, the shopper's details, plain-words errors.

The page is rendered with a signed token (``settings.secret_key``) that names the merchant,
the preview and an idempotency key made at render time. The form can only be posted back with
that token, so a forged or altered form is refused, and submitting it twice places one order.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from doorstep.catalog import service as catalog
from doorstep.errors import DomainError
from doorstep.geo import postal_codes
from doorstep.merchants import service as merchants
from doorstep.merchants.service import authenticate
from doorstep.models import ApiKeyKind, DeliveryPreview, DeliverySpeed, Merchant
from doorstep.network import repository as network
from doorstep.orders import service as orders
from doorstep.orders.schemas import OrderDestination, OrderIn, Recipient
from doorstep.promise import rules
from doorstep.promise import service as promise
from doorstep.promise.schemas import Destination
from doorstep.settings import Settings

FORM_MAX_AGE = 2 * 3600  # a form older than this is refused; the preview is shorter anyway
CHECKOUT_SCOPE = "checkout:create"
_FORM_SALT = "doorstep.checkout.form"
_RECEIPT_SALT = "doorstep.checkout.receipt"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()\-.\s]{7,40}$")


class CheckoutKeyRefused(DomainError):
    status = 401
    code = "checkout_key_refused"


class BadFormToken(DomainError):
    status = 400
    code = "bad_form_token"


@dataclass(frozen=True)
class Passthrough:
    """What the merchant's page hands the checkout: its payment and order references, the page
    to go back to and the button's colour."""

    payment_ref: str | None = None
    merchant_ref: str | None = None
    return_url: str | None = None
    color: str | None = None

    @classmethod
    def clean(
        cls,
        payment_ref: str | None,
        merchant_ref: str | None,
        return_url: str | None,
        color: str | None,
    ) -> Passthrough:
        return cls(
            payment_ref=_short(payment_ref, 200),
            merchant_ref=_short(merchant_ref, 200),
            return_url=safe_return_url(return_url),
            color=_short(color, 7),
        )

    def as_dict(self) -> dict[str, str]:
        return {
            k: v
            for k, v in {
                "payment_ref": self.payment_ref,
                "ref": self.merchant_ref,
                "return": self.return_url,
                "color": self.color,
            }.items()
            if v
        }


@dataclass(frozen=True)
class FormToken:
    merchant_id: int
    preview_id: str
    idempotency_key: str
    passthrough: Passthrough


@dataclass(frozen=True)
class OptionView:
    id: str
    label: str
    fee_cents: int
    # Counter pick-up: the store's name, address and hours (None: delivery to the door).
    store: dict[str, str] | None = None


@dataclass(frozen=True)
class LineView:
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class Shopper:
    name: str
    phone: str
    email: str | None
    street: str
    unit: str | None
    city: str
    state: str
    postal_code: str
    instructions: str | None


@dataclass(frozen=True)
class Problem:
    """An error as a shopper reads it, and what they can do about it."""

    title: str
    message: str
    requote: bool = False  # a fresh quote for the same basket fixes it


def safe_return_url(url: str | None) -> str | None:
    """The merchant's page to go back to: only an absolute http(s) URL, never ``javascript:``."""
    if not url or len(url) > 2000:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _short(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def merchant_for_key(session: Session, key: str) -> Merchant:
    """The merchant behind a publishable key allowed to start checkout."""
    try:
        api_key = authenticate(session, key)
    except DomainError as exc:
        raise CheckoutKeyRefused(exc.detail) from None
    if api_key.kind is not ApiKeyKind.PUBLISHABLE:
        raise CheckoutKeyRefused(
            "a checkout link takes the publishable key (pk_…), never a secret key"
        )
    if CHECKOUT_SCOPE not in api_key.scopes:
        raise CheckoutKeyRefused("this key may not start a checkout")
    return merchants.get_merchant(session, api_key.merchant_id)


def merchant_name(merchant: Merchant) -> str:
    return merchant.display_name or merchant.name


def _form_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_FORM_SALT)


def issue_form_token(
    settings: Settings, merchant_id: int, preview_id: str, passthrough: Passthrough
) -> str:
    return _form_serializer(settings).dumps(
        {
            "m": merchant_id,
            "p": preview_id,
            "i": f"checkout_{secrets.token_urlsafe(18)}",
            "x": passthrough.as_dict(),
        }
    )


def read_form_token(settings: Settings, token: str) -> FormToken:
    try:
        data = _form_serializer(settings).loads(token, max_age=FORM_MAX_AGE)
        extra: dict[str, str] = data["x"]
        return FormToken(
            merchant_id=int(data["m"]),
            preview_id=str(data["p"]),
            idempotency_key=str(data["i"]),
            passthrough=Passthrough(
                payment_ref=extra.get("payment_ref"),
                merchant_ref=extra.get("ref"),
                return_url=extra.get("return"),
                color=extra.get("color"),
            ),
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        raise BadFormToken("the checkout form is out of date or was changed") from None


def issue_receipt(settings: Settings, merchant_id: int, order_id: str, extra: Passthrough) -> str:
    return URLSafeTimedSerializer(settings.secret_key, salt=_RECEIPT_SALT).dumps(
        {"m": merchant_id, "o": order_id, "x": extra.as_dict()}
    )


def read_receipt(settings: Settings, token: str) -> tuple[int, str, Passthrough]:
    try:
        data = URLSafeTimedSerializer(settings.secret_key, salt=_RECEIPT_SALT).loads(token)
        extra: dict[str, str] = data["x"]
        return (
            int(data["m"]),
            str(data["o"]),
            Passthrough(return_url=extra.get("return"), color=extra.get("color")),
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        raise BadFormToken("this confirmation link is not valid") from None


def lines_of(session: Session, merchant_id: int, items: list[dict[str, Any]]) -> list[LineView]:
    names = catalog.product_names(session, merchant_id, [str(item["sku"]) for item in items])
    return [
        LineView(str(i["sku"]), names.get(i["sku"], i["sku"]), int(i["quantity"])) for i in items
    ]


def zone_of(session: Session, node_ids: list[int]) -> ZoneInfo:
    """The time zone promises are told in: the delivering node's (a network is local)."""
    return ZoneInfo(network.timezone_of(session, node_ids) or "UTC")


def options_of(session: Session, preview: DeliveryPreview) -> list[OptionView]:
    views = []
    for option in preview.options:
        legs = option["legs"]
        node_ids = [leg["serving_node_id"] or leg["node_id"] for leg in legs[:1]]
        speed = DeliverySpeed(option["speed"])
        promised_by = datetime.fromisoformat(option["promised_by"])
        zone = zone_of(session, node_ids)
        store = option.get("pickup_store")
        label = (
            rules.label(speed, promised_by, zone)
            if store is None
            else rules.pickup_label(promised_by, zone, preview.created_at)
        )
        views.append(OptionView(option["id"], label, int(option["fee_cents"]), store))
    return views


def address_prefill(preview: DeliveryPreview) -> dict[str, str]:
    """City, state and ZIP from the quote's ZIP code, so the shopper only checks them."""
    code = postal_codes.normalise(str(preview.destination.get("postal_code") or ""))
    found = postal_codes.table().get(code) if code else None
    if found is None:
        return {"postal_code": code} if code else {}
    return {"postal_code": found.code, "city": found.city, "state": found.state}


def read_shopper(
    form: Mapping[str, str], quoted_zip: str | None = None
) -> tuple[Shopper | None, dict[str, str]]:
    """The shopper's details from the form, or a message per field that needs fixing.

    ``quoted_zip`` is the ZIP code the delivery was quoted for: the address must be in it.
    """
    value = {k: (form.get(k) or "").strip() for k in _FIELDS}
    value["state"] = value["state"].upper()
    errors: dict[str, str] = {}

    def check(field: str, limit: int, missing: str | None = None, shortest: int = 1) -> None:
        if missing and len(value[field]) < shortest:
            errors[field] = missing
        elif len(value[field]) > limit:
            errors[field] = f"Use at most {limit:,} characters."

    check("name", 200, "Enter the name of the person receiving the order.")
    if not _PHONE.match(value["phone"]):
        errors["phone"] = "Enter a phone number the driver can call, like 480 555 0101."
    if value["email"] and (not _EMAIL.match(value["email"]) or len(value["email"]) > 320):
        errors["email"] = "Enter an e-mail address like name@example.com, or leave it empty."
    check("street", 300, "Enter the street address, like 1 E Chicago St.", shortest=3)
    check("unit", 60)
    check("city", 100, "Enter the city, like Chandler.")
    if not _STATE.match(value["state"]):
        errors["state"] = "Enter the two-letter state code, like AZ."
    zip_code = postal_codes.normalise(value["postal_code"]) or ""
    if not zip_code:
        errors["postal_code"] = "Enter the 5-digit ZIP code, like 85225."
    elif quoted_zip and zip_code != quoted_zip:
        errors["postal_code"] = (
            f"This delivery was quoted for ZIP {quoted_zip}. "
            "To deliver to another ZIP code, get a new quote from the shop."
        )
    check("instructions", 1000)
    if errors:
        return None, errors
    return (
        Shopper(
            name=value["name"],
            phone=value["phone"],
            email=value["email"] or None,
            street=value["street"],
            unit=value["unit"] or None,
            city=value["city"],
            state=value["state"],
            postal_code=zip_code,
            instructions=value["instructions"] or None,
        ),
        {},
    )


_FIELDS = (
    "name",
    "phone",
    "email",
    "street",
    "unit",
    "city",
    "state",
    "postal_code",
    "instructions",
)
_STATE = re.compile(r"^[A-Z]{2}$")
_SPEEDS = frozenset(speed.value for speed in DeliverySpeed)


def order_body(
    preview: DeliveryPreview, option: str, shopper: Shopper, extra: Passthrough
) -> OrderIn:
    """The order for the preview's ``option`` (a speed, or ``pickup:<store code>``)."""
    where = Destination.model_validate(preview.destination)
    return OrderIn(
        preview_id=preview.public_id,
        option_id=DeliverySpeed(option) if option in _SPEEDS else option,
        destination=OrderDestination(
            lat=where.lat,
            lng=where.lng,
            address=shopper.street,
            address_line2=shopper.unit,
            city=shopper.city,
            state=shopper.state,
            postal_code=shopper.postal_code,
            country="US",
        ),
        recipient=Recipient(name=shopper.name, phone=shopper.phone, email=shopper.email),
        delivery_instructions=shopper.instructions,
        merchant_reference=extra.merchant_ref,
        payment_reference=extra.payment_ref,
    )


def explain(exc: DomainError) -> Problem:
    """What went wrong, in words a shopper understands."""
    if isinstance(exc, promise.PreviewExpired):
        return Problem(
            "This delivery quote has expired",
            "We hold a delivery promise for 10 minutes so that it stays true. "
            "Get a fresh quote for the same basket and address to carry on.",
            requote=True,
        )
    if isinstance(exc, promise.PreviewNotFound):
        return Problem(
            "We can't find this delivery quote",
            "The link may be incomplete. Go back to the shop and press the delivery button again.",
        )
    if isinstance(exc, orders.OutOfStock):
        return Problem(
            "Sold out for fast delivery",
            "Someone else just bought the last one from the store that would have sent it. "
            "A fresh quote checks the other stores and warehouses.",
            requote=True,
        )
    if isinstance(exc, promise.PickupUnavailable):
        return Problem(
            "The store can no longer keep your order",
            "It is closed that day or has no room left. Get a fresh quote to see where and "
            "when you can have it now.",
            requote=True,
        )
    if isinstance(exc, orders.SpeedUnavailable):
        return Problem(
            "This delivery option is no longer available",
            "Get a fresh quote to see what we can promise now.",
            requote=True,
        )
    if isinstance(exc, CheckoutKeyRefused):
        return Problem(
            "This checkout link doesn't work",
            "The shop's checkout key is missing or no longer valid. Please tell the shop.",
        )
    if isinstance(exc, BadFormToken):
        return Problem(
            "This checkout form is out of date",
            "For your safety we only accept a form we showed you in the last two hours. "
            "Start again from the shop.",
        )
    if isinstance(exc, promise.UnknownSku):
        return Problem(
            "This product isn't available for delivery",
            "The shop no longer offers it through our delivery. Please contact the shop.",
        )
    return Problem("We couldn't place the order", exc.detail)
