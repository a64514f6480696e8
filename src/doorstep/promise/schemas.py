"""Shapes of the delivery-preview API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from doorstep.catalog.schemas import Sku
from doorstep.models import Channel, DeliverySpeed

MAX_BASKET_LINES = 100


class BasketItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: Annotated[int, Field(gt=0, le=1000)]


def _one_line_per_sku(items: list[BasketItem]) -> list[BasketItem]:
    seen: set[str] = set()
    for item in items:
        if item.sku in seen:
            raise ValueError(f"SKU '{item.sku}' appears twice; send one line per SKU")
        seen.add(item.sku)
    return items


# A basket: one line per SKU, so each line is one reservation of exactly its quantity.
Basket = Annotated[
    list[BasketItem],
    Field(min_length=1, max_length=MAX_BASKET_LINES),
    AfterValidator(_one_line_per_sku),
]


class Destination(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lat: Annotated[float, Field(ge=-90, le=90)]
    lng: Annotated[float, Field(ge=-180, le=180)]
    address: Annotated[str, Field(max_length=400)] | None = None
    postal_code: Annotated[str, Field(max_length=20)] | None = None


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: Basket
    destination: Destination


class FulfilmentOut(BaseModel):
    node: str = Field(description="Code of the node the items leave from")
    node_name: str
    channel: Channel
    delivered_by: str | None = Field(
        description="Code of the station or partner store that delivers (none for a carrier)"
    )
    skus: list[str]


class PickupStoreOut(BaseModel):
    """The partner store that keeps the order at its counter for the shopper."""

    code: str = Field(description="The store's node code (the option id is pickup:<code>)")
    name: str
    address: str | None
    lat: float
    lng: float
    distance_m: int = Field(description="From the destination, as the crow flies")
    opening_hours: dict[str, list[str]] = Field(
        description='Weekly hours, like {"mon": ["08:00", "18:00"]}; a missing day is closed'
    )
    hours: str = Field(description='The hours for people: "Mon-Sat 08:00-18:00"')
    ready_by: datetime = Field(description="The order waits at the counter from then")


class OptionOut(BaseModel):
    id: str = Field(
        description="Pass as option_id when creating the order: the speed (same_day, "
        "next_day, two_day) for delivery to the door, pickup:<store code> for counter pick-up"
    )
    kind: Literal["delivery", "pickup"] = Field(
        default="delivery", description="Delivered to the door, or collected at a counter"
    )
    speed: DeliverySpeed = Field(description="For a pick-up: the day it reaches the store")
    label: str = Field(
        description='For people: "Today by 9 pm", "Tomorrow", "In 2 days", '
        '"Ready tomorrow from 10 am"'
    )
    promised_by: datetime = Field(description="Delivered by, or (pick-up) ready from")
    fee_cents: int
    channel: Channel = Field(description="How most of the basket travels")
    fulfilment: list[FulfilmentOut]
    pickup: PickupStoreOut | None = Field(
        default=None, description="The store's counter, for a pick-up option"
    )


class UnavailableOut(BaseModel):
    speed: DeliverySpeed
    reason: str = Field(
        description="out_of_stock, past_cutoff, outside_service_area, no_capacity, too_far"
    )
    detail: str


class PreviewOut(BaseModel):
    id: str
    expires_at: datetime
    destination: Destination
    items: list[BasketItem]
    options: list[OptionOut]
    unavailable: list[UnavailableOut]


class PostalCodeOut(BaseModel):
    """A ZIP code's centroid: what the widget asks for a promise before the street is typed."""

    model_config = ConfigDict(from_attributes=True)  # read from a `geo.postal_codes.PostalCode`

    postal_code: str = Field(validation_alias="code")
    place: str
    lat: float
    lng: float
    approximate: bool = Field(default=True, description="A centroid, not a street address")
