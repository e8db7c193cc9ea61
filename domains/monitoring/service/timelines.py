"""Public reads of stored metric results and of metric status timelines over a time
window, as ARGO's web API serves them (`/metric_result/…`, `/status/…/metrics`) and as
GraphQL can: results are public in EGI, so nothing here authorizes.

A metric's timeline over [start, end] is the status it had when the window opened (its
last change before `start`, at that change's own time, as ARGO shows it), the changes
inside the window, and the status it still had at `end`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.identity import Principal
from domains.monitoring.models.availability import ArLevel
from domains.monitoring.models.catalogue import Report
from domains.monitoring.models.results import MetricResult
from domains.monitoring.models.status import MetricStatus, StatusChange
from domains.monitoring.service import endpoint_info
from domains.monitoring.service.availability import Grading, grading_on

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
    return _closed(points, end)


def _graded_points(
    session: Session,
    grading: Grading,
    series: tuple[str, str, str],
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[Point, ...]:
    """`_points` from the series' results, each re-graded by `grading` (`_graded_series`)."""
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
        _add_graded(points, grading, row)
    for row in inside:
        _add_graded(points, grading, row)
    return _closed(points, end)


def _add_graded(points: list[Point], grading: Grading, row: MetricResult) -> None:
    """The result re-graded, appended when its status differs from the last point's: the
    last result before the window, then each change inside it."""
    how = grading.grade(row.hostname, row.service_type, row.metric, row.status, row.perfdata)
    if points and points[-1].status == how.status:
        return
    if how.original_status is None:
        points.append(Point(row.timestamp, how.status))
    else:
        points.append(
            Point(row.timestamp, how.status, how.original_status, how.rule_applied, row.perfdata)
        )


def _closed(points: list[Point], end: dt.datetime) -> tuple[Point, ...]:
    """The points with the closing one at `end` (the status still in force then)."""
    if points and points[-1].timestamp < end:
        points.append(Point(end, points[-1].status))
    return tuple(points)


Series = tuple[str, str]  # (host name, service type)


Row = TypeVar("Row", StatusChange, MetricResult)


def _series_rows(
    session: Session,
    model: type[Row],
    metric: str,
    hosts: list[str] | None,
    window: tuple[dt.datetime, dt.datetime],
) -> tuple[dict[Series, Row], Iterator[Row]]:
    """`metric`'s rows of `model` (status changes, or results to re-grade) on `hosts` (None:
    every host): the last before the window per series, and those inside it, streamed by
    time then id, in two statements whatever the number of hosts."""
    start, end = window
    on_hosts = () if hosts is None else (col(model.hostname).in_(hosts),)
    latest = (
        select(
            col(model.hostname).label("hostname"),
            col(model.service_type).label("service_type"),
            func.max(col(model.timestamp)).label("timestamp"),
        )
        .where(col(model.metric) == metric, *on_hosts, col(model.timestamp) < start)
        .group_by(col(model.hostname), col(model.service_type))
        .subquery()
    )
    before: dict[Series, Row] = {}
    for row in session.scalars(
        select(model)
        .join(
            latest,
            (col(model.hostname) == latest.c.hostname)
            & (col(model.service_type) == latest.c.service_type)
            & (col(model.timestamp) == latest.c.timestamp),
        )
        .where(col(model.metric) == metric)
        .order_by(col(model.id))
    ):
        before[(row.hostname, row.service_type)] = row  # the last of equal times
    inside = session.scalars(
        select(model)
        .where(
            col(model.metric) == metric,
            *on_hosts,
            col(model.timestamp) >= start,
            col(model.timestamp) <= end,
        )
        .order_by(col(model.timestamp), col(model.id))
        .execution_options(yield_per=1000)
    )
    return before, iter(inside)


