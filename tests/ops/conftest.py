from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from doorstep.models import OperatorRole
from doorstep.ops import audit, users

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def tokens(session: Session) -> dict[OperatorRole, str]:
    """One operator per role (each with a console password); their API tokens by role."""
    made = {
        role: users.create_operator(
            session,
            f"{role.value}@ops.example.com",
            role,
            name=role.value.title(),
            password=PASSWORD,
            by=audit.COMMAND_LINE,
            now=NOW,
        )
        for role in OperatorRole
    }
    session.commit()
    return {role: m.token for role, m in made.items()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
