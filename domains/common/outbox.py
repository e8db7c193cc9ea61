"""The transactional outbox, and the registries through which domains react to events.

A service function records what happened with `emit(session, kind, payload)`, in its own
transaction: the event exists if and only if the change it describes was committed. The
relay (workers/outbox.py) later hands each event to every handler registered for its kind
(`on_event`). Delivery is at least once; `run_handler` makes each handler's database
effects happen exactly once per event, by recording (handler, event) in `processed_event`
in the same transaction as the effects.

Domains register handlers and periodic jobs here, never in workers/ (DESIGN rule 1); the
worker process imports the domain modules that register them (workers/registry.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Index, delete, select
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import Field, SQLModel, col

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.db import unit_of_work
from domains.common.errors import Invalid, NotFound
from domains.common.time import UTCDateTime, utcnow
from domains.common.tracing import TRACEPARENT_MAX, current_traceparent

log = logging.getLogger("opsgraph.outbox")

KIND_MAX = 64
HANDLER_NAME_MAX = 128
LAST_ERROR_MAX = 1000


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"
    # "What is still to send, oldest first": sent_at IS NULL ORDER BY id.
    __table_args__ = (Index("ix_outbox_event_unsent", "sent_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=KIND_MAX, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=LAST_ERROR_MAX)
    # After a failed attempt, the relay leaves the row alone until then (backoff).
    retry_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The W3C traceparent of the span that emitted the event (the request's, when traced):
    # the relay sends it with the event, so the handler's span joins the request's trace.
    traceparent: str | None = Field(default=None, max_length=TRACEPARENT_MAX)


class ProcessedEvent(SQLModel, table=True):
    """One row per (handler, event) whose effects were committed. No foreign key: old
    outbox rows and their processed rows are pruned together, by age."""

    __tablename__ = "processed_event"

    handler: str = Field(primary_key=True, max_length=HANDLER_NAME_MAX)
    event_id: int = Field(primary_key=True, index=True)
    processed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


# --- emitting -----------------------------------------------------------------------------

_EMITTED = "opsgraph.outbox.emitted"


def emit(session: Session, kind: str, payload: Mapping[str, Any]) -> OutboxEvent:
    """Record an event in the caller's transaction (flushed, never committed). Payloads are
    small and JSON-serialisable: ids and names, not objects."""
    if not kind or len(kind) > KIND_MAX:
        raise Invalid("kind", f"1 to {KIND_MAX} characters")
    event = OutboxEvent(kind=kind, payload=dict(payload), traceparent=current_traceparent())
    session.add(event)
    session.flush()
    session.info[_EMITTED] = True
    return event


def watch_commits(factory: sessionmaker[Session], wake: Callable[[], None]) -> None:
    """Call `wake()` after each commit, by a session of `factory`, that emitted events: the
    relay then sends them at once instead of at its next poll."""

    def after_commit(session: Session) -> None:
        if session.info.pop(_EMITTED, False):
            wake()

    def after_rollback(session: Session) -> None:
        session.info.pop(_EMITTED, None)

    sa_event.listen(factory, "after_commit", after_commit)
    sa_event.listen(factory, "after_soft_rollback", lambda s, _t: after_rollback(s))


# --- handlers -----------------------------------------------------------------------------

HandlerFn = Callable[[Session, OutboxEvent], None]


@dataclass(frozen=True, slots=True)
class Handler:
    kind: str
    name: str
    fn: HandlerFn


_handlers: dict[str, Handler] = {}


def on_event(kind: str, name: str) -> Callable[[HandlerFn], HandlerFn]:
    """Register `fn(session, event)` for events of `kind`. The name identifies the handler
    in messages and in processed_event, so it must stay stable across releases."""
    if not name or len(name) > HANDLER_NAME_MAX:
        raise ValueError(f"handler name must have 1 to {HANDLER_NAME_MAX} characters")

    def register(fn: HandlerFn) -> HandlerFn:
        known = _handlers.get(name)
        if known is not None and (known.kind, _qualname(known.fn)) != (kind, _qualname(fn)):
            raise ValueError(f"handler name {name!r} is already taken by {_qualname(known.fn)}")
        _handlers[name] = Handler(kind=kind, name=name, fn=fn)
        return fn

    return register


def _qualname(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def handlers_for(kind: str) -> list[Handler]:
    return sorted((h for h in _handlers.values() if h.kind == kind), key=lambda h: h.name)


def handler_named(name: str) -> Handler:
    try:
        return _handlers[name]
    except KeyError:
        raise LookupError(f"no event handler named {name!r} is registered") from None


def run_handler(session: Session, handler_name: str, event_id: int) -> bool:
    """Apply one handler to one event inside the caller's transaction, at most once.

    Returns False when it was already done. The processed_event row is inserted FIRST: a
    concurrent duplicate then waits on the primary key until the first transaction ends,
    and finds the work done (or, if the first rolled back, does it itself). Were the insert
    after the handler, both would run it and one would fail only at the end."""
    handler = handler_named(handler_name)
    if not _claim(session, handler_name, event_id):
        return False
    event = session.get(OutboxEvent, event_id)
    if event is None:
        raise NotFound(f"outbox event {event_id} does not exist")
    handler.fn(session, event)
    session.flush()
    return True


def _claim(session: Session, handler_name: str, event_id: int) -> bool:
    values: dict[str, Any] = {
        "handler": handler_name,
        "event_id": event_id,
        "processed_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(ProcessedEvent)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(col(ProcessedEvent.event_id))
        )
        return session.execute(stmt).first() is not None
    if session.get(ProcessedEvent, (handler_name, event_id)) is not None:
        return False
    session.add(ProcessedEvent(**values))
    session.flush()
    return True


# --- periodic jobs ------------------------------------------------------------------------

JobFn = Callable[[sessionmaker[Session]], int]


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    every_seconds: float
    fn: JobFn


_jobs: dict[str, PeriodicJob] = {}


def periodic(name: str, every_seconds: float) -> Callable[[JobFn], JobFn]:
    """Register `fn(session_factory) -> int` (how much work it did) to run every
    `every_seconds` in each scheduler. Several schedulers may run at once (one per worker
    process), so the job claims what it works on in the database (a SELECT with
    `.with_for_update(skip_locked=True)`, i.e. FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
    has one writer anyway) and commits per batch: two schedulers never do the same item."""
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")

    def register(fn: JobFn) -> JobFn:
        known = _jobs.get(name)
        if known is not None and _qualname(known.fn) != _qualname(fn):
            raise ValueError(f"periodic job {name!r} is already taken by {_qualname(known.fn)}")
        _jobs[name] = PeriodicJob(name=name, every_seconds=every_seconds, fn=fn)
        return fn

    return register


_run_soon_listeners: list[Callable[[str], None]] = []
_listeners_lock = threading.Lock()


def run_soon(name: str) -> None:
    """Ask the schedulers of this process to run periodic job `name` now instead of at its
    next tick (an event handler that saw new work for it). Only a hint: a process without
    a scheduler ignores it, and the job still runs at its next tick somewhere."""
    with _listeners_lock:
        listeners = list(_run_soon_listeners)
    for listener in listeners:
        listener(name)


def listen_run_soon(listener: Callable[[str], None]) -> Callable[[], None]:
    """Register a scheduler's `listener(job_name)` for run_soon; returns the unregister."""
    with _listeners_lock:
        _run_soon_listeners.append(listener)

    def unregister() -> None:
        with _listeners_lock:
            if listener in _run_soon_listeners:
                _run_soon_listeners.remove(listener)

    return unregister


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda j: j.name)


def periodic_job_named(name: str) -> PeriodicJob:
    try:
        return _jobs[name]
    except KeyError:
        raise LookupError(f"no periodic job named {name!r} is registered") from None


# --- the outbox's own housekeeping --------------------------------------------------------

RETENTION = timedelta(days=7)


@periodic("outbox.prune", every_seconds=3600)
def prune_sent_events(factory: sessionmaker[Session]) -> int:
    """Drop events sent more than RETENTION ago, and their processed_event rows (a
    duplicate delivery cannot arrive that late: brokers keep dead letters for 7 days)."""
    cutoff = utcnow() - RETENTION
    with unit_of_work(factory) as session:
        old = select(col(OutboxEvent.id)).where(
            col(OutboxEvent.sent_at).is_not(None), col(OutboxEvent.sent_at) < cutoff
        )
        ids = list(session.scalars(old.with_for_update(skip_locked=True)))
        if not ids:
            return 0
        session.execute(delete(ProcessedEvent).where(col(ProcessedEvent.event_id).in_(ids)))
        session.execute(delete(OutboxEvent).where(col(OutboxEvent.id).in_(ids)))
    log.info("pruned %d sent outbox events", len(ids))
    return len(ids)
