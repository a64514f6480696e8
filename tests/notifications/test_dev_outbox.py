"""The dev outbox page: every message newest first, one message's HTML in a sandbox, nothing in
production; and in Chromium, a message's own markup neither runs nor fetches anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.models import MessageStatus
from doorstep.notifications import service
from doorstep.settings import Environment, Settings
from tests.factories import make_merchant
from tests.notifications.conftest import OUT_FOR_DELIVERY, T0, queued, send
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, serving

PRODUCTION = {
    "environment": Environment.PRODUCTION,
    "operator_token": "op-7fQ2xK9mWv3LrT8bNc4ZhY6dJs1GpE5a",
    "secret_key": "sk-Hq4Vn8Rt2Lx6Bw9Mz3Kc7Pf1Yd5Gj0Sa",
}


def queue_three(session: Session) -> list[int]:
    """A sign-in code by SMS, a shopper's e-mail, and an SMS held back (the number opted
    out); committed. The ids of the first two."""
    merchant = make_merchant(session, display_name="Copper Pot")
    code = queued(session, "+14805550102", template="sign_in_code", context={"code": "482913"})
    name = {**OUT_FOR_DELIVERY, "recipient_name": "<b>Ana</b>"}
    mail = queued(session, "ana@example.com", context=name, merchant_id=merchant.id)
    service.opt_out(session, "+14805550101", now=T0)
    assert send(session, "+14805550101") is None
    session.commit()
    return [code, mail]


def test_the_outbox_lists_every_message_newest_first(client: TestClient, session: Session) -> None:
    code_id, mail_id = queue_three(session)

    page = client.get("/dev/outbox")

    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    links = re.findall(r'href="/dev/outbox/(\d+)"', page.text)
    assert [int(link) for link in links] == [mail_id + 1, mail_id, code_id]
    assert "Your doorstep sign-in code is 482913." in page.text  # where a developer reads it
    assert "Copper Pot: your parcel is out for delivery" in page.text
    assert "badge-suppressed" in page.text
    assert "badge-queued" in page.text
    assert "<b>Ana</b>" not in page.text


def test_one_message_shows_its_html_in_a_sandbox_and_its_text(
    client: TestClient, session: Session
) -> None:
    _, mail_id = queue_three(session)

    page = client.get(f"/dev/outbox/{mail_id}")

    assert page.status_code == 200
    [frame] = re.findall(r"<iframe[^>]*>", page.text)
    assert " sandbox " in frame
    # The e-mail's markup is an attribute value, escaped; the shopper's name inside it was
    # escaped once already by the e-mail template.
    assert 'srcdoc="&lt;!doctype html&gt;' in frame
    assert "&amp;lt;b&amp;gt;Ana&amp;lt;/b&amp;gt;" in frame
    assert "<b>Ana</b>" not in page.text
    assert "Arriving: 2:10-2:40 pm" in page.text
    assert client.get("/dev/outbox/999999").status_code == 404


def test_older_messages_are_a_page_away(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from doorstep.web import dev_outbox

    monkeypatch.setattr(dev_outbox, "PAGE_SIZE", 2)
    first, _ = queue_three(session)
    newest = client.get("/dev/outbox").text
    older = re.search(r'href="/dev/outbox\?before=(\d+)"', newest)
    assert older is not None
    page = client.get(f"/dev/outbox?before={older.group(1)}").text
    assert re.findall(r'href="/dev/outbox/(\d+)"', page) == [str(first)]


def test_production_serves_no_outbox_and_lists_none(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], session: Session
) -> None:
    _, mail_id = queue_three(session)
    app = create_app(
        Settings.model_validate({**settings.model_dump(), **PRODUCTION}), engine=engine
    )
    app.state.session_factory = session_factory
    with TestClient(app, raise_server_exceptions=False) as live:
        assert live.get("/dev/outbox").status_code == 404
        assert live.get(f"/dev/outbox/{mail_id}").status_code == 404
        home = live.get("/")
    assert home.status_code == 200
    assert "/dev/outbox" not in home.text


def test_the_landing_page_links_the_outbox_in_development(client: TestClient) -> None:
    home = client.get("/")
    assert '<a href="/dev/outbox">Outbox</a>' in home.text


sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def origin(settings: Settings, committed_engine: Engine) -> Iterator[str]:
    with Session(committed_engine) as session:
        queue_three(session)
        # A message whose HTML tries what no e-mail of ours would: a script, a form, an image
        # from another host. The sandbox and the page's policy must stop each.
        hostile = send(
            session,
            "ana@example.com",
            template="delivered",
            context={
                "tracking_url": "https://doorstep.example/t/abc",
                "delivered_at": "2:31 pm",
                "photo_url": "https://elsewhere.example/pod.jpg",
            },
        )
        assert hostile is not None
        hostile.body_html = (
            "<p id='mail'>Delivered</p><script>parent.document.title='pwned';"
            "document.getElementById('mail').textContent='script ran'</script>"
            "<img src='https://elsewhere.example/track.gif'>"
        )
        hostile.status = MessageStatus.SENT
        session.commit()
    with serving(create_app(settings, engine=committed_engine)) as url:
        yield url


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_in_chromium_a_message_s_markup_neither_runs_nor_fetches(
    origin: str, tmp_path: Path
) -> None:
    elsewhere: list[str] = []

    def route(request_route: object) -> None:
        url = request_route.request.url  # type: ignore[attr-defined]
        if url.startswith(origin + "/"):
            request_route.continue_()  # type: ignore[attr-defined]
        else:
            elsewhere.append(url)
            request_route.abort()  # type: ignore[attr-defined]

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                page = browser.new_page(viewport=viewport)
                page.route("**/*", route)
                page.goto(f"{origin}/dev/outbox")
                assert page.get_by_text("Your doorstep sign-in code is 482913.").is_visible()
                page.screenshot(path=tmp_path / f"outbox-{name}.png", full_page=True)
                page.get_by_role("link", name="Delivered").first.click()
                page.wait_for_load_state()
                mail = page.frame_locator("iframe.mail-frame").locator("#mail")
                assert mail.inner_text() == "Delivered"  # the script did not run
                assert page.title() != "pwned"
                page.screenshot(path=tmp_path / f"message-{name}.png", full_page=True)
                page.close()
        finally:
            browser.close()
    # The image was refused by the page's policy before any request left.
    assert elsewhere == []
