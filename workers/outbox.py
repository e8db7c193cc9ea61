"""The outbox relay: unsent outbox rows -> handlers, at least once, nothing lost.

With a broker (`BrokerRelay`): claim a batch of unsent rows (FOR UPDATE SKIP LOCKED on
PostgreSQL, so several relays share the work), send one message per (event, handler), mark
the rows sent and commit. If sending fails the transaction rolls back (rows stay unsent);
the failure is recorded in a second, short transaction and the rows wait a growing delay.
A crash between sending and committing resends the batch later: duplicates are absorbed by
processed_event (domains.common.outbox.run_handler).

Embedded (`EmbeddedRelay`): no broker; each handler runs here, in its own unit of work, and
the row is marked sent only after all its handlers committed. A restart at any point leaves
the row unsent, and the handlers that did commit are skipped the next time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from opentelemetry.trace import SpanKind
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.common import tracing
from domains.common.db import unit_of_work
from domains.common.models import pk
from domains.common.outbox import LAST_ERROR_MAX, OutboxEvent, handlers_for, run_handler
from domains.common.time import utcnow
from workers.metrics import HANDLER, timed

log = logging.getLogger("opsgraph.relay")

MAX_RELAY_BACKOFF = 60.0  # seconds: the longest a row waits after the broker failed


@dataclass(frozen=True, slots=True)
class RelayReport:
    done: int = 0  # events marked sent
    failed: int = 0  # events whose attempt failed (left unsent, attempts recorded)
    error: str | None = None


class Relay(Protocol):
    batch_size: int

    def run_once(self) -> RelayReport: ...


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds until the next try after `attempts` failures: base, 2*base, ... up to cap."""
    return float(min(cap, base * 2 ** max(0, min(attempts - 1, 30))))


def _due(batch_size: int) -> Select[OutboxEvent]:
    now = utcnow()
    return (
        select(OutboxEvent)
        .where(
            col(OutboxEvent.sent_at).is_(None),
            or_(col(OutboxEvent.retry_at).is_(None), col(OutboxEvent.retry_at) <= now),
        )
        .order_by(col(OutboxEvent.id))
        .limit(batch_size)
    )


def record_failure(
    factory: sessionmaker[Session], ids: Sequence[int], exc: BaseException, base: float, cap: float
) -> None:
    """attempts += 1, last_error, retry_at: in a transaction of its own (the failed one was
    rolled back). Failing to record (the database is down too) is only logged."""
    message = f"{type(exc).__name__}: {exc}"[:LAST_ERROR_MAX]
    try:
        with unit_of_work(factory) as session:
            now = utcnow()
            rows = session.scalars(select(OutboxEvent).where(col(OutboxEvent.id).in_(ids)))
            for row in rows:
                row.attempts += 1
                row.last_error = message
                row.retry_at = now + timedelta(seconds=retry_delay(row.attempts, base, cap))
    except Exception:
        log.exception("could not record the failure of outbox events %s", list(ids))


class BrokerRelay:
    def __init__(
        self,
        factory: sessionmaker[Session],
        send: Callable[[str, int, str | None], None],
        *,
        batch_size: int = 100,
        backoff: float = 1.0,
    ) -> None:
        self.factory = factory
        self.send = send
        self.batch_size = batch_size
        self.backoff = backoff

    def run_once(self) -> RelayReport:
        ids: list[int] = []
        try:
            with unit_of_work(self.factory) as session:
                rows = list(
                    session.scalars(_due(self.batch_size).with_for_update(skip_locked=True))
                )
                ids = [pk(row) for row in rows]
                now = utcnow()
                for row in rows:
                    for handler in handlers_for(row.kind):
                        self.send(handler.name, pk(row), row.traceparent)
                    row.sent_at = now
                    row.retry_at = None
        except Exception as exc:
            log.warning("relay: sending %d outbox events failed: %s", len(ids), exc)
            if ids:
                record_failure(self.factory, ids, exc, self.backoff, MAX_RELAY_BACKOFF)
            return RelayReport(failed=len(ids), error=f"{type(exc).__name__}: {exc}")
        return RelayReport(done=len(ids))


class EmbeddedRelay:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        batch_size: int = 100,
        min_backoff: float = 5.0,
        max_backoff: float = 3600.0,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.factory = factory
        self.batch_size = batch_size
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.stopping = stopping

    def run_once(self) -> RelayReport:
        with unit_of_work(self.factory, write=False) as session:
            due = [
                (pk(row), row.kind, row.traceparent)
                for row in session.scalars(_due(self.batch_size))
            ]
        done = failed = 0
        error: str | None = None
        for event_id, kind, traceparent in due:
            if self.stopping():
                break
            try:
                for handler in handlers_for(kind):
                    # the handler's span is a child of the request that emitted the event
                    with (
                        tracing.span(
                            f"handle {handler.name}",
                            traceparent=traceparent,
                            kind=SpanKind.CONSUMER,
                            attributes={"opsgraph.event_id": event_id},
                        ),
                        timed(HANDLER, handler.name),
                        unit_of_work(self.factory) as session,
                    ):
                        run_handler(session, handler.name, event_id)
                with unit_of_work(self.factory) as session:
                    session.execute(
                        update(OutboxEvent)
                        .where(col(OutboxEvent.id) == event_id, col(OutboxEvent.sent_at).is_(None))
                        .values(sent_at=utcnow(), retry_at=None)
                    )
                done += 1
            except Exception as exc:
                log.exception("relay: handling outbox event %s failed", event_id)
                record_failure(self.factory, [event_id], exc, self.min_backoff, self.max_backoff)
                failed += 1
                error = f"{type(exc).__name__}: {exc}"
        return RelayReport(done=done, failed=failed, error=error)
