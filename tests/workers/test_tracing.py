"""Traces through the broker: an event emitted inside a request's span is relayed with its
traceparent in the dramatiq message's options, and the consuming worker's job span (with
the handler's SQL) is a child of that request span (workers/actors.py, TraceJobs)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from domains.common import tracing
from tests.workers.conftest import Rig, wait_until
from tests.workers.handlers import HANDLERS
from workers.actors import HANDLE_EVENT
from workers.runtime import WorkerRuntime


@pytest.mark.parametrize("mode", ["rabbitmq"], indirect=True)
def test_a_job_is_a_child_of_the_request_that_emitted_its_event(
    rig: Rig, spans: InMemorySpanExporter
) -> None:
    # traced (the spans go to the exporter installed above), relaying and consuming here
    settings = rig.settings(OPSGRAPH_OTLP_ENDPOINT="http://127.0.0.1:9")
    runtime = WorkerRuntime(settings, consume=True, schedule=False, threads=2)
    runtime.start()
    try:
        with tracing.span("request", kind=SpanKind.SERVER) as request:
            assert request is not None
            ids = rig.emit(1)
        rig.wait_all_handled(ids)
        trace_id = request.get_span_context().trace_id
        wait_until(lambda: len(_jobs(spans, trace_id)) == len(HANDLERS), "the jobs' spans to end")
    finally:
        runtime.stop()
    jobs = _jobs(spans, trace_id)
    assert {job.name for job in jobs} == {f"job {HANDLE_EVENT}"}
    for job in jobs:
        assert job.parent is not None
        assert job.parent.span_id == request.get_span_context().span_id
        # the handler's statements are the job's children
        assert any(
            s.kind == SpanKind.CLIENT
            and s.parent is not None
            and s.parent.span_id == job.context.span_id
            for s in spans.get_finished_spans()
        )


def _jobs(exporter: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [
        span
        for span in exporter.get_finished_spans()
        if span.kind == SpanKind.CONSUMER and span.context.trace_id == trace_id
    ]
