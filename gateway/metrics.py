"""Prometheus metrics (issue 16 item 4): `GET /metrics`, behind OPSGRAPH_METRICS_TOKEN.

Each app has its own CollectorRegistry (tests build many apps in one process; the global
registry would mix them). Every label is bounded, so that a caller cannot grow the series
without end: HTTP routes by a fixed group, methods by a fixed list, statuses by class,
GraphQL operations by the names in the trusted-documents manifest (anything else is
`other`), errors by `extensions.code` (the server's own codes).

Pool use and the outbox backlog are read when Prometheus scrapes, not kept up to date.
The background work's metrics (workers/metrics.py) are the process's, shown here too; so
is the broker's queue depth when `serve` runs with a broker (gateway/cli.py adds it).

Under `serve --processes N`, prometheus-client is in its multiprocess mode (gateway/
processes.py): every process keeps its values in files of one directory, and a scrape, in
whichever process answers it, sums them (MultiProcessCollector): counters and histograms
over all the processes, WebSocket connections over the live ones. The metric objects are
then registered nowhere, or they would show this process's share beside the sum. What is
read at scrape (pool, outbox, queue depths) stays the answering process's."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import anyio.to_thread
from graphql import GraphQLError, OperationDefinitionNode, parse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from domains.common.db import unit_of_work
from domains.common.outbox import OutboxEvent
from workers.metrics import WORK, Forward

log = logging.getLogger("opsgraph.metrics")

OTHER = "other"
# (path prefix, group): the first that matches; the web app's paths are `app`
_ROUTE_GROUPS: tuple[tuple[str, str], ...] = (
    ("/graphql", "graphql"),
    ("/v1", "ams"),
    ("/api", "argo"),
    ("/gocdbpi", "gocdbpi"),
    ("/accounting", "accounting"),
    ("/feeds", "feeds"),
    ("/healthz", "health"),
    ("/readyz", "health"),
    ("/assets", "app"),
)
# server paths that are neither an API group nor the web app
_OTHER_PREFIXES = ("/auth", "/static", "/metrics", "/monitoring")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_WS_SENT = frozenset({"next", "error", "complete"})
_WS_CLOSE_CODES = frozenset({4401, 4403, 1011})  # gateway/ws.py's
_STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)

# the SQL statements of the GraphQL request running in this context (None: not counted)
_statements: ContextVar[list[int] | None] = ContextVar("opsgraph_sql_statements", default=None)


def route_group(path: str) -> str:
    """The bounded `route` label of a request path."""
    for prefix, group in _ROUTE_GROUPS:
        if path == prefix or path.startswith(prefix + "/"):
            return group
    if any(path == p or path.startswith(p + "/") for p in _OTHER_PREFIXES):
        return OTHER
    return "app"


def operation_names(documents: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each manifest document's operation names: the only operation labels (a document
    that does not parse names none)."""
    names: dict[str, tuple[str, ...]] = {}
    for document in documents:
        try:
            parsed = parse(document)
        except GraphQLError:
            continue
        names[document] = tuple(
            definition.name.value
            for definition in parsed.definitions
            if isinstance(definition, OperationDefinitionNode) and definition.name
        )
    return names


def _shared_directory() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR when prometheus_client keeps its values in files there
    (`serve --processes N`), else None: this process's values are all there is."""
    if not getattr(values.ValueClass, "_multiprocess", False):
        return None
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _count_statement(*_args: Any) -> None:
    counter = _statements.get()
    if counter is not None:
        counter[0] += 1


def _install_statement_counter() -> None:
    """One listener for every engine, counting only inside a GraphQL request's context."""
    if not event.contains(Engine, "before_cursor_execute", _count_statement):
        event.listen(Engine, "before_cursor_execute", _count_statement)


class StatementCount:
    """Counts the SQL statements run in this context and the threads started from it
    (anyio.to_thread copies the context, and the list with it)."""

    def __enter__(self) -> list[int]:
        self.counter = [0]
        self._token = _statements.set(self.counter)
        return self.counter

    def __exit__(self, *_exc: object) -> None:
        _statements.reset(self._token)


