"""Downtime events as readers see them: the outbox rows the downtime service emitted, read
back in order, and the filter that subscribers (live streams, notification subscriptions)
match them with. An event carries the downtime's snapshot taken in the transaction of the
change, so a cancelled downtime can still be told about."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.common.outbox import OutboxEvent
from domains.common.time import utcnow
from domains.downtimes.service import EVENT_KINDS


class EventKind(enum.StrEnum):
    DECLARED = "downtime.declared"
    CHANGED = "downtime.changed"
    CANCELLED = "downtime.cancelled"
    STARTED = "downtime.started"
    ENDED = "downtime.ended"


assert {k.value for k in EventKind} == set(EVENT_KINDS)

T_OUTBOX: Table = OutboxEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Each condition left None matches everything ("all"); conditions combine with AND;
    host, service type and VO hold when one affected service has them."""

    kinds: tuple[EventKind, ...] | None = None
    ngis: tuple[str, ...] | None = None
    sites: tuple[str, ...] | None = None
    hosts: tuple[str, ...] | None = None
    service_types: tuple[str, ...] | None = None
    vos: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None


def matches(kind: str, snapshot: Mapping[str, Any], filter: EventFilter) -> bool:
    services: Sequence[Mapping[str, Any]] = snapshot.get("services", ())

    def any_service(key: str, wanted: tuple[str, ...]) -> bool:
        return any(s.get(key) in wanted for s in services)

    return (
        (filter.kinds is None or kind in filter.kinds)
        and (filter.ngis is None or snapshot.get("ngi") in filter.ngis)
        and (filter.sites is None or snapshot.get("site") in filter.sites)
        and (filter.severities is None or snapshot.get("severity") in filter.severities)
        and (filter.hosts is None or any_service("hostName", filter.hosts))
        and (filter.service_types is None or any_service("serviceType", filter.service_types))
        and (
            filter.vos is None or any(vo in filter.vos for s in services for vo in s.get("vos", ()))
        )
    )


@dataclass(frozen=True, slots=True)
class DowntimeEvent:
    sequence: int  # the outbox event's id: increasing, a resume point
    kind: EventKind
    occurred_at: datetime
    snapshot: Mapping[str, Any]


def last_sequence(session: Session, principal: Principal) -> int:
    """Where a stream that wants only what comes next starts."""
    found = session.execute(
        select(func.max(T_OUTBOX.c.id)).where(T_OUTBOX.c.kind.in_(EVENT_KINDS))
    ).scalar()
    return int(found or 0)


# On PostgreSQL a transaction that took its event id earlier may commit after a later one:
# a reader keeps looking behind its position for that long before it gives a gap up.
SETTLE = timedelta(seconds=5)


@dataclass(slots=True)
class EventCursor:
    """Where a reader stands: every event up to `low` was handed out (or did not match);
    `seen` holds the ids above it already handed out."""

    low: int
    seen: set[int] = field(default_factory=set)


def read_events(
    session: Session,
    principal: Principal,
    *,
    cursor: EventCursor,
    filter: EventFilter,
    now: datetime | None = None,
    limit: int = 200,
) -> list[DowntimeEvent]:
    """The matching downtime events after the cursor, oldest first, each once; moves the
    cursor. Downtimes are public: anyone may follow them."""
    rows = session.execute(
        select(T_OUTBOX.c.id, T_OUTBOX.c.kind, T_OUTBOX.c.created_at, T_OUTBOX.c.payload)
        .where(T_OUTBOX.c.id > cursor.low, T_OUTBOX.c.kind.in_(EVENT_KINDS))
        .order_by(T_OUTBOX.c.id)
        .limit(limit)
    ).all()
    found = [
        DowntimeEvent(
            sequence=int(event_id),
            kind=EventKind(kind),
            occurred_at=created_at,
            snapshot=payload,
        )
        for event_id, kind, created_at, payload in rows
        if event_id not in cursor.seen and matches(kind, payload, filter)
    ]
    cursor.seen.update(int(row[0]) for row in rows)
    settled = (now or utcnow()) - SETTLE
    for event_id, _kind, created_at, _payload in rows:
        if created_at > settled:
            break
        cursor.low = int(event_id)
    cursor.seen = {i for i in cursor.seen if i > cursor.low}
    return found
