"""Webhooks reach public addresses only: at registration, and at every connection the sender
opens (a name may point elsewhere by then). Names are resolved by a fake DNS, never the real one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from doorstep.models import WebhookEndpoint
from doorstep.settings import Environment, Settings
from doorstep.webhooks import service
from doorstep.webhooks.addresses import (
    AddressNotPublic,
    AddressPolicy,
    is_public,
    literal_address,
)
from tests.webhooks.conftest import (
    FakeDns,
    Receiver,
    bearer,
    deliveries,
    local_receivers,
    new_merchant,
    new_package,
    run_pass,
)

# Each of these reaches doorstep's own machine or network, however it is spelt.
INTERNAL_URLS = [
    "https://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
    "http://127.0.0.1:5432/",
    "http://10.0.0.1/hooks",
    "http://172.16.0.1/hooks",
    "http://192.168.1.1/hooks",
    "http://[fd00::1]/hooks",
    "http://[::1]:8000/hooks",
    "http://localhost/hooks",
    "http://app.localhost/hooks",
    "http://2130706433/",  # 127.0.0.1 in decimal
    "http://0x7f000001/",  # in hex
    "http://0177.0.0.1/",  # in octal
    "http://127.1/",  # shortened
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://[64:ff9b::a00:1]/",  # NAT64 around 10.0.0.1
    "http://0.0.0.0/",
    "http://0/",
    "http://100.64.0.1/",  # shared address space (CGNAT)
    "http://224.0.0.1/",  # multicast
    "http://[ff02::1]/",
    "http://169.254.1.1/",  # link-local
    "http://[fe80::1]/",
    "http://metadata.google.internal/computeMetadata/v1/",  # a name for 169.254.169.254
    "https://rebind.example/hooks",  # one public answer, one private
]


@pytest.fixture
def strict(api: TestClient, dns: FakeDns) -> TestClient:
    """The API with no allow-list: public addresses only, as in production."""
    dns.answers["metadata.google.internal"] = ["169.254.169.254"]
    dns.answers["rebind.example"] = ["93.184.215.14", "10.1.2.3"]
    api.app.state.webhook_addresses = AddressPolicy(resolver=dns)  # type: ignore[attr-defined]
    return api


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_an_internal_address_is_refused_at_registration(
    strict: TestClient, session: Session, url: str
) -> None:
    headers = bearer(new_merchant(session))
    response = strict.post("/v1/webhook-endpoints", json={"url": url}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "webhook_url_not_public"
    assert response.json()["context"]["field"] == "url"
    assert strict.get("/v1/webhook-endpoints", headers=headers).json() == []


def test_an_endpoint_cannot_be_moved_to_an_internal_address(
    strict: TestClient, session: Session
) -> None:
    headers = bearer(new_merchant(session))
    created = strict.post(
        "/v1/webhook-endpoints", json={"url": "https://example.com/hooks"}, headers=headers
    )
    assert created.status_code == 201, created.text
    moved = strict.patch(
        f"/v1/webhook-endpoints/{created.json()['id']}",
        json={"url": "http://169.254.169.254/latest/meta-data/"},
        headers=headers,
    )
    assert moved.status_code == 422
    assert moved.json()["error"] == "webhook_url_not_public"
    endpoint = strict.get(f"/v1/webhook-endpoints/{created.json()['id']}", headers=headers)
    assert endpoint.json()["url"] == "https://example.com/hooks"


def test_public_names_and_names_that_do_not_resolve_yet_are_accepted(
    strict: TestClient, session: Session, dns: FakeDns
) -> None:
    headers = bearer(new_merchant(session))
    for url in ("https://example.com/hooks", "https://93.184.215.14/hooks", "https://new.shop"):
        response = strict.post("/v1/webhook-endpoints", json={"url": url}, headers=headers)
        assert response.status_code == 201, (url, response.text)
    assert "new.shop" in dns.asked  # resolved, and not found: every delivery checks again


def test_a_bad_port_is_an_invalid_url_not_a_500(strict: TestClient, session: Session) -> None:
    response = strict.post(
        "/v1/webhook-endpoints",
        json={"url": "https://example.com:99999/hooks"},
        headers=bearer(new_merchant(session)),
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_webhook_url"


def test_the_allow_list_lets_a_development_receiver_in(api: TestClient, session: Session) -> None:
    # The api fixture allows 127.0.0.1, as DOORSTEP_WEBHOOK_ALLOW_PRIVATE=127.0.0.1 does.
    headers = bearer(new_merchant(session))
    allowed = api.post(
        "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:8080/hooks"}, headers=headers
    )
    assert allowed.status_code == 201, allowed.text
    refused = api.post(
        "/v1/webhook-endpoints", json={"url": "http://10.0.0.1/hooks"}, headers=headers
    )
    assert refused.status_code == 422


def _endpoint_with_an_event(
    session: Session, url: str, addresses: AddressPolicy
) -> WebhookEndpoint:
    """An endpoint registered under ``addresses``, and one event queued for it."""
    merchant = new_merchant(session)
    endpoint = service.create_endpoint(
        session, merchant.merchant.id, url, ["*"], environment=Environment.TEST, addresses=addresses
    )
    new_package(session, merchant)
    return endpoint


def _named_url(receiver: Receiver) -> str:
    """The receiver's URL under a name only the tests' resolver knows."""
    return receiver.url.replace("127.0.0.1", "hooks.shop.example")


def test_a_name_that_turns_private_after_registration_is_not_sent_to(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    receiver = start_receiver()
    dns = FakeDns({"hooks.shop.example": ["93.184.215.14"]})
    endpoint = _endpoint_with_an_event(session, _named_url(receiver), AddressPolicy(resolver=dns))
    # DNS rebinding: the name now points at the machine the sender runs on.
    dns.answers["hooks.shop.example"] = ["127.0.0.1"]

    report = run_pass(session_factory, addresses=AddressPolicy(resolver=dns))

    assert (report.attempted, report.succeeded) == (1, 0)
    assert receiver.requests == []
    [delivery] = deliveries(session, endpoint)
    assert delivery.last_status_code is None
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("AddressNotPublic: hooks.shop.example resolves to a")
    assert "127.0.0.1" not in delivery.last_error  # the answer of a name is not shown


def test_the_sender_connects_to_the_address_it_checked(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    # A name only this resolver knows: the request can only arrive if the connection went to
    # the address the check returned, and it keeps the name in its Host header.
    receiver = start_receiver()
    dns = FakeDns({"hooks.shop.example": ["127.0.0.1"]})
    endpoint = _endpoint_with_an_event(session, _named_url(receiver), local_receivers(dns))
    dns.asked.clear()

    report = run_pass(session_factory, addresses=local_receivers(dns))

    assert report.succeeded == 1, deliveries(session, endpoint)[0].last_error
    [request] = receiver.requests
    assert request.headers["host"] == _named_url(receiver).split("/")[2]
    assert dns.asked == ["hooks.shop.example"]


def test_a_literal_address_is_checked_at_delivery_too(
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    # Registered while the allow-list let it in; the sender's policy no longer does.
    receiver = start_receiver()
    endpoint = _endpoint_with_an_event(session, receiver.url, local_receivers())
    run_pass(session_factory, addresses=AddressPolicy(resolver=FakeDns()))
    assert receiver.requests == []
    [delivery] = deliveries(session, endpoint)
    assert (delivery.last_error or "").startswith("AddressNotPublic: 127.0.0.1 is a private")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.0.0.1.", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("fe80::1%eth0", "fe80::1"),
        ("93.184.215.14", "93.184.215.14"),
        ("example.com", None),
        ("08.1.1.1", None),  # not octal: a name, as inet_aton reads it
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
    ],
)
def test_ip_literals_are_read_as_resolvers_read_them(host: str, address: str | None) -> None:
    found = literal_address(host)
    assert (str(found) if found is not None else None) == address


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("8.8.8.8", True),
        ("2606:2800:220:1::1", True),
        ("2002:5db8:d70e::1", True),  # 6to4 around a public address
        ("127.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", False),  # mapped addresses never go on the wire
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("198.18.0.1", False),  # benchmarking
        ("192.0.2.1", False),  # documentation
        ("255.255.255.255", False),
        ("240.0.0.1", False),  # reserved
        ("fec0::1", False),  # site-local
    ],
)
def test_what_counts_as_public(address: str, public: bool) -> None:
    found = literal_address(address)
    assert found is not None
    assert is_public(found) is public


def test_one_private_answer_is_enough_to_refuse() -> None:
    policy = AddressPolicy(resolver=FakeDns({"mixed.example": ["93.184.215.14", "10.0.0.1"]}))
    with pytest.raises(AddressNotPublic):
        policy.addresses("mixed.example", 443)
    allowed = AddressPolicy.allowing(
        ["10.0.0.0/8"], resolver=FakeDns({"mixed.example": ["93.184.215.14", "10.0.0.1"]})
    )
    assert [str(a) for a in allowed.addresses("mixed.example", 443)] == [
        "93.184.215.14",
        "10.0.0.1",
    ]


def test_the_allow_list_setting_takes_hosts_and_networks() -> None:
    settings = Settings(
        webhook_allow_private=" 127.0.0.1, Receiver.Local ,10.0.0.0/8", _env_file=None
    )
    assert settings.webhook_private_allowances == ("127.0.0.1", "receiver.local", "10.0.0.0/8")
    policy = AddressPolicy.allowing(
        settings.webhook_private_allowances,
        resolver=FakeDns({"receiver.local": ["192.168.1.20"], "other.local": ["192.168.1.21"]}),
    )
    assert [str(a) for a in policy.addresses("receiver.local", 80)] == ["192.168.1.20"]
    assert [str(a) for a in policy.addresses("10.1.2.3", 80)] == ["10.1.2.3"]
    with pytest.raises(AddressNotPublic):
        policy.addresses("other.local", 80)
    with pytest.raises(ValidationError, match="DOORSTEP_WEBHOOK_ALLOW_PRIVATE"):
        Settings(webhook_allow_private="10.0.0.0/8, not a host", _env_file=None)
