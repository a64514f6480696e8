"""API keys checked a moment ago are trusted for a few seconds, and never a wrong key."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from doorstep.api.key_cache import KeyCache
from doorstep.merchants.keys import issue_key
from doorstep.merchants.service import AuthenticatedKey, create_merchant
from doorstep.models import ApiKey, ApiKeyKind, utcnow


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _key(prefix: str) -> AuthenticatedKey:
    return AuthenticatedKey(
        id=1, merchant_id=7, prefix=prefix, kind=ApiKeyKind.SECRET, scopes=("*",)
    )


def test_a_key_is_remembered_for_its_time_only() -> None:
    clock = Clock()
    cache = KeyCache(5.0, clock)
    issued = issue_key(ApiKeyKind.SECRET)
    assert cache.get(issued.plaintext) is None
    cache.put(issued.plaintext, _key(issued.prefix))
    assert cache.get(issued.plaintext) == _key(issued.prefix)
    clock.now += 5.0
    assert cache.get(issued.plaintext) is None


def test_the_right_prefix_with_a_wrong_secret_is_never_trusted() -> None:
    cache = KeyCache(5.0, Clock())
    issued = issue_key(ApiKeyKind.SECRET)
    cache.put(issued.plaintext, _key(issued.prefix))
    forged = issued.plaintext[:-4] + ("AAAA" if not issued.plaintext.endswith("AAAA") else "BBBB")
    assert cache.get(forged) is None


def test_forget_and_a_zero_time_to_live() -> None:
    issued = issue_key(ApiKeyKind.SECRET)
    cache = KeyCache(5.0, Clock())
    cache.put(issued.plaintext, _key(issued.prefix))
    cache.forget(issued.prefix)
    assert cache.get(issued.plaintext) is None
    off = KeyCache(0.0, Clock())
    off.put(issued.plaintext, _key(issued.prefix))
    assert off.get(issued.plaintext) is None


def test_a_key_revoked_by_another_process_stops_working_when_the_cache_expires(
    client: TestClient, session: Session
) -> None:
    created = create_merchant(session, "Cache Test Co")
    session.commit()
    clock = Clock()
    client.app.state.key_cache = KeyCache(5.0, clock)  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {created.secret_key.plaintext}"}
    assert client.get("/v1/orders", headers=headers).status_code == 200
    # Another process revokes the key: this one does not hear of it...
    session.execute(
        update(ApiKey).where(ApiKey.id == created.secret_key.api_key.id).values(revoked_at=utcnow())
    )
    session.commit()
    assert client.get("/v1/orders", headers=headers).status_code == 200
    clock.now += 5.0  # ...until it checks the key again
    refused = client.get("/v1/orders", headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_api_key")
