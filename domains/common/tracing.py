"""OpenTelemetry traces, shared by the gateway and the workers.

Off unless configured: with no OPSGRAPH_OTLP_ENDPOINT no tracer provider is installed, no
span is made and nothing is instrumented, so the request path pays one `None` check. A
process installs its provider once (`configure`, from the settings; tests `install` one with
an in-memory exporter). The provider is this module's, not OpenTelemetry's global one: the
global can be set only once per process, and the tests install and remove theirs.

A trace crosses processes as a W3C `traceparent`: the HTTP request's header, the outbox row
written in the request's transaction (`OutboxEvent.traceparent`), the dramatiq message's
options (workers/actors.py), so a job's span is a child of the request that caused it.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import PROCESS_PID, SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Tracer, format_trace_id
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue
from sqlalchemy import Engine

if TYPE_CHECKING:  # settings imports egress, whose transport imports this module
    from domains.common.settings import CoreSettings

TRACEPARENT = "traceparent"
TRACEPARENT_MAX = 55  # version-traceid-spanid-flags: 2+1+32+1+16+1+2

_PROPAGATOR = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None
_instrumented: weakref.WeakSet[Engine] = weakref.WeakSet()


def configure(settings: CoreSettings) -> None:
    """Install the OTLP/HTTP exporter when OPSGRAPH_OTLP_ENDPOINT is set (once a process)."""
    if settings.otlp_endpoint is None or _provider is not None:
        return
    # imported here: a process without tracing does not load the exporter's protobuf code
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    endpoint = settings.otlp_endpoint
    if not endpoint.endswith("/v1/traces"):
        endpoint += "/v1/traces"
    install(OTLPSpanExporter(endpoint=endpoint), service_name=settings.service_name)


def install(
    exporter: SpanExporter, *, service_name: str = "opsgraph", batch: bool = True
) -> TracerProvider:
    """Trace into `exporter` from now on. `batch=False` exports each span as it ends (tests)."""
    global _provider
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name, PROCESS_PID: os.getpid()})
    )
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    _provider = provider
    return provider


def after_fork(settings: CoreSettings) -> None:
    """In a forked server process (`serve --processes N`): a provider and an exporter of
    its own. The SDK restarts the batch thread in a child, but the resource would still
    name the parent's pid. The parent's provider is dropped, not shut down: what it had
    pending is the parent's to export."""
    global _provider
    if _provider is None:
        return
    _provider = None
    configure(settings)


def uninstall() -> None:
    """Stop tracing (flushing what is pending): back to no spans at all."""
    global _provider
    provider, _provider = _provider, None
    if provider is not None:
        provider.shutdown()


def provider() -> TracerProvider | None:
    return _provider


def enabled() -> bool:
    return _provider is not None


def tracer(name: str) -> Tracer:
    if _provider is None:
        return trace.NoOpTracer()
    return _provider.get_tracer(name)


def current_trace_id() -> str | None:
    """The current span's trace id (32 hex digits), None outside a span."""
    context = trace.get_current_span().get_span_context()
    return format_trace_id(context.trace_id) if context.is_valid else None


def current_traceparent() -> str | None:
    """The current span as a W3C traceparent, to be carried to another process."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def extract(headers: Mapping[str, str]) -> Context:
    """The remote parent named by a `traceparent` (and `tracestate`) among `headers`; an
    absent or malformed one gives an empty context (a new trace)."""
    return _PROPAGATOR.extract(headers)


@contextmanager
def span(
    name: str,
    *,
    traceparent: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Iterator[Span | None]:
    """A current span named `name` (None when tracing is off). `traceparent`: its parent is
    that remote span (a job caused by a request), not the current one."""
    if _provider is None:
        yield None
        return
    parent = extract({TRACEPARENT: traceparent}) if traceparent else None
    with tracer("opsgraph").start_as_current_span(
        name, context=parent, kind=kind, attributes=attributes
    ) as current:
        yield current


@contextmanager
def outgoing(
    method: str, scheme: str, host: str, port: int | None, headers: MutableMapping[str, str]
) -> Iterator[Span | None]:
    """A client span around an outbound HTTP call made inside a traced request or job (None
    otherwise), its `traceparent` added to `headers` so the callee can join the trace. The
    URL is recorded without path or query: push endpoints carry credentials there."""
    if _provider is None or not trace.get_current_span().is_recording():
        yield None
        return
    with tracer("opsgraph.http.client").start_as_current_span(
        f"{method} {host}",
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": method,
            "url.scheme": scheme,
            "server.address": host,
            **({"server.port": port} if port is not None else {}),
        },
    ) as current:
        _PROPAGATOR.inject(headers)
        yield current


class _ChildSpansOnly:
    """A tracer for SQLAlchemy's statements that makes spans only inside a traced request or
    job (the relay's and the scheduler's polls every second would otherwise each start a
    trace of their own), with the provider installed at the time: an engine instrumented
    once follows an `install` or `uninstall` after it."""

    def start_span(self, name: str, context: Context | None = None, **kwargs: Any) -> Span:
        if _provider is None or not trace.get_current_span(context).is_recording():
            return trace.INVALID_SPAN
        return tracer("opentelemetry.instrumentation.sqlalchemy").start_span(
            name, context, **kwargs
        )


def instrument_engine(engine: Engine) -> None:
    """SQL statements as client spans (opentelemetry-instrumentation-sqlalchemy), when
    tracing is on; once per engine. Statements are recorded without their parameters."""
    if _provider is None or engine in _instrumented:
        return
    _instrumented.add(engine)
    usage = metrics.NoOpMeter("opsgraph").create_up_down_counter("db.client.connections.usage")
    EngineTracer(_ChildSpansOnly(), engine, usage)  # type: ignore[no-untyped-call]
