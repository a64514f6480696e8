"""Merchant keys: shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.merchants import service
from doorstep.merchants.keys import digest_of, prefix_of
from doorstep.models import ApiKey, Node, NodeKind
from tests.factories import make_node


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_keys_are_stored_as_digests_only(session: Session) -> None:
    created = service.create_merchant(session, "Stride Sneakers")
    secret = created.secret_key.plaintext
    assert secret.startswith("sk_")
    assert created.publishable_key.plaintext.startswith("pk_")
    stored = session.scalars(select(ApiKey)).all()
    assert len(stored) == 2
    for key in stored:
        assert key.secret_hash not in (secret, created.publishable_key.plaintext)
        assert len(key.secret_hash) == 64
    assert created.secret_key.api_key.secret_hash == digest_of(secret)
    assert prefix_of(secret) == created.secret_key.api_key.prefix


def test_secret_key_reads_the_merchant(client: TestClient, session: Session) -> None:
    created = service.create_merchant(session, "Stride Sneakers")
    session.commit()
    response = client.get("/v1/merchant", headers=_bearer(created.secret_key.plaintext))
    assert response.status_code == 200
    assert response.json()["name"] == "Stride Sneakers"


def test_bad_missing_and_revoked_keys_are_401(client: TestClient, session: Session) -> None:
    created = service.create_merchant(session, "Stride Sneakers")
    session.commit()
    assert client.get("/v1/merchant").json()["error"] == "not_authenticated"
    forged = created.secret_key.plaintext[:-4] + "AAAA"
    bad = client.get("/v1/merchant", headers=_bearer(forged))
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_api_key")
    assert client.get("/v1/merchant", headers=_bearer("garbage")).status_code == 401
    secret = created.secret_key.plaintext
    revoked = client.post(
        f"/v1/api-keys/{created.publishable_key.api_key.id}/revoke", headers=_bearer(secret)
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    after = client.get("/v1/merchant", headers=_bearer(created.publishable_key.plaintext))
    assert after.status_code == 401
    assert "revoked" in after.json()["detail"]


def test_publishable_key_cannot_read_the_account(client: TestClient, session: Session) -> None:
    created = service.create_merchant(session, "Stride Sneakers")
    session.commit()
    response = client.get("/v1/merchant", headers=_bearer(created.publishable_key.plaintext))
    assert response.status_code == 403
    assert response.json()["error"] == "key_not_allowed"


def test_new_key_is_shown_once_then_only_its_prefix(client: TestClient, session: Session) -> None:
    created = service.create_merchant(session, "Stride Sneakers")
    session.commit()
    headers = _bearer(created.secret_key.plaintext)
    new = client.post("/v1/api-keys", json={"kind": "secret", "label": "ci"}, headers=headers)
    assert new.status_code == 201
    plaintext = new.json()["key"]
    listed = client.get("/v1/api-keys", headers=headers).json()
    assert len(listed) == 3
    assert all("key" not in item for item in listed)
    assert plaintext not in str(listed)
    assert client.get("/v1/merchant", headers=_bearer(plaintext)).status_code == 200


def test_a_merchant_cannot_revoke_another_merchants_key(
    client: TestClient, session: Session
) -> None:
    mine = service.create_merchant(session, "Mine")
    theirs = service.create_merchant(session, "Theirs")
    session.commit()
    response = client.post(
        f"/v1/api-keys/{theirs.secret_key.api_key.id}/revoke",
        headers=_bearer(mine.secret_key.plaintext),
    )
    assert response.status_code == 404
    assert response.json()["error"] == "api_key_not_found"


def test_stores_are_attached_to_their_merchant(session: Session) -> None:
    store = make_node(session, kind=NodeKind.LOCAL_STORE, code="LS-1")
    make_node(session, kind=NodeKind.STATION, code="ST-1")
    created = service.create_merchant(session, "Bikes", store_codes=["LS-1"])
    assert session.get_one(Node, store.id).merchant_id == created.merchant.id
    with pytest.raises(service.StoreNotAvailable, match="another merchant"):
        service.create_merchant(session, "Other", store_codes=["LS-1"])
    with pytest.raises(service.StoreNotAvailable, match="not a mall store or local store"):
        service.create_merchant(session, "Other", store_codes=["ST-1"])


def test_console_login_checks_the_password(session: Session) -> None:
    created = service.create_merchant(session, "Stride Sneakers")
    service.create_console_user(session, created.merchant, "Ops@Stride.example", "long enough pw")
    assert service.verify_console_login(session, "ops@stride.example", "long enough pw")
    assert service.verify_console_login(session, "ops@stride.example", "wrong password") is None
    assert service.verify_console_login(session, "nobody@stride.example", "x") is None
