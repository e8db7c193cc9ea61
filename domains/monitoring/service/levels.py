"""Live status above the metric: the day's status timelines and current status of a report's
endpoints (host + service type), services (a service type at a site), aggregation groups,
sites and NGIs, exactly as the A/R engine builds them (`availability.day_inputs` then
`engine.pipeline.compute_day`: metrics folded with `metric_operation`, downtimes the report
counts overwriting the endpoint with the profile's `defaults.down` while they last, then
services, groups, sites). There is no second way to combine statuses here.

NGIs have no status in ARGO (their A/R is a weighted mean of their sites'); here an NGI's
timeline folds its sites' with the aggregation profile's `profile_operation` (the engine's
`fold`, cell by cell in the loaded truth table): under egi_ops' AND, the worst of its sites.

Public, as ARGO's status is (the topology and downtimes it reads are public too), like
`status.endpoint_status`. Only monitored production services of the report's service types
have a status, as in the A/R job; an item with no result the day is MISSING (the profile's
`defaults.missing`), from 00:00.

Callers: the `status` query and the `status` fields of Site, Service, Endpoint and NGI
(GraphQL), ARGO's `/status/{report}/…` routes (gateway/compat/argo/status.py); a live
subscription may poll `status_levels` for the levels above the endpoint."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.time import changing_at, clock_read, utcnow
from domains.monitoring.engine.pipeline import DayOutput, compute_day
from domains.monitoring.engine.timeline import LAST_SECOND, Timeline, day_start, fold
from domains.monitoring.models.availability import ArLevel
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service.availability import Narrowing, day_inputs, report_on
from domains.monitoring.service.timelines import Point

DEFAULT_REPORT = "Critical"  # the seeded report (ARGO_MON_CRITICAL), the `status` fields' default
ALL_LEVELS: tuple[ArLevel, ...] = (
    ArLevel.ENDPOINT,
    ArLevel.SERVICE,
    ArLevel.GROUP,
    ArLevel.SITE,
    ArLevel.SUPERGROUP,
)
_ORDER = {level: rank for rank, level in enumerate(ALL_LEVELS)}


@dataclass(frozen=True, slots=True)
class LevelStatus:
    """One item's status over the day: `points` are its change points (the first at 00:00,
    none after `StatusDay.until`); `status` is the one in force at `until`."""

    level: ArLevel
    name: str  # host name, service type, group, site or NGI name, by level
    site: str  # the site of an endpoint, service or group; a site's own name; "" for an NGI
    ngi: str  # the NGI of the site (an NGI's own name)
    service_type: str  # an endpoint's service type; "" above it
    points: tuple[Point, ...]
    status: str


@dataclass(frozen=True, slots=True)
class StatusDay:
    """What `status_levels` found: the report's name, the day, the moment the timelines
    reach (now on today, 23:59:59 on a past day), the items by level, site, name."""

    report: str
    day: dt.date
    until: dt.datetime
    items: tuple[LevelStatus, ...]

    def of(self, level: ArLevel) -> list[LevelStatus]:
        return [item for item in self.items if item.level is level]


def status_levels(
    session: Session,
    principal: Principal,
    *,
    report: str,
    day: dt.date | None = None,
    now: dt.datetime | None = None,
    levels: Collection[ArLevel] = ALL_LEVELS,
    ngis: Collection[str] | None = None,
    sites: Collection[str] | None = None,
    service_types: Collection[str] | None = None,
    hostnames: Collection[str] | None = None,
) -> StatusDay:
    """The timelines of `report` (name or uuid) on `day` (default: today, up to `now`) at
    `levels`. The filters (None: any) pick the items returned, each at the levels it names:
    `ngis` at every level, `sites` at and below the site, `service_types` for services and
    endpoints, `hostnames` for endpoints; only what the returned items need is read (one
    site's endpoints for one site, an NGI's for an NGI). Invalid (`day`) for a day after
    today, (`report`) for an unknown report or profile."""
    now = now or utcnow()
    today = now.astimezone(dt.UTC).date()
    day = day or today
    if day > today:
        changing_at(now, [day_start(day)])
        raise Invalid("day", MonitoringRule.MONITORING_DAY_IN_FUTURE)
    wanted = frozenset(levels)
    version = report_on(session, report, day)
    running = day == today
    if running:  # the timelines reach `now` itself (`until`): they change every second
        clock_read()
    # a past day's timelines do not change with time: nothing read from `now` but the day
    narrowing = _narrowing(wanted, ngis, sites, service_types, hostnames)
    inputs = day_inputs(session, version, day, now if running else None, narrowing)
    out = compute_day(inputs)
    start = day_start(day)
    until = now if running else start + dt.timedelta(seconds=LAST_SECOND)
    limit = int((until - start).total_seconds())
    ngi_of = dict(inputs.topology.supergroups)

    def keep(level: ArLevel, site: str, stype: str, host: str, ngi: str) -> bool:
        if level not in wanted or (ngis is not None and ngi not in ngis):
            return False
        if level is ArLevel.SUPERGROUP:
            return True
        if sites is not None and site not in sites:
            return False
        if level in (ArLevel.SERVICE, ArLevel.ENDPOINT) and not _among(stype, service_types):
            return False
        return level is not ArLevel.ENDPOINT or _among(host, hostnames)

    items: list[LevelStatus] = []

    def add(level: ArLevel, name: str, site: str, ngi: str, stype: str, line: Timeline) -> None:
        points = tuple(
            Point(start + dt.timedelta(seconds=second), status)
            for second, status in out.named(line)
            if second <= limit
        )
        items.append(LevelStatus(level, name, site, ngi, stype, points, points[-1].status))

    for (site, stype, host), item in out.endpoints.items():
        ngi = ngi_of.get(site, "")
        if keep(ArLevel.ENDPOINT, site, stype, host, ngi):
            add(ArLevel.ENDPOINT, host, site, ngi, stype, item.timeline)
    for (site, stype), item in out.services.items():
        ngi = ngi_of.get(site, "")
        if keep(ArLevel.SERVICE, site, stype, "", ngi):
            add(ArLevel.SERVICE, stype, site, ngi, "", item.timeline)
    for (site, group), item in out.groups.items():
        ngi = ngi_of.get(site, "")
        if keep(ArLevel.GROUP, site, "", "", ngi):
            add(ArLevel.GROUP, group, site, ngi, "", item.timeline)
    for site, item in out.sites.items():
        ngi = ngi_of.get(site, "")
        if keep(ArLevel.SITE, site, "", "", ngi):
            add(ArLevel.SITE, site, site, ngi, "", item.timeline)
    if ArLevel.SUPERGROUP in wanted:
        for ngi, line in _ngi_timelines(out, ngi_of, inputs.aggregation.profile_operation):
            if keep(ArLevel.SUPERGROUP, "", "", "", ngi):
                add(ArLevel.SUPERGROUP, ngi, "", ngi, "", line)
    items.sort(key=lambda i: (_ORDER[i.level], i.ngi, i.site, i.service_type, i.name))
    return StatusDay(version.name, day, until, tuple(items))


MAX_SPAN_DAYS = 31


def status_span(
    session: Session,
    principal: Principal,
    *,
    report: str,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    levels: Collection[ArLevel] = ALL_LEVELS,
    ngis: Collection[str] | None = None,
    sites: Collection[str] | None = None,
    service_types: Collection[str] | None = None,
    hostnames: Collection[str] | None = None,
) -> list[LevelStatus]:
    """The items of `status_levels` over the window [start, end] (at most MAX_SPAN_DAYS
    days; clipped at now), each day's timeline joined to the next: the status in force at
    `start` (its change at its own time), the changes inside, and a closing point at the
    window's end with the status then, as metric timelines show (`service.timelines`) and
    ARGO's status routes answer. Invalid (`end_time`) for a reversed or too long window."""
    now = now or utcnow()
    end = min(end, now)
    if end < start:
        raise Invalid("end_time", MonitoringRule.MONITORING_PERIOD_REVERSED)
    first, last = start.astimezone(dt.UTC).date(), end.astimezone(dt.UTC).date()
    if (last - first).days >= MAX_SPAN_DAYS:
        raise Invalid("end_time", MonitoringRule.MONITORING_SPAN_TOO_LONG)
    joined: dict[tuple[ArLevel, str, str, str], tuple[LevelStatus, list[Point]]] = {}
    day = first
    while day <= last:
        found = status_levels(
            session,
            principal,
            report=report,
            day=day,
            now=now,
            levels=levels,
            ngis=ngis,
            sites=sites,
            service_types=service_types,
            hostnames=hostnames,
        )
        for item in found.items:
            key = (item.level, item.site, item.service_type, item.name)
            _, points = joined.setdefault(key, (item, []))
            for point in item.points:
                if not points or points[-1].status != point.status:
                    points.append(point)
        day += dt.timedelta(days=1)
    out = []
    for item, points in joined.values():
        before = [p for p in points if p.timestamp <= start][-1:]
        window = before + [p for p in points if start < p.timestamp <= end]
        window.append(Point(end, window[-1].status))
        out.append(
            LevelStatus(
                item.level,
                item.name,
                item.site,
                item.ngi,
                item.service_type,
                tuple(window),
                window[-1].status,
            )
        )
    return out