class _ScrapeTime(Collector):
    """The pool's connections and the outbox's backlog, read at each scrape."""

    def __init__(
        self,
        engine: Engine,
        session_factory: sessionmaker[Session],
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.session_factory = session_factory
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = self.engine.pool
        for name, what, attribute in (
            ("opsgraph_db_pool_checked_out", "Database connections in use", "checkedout"),
            ("opsgraph_db_pool_size", "Database connections the pool keeps", "size"),
        ):
            read = getattr(pool, attribute, None)
            if callable(read):
                yield GaugeMetricFamily(name, what, value=float(read()))
        try:
            with unit_of_work(self.session_factory, write=False) as session:
                # one query, on the partial index's columns (sent_at IS NULL)
                row = session.execute(
                    select(func.count(), func.min(col(OutboxEvent.created_at))).where(
                        col(OutboxEvent.sent_at).is_(None)
                    )
                ).one()
        except Exception:  # a scrape reports what it can; the database may be away
            log.warning("outbox backlog unreadable", exc_info=True)
            return
        backlog, oldest = row
        yield GaugeMetricFamily(
            "opsgraph_outbox_backlog", "Outbox events not yet handed on", value=float(backlog)
        )
        age = 0.0 if oldest is None else max((self.clock() - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily(
            "opsgraph_outbox_oldest_age_seconds",
            "Age of the oldest outbox event not yet handed on (0: none)",
            value=age,
        )


class Metrics:
    """One app's metrics and its /metrics endpoint."""

    def __init__(
        self,
        *,
        token: str | None,
        engine: Engine,
        session_factory: sessionmaker[Session],
        clock: Callable[[], datetime],
        manifest: Mapping[str, str],
    ) -> None:
        self.token = token
        self.registry = CollectorRegistry()
        self.operations = operation_names(manifest.values())
        shared = _shared_directory()
        # several processes: the scrape sums their files, the objects are registered nowhere
        r = None if shared else self.registry
        self.http_requests = Counter(
            "opsgraph_http_requests",
            "HTTP requests by route group, method and status class",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "opsgraph_http_request_duration_seconds",
            "HTTP request latency by route group",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.graphql_operations = Counter(
            "opsgraph_graphql_operations",
            "GraphQL operations over HTTP by operation name and outcome",
            ["operation", "outcome"],
            registry=r,
        )
        self.graphql_seconds = Histogram(
            "opsgraph_graphql_operation_duration_seconds",
            "GraphQL operation latency by operation name",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.graphql_errors = Counter(
            "opsgraph_graphql_errors",
            "GraphQL errors answered, by extensions.code",
            ["code"],
            registry=r,
        )
        self.graphql_statements = Histogram(
            "opsgraph_graphql_sql_statements",
            "SQL statements run per GraphQL request",
            buckets=_STATEMENT_BUCKETS,
            registry=r,
        )
        self.persisted = Counter(
            "opsgraph_persisted_queries",
            "Persisted-query lookups (hit, miss) and registrations",
            ["result"],
            registry=r,
        )
        for result in ("hit", "miss", "registered"):
            self.persisted.labels(result)  # present from the start, at 0
        self.ws_connections = Gauge(
            "opsgraph_ws_connections",
            "graphql-transport-ws connections open (acknowledged)",
            registry=r,
            multiprocess_mode="livesum",  # under --processes: the live processes' sum
        )
        self.ws_subscribes = Counter(
            "opsgraph_ws_subscribes",
            "Subscribe messages over the WebSocket by operation name and outcome (accepted, "
            "refused by the persisted-operations rules)",
            ["operation", "outcome"],
            registry=r,
        )
        self.ws_sent = Counter(
            "opsgraph_ws_messages_sent",
            "Operation messages sent over the WebSocket by operation name and type "
            "(next: an event; error; complete)",
            ["operation", "type"],
            registry=r,
        )
        self.ws_closed = Counter(
            "opsgraph_ws_closed_by_recheck",
            "WebSockets closed because their credential no longer held, by close code",
            ["code"],
            registry=r,
        )
        self.response_cache = Counter(
            "opsgraph_response_cache",
            "Cacheable queries answered from the response cache (hit), computed and kept "
            "(miss), or computed and not kept (skip: the answer reads the clock, or is large; "
            "unavailable: OPSGRAPH_CACHE_URL's Redis did not answer)",
            ["result"],
            registry=r,
        )
        for result in ("hit", "miss", "skip", "unavailable"):
            self.response_cache.labels(result)
        self.registry.register(_ScrapeTime(engine, session_factory, clock))
        if shared:  # the background work's are in the files too
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        else:  # the background work's, when it runs in this process
            self.registry.register(Forward(WORK))
        _install_statement_counter()

    def http_done(self, path: str, method: str, status: int, seconds: float) -> None:
        route = route_group(path)
        self.http_requests.labels(
            route, method if method in _METHODS else OTHER, f"{status // 100}xx"
        ).inc()
        self.http_seconds.labels(route).observe(seconds)

    def operation_label(self, document: str | None, operation_name: str | None) -> str:
        """The name of the operation a manifest document runs, else `other` (an ad-hoc
        document is `other` whatever it calls itself). No parsing: looked up."""
        names = self.operations.get(document or "", ())
        if operation_name is not None:
            return operation_name if operation_name in names else OTHER
        return names[0] if len(names) == 1 else OTHER

    def graphql_done(self, operation: str, ok: bool, seconds: float, statements: int) -> None:
        self.graphql_operations.labels(operation, "ok" if ok else "error").inc()
        self.graphql_seconds.labels(operation).observe(seconds)
        self.graphql_statements.observe(statements)

    def ws_message_sent(self, operation: str, kind: str) -> None:
        self.ws_sent.labels(operation, kind if kind in _WS_SENT else OTHER).inc()

    def ws_closed_by_recheck(self, code: int) -> None:
        self.ws_closed.labels(str(code) if code in _WS_CLOSE_CODES else OTHER).inc()

    def graphql_error(self, code: object) -> None:
        self.graphql_errors.labels(str(code) if code else "NONE").inc()

    async def endpoint(self, request: Request) -> Response:
        """Prometheus's text format, for the bearer of OPSGRAPH_METRICS_TOKEN only."""
        if not self.token:
            return PlainTextResponse("Not Found", status_code=404)
        given = request.headers.get("authorization", "")
        scheme, _, credential = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credential.strip().encode(), self.token.encode()
        ):
            return PlainTextResponse(
                "Unauthorized: Authorization: Bearer <OPSGRAPH_METRICS_TOKEN>",
                status_code=401,
                headers={"www-authenticate": "Bearer"},
            )
        body = await anyio.to_thread.run_sync(generate_latest, self.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
