"""The merchant-facing API: endpoints, the delivery log, redelivery, and who sees what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from doorstep.models import utcnow
from tests.webhooks.conftest import (
    Receiver,
    bearer,
    deliveries,
    new_merchant,
    new_package,
    run_pass,
)


def test_register_list_update_delete(api: TestClient, session: Session) -> None:
    merchant = new_merchant(session)
    headers = bearer(merchant)

    created = api.post(
        "/v1/webhook-endpoints",
        json={"url": "https://example.com/hooks", "event_types": ["package.delivered"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["signing_secret"].startswith("whsec_")
    assert body["event_types"] == ["package.delivered"]
    assert body["active"] is True

    listed = api.get("/v1/webhook-endpoints", headers=headers).json()
    assert [e["id"] for e in listed] == [body["id"]]
    assert "signing_secret" not in listed[0]

    patched = api.patch(
        f"/v1/webhook-endpoints/{body['id']}",
        json={"event_types": ["*"], "active": False},
        headers=headers,
    )
    assert patched.status_code == 200
    assert (patched.json()["event_types"], patched.json()["active"]) == (["*"], False)

    assert api.delete(f"/v1/webhook-endpoints/{body['id']}", headers=headers).status_code == 204
    assert api.get("/v1/webhook-endpoints", headers=headers).json() == []


def test_invalid_url_and_unknown_event_type_are_refused(api: TestClient, session: Session) -> None:
    headers = bearer(new_merchant(session))
    for url in ("ftp://example.com/x", "example.com/hooks", "https://user:pw@example.com/x"):
        response = api.post("/v1/webhook-endpoints", json={"url": url}, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"] == "invalid_webhook_url"
    response = api.post(
        "/v1/webhook-endpoints",
        json={"url": "https://example.com/x", "event_types": ["package.teleported"]},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["error"] == "unknown_event_type"
    assert "package.delivered" in response.json()["context"]["known"]


def test_publishable_key_cannot_manage_webhooks(api: TestClient, session: Session) -> None:
    merchant = new_merchant(session)
    key = merchant.publishable_key.plaintext
    response = api.get("/v1/webhook-endpoints", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403


def test_delivery_log_shows_attempts_and_redelivery(
    api: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    merchant = new_merchant(session)
    headers = bearer(merchant)
    receiver = start_receiver(fail=1)
    endpoint_id = api.post(
        "/v1/webhook-endpoints", json={"url": receiver.url}, headers=headers
    ).json()["id"]
    new_package(session, merchant)
    new_package(session, merchant)
    now = utcnow()
    run_pass(session_factory, now)
    run_pass(session_factory, max(d.next_attempt_at for d in deliveries(session, endpoint_id)))

    log = api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=headers)
    assert log.status_code == 200
    items = log.json()["items"]
    assert len(items) == 2
    assert items[0]["id"] > items[1]["id"]  # newest first
    newest = items[0]
    assert newest["status"] == "succeeded"
    assert newest["webhook_id"].startswith("evt_")
    assert newest["event_type"] == "package.created"
    assert newest["next_attempt_at"] is None
    assert [a["status_code"] for a in newest["attempt_log"]] == [200, 500]  # newest first
    assert newest["attempt_log"][1]["response_excerpt"] == "boom"
    assert log.json()["next_cursor"] is None

    page = api.get(
        f"/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=1", headers=headers
    ).json()
    assert [i["id"] for i in page["items"]] == [newest["id"]]
    older = api.get(
        f"/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=1&before={page['next_cursor']}",
        headers=headers,
    ).json()
    assert [i["id"] for i in older["items"]] == [items[1]["id"]]

    redelivered = api.post(f"/v1/webhook-deliveries/{newest['id']}/redeliver", headers=headers)
    assert redelivered.status_code == 202
    assert (redelivered.json()["status"], redelivered.json()["attempts"]) == ("pending", 0)
    again = api.post(f"/v1/webhook-deliveries/{newest['id']}/redeliver", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"] == "delivery_pending"
    run_pass(session_factory)
    assert receiver.ids()[-1] == newest["webhook_id"]
    final = api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=headers).json()
    assert len(final["items"][0]["attempt_log"]) == 3


def test_a_merchant_cannot_see_another_merchants_endpoints(
    api: TestClient, session: Session, session_factory: sessionmaker[Session]
) -> None:
    owner = new_merchant(session, "Owner")
    other = bearer(new_merchant(session, "Other"))
    endpoint = api.post(
        "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hooks"}, headers=bearer(owner)
    ).json()
    new_package(session, owner)
    run_pass(session_factory)  # queues (and fails) one delivery
    [delivery] = deliveries(session, endpoint["id"])
    path = f"/v1/webhook-endpoints/{endpoint['id']}"

    assert api.get("/v1/webhook-endpoints", headers=other).json() == []
    for response in (
        api.get(path, headers=other),
        api.patch(path, json={"active": False}, headers=other),
        api.delete(path, headers=other),
        api.get(f"{path}/deliveries", headers=other),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == "webhook_endpoint_not_found"
    response = api.post(f"/v1/webhook-deliveries/{delivery.id}/redeliver", headers=other)
    assert response.status_code == 404
    assert response.json()["error"] == "webhook_delivery_not_found"
    # Nothing changed for the owner.
    assert api.get(path, headers=bearer(owner)).json()["active"] is True


def test_a_rotated_secret_keeps_signing_alongside_the_new_one_until_it_expires(
    api: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    start_receiver: Callable[..., Receiver],
) -> None:
    merchant = new_merchant(session)
    headers = bearer(merchant)
    receiver = start_receiver()
    created = api.post("/v1/webhook-endpoints", json={"url": receiver.url}, headers=headers)
    endpoint_id, old_secret = created.json()["id"], created.json()["signing_secret"]

    rotated = api.post(
        f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
        json={"keep_previous_hours": 2},
        headers=headers,
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["signing_secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != old_secret
    expires = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert timedelta(hours=1.9) < expires - utcnow() <= timedelta(hours=2)
    assert (
        "signing_secret"
        not in api.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=headers).json()
    )

    # During the overlap, a receiver holding either secret verifies the delivery.
    new_package(session, merchant)
    run_pass(session_factory)
    (during,) = receiver.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        Webhook(secret).verify(during.body, during.headers)

    # After it, only the new secret signs.
    new_package(session, merchant)
    run_pass(session_factory, expires + timedelta(seconds=1))
    after = receiver.requests[-1]
    Webhook(new_secret).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(after.body, after.headers)


def test_a_leaked_secret_can_be_replaced_at_once(api: TestClient, session: Session) -> None:
    merchant = new_merchant(session)
    headers = bearer(merchant)
    endpoint_id = api.post(
        "/v1/webhook-endpoints", json={"url": "https://example.com/hooks"}, headers=headers
    ).json()["id"]
    rotated = api.post(
        f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
        json={"keep_previous_hours": 0},
        headers=headers,
    )
    assert rotated.json()["previous_secret_expires_at"] is None
    too_long = api.post(
        f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
        json={"keep_previous_hours": 1000},
        headers=headers,
    )
    assert too_long.status_code == 422
    assert "keep_previous_hours" in too_long.text
    other = new_merchant(session, "Other Shop")
    stranger = api.post(f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret", headers=bearer(other))
    assert stranger.status_code == 404