def _among(value: str, wanted: Collection[str] | None) -> bool:
    return wanted is None or value in wanted


def _narrowing(
    wanted: frozenset[ArLevel],
    ngis: Collection[str] | None,
    sites: Collection[str] | None,
    service_types: Collection[str] | None,
    hostnames: Collection[str] | None,
) -> Narrowing:
    """The endpoints the wanted items depend on: an NGI needs all its sites, a site or group
    all its endpoints, a service its type's endpoints at the site, an endpoint itself."""
    highest = max((_ORDER[level] for level in wanted), default=0)

    def upto(level: ArLevel, values: Collection[str] | None) -> list[str] | None:
        return None if values is None or highest > _ORDER[level] else sorted(values)

    return Narrowing(
        ngis=None if ngis is None else sorted(ngis),
        sites=upto(ArLevel.SITE, sites),
        service_types=upto(ArLevel.SERVICE, service_types),
        hostnames=upto(ArLevel.ENDPOINT, hostnames),
    )


def _ngi_timelines(
    out: DayOutput, ngi_of: dict[str, str], operation: str
) -> list[tuple[str, Timeline]]:
    members: dict[str, list[Timeline]] = {}
    for site_name, item in sorted(out.sites.items()):
        ngi_name = ngi_of.get(site_name)
        if ngi_name is not None:
            members.setdefault(ngi_name, []).append(item.timeline)
    cells = out.operations.cells(operation)
    return [(name, fold(lines, cells)) for name, lines in sorted(members.items())]


