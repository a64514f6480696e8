"""A planned day and a partner store's clerk signed in (`tests.partners.store`)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.partners.store import Store, open_store, plan_day


@pytest.fixture
def store(session: Session, client: TestClient) -> Store:
    plan_day(session)
    return open_store(session, client)
