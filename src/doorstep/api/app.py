"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from doorstep import __version__
from doorstep.api import health
from doorstep.api.errors import install_error_handlers
from doorstep.api.key_cache import KeyCache
from doorstep.api.ratelimit import install_rate_limits
from doorstep.api.request_context import RequestContextMiddleware
from doorstep.catalog import api as catalog_api
from doorstep.db import create_db_engine, session_factory
from doorstep.logs import configure_logging
from doorstep.merchants import api as merchants_api
from doorstep.models import utcnow
from doorstep.network import api as network_api
from doorstep.orders import api as orders_api
from doorstep.planning import api as planning_api
from doorstep.promise import api as promise_api
from doorstep.promise.capacity import CommittedVolumeCache
from doorstep.promise.network import SnapshotCache
from doorstep.promise.rules import PromisePolicy
from doorstep.settings import Settings, get_settings
from doorstep.shipments import api as shipments_api
from doorstep.web import routes as web_routes
from doorstep.web.cors import PublicCorsMiddleware
from doorstep.web.login_throttle import LoginThrottle
from doorstep.webhooks import api as webhooks_api


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app. Pass ``engine`` to share one (tests); otherwise one is made from settings."""
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if engine is None:
            app.state.engine.dispose()

    app = FastAPI(
        title="doorstep",
        version=__version__,
        summary="Local same-day and two-day delivery network",
        lifespan=lifespan,
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
    app.state.promise_policy = PromisePolicy(travel=app.state.travel)
    app.state.key_cache = KeyCache(settings.api_key_cache_seconds)
    app.state.login_throttle = LoginThrottle(
        settings.console_login_limit, settings.rate_limit_storage
    )

    install_error_handlers(app)
    install_rate_limits(app, settings)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(network_api.router)
    app.include_router(merchants_api.router)
    app.include_router(catalog_api.router)
    app.include_router(promise_api.router)
    app.include_router(orders_api.router)
    app.include_router(planning_api.router)
    app.include_router(shipments_api.router)
    app.include_router(webhooks_api.router)
    # /widget.js, /assets/*, /v1/geo/postal-codes/{code}, /checkout*, /console*
    app.include_router(web_routes.router)
    # Added last, so outermost: it answers preflights and puts CORS headers on 429s too.
    app.add_middleware(PublicCorsMiddleware, paths=web_routes.PUBLIC_PATHS)
    return app
