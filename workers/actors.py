"""dramatiq actors, declared on a given broker (never at import: see workers/broker.py).
Thin: each runs a domain function in one unit of work."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import dramatiq
from sqlalchemy.orm import Session, sessionmaker

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


@dataclass(frozen=True, slots=True)
class Actors:
    handle_event: dramatiq.Actor[[str, int], bool]
    heartbeat: dramatiq.Actor[[str, str], None]
    queue_name: str

    def send_event(self, handler_name: str, event_id: int) -> None:
        self.handle_event.send(handler_name, event_id)

    def send_heartbeat(self, worker: str, started_at: dt.datetime) -> None:
        self.heartbeat.send(worker, started_at.isoformat())


def declare_actors(
    broker: dramatiq.Broker, factory: sessionmaker[Session], settings: CoreSettings
) -> Actors:
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
