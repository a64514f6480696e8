"""Shapes of the orders API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from doorstep.models import Channel, DeliverySpeed, OrderStatus
from doorstep.orders.lifecycle import PackageState
from doorstep.promise.schemas import Basket, Destination


def _state_code(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError("use the two-letter state or province code, like AZ")
    return value.upper()


def _country_code(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError("use the two-letter ISO 3166-1 country code, like US")
    return value.upper()


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


StateCode = Annotated[str, AfterValidator(_state_code)]
# A preview's counter pick-up option: ``pickup:`` and the partner store's node code.
PickupOptionId = Annotated[
    str, Field(pattern=r"^pickup:[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", max_length=71)
]
# A moment a client names (a filter's bound): without a time zone it is read as UTC, the zone
# every stored timestamp is in.
Moment = Annotated[datetime, AfterValidator(_as_utc)]
CountryCode = Annotated[str, AfterValidator(_country_code)]


class OrderDestination(Destination):
    """Where the order goes: the point its promise was made for, and the postal address a
    carrier label needs. ``address`` is the street line; a client that sends no city, state
    and postal code may put the whole address there (drivers read it), but such an order
    cannot be handed to a carrier."""

    address_line2: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Apartment, suite, unit, gate code"
    )
    city: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    state: StateCode | None = Field(default=None, description="Two letters, like AZ")
    country: CountryCode = Field(default="US", description="ISO 3166-1 alpha-2, like US")


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None


class OrderIn(BaseModel):
    """Either a preview's option (``preview_id`` + ``option_id``), or a basket, a destination
    and a speed to be promised now.

    An order from a preview keeps the preview's basket and point: its ``destination`` only
    adds the street address, and its ``lat``/``lng`` (and postal code, when both give one)
    must be the preview's."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        # The rule `_one_way_to_say_what` enforces, in the schema for clients and fuzzers.
        json_schema_extra={
            "anyOf": [
                {
                    "title": "From a preview",
                    "required": ["preview_id", "option_id"],
                    "properties": {
                        "preview_id": {"type": "string"},
                        "option_id": {"type": "string"},
                        "items": {"type": "null"},
                        "speed": {"type": "null"},
                    },
                },
                {
                    "title": "A basket promised now",
                    "required": ["items", "destination", "speed"],
                    "properties": {
                        "items": {"type": "array"},
                        "destination": {"type": "object"},
                        "speed": {"type": "string"},
                        "preview_id": {"type": "null"},
                        "option_id": {"type": "null"},
                    },
                },
            ]
        },
    )

    preview_id: Annotated[str, Field(max_length=40)] | None = None
    option_id: DeliverySpeed | PickupOptionId | None = Field(
        default=None,
        description="The preview option's id: a speed (delivery to the door) or "
        "pickup:<store code> (collected at that partner store's counter)",
    )
    items: Basket | None = None
    destination: OrderDestination | None = None
    speed: DeliverySpeed | None = None
    recipient: Recipient
    delivery_instructions: Annotated[str, Field(max_length=1000)] | None = None
    merchant_reference: Annotated[str, Field(max_length=200)] | None = None
    payment_reference: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="The merchant's payment id; doorstep never sees card data"
    )

    @model_validator(mode="after")
    def _one_way_to_say_what(self) -> OrderIn:
        from_preview = self.preview_id is not None or self.option_id is not None
        direct = self.items is not None or self.speed is not None
        if from_preview and direct:
            raise ValueError("give preview_id and option_id, or items, destination and speed")
        if from_preview and (self.preview_id is None or self.option_id is None):
            raise ValueError("preview_id and option_id go together")
        if not from_preview and (
            self.items is None or self.speed is None or self.destination is None
        ):
            raise ValueError("give preview_id and option_id, or items, destination and speed")
        return self


class OrderLineOut(BaseModel):
    sku: str
    quantity: int
    node: str


class PackageOut(BaseModel):
    tracking_code: str
    tracking_url: str = Field(
        description="The shopper's tracking page (no login; the link is the key to it)"
    )
    state: PackageState
    channel: Channel | None
    ships_from: str
    delivered_by: str | None
    collect_at: str | None = Field(
        default=None,
        description="The partner store whose counter keeps it for the shopper (counter "
        "pick-up); null when it is delivered to the door",
    )
    promised_by: datetime
    weight_g: int
    volume_cm3: int


class OrderOut(BaseModel):
    id: str
    status: OrderStatus
    speed: DeliverySpeed
    promised_by: datetime
    fee_cents: int
    created_at: datetime
    recipient: Recipient
    destination: OrderDestination
    delivery_instructions: str | None
    merchant_reference: str | None
    payment_reference: str | None
    preview_id: str | None
    items: list[OrderLineOut]
    packages: list[PackageOut]


class OrderPage(BaseModel):
    data: list[OrderOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end")
