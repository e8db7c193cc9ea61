"""OpenTelemetry traces (domains/common/tracing.py, gateway/tracing.py): a request's server
span, its GraphQL operation and its SQL in one trace, an incoming `traceparent` honoured, the
trace id in `extensions` and in the log lines, a mutation's outbox event handled in the same
trace; and a real `opsgraph serve` exporting over OTLP/HTTP to a receiver on loopback."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

import workers.messaging  # noqa: F401  (registers the handlers of messaging.published)
from domains.common import tracing
from domains.common.egress import EgressPolicy
from domains.common.outbox import OutboxEvent
from domains.messaging.service import T_SUB
from gateway.logs import JsonFormatter, TextFormatter, TraceIds
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import AppFactory, Callers, GraphQLClient
from tests.messaging.conftest import World, world  # noqa: F401  (the messaging fixture)
from tests.server import server_env, serving
from workers.outbox import EmbeddedRelay

# Turns the gateway's spans on; the spans go to the exporter the test installed first
# (tracing.configure leaves an installed provider alone), never to this address.
TRACED = "http://127.0.0.1:9"
QUERY = "query Ngis { ngis(first: 1) { totalCount } }"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
WAIT = 60.0


def _trace(exporter: InMemorySpanExporter, trace_id: str) -> list[ReadableSpan]:
    return [
        span
        for span in exporter.get_finished_spans()
        if format_trace_id(span.context.trace_id) == trace_id
    ]


def _by_kind(spans: list[ReadableSpan], kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in spans if span.kind == kind]


def test_a_query_is_one_trace_from_the_request_to_its_sql(
    spans: InMemorySpanExporter, make_client: AppFactory
) -> None:
    body = make_client(otlp_endpoint=TRACED).post(QUERY)
    trace_id = body["extensions"]["traceId"]
    trace = _trace(spans, trace_id)
    (server,) = [s for s in trace if s.name == "POST /graphql"]
    assert server.kind == SpanKind.SERVER
    assert server.parent is None  # no traceparent came in: a new trace
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 200
    # strawberry's operation span, the document by its hash, not its text
    (operation,) = [s for s in trace if s.name == "GraphQL Query: Ngis"]
    assert operation.parent is not None
    assert operation.parent.span_id == server.context.span_id
    assert operation.attributes is not None
    assert str(operation.attributes["query"]).startswith("sha256:")
    # the SQL the resolvers ran, within the request
    sql = _by_kind(trace, SpanKind.CLIENT)
    assert sql, [s.name for s in trace]
    ids = {s.context.span_id for s in trace}
    assert all(s.parent is not None and s.parent.span_id in ids for s in sql)
    assert any("ngi" in str((s.attributes or {}).get("db.statement", "")) for s in sql)


def test_an_incoming_traceparent_is_the_parent(
    spans: InMemorySpanExporter, make_client: AppFactory
) -> None:
    client = make_client(otlp_endpoint=TRACED)
    traced = GraphQLClient(client.client, headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    assert traced.post(QUERY)["extensions"]["traceId"] == TRACE_ID
    (server,) = [s for s in _trace(spans, TRACE_ID) if s.name == "POST /graphql"]
    assert server.parent is not None
    assert format_span_id(server.parent.span_id) == PARENT_ID
    # a malformed one starts a new trace instead of failing the request
    garbled = GraphQLClient(client.client, headers={"traceparent": "00-zz-yy-01"})
    assert garbled.post(QUERY)["extensions"]["traceId"] not in ("", TRACE_ID)


def test_untraced_the_gateway_makes_no_span(
    spans: InMemorySpanExporter, make_client: AppFactory
) -> None:
    body = make_client().post(QUERY)  # no OPSGRAPH_OTLP_ENDPOINT
    assert "traceId" not in body.get("extensions", {})
    assert spans.get_finished_spans() == ()


def test_log_lines_carry_the_trace_id(spans: InMemorySpanExporter) -> None:
    record = logging.LogRecord("opsgraph.test", logging.INFO, __file__, 1, "hello", (), None)
    with tracing.span("work") as span:
        assert span is not None
        TraceIds().filter(record)
    trace_id = format_trace_id(span.get_span_context().trace_id)
    assert json.loads(JsonFormatter().format(record))["trace_id"] == trace_id
    assert TextFormatter().format(record).endswith(f"hello trace_id={trace_id}")
    outside = logging.LogRecord("opsgraph.test", logging.INFO, __file__, 1, "bye", (), None)
    TraceIds().filter(outside)
    assert "trace_id" not in json.loads(JsonFormatter().format(outside))


PUBLISH = "mutation($i: PublishInput!) { publish(input: $i) { messageIds } }"


def test_a_mutations_outbox_event_is_handled_in_its_trace(
    spans: InMemorySpanExporter,
    make_client: AppFactory,
    oidc_issuer: OIDCIssuer,
    world: World,  # noqa: F811
    session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    # S1 (on T1) pushes: a publish to T1 then emits messaging.published for the push job
    world.session.execute(
        update(T_SUB).where(T_SUB.c.name == "S1").values(push_type="http", verified=True)
    )
    world.session.commit()  # the app's sessions see the world
    callers = Callers(
        make_client(
            otlp_endpoint=TRACED,
            oidc_issuer=oidc_issuer.issuer,
            oidc_client_id=GATEWAY_CLIENT[0],
            oidc_client_secret=GATEWAY_CLIENT[1],
        ),
        oidc_issuer,
    )
    owner = callers.as_user("owner@egi.eu")
    body = owner.post(
        PUBLISH, {"i": {"project": "ARGO", "topic": "T1", "messages": [{"data": "aGk="}]}}
    )
    assert "errors" not in body, body
    trace_id = body["extensions"]["traceId"]
    (server,) = [s for s in _trace(spans, trace_id) if s.name == "POST /graphql"]
    event = session.scalars(
        select(OutboxEvent).where(col(OutboxEvent.kind) == "messaging.published")
    ).one()
    assert event.traceparent is not None
    assert event.traceparent.startswith(f"00-{trace_id}-{format_span_id(server.context.span_id)}-")

    # the relay hands the event to its handlers (embedded: in this process)
    assert EmbeddedRelay(session_factory).run_once().done >= 1
    handled = [s for s in _trace(spans, trace_id) if s.kind == SpanKind.CONSUMER]
    assert [s.name for s in handled] == ["handle messaging.push.wake_on_publish"]
    assert handled[0].parent is not None
    assert handled[0].parent.span_id == server.context.span_id
    # the handler's own statements are in the trace too
    handler_sql = [
        s
        for s in _trace(spans, trace_id)
        if s.parent is not None and s.parent.span_id == handled[0].context.span_id
    ]
    assert handler_sql


class _Echo(BaseHTTPRequestHandler):
    """Answers 204 and records the traceparent each request came with."""

    def do_GET(self) -> None:
        self.server.seen.append(self.headers.get("traceparent"))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_an_outbound_call_is_a_client_span_whose_callee_joins_the_trace(
    spans: InMemorySpanExporter,
) -> None:
    callee = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    callee.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=callee.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{callee.server_address[1]}/hook?token=s3cret"
    try:
        with EgressPolicy(allow_loopback=True).client(timeout=10) as http:
            http.get(url)  # outside any span: no span, no header
            with tracing.span("job") as job:
                assert job is not None
                assert http.get(url).status_code == 204
    finally:
        callee.shutdown()
        callee.server_close()
    (client,) = _by_kind(list(spans.get_finished_spans()), SpanKind.CLIENT)
    assert client.parent is not None
    assert client.parent.span_id == job.get_span_context().span_id
    assert client.attributes is not None
    assert client.attributes["http.response.status_code"] == 204
    assert "s3cret" not in repr(dict(client.attributes)) + client.name
    trace_id = format_trace_id(client.context.trace_id)
    untraced, traced = callee.seen  # type: ignore[attr-defined]
    assert untraced is None
    assert traced.startswith(f"00-{trace_id}-{format_span_id(client.context.span_id)}-")


# --- a real server exporting over OTLP/HTTP ------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP trace receiver: records each POST /v1/traces (protobuf) and accepts it."""

    received: list[ExportTraceServiceRequest]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            self.server.received.append(request)  # type: ignore[attr-defined]
            self.send_response(200)
        else:
            self.send_response(404)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _exported(received: list[ExportTraceServiceRequest], trace_id: str) -> list[Any]:
    found = []
    for request in list(received):
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}.get(
                "service.name"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    if span.trace_id.hex() == trace_id:
                        found.append((service, span))
    return found


def test_a_real_server_exports_its_traces_over_otlp(tmp_path: Path) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    receiver.received = []  # type: ignore[attr-defined]
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    output = tmp_path / "serve.log"
    env = server_env(
        tmp_path,
        OPSGRAPH_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.server_address[1]}",
        OPSGRAPH_SERVICE_NAME="opsgraph-under-test",
        OTEL_BSP_SCHEDULE_DELAY="100",  # the SDK's batch delay (ms): exported soon
    )
    try:
        with serving(env, output=output) as base:
            response = httpx2.post(
                f"{base}/graphql",
                json={"query": QUERY},
                headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            assert response.json()["extensions"]["traceId"] == TRACE_ID
            deadline = time.monotonic() + WAIT
            # the SQL spans end first; the request's span ends last, after the answer is sent
            while not {"POST /graphql", "sql"} <= {
                "sql" if span.kind == span.SPAN_KIND_CLIENT else span.name
                for _, span in _exported(receiver.received, TRACE_ID)  # type: ignore[attr-defined]
            }:
                assert time.monotonic() < deadline, "the request's spans were not exported"
                time.sleep(0.1)
            exported = _exported(receiver.received, TRACE_ID)  # type: ignore[attr-defined]
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert {service for service, _ in exported} == {"opsgraph-under-test"}
    (server,) = [span for _, span in exported if span.name == "POST /graphql"]
    assert server.parent_span_id.hex() == PARENT_ID
    # the access log line of the request names its trace
    access = [
        json.loads(line)
        for line in output.read_text().splitlines()
        if line.startswith("{") and '"opsgraph.access"' in line
    ]
    assert any(
        entry.get("path") == "/graphql" and entry.get("trace_id") == TRACE_ID for entry in access
    )
