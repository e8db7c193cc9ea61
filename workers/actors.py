"""dramatiq actors, declared on a given broker (never at import: see workers/broker.py).
Thin: each runs a domain function in one unit of work."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from opentelemetry.trace import SpanKind
from sqlalchemy.orm import Session, sessionmaker

from domains.common import tracing
from domains.common.db import unit_of_work
from domains.common.outbox import run_handler
from domains.common.settings import CoreSettings
from domains.common.time import utcnow
from domains.monitoring.service import heartbeat
from workers import monitoring
from workers.metrics import HANDLER, handler_label, timed

log = logging.getLogger("opsgraph.workers")

HANDLE_EVENT = "opsgraph.handle_event"
HEARTBEAT = "opsgraph.heartbeat"


class TraceJobs(dramatiq.Middleware):
    """A consumer span around each message's processing while tracing is on, the child of
    the span named by the message's `traceparent` option (the request that emitted the
    event). dramatiq runs the before and after hooks and the actor in one worker thread,
    so the span is kept in a thread-local stack and made current for the actor's SQL."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _stack(self) -> list[contextlib.ExitStack]:
        stack: list[contextlib.ExitStack] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if not tracing.enabled():
            return
        spans = contextlib.ExitStack()
        spans.enter_context(
            tracing.span(
                f"job {message.actor_name}",
                traceparent=message.options.get(tracing.TRACEPARENT),
                kind=SpanKind.CONSUMER,
                attributes={"messaging.message.id": message.message_id},
            )
        )
        self._stack().append(spans)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any | None = None,
        exception: BaseException | None = None,
    ) -> None:
        stack = self._stack()
        if stack:
            spans = stack.pop()
            if exception is None:
                spans.close()
            else:
                spans.__exit__(type(exception), exception, exception.__traceback__)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self.after_process_message(broker, message)


@dataclass(frozen=True, slots=True)
class Actors:
    handle_event: dramatiq.Actor[[str, int], bool]
    heartbeat: dramatiq.Actor[[str, str], None]
    queue_name: str

    def send_event(self, handler_name: str, event_id: int, traceparent: str | None = None) -> None:
        """`traceparent`: the emitting request's span, in the message's options (TraceJobs)."""
        if traceparent is None:
            self.handle_event.send(handler_name, event_id)
        else:
            options: dict[str, Any] = {tracing.TRACEPARENT: traceparent}
            self.handle_event.send_with_options(args=(handler_name, event_id), **options)

    def send_heartbeat(self, worker: str, started_at: dt.datetime) -> None:
        self.heartbeat.send(worker, started_at.isoformat())


def declare_actors(
    broker: dramatiq.Broker, factory: sessionmaker[Session], settings: CoreSettings
) -> Actors:
    broker.add_middleware(TraceJobs())
    options: dict[str, Any] = {
        "max_retries": settings.worker_max_retries,
        "min_backoff": settings.worker_min_backoff_ms,
        "max_backoff": settings.worker_max_backoff_ms,
        "time_limit": settings.worker_time_limit_ms,
    }

    def handle_event(handler_name: str, event_id: int) -> bool:
        """Idempotent: a second delivery of the same (handler, event) changes nothing."""
        with timed(HANDLER, handler_label(handler_name)), unit_of_work(factory) as session:
            done = run_handler(session, handler_name, event_id)
        if not done:
            log.info("event %s already handled by %s: duplicate ignored", event_id, handler_name)
        return done

    actor: dramatiq.Actor[[str, int], bool] = dramatiq.actor(
        actor_name=HANDLE_EVENT,
        queue_name=settings.broker_namespace,
        broker=broker,
        **options,
    )(handle_event)

    def record_heartbeat(worker: str, started_at: str) -> None:
        """A worker's heartbeat that went through the broker: recorded when a consumer
        takes it, so a beat shows that messages are sent and consumed, not only that the
        sending process lives (domains.monitoring.service.heartbeat)."""
        with unit_of_work(factory) as session:
            heartbeat.beat(
                session,
                worker=worker,
                kind=heartbeat.DRAMATIQ,
                now=utcnow(),
                started_at=dt.datetime.fromisoformat(started_at),
            )

    beat: dramatiq.Actor[[str, str], None] = dramatiq.actor(
        actor_name=HEARTBEAT,
        queue_name=settings.broker_namespace,
        broker=broker,
        max_retries=0,  # the next beat is the retry
        # a beat older than the misses that make a worker dead tells nothing: dropped
        max_age=int(heartbeat.MISSED_BEATS * settings.heartbeat_interval * 1000),
        time_limit=settings.worker_time_limit_ms,
    )(record_heartbeat)
    monitoring.declare_actor(broker, factory, settings)  # monitoring.run_checks
    return Actors(handle_event=actor, heartbeat=beat, queue_name=settings.broker_namespace)
