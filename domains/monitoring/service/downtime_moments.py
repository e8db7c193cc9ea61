"""Downtimes' moments for the `statusChanges` streams: a downtime that starts or stops
turning its endpoints to DOWNTIME changes the status above the metric without any result
arriving, so the streams (which compute levels where status changes tell them to,
`service.changes`) are told where and when by a row among the status changes.

`record_moments(session, now=...)`, run by the `monitoring.downtime_moments` job every
OPSGRAPH_DOWNTIME_TICK seconds, writes one such row (metric `DOWNTIME_MOMENT`) per service
of a downtime for each moment that came since its last run:

- a start (`starts_at`), when it comes: the A/R engine's timelines turn DOWNTIME there;
- the end of its effect, one minute after the (service's effective) end, when the engine's
  timelines resume the earlier status (ARGO's rule, `engine.timeline.fill`), not at
  `ends_at` when `downtime.ended` is announced: the status is still DOWNTIME until then;
- a declaration or an edit (`updated_at`): one declared as already ongoing, ended early,
  shortened, its services or severity changed. The row is at its start when that is
  today and already past (so the status before the downtime is what it changed from),
  else at the edit. An end moved earlier still has its own end moment.

Exactly once: the rows and the cursor (`DowntimeMomentCursor`, locked FOR UPDATE, so two
schedulers take turns) are written in one transaction; a worker that dies before the
commit leaves the window to the next run, one that restarts reads the committed cursor. A
first run records nothing before itself. Edits are read SETTLE behind, as an edit's
transaction may commit after a later one read past its time (the downtimes' own streams
wait as long, `downtimes.events.SETTLE`). A stream that reads a moment twice tells nothing
twice: it tells only statuses that differ from what it told (`service.level_changes`).

Not seen: a GOCDB import (it keeps GOCDB's times and emits no event), until a result or a
start or end moment of the same site comes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Table, and_, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.downtimes import service as downtimes
from domains.monitoring.engine.timeline import RESUME_AFTER, day_start
from domains.monitoring.models.status import DOWNTIME_MOMENT, DowntimeMomentCursor, StatusChange
from domains.topology.models import Service, ServiceType

T_CHANGE: Table = StatusChange.__table__  # type: ignore[attr-defined]
T_SERVICE: Table = Service.__table__  # type: ignore[attr-defined]
T_TYPE: Table = ServiceType.__table__  # type: ignore[attr-defined]
T_DOWNTIME = downtimes.T_DOWNTIME
T_LINK = downtimes.T_DT_SERVICE

CURSOR = "downtime-moments"
SETTLE = dt.timedelta(seconds=5)
RESUME = dt.timedelta(seconds=RESUME_AFTER)


@dataclass(frozen=True, slots=True, order=True)
class Moment:
    at: dt.datetime
    hostname: str
    service_type: str
    what: str  # "started", "effect ended", "changed"
    downtime: str  # its primary key


def _cursor(session: Session, now: dt.datetime) -> DowntimeMomentCursor | None:
    """The cursor, locked; None on the first run (which creates it at `now`)."""
    query = (
        select(DowntimeMomentCursor)
        .where(col(DowntimeMomentCursor.name) == CURSOR)
        .with_for_update()
    )
    found = session.scalars(query).first()
    if found is not None:
        return found
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    created = session.execute(
        upsert(DowntimeMomentCursor)
        .values(name=CURSOR, moments_until=now, edits_until=now - SETTLE)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(col(DowntimeMomentCursor.name))
    ).first()
    if created is not None:
        return None
    return session.scalars(query).one()  # another scheduler's first run won


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def moments_between(
    session: Session,
    *,
    after: dt.datetime,
    until: dt.datetime,
    edits_after: dt.datetime,
    edits_until: dt.datetime,
) -> list[Moment]:
    """The moments of every downtime's services in (after, until], and of its declaration
    or last edit in (edits_after, edits_until], by time."""
    ends = func.coalesce(T_LINK.c.ended_at, T_DOWNTIME.c.ends_at)
    rows = session.execute(
        select(
            T_DOWNTIME.c.primary_key,
            T_DOWNTIME.c.starts_at,
            ends,
            T_DOWNTIME.c.updated_at,
            T_SERVICE.c.host_name,
            T_TYPE.c.name,
        )
        .select_from(T_DOWNTIME)
        .join(T_LINK, T_LINK.c.downtime_id == T_DOWNTIME.c.id)
        .join(T_SERVICE, T_SERVICE.c.id == T_LINK.c.service_id)
        .join(T_TYPE, T_TYPE.c.id == T_SERVICE.c.service_type_id)
        .where(
            or_(
                and_(T_DOWNTIME.c.starts_at > after, T_DOWNTIME.c.starts_at <= until),
                and_(ends > after - RESUME, ends <= until - RESUME),
                and_(T_DOWNTIME.c.updated_at > edits_after, T_DOWNTIME.c.updated_at <= edits_until),
            )
        )
    ).all()
    found: set[Moment] = set()
    for key, starts_at, ends_at, updated_at, host, stype in rows:
        start, resumed = _aware(starts_at), _aware(ends_at) + RESUME
        edited = _aware(updated_at)
        name = str(key or "")
        if after < start <= until:
            found.add(Moment(start, host, stype, "started", name))
        if after < resumed <= until:
            found.add(Moment(resumed, host, stype, "effect ended", name))
        if edits_after < edited <= edits_until:
            at = start if day_start(edited.date()) <= start <= edited else edited
            found.add(Moment(at, host, stype, "changed", name))
    return sorted(found)


def record_moments(session: Session, *, now: dt.datetime) -> int:
    """Record the moments since the last run (see the module's notes) in the caller's
    transaction; how many rows were written."""
    cursor = _cursor(session, now)
    if cursor is None:
        return 0
    after, edits_after = _aware(cursor.moments_until), _aware(cursor.edits_until)
    until, edits_until = max(after, now), max(edits_after, now - SETTLE)
    moments = moments_between(
        session, after=after, until=until, edits_after=edits_after, edits_until=edits_until
    )
    today = day_start(now.date())
    if moments:
        session.execute(
            insert(T_CHANGE),
            [
                {
                    # before today, the day's timelines begin at 00:00 with its effect
                    "timestamp": max(m.at, today),
                    "hostname": m.hostname,
                    "service_type": m.service_type,
                    "metric": DOWNTIME_MOMENT,
                    "status": "DOWNTIME",
                    "previous_status": None,
                    "summary": f"downtime {m.downtime} {m.what}",
                }
                for m in moments
            ],
        )
    cursor.moments_until, cursor.edits_until = until, edits_until
    session.flush()
    return len(moments)
