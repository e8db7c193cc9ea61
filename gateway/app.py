"""create_app(settings) -> Starlette. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import anyio.to_thread
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from domains.common import tracing
from domains.common.db import make_engine, unit_of_work
from domains.common.egress import EgressPolicy
from domains.common.replica import ReadReplica, replica_of, routed_session_factory
from domains.common.time import utcnow
from domains.messaging.notify import PostgresListener
from domains.monitoring.service import heartbeat
from gateway import cache as response_cache
from gateway import deadlines, migrate, web
from gateway.auth.authenticator import build_authenticator
from gateway.auth.browser import browser_auth_routes
from gateway.auth.login import login_routes
from gateway.availability_export import AvailabilityExport
from gateway.body import BodyLimitMiddleware
from gateway.compat.accounting import AccountingApi
from gateway.compat.ams import AmsApi
from gateway.compat.argo import ArgoApi
from gateway.compat.gocdbpi import GocdbPi
from gateway.compat.portal import PortalApi
from gateway.config import Settings
from gateway.feeds import FeedsApi
from gateway.logs import configure_logging
from gateway.metrics import Metrics
from gateway.middleware import RequestLogMiddleware
from gateway.schema import build_schema
from gateway.tracing import TracingMiddleware
from gateway.view import GraphQLView


def read_replica(settings: Settings, engine: Engine) -> ReadReplica | None:
    """OPSGRAPH_DATABASE_READ_URL's standby beside `engine`, the primary; None if unset."""
    if not settings.database_read_url:
        return None
    return ReadReplica.connect(engine, settings.database_read_url)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Callable[[], datetime] = utcnow,
    egress: EgressPolicy | None = None,
) -> Starlette:
    """`clock`: the time the service rules read (tests move it across the 24- and 48-hour
    boundaries of the downtime rules). `egress`: where outbound calls may go (default: from
    the settings, asking the system's resolver; tests inject a resolver)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    tracing.configure(settings)  # OPSGRAPH_OTLP_ENDPOINT: OTLP export, once a process
    owns_engine = engine is None
    engine = engine or make_engine(
        settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    if session_factory is None:  # readers on OPSGRAPH_DATABASE_READ_URL's standby, if set
        session_factory = routed_session_factory(engine, read_replica(settings, engine))
    replica = replica_of(session_factory)
    if settings.otlp_endpoint:  # traced: SQL statements as spans
        tracing.instrument_engine(engine)
        if replica is not None:
            tracing.instrument_engine(replica.engine)
    deadlines.install(engine, session_factory)  # OPSGRAPH_REQUEST_TIMEOUT reaches the database
    if replica is not None:
        deadlines.install(replica.engine, session_factory)
    head = migrate.head_revision()
    authenticator = build_authenticator(settings)
    egress = egress or EgressPolicy.from_settings(settings)
    view = GraphQLView(
        build_schema(settings), settings, session_factory, authenticator, clock=clock, egress=egress
    )
    metrics = Metrics(
        token=settings.metrics_token,
        engine=engine,
        session_factory=session_factory,
        clock=clock,
        manifest=view.persisted.manifest,
    )
    view.metrics = metrics
    view.persisted.observe = lambda result: metrics.persisted.labels(result).inc()
    view.cache = response_cache.from_settings(
        settings.response_cache_max, engine.url, settings.pg_listen, settings.cache_url
    )
    if view.cache is not None:
        view.cache.observe = lambda result: metrics.response_cache.labels(result).inc()
    ams = AmsApi(settings, session_factory, authenticator, egress=egress)
    feeds = FeedsApi(settings, session_factory, authenticator)
    availability_export = AvailabilityExport(settings, session_factory, authenticator)
    gocdb_pi = GocdbPi(settings, session_factory, authenticator)
    argo = ArgoApi(settings, session_factory, authenticator)
    portal = PortalApi(settings, session_factory, authenticator)
    accounting = AccountingApi(settings, session_factory, authenticator)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    def _readiness() -> tuple[bool, dict[str, str | None]]:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current = migrate.current_revision(engine)
        except Exception as exc:  # any failure to reach the database means "not ready"
            return False, {"database": f"unreachable: {type(exc).__name__}"}
        if current != head:
            return False, {"database": "ok", "migrations": f"at {current}, head is {head}"}
        return True, {"database": "ok", "migrations": current}

    def _liveness() -> heartbeat.Liveness:
        with unit_of_work(session_factory, write=False) as session:
            return heartbeat.live_workers(
                session, now=clock(), interval=settings.heartbeat_interval
            )

    async def workers_health(_request: Request) -> JSONResponse:
        """200 while a worker process beat recently, 503 when none did: what opsgraph's own
        report probes as its workers' heartbeat (counts only, no host names)."""
        live = await anyio.to_thread.run_sync(_liveness)
        return JSONResponse(
            {
                "status": "ok" if live.alive else "no live worker",
                "workers": live.live,
                "last_beat": None if live.last_beat is None else live.last_beat.isoformat(),
            },
            status_code=200 if live.alive else 503,
        )

    async def readyz(_request: Request) -> JSONResponse:
        ready, detail = await anyio.to_thread.run_sync(_readiness)
        return JSONResponse(
            {"status": "ready" if ready else "not ready", **detail},
            status_code=200 if ready else 503,
        )

    # publishes committed by other replicas wake this one's waiting pulls and streams
    listener = (
        PostgresListener(engine.url.render_as_string(hide_password=False))
        if engine.dialect.name == "postgresql" and settings.pg_listen
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if listener is not None:
            listener.start()
        yield
        if listener is not None:
            await anyio.to_thread.run_sync(listener.stop)
        await authenticator.aclose()
        await view.persisted.aclose()
        if view.cache is not None:
            view.cache.close()
        if owns_engine:
            engine.dispose()
        if replica is not None:
            replica.dispose()

    # traced: the server span encloses everything else, the access log line included
    middleware = [Middleware(TracingMiddleware)] if settings.otlp_endpoint else []
    middleware += [
        Middleware(RequestLogMiddleware, metrics=metrics),
        # bodies are read (bounded in size and time) before any route code runs
        Middleware(
            BodyLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            max_publish_bytes=settings.max_publish_bytes,
            timeout=settings.body_timeout,
        ),
    ]
    if settings.session_secret:
        middleware.append(
            Middleware(
                SessionMiddleware,
                secret_key=settings.session_secret,
                session_cookie="opsgraph_session",
                same_site="lax",
                https_only=settings.session_https_only,
                max_age=8 * 60 * 60,
            )
        )
    # GraphiQL's own assets (its page is GET /graphql), when GraphiQL is on
    graphiql: list[BaseRoute] = (
        [Mount(web.GRAPHIQL_ASSETS_PREFIX, app=web.GRAPHIQL.assets())] if settings.graphiql else []
    )
    front_end = web.app_build(settings.app_dir)
    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            *graphiql,
            # graphql-transport-ws, for subscriptions only (see Schema.stream, GraphQLView)
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/healthz/workers", workers_health),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            *login_routes(settings),
            *browser_auth_routes(settings),
            *ams.routes(),
            *feeds.routes(),
            *availability_export.routes(),
            *gocdb_pi.routes(),
            *argo.routes(),
            *portal.routes(),
            *accounting.routes(),
            Mount(web.APP_ASSETS_PREFIX, app=front_end.assets()),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    # Last of all, when no route matched: the web app's page for its own paths (history
    # mode), never under a reserved prefix (gateway/web.py); unknown paths there stay 404,
    # and a known path with another method still answers 405.
    app.router.default = web.AppFallback(front_end, not_found=app.router.default)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.engine = engine
    app.state.listener = listener
    return app
