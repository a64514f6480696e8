"""One small world for the tests that call every endpoint: two merchants, every kind of
caller, and a row of each kind merchant A owns (for cross-merchant probes).

The callers are a table: adding a kind of caller (partner-store staff, an operator role) is
one entry in `CALLER_KINDS` and one line in `build_world`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers import accounts
from doorstep.drivers.schemas import VehicleIn
from doorstep.merchants import service as merchants
from doorstep.models import ApiKeyKind, DeliverySpeed, Merchant, OperatorRole, WebhookDelivery
from doorstep.ops import audit
from doorstep.ops import users as operators
from doorstep.orders import service as orders
from doorstep.orders.schemas import OrderDestination, OrderIn, Recipient
from doorstep.partners import accounts as stores
from doorstep.promise.schemas import BasketItem
from doorstep.settings import Environment
from doorstep.webhooks import service as webhooks
from doorstep.webhooks.addresses import AddressPolicy
from tests.shop import DOWNTOWN_CHANDLER, local, open_shop

OPERATOR_TOKEN = "fuzz-operator-token-0123456789abcdefABCDEF"

#: Every kind of caller, by name, with what it is.
CALLER_KINDS: dict[str, str] = {
    "anonymous": "no Authorization header",
    "secret_a": "merchant A's secret key",
    "publishable_a": "merchant A's publishable key",
    "secret_b": "merchant B's secret key",
    "revoked": "a revoked secret key of merchant A",
    "operator": "the operator token (DOORSTEP_OPERATOR_TOKEN)",
    "driver": "a driver's app token (drv_…)",
    "staff_a": "partner store A's staff token (stf_…)",
    "staff_b": "partner store B's staff token (stf_…)",
    "admin": "an operator account's token (opr_…), role admin",
    "dispatcher": "an operator account's token (opr_…), role dispatcher",
    "viewer": "an operator account's token (opr_…), role viewer",
}

#: Partner store A (the caller ``staff_a``'s) and B.
STORE_A, STORE_B = "PS-MARICOPA-HARDWARE", "PS-SUNLAKES-CAFE"


@dataclass
class World:
    merchant_a: int
    merchant_b: int
    #: The Authorization header of each caller kind (none for anonymous).
    headers: dict[str, dict[str, str]]
    #: Public ids of rows merchant A owns, by path parameter name.
    owned_by_a: dict[str, str] = field(default_factory=dict)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def build_world(session: Session) -> World:
    """Merchant A (Copper Pot, with products and stock), merchant B, a driver; an order and
    a webhook endpoint of merchant A. Flushed, not committed."""
    shop = open_shop(session)
    merchant_a = session.get_one(Merchant, shop.merchant_id)
    other = merchants.create_merchant(session, "Saguaro Books")
    revoked = merchants.create_key(session, merchant_a, ApiKeyKind.SECRET, label="old")
    merchants.revoke_key(session, merchant_a.id, revoked.api_key.id)
    driver = accounts.create_driver(
        session,
        name="Ada Lovelace",
        email="ada@example.com",
        station_code="DCH1",
        vehicle=VehicleIn(description="Own car", cargo_litres=1500, payload_kg=350),
        now=local(7),
        with_token=False,
    ).driver
    driver_token = accounts.issue_session(session, driver, now=local(7), page=False)
    endpoint = webhooks.create_endpoint(
        session,
        merchant_a.id,
        "https://hooks.example.com/doorstep",
        ["*"],
        environment=Environment.TEST,
        addresses=AddressPolicy.allowing([], resolver=lambda host, port: ["93.184.215.14"]),
    )
    order = orders.place_order(
        session,
        merchant_a.id,
        OrderIn(
            items=[BasketItem(sku="PAN-28", quantity=1)],
            destination=OrderDestination(**DOWNTOWN_CHANDLER),
            speed=DeliverySpeed.SAME_DAY,
            recipient=Recipient(name="Ana Ruiz"),
        ),
        idempotency_key=None,
        now=local(10),
    ).order
    staff = {
        name: stores.invite(
            session, code, email=f"clerk@{name}.example.com", name="Cleo Clerk", now=local(7)
        ).token
        for name, code in (("staff_a", STORE_A), ("staff_b", STORE_B))
    }
    roles = {
        role.value: operators.create_operator(
            session,
            f"{role.value}@ops.example.com",
            role,
            name=None,
            password=None,
            by=audit.COMMAND_LINE,
            now=local(7),
        ).token
        for role in OperatorRole
    }
    webhooks.fan_out(session)  # a delivery of merchant A's order.created to that endpoint
    delivery_id = session.scalars(
        select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    ).first()
    headers = {
        "anonymous": {},
        "secret_a": bearer(shop.secret_key),
        "publishable_a": bearer(shop.publishable_key),
        "secret_b": bearer(other.secret_key.plaintext),
        "revoked": bearer(revoked.plaintext),
        "operator": bearer(OPERATOR_TOKEN),
        "driver": bearer(driver_token),
        **{name: bearer(token) for name, token in staff.items()},
        **{role: bearer(token) for role, token in roles.items()},
    }
    assert set(headers) == set(CALLER_KINDS)
    return World(
        merchant_a=merchant_a.id,
        merchant_b=other.merchant.id,
        headers=headers,
        owned_by_a={
            "order_id": order.public_id,
            "endpoint_id": str(endpoint.id),
            "delivery_id": str(delivery_id),
            "key_id": str(revoked.api_key.id),
        },
    )
