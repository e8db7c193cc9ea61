"""The gateway's spans: one server span per HTTP request, and the GraphQL operation's.

Both are added only when OPSGRAPH_OTLP_ENDPOINT is set (gateway/app.py, gateway/schema.py):
with tracing off the request path has no middleware and no extension more. The trace
machinery and the outbox's and workers' part are in domains/common/tracing.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator

from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import LifecycleStep, SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtensionSync

from domains.common import tracing


class TracingMiddleware:
    """A server span around each HTTP request (pure ASGI, outermost: the access log line and
    every SQL statement are inside it), the child of an incoming W3C `traceparent`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not tracing.enabled():
            await self.app(scope, receive, send)
            return
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers") or []
            if name in (b"traceparent", b"tracestate")
        }
        method = scope.get("method", "")
        with tracing.tracer("opsgraph.http").start_as_current_span(
            f"{method} {scope.get('path', '')}",
            context=tracing.extract(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope.get("path", "")},
        ) as span:

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, send_traced)


class OperationSpans(OpenTelemetryExtensionSync):
    """strawberry's OpenTelemetry extension: a span for the operation, its parsing and its
    validation. Two changes: no span per resolved field (the reference read resolves
    thousands; the SQL spans show where the time goes), and the document is recorded by its
    SHA-256 (the persisted-query id), not its text, which may hold literal secrets."""

    resolve = SchemaExtension.resolve

    def on_operation(self) -> Generator[None, None, None]:
        steps = super().on_operation()
        next(steps)  # the span is started, with the document's text as `query`
        query = self.execution_context.query
        if query:
            self._span_holder[LifecycleStep.OPERATION].set_attribute(
                "query", "sha256:" + hashlib.sha256(query.encode()).hexdigest()
            )
        yield
        for _ in steps:  # ends the span
            pass
