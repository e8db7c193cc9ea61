"""Public reads of stored metric results and of metric status timelines over a time
window, as ARGO's web API serves them (`/metric_result/…`, `/status/…/metrics`) and as
GraphQL can: results are public in EGI, so nothing here authorizes.

A metric's timeline over [start, end] is the status it had when the window opened (its
last change before `start`, at that change's own time, as ARGO shows it), the changes
inside the window, and the status it still had at `end`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.identity import Principal
from domains.monitoring.models.results import MetricResult
from domains.monitoring.models.status import MetricStatus, StatusChange
from domains.monitoring.service.availability import Grading

MAX_RESULTS = 10_000  # one host's results of one day are far fewer (a check every 5 min)


def metric_results(
    session: Session,
    _principal: Principal,
    *,
    hostname: str,
    start: dt.datetime,
    end: dt.datetime,
    metric: str | None = None,
    statuses: Sequence[str] | None = None,
) -> list[MetricResult]:
    """The results stored for `hostname` with a timestamp in [start, end] (of one metric,
    of some statuses), by metric and time; at most MAX_RESULTS."""
    query = select(MetricResult).where(
        col(MetricResult.hostname) == hostname,
        col(MetricResult.timestamp) >= start,
        col(MetricResult.timestamp) <= end,
    )
    if metric is not None:
        query = query.where(col(MetricResult.metric) == metric)
    if statuses is not None:
        query = query.where(col(MetricResult.status).in_(statuses))
    query = query.order_by(
        col(MetricResult.metric),
        col(MetricResult.service_type),
        col(MetricResult.timestamp),
        col(MetricResult.id),
    )
    return list(session.scalars(query.limit(MAX_RESULTS)))


@dataclass(frozen=True, slots=True)
class Point:
    """A status from `timestamp` on; when a report's thresholds rule gave it, the probe's
    status, the rule items applied and the perfdata they were applied to."""

    timestamp: dt.datetime
    status: str
    original_status: str | None = None
    rule_applied: str | None = None
    perfdata: str | None = None


@dataclass(frozen=True, slots=True)
class MetricTimeline:
    hostname: str
    service_type: str
    metric: str
    points: tuple[Point, ...]


def metric_timelines(
    session: Session,
    _principal: Principal,
    *,
    hostname: str,
    service_type: str,
    start: dt.datetime,
    end: dt.datetime,
    metric: str | None = None,
    grading: Grading | None = None,
) -> list[MetricTimeline]:
    """The timeline of each metric of `service_type` on `hostname` (or of `metric` only)
    that has a status in the window, by metric name. Under a report's `grading`, a metric
    its thresholds rules name has the timeline of its results re-graded (the stored status
    changes are the probes')."""
    known = select(col(MetricStatus.metric)).where(
        col(MetricStatus.hostname) == hostname,
        col(MetricStatus.service_type) == service_type,
    )
    if metric is not None:
        known = known.where(col(MetricStatus.metric) == metric)
    found = []
    for name in sorted(session.scalars(known)):
        if grading is not None and name in grading.rules.metrics:
            points = _graded_points(session, grading, (hostname, service_type, name), start, end)
        else:
            points = _points(session, hostname, service_type, name, start, end)
        if points:
            found.append(MetricTimeline(hostname, service_type, name, points))
    return found


def _points(
    session: Session,
    hostname: str,
    service_type: str,
    metric: str,
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[Point, ...]:
    series = (
        col(StatusChange.hostname) == hostname,
        col(StatusChange.service_type) == service_type,
        col(StatusChange.metric) == metric,
    )
    before = session.scalars(
        select(StatusChange)
        .where(*series, col(StatusChange.timestamp) < start)
        .order_by(col(StatusChange.timestamp).desc(), col(StatusChange.id).desc())
        .limit(1)
    ).first()
    inside = session.scalars(
        select(StatusChange)
        .where(*series, col(StatusChange.timestamp) >= start, col(StatusChange.timestamp) <= end)
        .order_by(col(StatusChange.timestamp), col(StatusChange.id))
    )
    points = [Point(c.timestamp, c.status) for c in ([before] if before else [])]
    points.extend(Point(c.timestamp, c.status) for c in inside)
    if points and points[-1].timestamp < end:
        points.append(Point(end, points[-1].status))
    return tuple(points)


def _graded_points(
    session: Session,
    grading: Grading,
    series: tuple[str, str, str],
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[Point, ...]:
    """`_points` from the series' results, each re-graded by `grading`: the last before
    `start`, then each one inside the window whose graded status differs from the one
    before it, then the closing point."""
    hostname, service_type, metric = series
    r = MetricResult
    where = (
        col(r.hostname) == hostname,
        col(r.service_type) == service_type,
        col(r.metric) == metric,
    )
    before = session.scalars(
        select(r)
        .where(*where, col(r.timestamp) < start)
        .order_by(col(r.timestamp).desc(), col(r.id).desc())
        .limit(1)
    ).first()
    inside = session.scalars(
        select(r)
        .where(*where, col(r.timestamp) >= start, col(r.timestamp) <= end)
        .order_by(col(r.timestamp), col(r.id))
        .limit(MAX_RESULTS)
    )
    points: list[Point] = []
    for row in [before] if before else []:
        points.append(_graded(grading, row))
    for row in inside:
        point = _graded(grading, row)
        if not points or points[-1].status != point.status:
            points.append(point)
    if points and points[-1].timestamp < end:
        points.append(Point(end, points[-1].status))
    return tuple(points)


def _graded(grading: Grading, row: MetricResult) -> Point:
    how = grading.grade(row.hostname, row.service_type, row.metric, row.status, row.perfdata)
    if how.original_status is None:
        return Point(row.timestamp, how.status)
    return Point(row.timestamp, how.status, how.original_status, how.rule_applied, row.perfdata)


def metric_timelines_of(
    session: Session,
    _principal: Principal,
    *,
    endpoints: Collection[tuple[str, str]],
    metric: str,
    start: dt.datetime,
    end: dt.datetime,
) -> list[MetricTimeline]:
    """`metric`'s timeline on each of `endpoints` (host name, service type) that has one in
    the window, in the order given; three queries whatever their number (ARGO's flat metric
    list asks for a page of endpoints at once)."""
    wanted = list(dict.fromkeys(endpoints))
    if not wanted:
        return []
    hosts = sorted({host for host, _ in wanted})
    keys = set(wanted)
    sc = StatusChange
    known = {
        (host, stype)
        for host, stype in session.execute(
            select(col(MetricStatus.hostname), col(MetricStatus.service_type)).where(
                col(MetricStatus.metric) == metric, col(MetricStatus.hostname).in_(hosts)
            )
        )
    } & keys
    if not known:
        return []
    latest = (
        select(
            col(sc.hostname).label("hostname"),
            col(sc.service_type).label("service_type"),
            func.max(col(sc.timestamp)).label("timestamp"),
        )
        .where(col(sc.metric) == metric, col(sc.hostname).in_(hosts), col(sc.timestamp) < start)
        .group_by(col(sc.hostname), col(sc.service_type))
        .subquery()
    )
    before: dict[tuple[str, str], StatusChange] = {}
    for change in session.scalars(
        select(sc)
        .join(
            latest,
            (col(sc.hostname) == latest.c.hostname)
            & (col(sc.service_type) == latest.c.service_type)
            & (col(sc.timestamp) == latest.c.timestamp),
        )
        .where(col(sc.metric) == metric)
        .order_by(col(sc.id))
    ):
        before[(change.hostname, change.service_type)] = change  # the last of equal times
    inside: dict[tuple[str, str], list[Point]] = {}
    for change in session.scalars(
        select(sc)
        .where(
            col(sc.metric) == metric,
            col(sc.hostname).in_(hosts),
            col(sc.timestamp) >= start,
            col(sc.timestamp) <= end,
        )
        .order_by(col(sc.timestamp), col(sc.id))
    ):
        inside.setdefault((change.hostname, change.service_type), []).append(
            Point(change.timestamp, change.status)
        )
    found = []
    for key in wanted:
        if key not in known:
            continue
        first = before.get(key)
        points = [Point(first.timestamp, first.status)] if first is not None else []
        points.extend(inside.get(key, []))
        if points and points[-1].timestamp < end:
            points.append(Point(end, points[-1].status))
        if points:
            found.append(MetricTimeline(key[0], key[1], metric, tuple(points)))
    return found
