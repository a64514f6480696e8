from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from doorstep.models import OperatorRole
from doorstep.ops import audit, users
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP

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


def make_dispatcher(session: Session) -> None:
    """The dispatcher the browser tests sign in as (`browser_dispatcher`)."""
    users.create_operator(
        session,
        "dispatcher@ops.example.com",
        OperatorRole.DISPATCHER,
        name="Dana",
        password=PASSWORD,
        by=audit.COMMAND_LINE,
        now=NOW,
    )


def browser_dispatcher(playwright: Any, base: str) -> tuple[Any, Any]:
    """Chromium at the desktop viewport, signed in to the console at ``base`` as the
    dispatcher (``dispatcher@ops.example.com``, `PASSWORD`); the browser and its page."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": DESKTOP["width"], "height": DESKTOP["height"]})
    page.goto(f"{base}/ops/sign-in")
    page.fill("#email", "dispatcher@ops.example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return browser, page
