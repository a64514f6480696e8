"""A real HTTP receiver on 127.0.0.1 and small helpers to drive the webhook worker."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.merchants.service import NewMerchant, create_merchant
from doorstep.models import Order, OutboxEvent, Package, WebhookDelivery, WebhookEndpoint
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from doorstep.settings import Environment, Settings
from doorstep.webhooks import api as webhooks_api
from doorstep.webhooks import service
from doorstep.webhooks.addresses import AddressPolicy
from doorstep.webhooks.worker import DeliveryWorker, PassReport, http_client
from tests.factories import make_order, make_package


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    at: float  # time.monotonic() when the request arrived


@dataclass
class Receiver:
    """Records every POST. ``fail`` answers 500 to the first N requests per webhook-id;
    ``delay`` sleeps before answering."""

    fail: int = 0
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    most_at_once: int = 0  # the most requests it was answering at the same time
    _answering: int = 0
    _seen: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        arrived = time.monotonic()
        with self._lock:
            msg_id = headers.get("webhook-id", "")
            self._seen[msg_id] = self._seen.get(msg_id, 0) + 1
            status = 500 if self._seen[msg_id] <= self.fail else 200
            self.requests.append(Received(headers, body, status, arrived))
            self._answering += 1
            self.most_at_once = max(self.most_at_once, self._answering)
        time.sleep(self.delay)
        with self._lock:
            self._answering -= 1
        return status

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.answer(headers, body)
            payload = b'{"ok": true}' if status == 200 else b"boom"
            self.send_response(status)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

    return Handler


@pytest.fixture
def start_receiver() -> Iterator[Callable[..., Receiver]]:
    servers: list[ThreadingHTTPServer] = []

    def start(*, fail: int = 0, delay: float = 0.0) -> Receiver:
        receiver = Receiver(fail=fail, delay=delay)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dead_url() -> str:
    """A URL on a port nobody listens on: connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


class FakeDns:
    """A resolver answering from a dictionary (tests never ask the real DNS); change
    ``answers`` to make a name point elsewhere. An unknown name does not resolve."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = {"localhost": ["127.0.0.1", "::1"], **(answers or {})}
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


def local_receivers(dns: FakeDns | None = None) -> AddressPolicy:
    """What the tests' receivers need: public addresses and 127.0.0.1, as the development
    allow-list (DOORSTEP_WEBHOOK_ALLOW_PRIVATE=127.0.0.1) would say."""
    return AddressPolicy.allowing(["127.0.0.1"], resolver=dns or FakeDns())


def make_endpoint(
    session: Session, merchant: NewMerchant, url: str, event_types: list[str] | None = None
) -> WebhookEndpoint:
    return service.create_endpoint(
        session,
        merchant.merchant.id,
        url,
        event_types or ["*"],
        environment=Environment.TEST,
        addresses=local_receivers(),
    )


def new_merchant(session: Session, name: str = "Copper Pot Kitchenware") -> NewMerchant:
    return create_merchant(session, name)


def new_package(session: Session, merchant: NewMerchant, order: Order | None = None) -> Package:
    """A package of the merchant; writes one package.created outbox event."""
    return make_package(session, order=order or make_order(session, merchant.merchant))


def advance(session: Session, package: Package, state: PackageState) -> None:
    transition_package(session, package, state, actor="test")


def run_pass(
    sessions: sessionmaker[Session],
    now: datetime | None = None,
    *,
    concurrency: int = 10,
    policy: service.RetryPolicy = service.DEFAULT_POLICY,
    addresses: AddressPolicy | None = None,
) -> PassReport:
    async def go() -> PassReport:
        async with http_client(addresses or local_receivers()) as client:
            worker = DeliveryWorker(sessions, client, concurrency=concurrency, policy=policy)
            return await worker.run_once(now)

    return asyncio.run(go())


def deliveries(session: Session, endpoint: WebhookEndpoint | int) -> list[WebhookDelivery]:
    """The endpoint's deliveries as committed by the worker, in event order."""
    session.expire_all()
    endpoint_id = endpoint if isinstance(endpoint, int) else endpoint.id
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.event_id)
        )
    )


def events_of(session: Session, order: Order) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.ordering_key == f"order:{order.id}")
            .order_by(OutboxEvent.id)
        )
    )


@pytest.fixture
def dns() -> FakeDns:
    return FakeDns({"example.com": ["93.184.215.14"], "shop.example.com": ["93.184.215.14"]})


@pytest.fixture
def api(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], dns: FakeDns
) -> Iterator[TestClient]:
    """The app with the webhook routes (added here until the app factory includes them),
    resolving names with ``dns`` and allowing receivers on 127.0.0.1."""
    app = create_app(settings, engine=engine)
    app.state.session_factory = session_factory
    app.state.webhook_addresses = local_receivers(dns)
    paths = {getattr(route, "path", None) for route in app.routes}
    if "/v1/webhook-endpoints" not in paths:
        app.include_router(webhooks_api.router)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(merchant: NewMerchant) -> dict[str, str]:
    return {"Authorization": f"Bearer {merchant.secret_key.plaintext}"}
