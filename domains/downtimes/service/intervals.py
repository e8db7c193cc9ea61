"""The interval maths: when a service or an endpoint was in a downtime, with a service's
early end (partial ending) taken into account. Monitoring reads these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.query import Record, in_ids
from domains.downtimes import rules
from domains.downtimes.models import Severity
from domains.downtimes.rules import DowntimeRule
from domains.downtimes.service.tables import T_DOWNTIME, T_DT_ENDPOINT, T_DT_SERVICE
from domains.topology import service as topology
from domains.topology.service import T_ENDPOINT


def effective_end(ends_at: datetime, service_ended_at: datetime | None) -> datetime:
    """When a service left its downtime: its early end, unless the downtime itself was
    shortened to before it later."""
    if service_ended_at is None:
        return ends_at
    return min(ends_at, service_ended_at)


def _effective_end() -> ColumnElement[datetime]:
    """The SQL of effective_end; an edit keeps every early end within the downtime
    (update_downtime), so the early end wins when there is one."""
    return func.coalesce(T_DT_SERVICE.c.ended_at, T_DOWNTIME.c.ends_at)


def covers(
    rows: Iterable[Record], at: datetime, severities: Sequence[Severity] | None = None
) -> bool:
    """Whether one of a service's downtime rows (from `downtimes_of_services`) covers `at`;
    a service ended early left its downtime at its own end."""
    rules.check_aware("time", at)
    for row in rows:
        end = effective_end(row.ends_at, row.service_ended_at)
        if row.starts_at <= at < end and (severities is None or row.severity in severities):
            return True
    return False


def services_in_downtime_at(
    session: Session,
    principal: Principal,
    *,
    service_ids: Sequence[int],
    at: datetime,
    severities: Sequence[Severity] | None = None,
) -> set[int]:
    """Which of these services were in a downtime at `at` (an early end of a service
    counts: it left the downtime then)."""
    rules.check_aware("time", at)
    d, ds = T_DOWNTIME.c, T_DT_SERVICE.c
    stmt = (
        select(ds.service_id)
        .join(T_DOWNTIME, d.id == ds.downtime_id)
        .where(
            ds.service_id.in_(list(service_ids)),
            d.starts_at <= at,
            d.ends_at > at,
            _effective_end() > at,
            topology.in_clause(d.severity, severities),
        )
        .distinct()
    )
    return {int(s) for s in session.execute(stmt).scalars()}


@dataclass(frozen=True, slots=True)
class Interval:
    """Part of [t1, t2] during which an endpoint was in a downtime."""

    start: datetime
    end: datetime
    downtime_id: int


# Large key lists go in chunks: SQLite caps the parameters of one statement.
_CHUNK = 5000


def endpoint_downtime_intervals(
    session: Session,
    principal: Principal,
    *,
    endpoint_ids: Sequence[int],
    start: datetime,
    end: datetime,
    severities: Sequence[Severity] = (Severity.OUTAGE,),
) -> dict[int, list[Interval]]:
    """For monitoring: which of these endpoints were in a downtime (an OUTAGE, by
    default) during [start, end], and when, clipped to the window and sorted.

    An endpoint is affected when its service is, unless the downtime names endpoints of
    that service and not this one; a service ended early leaves at its own end.
    Endpoints never affected are absent. One statement per 5,000 endpoints."""
    rules.check_aware("start", start)
    rules.check_aware("end", end)
    if end < start:
        raise Invalid("end", DowntimeRule.DOWNTIME_INTERVAL_REVERSED)
    d, ds, e, de = T_DOWNTIME.c, T_DT_SERVICE.c, T_ENDPOINT.c, T_DT_ENDPOINT.c
    ends = _effective_end()
    stmt = (
        select(e.id, d.id, d.starts_at, ends)
        .select_from(
            T_ENDPOINT.join(T_DT_SERVICE, ds.service_id == e.service_id).join(
                T_DOWNTIME, d.id == ds.downtime_id
            )
        )
        .where(
            in_ids(e.id),
            d.severity.in_(list(severities)),
            d.starts_at < end,
            d.ends_at > start,  # implied by the next line; lets the index bound the scan
            ends > start,
            or_(
                ds.all_endpoints.is_(True),
                exists(
                    select(1)
                    .select_from(T_DT_ENDPOINT)
                    .where(de.downtime_id == d.id, de.endpoint_id == e.id)
                ),
            ),
        )
    )
    out: dict[int, list[Interval]] = defaultdict(list)
    keys = list(dict.fromkeys(endpoint_ids))
    for i in range(0, len(keys), _CHUNK):
        for endpoint_id, downtime_id, starts, ends in session.execute(
            stmt, {"ids": keys[i : i + _CHUNK]}
        ).all():
            out[endpoint_id].append(Interval(max(starts, start), min(ends, end), downtime_id))
    for intervals in out.values():
        intervals.sort(key=lambda iv: (iv.start, iv.end, iv.downtime_id))
    return dict(out)