@dataclass(frozen=True, slots=True)
class EndpointLine:
    """An endpoint's status over [the first day's 00:00, `until`] as the report computes it,
    with the timelines of the metrics it folds (the report's metric profile for its type):
    what alert rules follow (`alert_evaluation`), so that they name the metrics failing."""

    hostname: str
    service_type: str
    site: str
    ngi: str
    points: tuple[Point, ...]  # each change of the endpoint's status, the first at 00:00
    metrics: dict[str, tuple[Point, ...]]
    # the loaded operations profile's `defaults` (its last day's): what a downtime and no
    # result at all are called, which alert rules treat apart from a failure
    down: str
    missing: str

    def metrics_at(self, moment: dt.datetime) -> dict[str, str]:
        """Each metric's status in force at `moment`."""
        out = {}
        for metric, points in sorted(self.metrics.items()):
            status = _in_force(points, moment)
            if status is not None:
                out[metric] = status
        return out


def _in_force(points: tuple[Point, ...], moment: dt.datetime) -> str | None:
    found = None
    for point in points:
        if point.timestamp > moment:
            break
        found = point.status
    return found


def endpoint_lines(
    session: Session,
    *,
    report: str,
    since: dt.datetime,
    until: dt.datetime,
    hostnames: Collection[str] | None = None,
    service_types: Collection[str] | None = None,
    sites: Collection[str] | None = None,
    ngis: Collection[str] | None = None,
) -> list[EndpointLine]:
    """The report's endpoints (narrowed as `status_levels` narrows) from `since`'s day to
    `until` (at most MAX_SPAN_DAYS days back from it), day by day through the A/R engine,
    the days joined. Invalid (`report`) for an unknown report or profile on a day."""
    first = max(since.astimezone(dt.UTC).date(), until.date() - dt.timedelta(MAX_SPAN_DAYS - 1))
    last = until.astimezone(dt.UTC).date()
    narrowing = Narrowing(
        ngis=None if ngis is None else sorted(ngis),
        sites=None if sites is None else sorted(sites),
        service_types=None if service_types is None else sorted(service_types),
        hostnames=None if hostnames is None else sorted(hostnames),
    )
    joined: dict[tuple[str, str, str], tuple[list[Point], dict[str, list[Point]], str]] = {}
    down = missing = ""
    day = first
    while day <= last:
        running = day == last
        inputs = day_inputs(
            session, report_on(session, report, day), day, until if running else None, narrowing
        )
        out = compute_day(inputs)
        down, missing = out.operations.defaults.down, out.operations.defaults.missing
        start = day_start(day)
        limit = int((until - start).total_seconds()) if running else LAST_SECOND
        ngi_of = dict(inputs.topology.supergroups)
        for (site, stype, host), item in out.endpoints.items():
            points, metrics, _ = joined.setdefault(
                (site, stype, host), ([], {}, ngi_of.get(site, ""))
            )
            _extend(points, _named(out, item.timeline, start, limit))
        for (site, stype, host, metric), line in out.metrics.items():
            if (site, stype, host) in joined:
                points = _named(out, line, start, limit)
                _extend(joined[(site, stype, host)][1].setdefault(metric, []), points)
        day += dt.timedelta(days=1)
    return [
        EndpointLine(
            host,
            stype,
            site,
            ngi,
            tuple(points),
            {m: tuple(p) for m, p in metrics.items()},
            down,
            missing,
        )
        for (site, stype, host), (points, metrics, ngi) in sorted(joined.items())
    ]


def _named(out: DayOutput, line: Timeline, start: dt.datetime, limit: int) -> list[Point]:
    return [
        Point(start + dt.timedelta(seconds=second), status)
        for second, status in out.named(line)
        if second <= limit
    ]


def _extend(points: list[Point], more: list[Point]) -> None:
    """A day's points after the days before: only its changes."""
    for point in more:
        if not points or points[-1].status != point.status:
            points.append(point)
