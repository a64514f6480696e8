"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from doorstep import __version__
from doorstep.api import health
from doorstep.api.errors import install_error_handlers
from doorstep.api.key_cache import KeyCache
from doorstep.api.openapi import install_openapi
from doorstep.api.ratelimit import install_rate_limits
from doorstep.api.request_context import RequestContextMiddleware
from doorstep.api.request_guard import BodyLimits, RequestGuard
from doorstep.catalog import api as catalog_api
from doorstep.db import create_db_engine, session_factory
from doorstep.drivers import api as drivers_api
from doorstep.logs import configure_logging
from doorstep.merchants import api as merchants_api
from doorstep.models import utcnow
from doorstep.network import api as network_api
from doorstep.notifications import api as notifications_api
from doorstep.ops import api as ops_api
from doorstep.orders import api as orders_api
from doorstep.partners import api as partners_api
from doorstep.planning import api as planning_api
from doorstep.promise import api as promise_api
from doorstep.promise.capacity import CommittedVolumeCache
from doorstep.promise.network import SnapshotCache
from doorstep.promise.rules import PromisePolicy
from doorstep.settings import Settings, get_settings
from doorstep.shipments import api as shipments_api
from doorstep.storage.service import blob_store_from_settings
from doorstep.tracking import api as tracking_api
from doorstep.tracking.push import Broadcaster
from doorstep.tracking.returns import DoorCollection
from doorstep.web import dev_outbox
from doorstep.web import ops as ops_pages
from doorstep.web import routes as web_routes
from doorstep.web.cors import PublicCorsMiddleware
from doorstep.web.login_throttle import LoginThrottle
from doorstep.webhooks import api as webhooks_api
from doorstep.webhooks.addresses import AddressPolicy


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app. Pass ``engine`` to share one (tests); otherwise one is made from settings."""
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.tracking_push.stop()
        if engine is None:
            app.state.engine.dispose()

    app = FastAPI(
        title="doorstep",
        version=__version__,
        summary="Local same-day and two-day delivery network",
        lifespan=lifespan,
        docs_url=None,  # both served by _install_docs, with their scripts from doorstep itself
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine or create_db_engine(
        settings.resolved_database_url, echo=settings.database_echo
    )
    app.state.session_factory = session_factory(app.state.engine)
    app.state.clock = utcnow
    app.state.network_cache = SnapshotCache(settings.network_cache_seconds)
    app.state.committed_volume = CommittedVolumeCache(settings.capacity_cache_seconds)
    app.state.travel = settings.travel_model()
    # Where proof-of-delivery photos and signatures go (a directory, or an S3 bucket).
    app.state.blob_store = blob_store_from_settings(settings)
    app.state.promise_policy = PromisePolicy(travel=app.state.travel)
    app.state.key_cache = KeyCache(settings.api_key_cache_seconds)
    # Where merchants' webhook URLs may point (public addresses, and the operator's allow-list).
    app.state.webhook_addresses = AddressPolicy.allowing(settings.webhook_private_allowances)
    # Live tracking pages: one reader of the outbox per process feeds every open page.
    app.state.tracking_push = Broadcaster(
        lambda: app.state.session_factory,
        poll_s=settings.tracking_push_poll_ms / 1000,
        clock=lambda: app.state.clock(),
        max_attempts=settings.max_delivery_attempts,
        secret_key=settings.secret_key,
        cache_s=settings.tracking_page_cache_seconds,
        doors=DoorCollection.from_settings(settings),
    )
    app.state.login_throttle = LoginThrottle(
        settings.console_login_limit, settings.rate_limit_storage
    )
    app.state.ops_login_throttle = LoginThrottle(
        settings.console_login_limit, settings.rate_limit_storage, namespace="ops-login"
    )

    install_error_handlers(app)
    # Inside the rate limits (a refused flood is not read) and the request id (errors carry it).
    app.add_middleware(
        RequestGuard,
        body_limits=BodyLimits(settings.max_body_bytes, settings.max_body_bytes_by_path),
        html_paths=web_routes.PAGE_PATHS,
        html_problem=web_routes.unreadable_input,
    )
    install_rate_limits(app, settings)
    app.add_middleware(RequestContextMiddleware, hsts_seconds=settings.hsts_seconds)
    app.include_router(health.router)
    app.include_router(network_api.router)
    app.include_router(network_api.edits)
    app.include_router(merchants_api.router)
    app.include_router(catalog_api.router)
    app.include_router(promise_api.router)
    app.include_router(orders_api.router)
    app.include_router(planning_api.router)
    app.include_router(shipments_api.router)
    app.include_router(drivers_api.router)
    app.include_router(partners_api.router)
    app.include_router(partners_api.operator)
    app.include_router(webhooks_api.router)
    app.include_router(notifications_api.router)
    app.include_router(notifications_api.settings_router)
    app.include_router(tracking_api.router)
    app.include_router(ops_api.router)
    # /, /widget.js, /assets/*, /v1/geo/postal-codes/{code}, /checkout*, /console*
    app.include_router(web_routes.router)
    app.include_router(ops_pages.router)  # /ops/*: the operator's console
    app.include_router(dev_outbox.router)  # /dev/outbox, outside production only
    _install_docs(app)
    install_openapi(app)  # every error status in the envelope's shape
    # Added last, so outermost: it answers preflights and puts CORS headers on 429s too.
    app.add_middleware(PublicCorsMiddleware, paths=web_routes.PUBLIC_PATHS)
    # Outermost of all: behind a TLS proxy the request's scheme (HSTS, Secure cookies) and
    # client address (rate limits) are the forwarded ones, from the configured proxies only.
    if settings.trusted_proxy_networks:
        app.add_middleware(
            ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxy_networks)
        )
    return app


# The API docs load their scripts and styles only from doorstep itself (web/static/vendor/),
# so they work on a network without the internet; nothing else may be loaded either.
_VENDOR = "/assets/vendor"
_DOCS_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` and ReDoc at ``/redoc``, the documented way of self-hosting
    their assets (FastAPI's "Custom Docs UI Static Assets")."""
    openapi_url = app.openapi_url or "/openapi.json"
    swagger_ui = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{app.title} API",
        swagger_js_url=f"{_VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{_VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{_VENDOR}/swagger-ui/favicon-32x32.png",
    )
    redoc = get_redoc_html(
        openapi_url=openapi_url,
        title=f"{app.title} API reference",
        redoc_js_url=f"{_VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{_VENDOR}/swagger-ui/favicon-32x32.png",
        with_google_fonts=False,
    )
    for path, page in (("/docs", swagger_ui), ("/redoc", redoc)):
        app.add_api_route(path, _static_page(bytes(page.body)), include_in_schema=False)


def _static_page(html: bytes) -> Callable[[], HTMLResponse]:
    def page() -> HTMLResponse:
        return HTMLResponse(html, headers=_DOCS_HEADERS)

    return page
