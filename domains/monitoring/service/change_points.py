"""The results that the A/R reads, kept at ingestion (`ChangePoint`): each series' first
result of each UTC day and every result whose status differs from the one before it in its
series (by time, then arrival).

Why: a report-day's reads (`availability.day_results`) keep only the results that change a
metric timeline and the previous day's last status per series. Windowed over the raw results
that was a sort of two days of rows per report-day (432,000 at 1,000 endpoints), most of the
monthly A/R's time; over the change points it is about a tenth. The first result of each day
is kept too so that "the previous day had a result" (the 00:00 seed exists) and "the day's
first result after an empty day" stay answerable: the same window over these rows returns
exactly what it returns over the raw ones.

`record` is the ingest path's (inside `ingest_results`' transaction, from the live status it
already reads): a result newer than its series' latest is compared with the latest; a late
one (older than the latest) makes its series' points from its day on computed again from
the stored results (rare). `rebuild` computes them from the stored results in one statement
(the migration's backfill, a bulk load that bypassed ingestion, tests' stored rows).
`day_statement` is the A/R's window, over the points or over the raw results."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from domains.common.db import copy_rows
from domains.common.time import UTCDateTime
from domains.monitoring.avro import MetricResultIn
from domains.monitoring.engine.pipeline import MetricKey, Result
from domains.monitoring.engine.timeline import day_start, second_of
from domains.monitoring.models.results import MetricResult
from domains.monitoring.models.status import ChangePoint

__all__ = [
    "T_POINT",
    "T_RESULT",
    "day_changes",
    "day_points",
    "day_statement",
    "purge",
    "rebuild",
    "record",
]

T_POINT: Table = ChangePoint.__table__  # type: ignore[attr-defined]
T_RESULT: Table = MetricResult.__table__  # type: ignore[attr-defined]

Key = tuple[str, str, str]  # (host name, service type, metric)
ONE_DAY = dt.timedelta(days=1)


def _day(moment: dt.datetime) -> dt.date:
    return moment.date() if moment.tzinfo is dt.UTC else moment.astimezone(dt.UTC).date()


def record(
    session: Session,
    ordered: Sequence[MetricResultIn],
    latest: Mapping[Key, tuple[str, dt.datetime]],
) -> int:
    """The points of a batch of stored results (`ordered` by time, arrival order within an
    instant), given each series' latest (status, timestamp) before it; how many it wrote."""
    oldest: dict[Key, dt.datetime] = {}
    for result in ordered:
        oldest.setdefault((result.hostname, result.service, result.metric), result.timestamp)
    late = {key for key, moment in oldest.items() if key in latest and moment < latest[key][1]}
    state = {key: (status, _day(moment)) for key, (status, moment) in latest.items()}
    rows: list[dict[str, object]] = []
    for result in ordered:
        key = (result.hostname, result.service, result.metric)
        if key in late:
            continue
        day = _day(result.timestamp)
        before = state.get(key)
        if before is None or before[0] != result.status or before[1] != day:
            rows.append(
                {
                    "timestamp": result.timestamp,
                    "hostname": key[0],
                    "service_type": key[1],
                    "metric": key[2],
                    "status": result.status,
                    "monitoring_host": result.monitoring_host,
                }
            )
        state[key] = (result.status, day)
    if rows:
        _insert(session, rows)
    return len(rows) + sum(_recompute_series(session, key, _day(oldest[key])) for key in late)


_COLUMNS = ("timestamp", "hostname", "service_type", "metric", "status", "monitoring_host")