def metric_timelines_of(
    session: Session,
    _principal: Principal,
    *,
    endpoints: Collection[tuple[str, str]],
    metric: str,
    start: dt.datetime,
    end: dt.datetime,
    grading: Grading | None = None,
) -> list[MetricTimeline]:
    """`metric`'s timeline on each of `endpoints` (host name, service type) that has one in
    the window, in the order given; three statements whatever their number (ARGO's flat
    metric list asks for a page of endpoints at once). Under a report's `grading` whose
    rules name `metric`, the timelines are those of its results re-graded, as
    `metric_timelines` gives them (every result of the window is read then, streamed:
    only the graded changes are kept)."""
    wanted = list(dict.fromkeys(endpoints))
    if not wanted:
        return []
    hosts = sorted({host for host, _ in wanted})
    known = {
        (host, stype)
        for host, stype in session.execute(
            select(col(MetricStatus.hostname), col(MetricStatus.service_type)).where(
                col(MetricStatus.metric) == metric, col(MetricStatus.hostname).in_(hosts)
            )
        )
    } & set(wanted)
    if not known:
        return []
    points: dict[Series, list[Point]] = {key: [] for key in known}
    if grading is not None and metric in grading.rules.metrics:
        before, inside = _series_rows(session, MetricResult, metric, hosts, (start, end))
        for key, result in before.items():
            if key in points:
                _add_graded(points[key], grading, result)
        for result in inside:
            key = (result.hostname, result.service_type)
            if key in points:
                _add_graded(points[key], grading, result)
    else:
        changes, after = _series_rows(session, StatusChange, metric, hosts, (start, end))
        for key, change in changes.items():
            if key in points:
                points[key].append(Point(change.timestamp, change.status))
        for change in after:
            key = (change.hostname, change.service_type)
            if key in points:
                points[key].append(Point(change.timestamp, change.status))
    found = []
    for key in wanted:
        line = _closed(points[key], end) if key in points else ()
        if line:
            found.append(MetricTimeline(key[0], key[1], metric, line))
    return found


class Leveled(Protocol):
    """An item of a report's status timelines (`levels.LevelStatus`)."""

    @property
    def level(self) -> ArLevel: ...
    @property
    def name(self) -> str: ...
    @property
    def site(self) -> str: ...
    @property
    def service_type(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ThresholdMarks:
    """ARGO's `has_threshold_rule` of the report's timelines over a window (its web API's
    `affected_by_threshold_rule`): the endpoints (host name, service type) on which the
    report's thresholds changed the status of a result of the window (or of the one in
    force when it opened), and the services (site, service type) and sites they belong
    to, which inherit the flag as ARGO's batch job passes it up (`CalcEndpointTimeline`:
    any metric timeline's `hasThr`)."""

    endpoints: frozenset[Series] = frozenset()
    services: frozenset[tuple[str, str]] = frozenset()
    sites: frozenset[str] = frozenset()

    def of(self, item: Leveled) -> bool:
        if item.level is ArLevel.ENDPOINT:
            return (item.name, item.service_type) in self.endpoints
        if item.level is ArLevel.SERVICE:
            return (item.site, item.name) in self.services
        return item.level is ArLevel.SITE and item.name in self.sites


def threshold_marks(
    session: Session,
    principal: Principal,
    *,
    report: Report,
    start: dt.datetime,
    end: dt.datetime,
) -> ThresholdMarks:
    """The report's ThresholdMarks over [start, end], under the thresholds valid on the
    window's last day (as the metric view grades); none without thresholds rules. Two
    statements per metric the rules name, the results streamed."""
    infos = endpoint_info.endpoint_info(session, principal)
    grading = grading_on(
        session,
        report,
        end.astimezone(dt.UTC).date(),
        {key: info.site for key, info in infos.items()},
    )
    if grading is None:
        return ThresholdMarks()
    affected: set[Series] = set()
    for metric in sorted(grading.rules.metrics):
        before, inside = _series_rows(session, MetricResult, metric, None, (start, end))
        for row in chain(before.values(), inside):
            key = (row.hostname, row.service_type)
            if key not in affected and _regraded(grading, row):
                affected.add(key)
    sites = {key: infos[key].site for key in affected if key in infos}
    return ThresholdMarks(
        frozenset(affected),
        frozenset((site, stype) for (_, stype), site in sites.items()),
        frozenset(sites.values()),
    )


def _regraded(grading: Grading, row: MetricResult) -> bool:
    how = grading.grade(row.hostname, row.service_type, row.metric, row.status, row.perfdata)
    return how.original_status is not None