def _insert(session: Session, rows: list[dict[str, object]]) -> None:
    """PostgreSQL's COPY on the session's connection (an executemany's statement per row
    was ~6 % of the topic consumer's time); a multi-row INSERT elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(T_POINT), rows)
        return
    copy_rows(
        session, T_POINT.name, _COLUMNS, (tuple(row[name] for name in _COLUMNS) for row in rows)
    )


def _recompute_series(session: Session, key: Key, day: dt.date) -> int:
    """A series' points from `day` on, again from its stored results (a late result landed
    in `day`: it may be a point itself, and may make the next result one or not)."""
    start = day_start(day)
    p, r = T_POINT.c, T_RESULT.c
    session.execute(
        delete(T_POINT).where(
            p.hostname == key[0], p.service_type == key[1], p.metric == key[2], p.timestamp >= start
        )
    )
    stored = session.execute(
        select(r.timestamp, r.status, r.monitoring_host)
        .where(
            r.hostname == key[0], r.service_type == key[1], r.metric == key[2], r.timestamp >= start
        )
        .order_by(r.timestamp, r.id)
    ).all()
    rows: list[dict[str, object]] = []
    before: tuple[str, dt.date] | None = None
    for moment, status, source in stored:
        day_of = _day(moment)
        if before is None or before != (status, day_of):
            rows.append(
                {
                    "timestamp": moment,
                    "hostname": key[0],
                    "service_type": key[1],
                    "metric": key[2],
                    "status": status,
                    "monitoring_host": source,
                }
            )
        before = (status, day_of)
    if rows:
        _insert(session, rows)
    return len(rows)


def rebuild(session: Session, *, since: dt.date | None = None) -> int:
    """The points of every stored result from `since` (a UTC day; None: all of them) on,
    computed again in one statement; how many there are now from then on."""
    start = day_start(since) if since is not None else None
    p = T_POINT.c
    session.execute(delete(T_POINT).where(p.timestamp >= start) if start else delete(T_POINT))
    postgres = session.get_bind().dialect.name == "postgresql"
    day_of = "(timestamp AT TIME ZONE 'UTC')::date" if postgres else "date(timestamp)"
    where = "WHERE timestamp >= :start" if start else ""
    statement = text(
        f"""INSERT INTO {T_POINT.name}
            (timestamp, hostname, service_type, metric, status, monitoring_host)
        SELECT timestamp, hostname, service_type, metric, status, monitoring_host FROM (
            SELECT id, timestamp, hostname, service_type, metric, status, monitoring_host,
                {day_of} AS day_of,
                lag(status) OVER series AS before,
                lag({day_of}) OVER series AS before_day
            FROM {T_RESULT.name} {where}
            WINDOW series AS (PARTITION BY hostname, service_type, metric ORDER BY timestamp, id)
        ) AS r
        WHERE before IS NULL OR before <> status OR before_day <> day_of
        ORDER BY timestamp, id"""  # noqa: S608 (constants)
    )
    if start:
        statement = statement.bindparams(bindparam("start", type_=UTCDateTime()))
    if postgres:
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    result = session.execute(statement, {"start": start} if start else {})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge(session: Session, *, older_than: dt.datetime) -> int:
    """Retention: the points of results deleted as too old; how many."""
    gone = session.execute(delete(T_POINT).where(T_POINT.c.timestamp < older_than))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def _batch(
    query: Select[Any],
    columns: Any,
    service_types: Sequence[str],
    start: dt.datetime,
    hosts: Sequence[str] | None,
    without: Sequence[str] | None,
) -> Select[Any]:
    """`query` kept to a batch's rows of the day from `start` and the day before: its
    service types, its hosts (None: all), the metrics `without` names left out."""
    query = query.where(
        columns.timestamp >= start - ONE_DAY,
        columns.timestamp < start + ONE_DAY,
        columns.service_type.in_(list(service_types)),
    )
    if hosts is not None:
        query = query.where(columns.hostname.in_(list(hosts)))
    if without:
        query = query.where(columns.metric.not_in(list(without)))
    return query


def day_statement(
    service_types: Sequence[str],
    start: dt.datetime,
    hosts: Sequence[str] | None,
    *,
    every: bool,
    without: Sequence[str] | None = None,
    table: Table = T_RESULT,
    collation: str | None = None,
) -> Select[Any]:
    """`day_results`' statement: the two days' rows of a batch, windowed by series, the
    previous day's last and the day's changes kept (`every`: all of them), by series, then
    time and id; the metrics `without` names (re-graded apart) left out. `table`: the raw
    results or the change points, which have the same columns; `collation`: the one the
    series are sorted by (PostgreSQL's "C": bytes)."""
    r = table.c
    series = tuple(
        column.collate(collation) if collation else column
        for column in (r.hostname, r.service_type, r.metric)
    )
    order = (r.timestamp, r.id)
    inner = select(
        r.hostname,
        r.service_type,
        r.metric,
        r.id,
        r.timestamp,
        r.status,
        r.monitoring_host,
        func.lag(r.status).over(partition_by=series, order_by=order).label("before"),
        func.lead(r.timestamp, type_=r.timestamp.type)
        .over(partition_by=series, order_by=order)
        .label("next_at"),
    )
    c = _batch(inner, r, service_types, start, hosts, without).subquery().c
    keys = tuple(
        column.collate(collation) if collation else column
        for column in (c.hostname, c.service_type, c.metric)
    )
    # the window's own order, which the caller's lists per series need: no second sort
    query = select(
        c.hostname, c.service_type, c.metric, c.timestamp, c.status, c.monitoring_host
    ).order_by(*keys, c.timestamp, c.id)
    if every:
        return query
    seed = and_(c.timestamp < start, or_(c.next_at.is_(None), c.next_at >= start))
    change = and_(c.timestamp >= start, or_(c.before.is_(None), c.before != c.status))
    return query.where(or_(seed, change))


def day_points(
    service_types: Sequence[str],
    start: dt.datetime,
    hosts: Sequence[str] | None,
    *,
    without: Sequence[str] | None = None,
    seconds: bool = False,
) -> Select[Any]:
    """The change points of the day from `start` and the day before, of a batch (the
    metrics `without` names left out), by time then id, unwindowed: `day_results` keeps the
    seed and the changes as it reads them, which is what `day_statement`'s window keeps
    (the window's sort by series was most of PostgreSQL's time; by time the rows come off
    the timestamp index). `seconds` (PostgreSQL): each row's whole seconds from `start`
    (negative the day before, as `second_of` counts) in place of its timestamp."""
    p = T_POINT.c
    moment: Any = p.timestamp
    if seconds:
        # truncated to the second first: exact whatever type extract() returns
        epoch = func.extract("epoch", func.date_trunc("second", p.timestamp))
        moment = (cast(epoch, BigInteger) - int(start.timestamp())).label("second")
    query = select(p.hostname, p.service_type, p.metric, moment, p.status, p.monitoring_host)
    return _batch(query, p, service_types, start, hosts, without).order_by(p.timestamp, p.id)


def day_changes(
    session: Session,
    scope: tuple[Sequence[str], dt.datetime, Sequence[str] | None, Sequence[str] | None],
    postgres: bool,
    into: tuple[dict[MetricKey, list[Result]], dict[MetricKey, str]],
) -> None:
    """`availability.day_results`' seed and changes of a batch, from the two days' change
    points read by time (`day_points`): per series, the last point before 00:00 is the
    seed and a point of the day is kept when its status differs from the one before it in
    the two days (as `day_statement`'s window keeps them). On PostgreSQL the seconds from
    00:00 come from SQL (no datetime per row)."""
    service_types, start, hosts, without = scope
    results, previous = into
    statement = day_points(service_types, start, hosts, without=without, seconds=postgres)
    found = session.connection().execute(statement)
    rows: Sequence[Any]
    if postgres:  # text and integers: the driver's own tuples, no Row made of each
        rows = found.cursor.fetchall()
        found.close()
    else:  # one fetchall (iterating fetched row by row), Core rows (no ORM)
        rows = found.all()
    # by time: the day before's rows first, the last of a series its seed
    first = bisect_left(rows, 0 if postgres else start, key=itemgetter(3))
    for host, stype, metric, _, status, _ in rows[:first]:
        previous[(host, stype, metric)] = status
    last = dict(previous)
    for host, stype, metric, moment, status, source in rows[first:]:
        key = (host, stype, metric)
        if last.get(key) != status:
            second = moment if postgres else second_of(moment, start)
            results.setdefault(key, []).append(Result(second, status, source or ""))
            last[key] = status
