"""Status changes as a stream reads them: the StatusChange rows ingestion wrote (increasing
id), each with the site and NGI of its endpoint, after a cursor and through a filter.

Each read is one indexed query (a range of the primary key, joined to the topology by the
service's host name), run in a transaction of its own by the caller, so a stream works the
same on every replica. On PostgreSQL an ingest still in flight may commit a lower id after a
higher one is visible: the cursor hands out every row as soon as it is read, remembers the
ids it skipped over as gaps, and reads them again with the next rows for as long as the
alert evaluation waits for a gap (`alert_evaluation.GAP_GRACE`), then gives them up.

With a `LevelTracker` (a filter naming levels above the metric), each read that brought
metric changes also tells the changes they made to the status of their endpoints, services,
sites and NGIs in each report (`service.level_changes`), after the metric events, with the
id of the last change read (the point to resume after). The rows that mark a downtime's
moment (metric `DOWNTIME_MOMENT`, `service.downtime_moments`) are read the same way: no
metric event of their own, but their endpoints' levels computed again at their time.

Public, as metricStatuses and endpointStatus are (ARGO's status is public in EGI, and so is
the topology that names the sites and NGIs): every caller, anonymous too, sees every change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Table, and_, func, or_, select
from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.time import utcnow
from domains.monitoring.models.results import NAME_MAX
from domains.monitoring.models.status import DOWNTIME_MOMENT, StatusChange
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service.alert_evaluation import GAP_GRACE
from domains.monitoring.service.level_changes import (
    LevelChange,
    LevelTracker,
    StatusLevel,
    level_changes,
)
from domains.monitoring.service.results import REPORTED_STATUSES
from domains.topology.models import Ngi, Service, ServiceType, Site

T_CHANGE: Table = StatusChange.__table__  # type: ignore[attr-defined]
T_SERVICE: Table = Service.__table__  # type: ignore[attr-defined]
T_TYPE: Table = ServiceType.__table__  # type: ignore[attr-defined]
T_SITE: Table = Site.__table__  # type: ignore[attr-defined]
T_NGI: Table = Ngi.__table__  # type: ignore[attr-defined]

FILTER_VALUES_MAX = 100
READ_LIMIT = 500  # changes per read: a stream reads again at once after a full one
GAPS_MAX = 50  # id ranges a cursor looks back at, the newest
LEVEL_STATUSES = (*REPORTED_STATUSES, "MISSING", "DOWNTIME")  # above the metric too


@dataclass(frozen=True, slots=True)
class ChangeFilter:
    """Each condition left None matches everything; conditions combine with AND. Site and
    NGI hold when one registered service of the endpoint is at such a site (an endpoint the
    topology no longer has matches no site or NGI condition)."""

    sites: tuple[str, ...] | None = None
    ngis: tuple[str, ...] | None = None
    service_types: tuple[str, ...] | None = None
    hosts: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    levels: tuple[StatusLevel, ...] | None = None  # None: the metric's only
    reports: tuple[str, ...] | None = None  # of the events above the metric

    @property
    def wanted_levels(self) -> frozenset[StatusLevel]:
        return frozenset(self.levels or (StatusLevel.METRIC,))

    def check(self, prefix: str = "filter") -> None:
        """Invalid, naming the condition (`filter.site`), for a list that is empty or too
        long, a name that is empty or too long, or a status no event of the filter's levels
        has (results report OK, WARNING, CRITICAL, UNKNOWN; above the metric MISSING and
        DOWNTIME too)."""
        above = self.wanted_levels != {StatusLevel.METRIC}
        for name, values in (
            ("site", self.sites),
            ("ngi", self.ngis),
            ("serviceType", self.service_types),
            ("hostname", self.hosts),
            ("metric", self.metrics),
            ("status", self.statuses),
            ("level", self.levels),
            ("report", self.reports),
        ):
            if values is None:
                continue
            where = f"{prefix}.{name}"
            if not 1 <= len(values) <= FILTER_VALUES_MAX:
                raise Invalid(where, MonitoringRule.STATUS_FILTER_VALUE_COUNT)
            for value in values:
                if name == "status":
                    if value not in (LEVEL_STATUSES if above else REPORTED_STATUSES):
                        raise Invalid(where, MonitoringRule.STATUS_FILTER_STATUS_UNKNOWN)
                elif not value or len(value) > NAME_MAX:
                    raise Invalid(where, MonitoringRule.STATUS_FILTER_NAME_INVALID)

    def admits_level(self, change: LevelChange) -> bool:
        """The conditions on a change above the metric: each condition on a field the
        change's level has (a host name for an endpoint, a service type for an endpoint or a
        service, a site below the NGI); `metric` holds for none of them."""
        level = change.level
        return (
            level in self.wanted_levels
            and (self.reports is None or change.report in self.reports)
            and (self.statuses is None or change.status in self.statuses)
            and (self.ngis is None or change.ngi in self.ngis)
            and (self.sites is None or change.site in self.sites)
            and (
                self.hosts is None or level is not StatusLevel.ENDPOINT or change.name in self.hosts
            )
            and (
                self.service_types is None
                or change.service_type is None
                or change.service_type in self.service_types
            )
            and self.metrics is None
        )

    def admits(self, change: Sequence[object]) -> bool:
        """The conditions on the change itself (not its place): host, type, metric, status."""
        _id, _at, host, stype, metric, status = change[:6]
        return (
            (self.hosts is None or host in self.hosts)
            and (self.service_types is None or stype in self.service_types)
            and (self.metrics is None or metric in self.metrics)
            and (self.statuses is None or status in self.statuses)
        )

    def place(self, places: Sequence[tuple[str, str]]) -> tuple[str | None, str | None] | None:
        """The (site, NGI) the event names: the first of the endpoint's places the site and
        NGI conditions admit; (None, None) for an unregistered endpoint when there are no
        such conditions; None when the change does not match."""
        for site, ngi in places:
            if (self.sites is None or site in self.sites) and (
                self.ngis is None or ngi in self.ngis
            ):
                return site, ngi
        if not places and self.sites is None and self.ngis is None:
            return None, None
        return None


@dataclass(frozen=True, slots=True)
class StatusChangeEvent:
    id: int  # increasing: a resume point
    timestamp: dt.datetime  # the result's
    hostname: str
    service_type: str
    metric: str
    status: str
    previous_status: str | None
    summary: str | None
    site: str | None  # None: the topology does not register the endpoint (any more)
    ngi: str | None
    level: StatusLevel = StatusLevel.METRIC
    name: str = ""  # the metric, host name, service type, site or NGI, by level
    report: str | None = None  # the report of an event above the metric

    @classmethod
    def of_level(cls, change_id: int, change: LevelChange) -> StatusChangeEvent:
        """An event above the metric: host name, service type and metric as far as the
        level has them ("" if not)."""
        return cls(
            id=change_id,
            timestamp=change.timestamp,
            hostname=change.name if change.level is StatusLevel.ENDPOINT else "",
            service_type=change.service_type or "",
            metric="",
            status=change.status,
            previous_status=change.previous_status,
            summary=None,
            site=change.site,
            ngi=change.ngi,
            level=change.level,
            name=change.name,
            report=change.report,
        )


@dataclass(frozen=True, slots=True)
class Gap:
    first: int
    last: int
    seen_at: dt.datetime  # when the reader first skipped over it


@dataclass(slots=True)
class ChangeCursor:
    """Where a reader stands: every change up to `high` was read (handed out, or it did not
    match) but for the `gaps`, ids still in flight (or rolled back) when it read past them."""

    high: int
    gaps: list[Gap] = field(default_factory=list)

    def condition(self) -> ColumnElement[bool]:
        after = T_CHANGE.c.id > self.high
        if not self.gaps:
            return after
        return or_(after, *(T_CHANGE.c.id.between(g.first, g.last) for g in self.gaps))

    def advance(self, ids: Sequence[int], now: dt.datetime) -> None:
        """Take the ids just read (ascending): fill the gaps they were in, open gaps for
        what they skip over above `high`, forget gaps older than GAP_GRACE."""
        gaps = [g for g in self.gaps if now - g.seen_at < GAP_GRACE]
        previous = self.high
        for i in ids:
            if i <= self.high:
                gaps = [part for g in gaps for part in _without(g, i)]
                continue
            if i > previous + 1:
                gaps.append(Gap(previous + 1, i - 1, now))
            previous = i
        self.high = previous
        self.gaps = gaps[-GAPS_MAX:]


def _without(gap: Gap, i: int) -> list[Gap]:
    if not gap.first <= i <= gap.last:
        return [gap]
    parts = [Gap(gap.first, i - 1, gap.seen_at), Gap(i + 1, gap.last, gap.seen_at)]
    return [p for p in parts if p.first <= p.last]


def last_change_id(session: Session, principal: Principal) -> int:
    """Where a stream that wants only what comes next starts."""
    return int(session.execute(select(func.max(T_CHANGE.c.id))).scalar() or 0)


def read_changes(
    session: Session,
    principal: Principal,
    *,
    cursor: ChangeCursor,
    filter: ChangeFilter,
    now: dt.datetime | None = None,
    limit: int = READ_LIMIT,
    tracker: LevelTracker | None = None,
) -> tuple[list[StatusChangeEvent], bool]:
    """The matching changes after the cursor, oldest first, each once, and whether the read
    was full (more may be waiting); moves the cursor. With a `tracker`, the changes the
    metric changes read made above the metric follow (`service.level_changes`). Public:
    `principal` is not asked."""
    now = now or utcnow()
    changes = (
        select(
            T_CHANGE.c.id,
            T_CHANGE.c.timestamp,
            T_CHANGE.c.hostname,
            T_CHANGE.c.service_type,
            T_CHANGE.c.metric,
            T_CHANGE.c.status,
            T_CHANGE.c.previous_status,
            T_CHANGE.c.summary,
        )
        .where(cursor.condition())
        .order_by(T_CHANGE.c.id)
        .limit(limit)
        .subquery("c")
    )
    places = (
        T_SERVICE.join(T_TYPE, T_TYPE.c.id == T_SERVICE.c.service_type_id)
        .join(T_SITE, T_SITE.c.id == T_SERVICE.c.site_id)
        .join(T_NGI, T_NGI.c.id == T_SITE.c.ngi_id)
    )
    rows = session.execute(
        select(*changes.c, T_SITE.c.short_name, T_NGI.c.name)
        .select_from(
            changes.outerjoin(
                places,
                and_(
                    T_SERVICE.c.host_name == changes.c.hostname,
                    T_TYPE.c.name == changes.c.service_type,
                ),
            )
        )
        .order_by(changes.c.id, T_SERVICE.c.id)
    ).all()
    by_id: dict[int, tuple[Sequence[object], list[tuple[str, str]]]] = {}
    for row in rows:
        entry = by_id.setdefault(int(row[0]), (row[:8], []))
        if row[8] is not None:
            entry[1].append((str(row[8]), str(row[9])))
    found: list[StatusChangeEvent] = []
    metric_level = StatusLevel.METRIC in filter.wanted_levels
    for change_id, (change, where) in by_id.items():
        if not metric_level or change[4] == DOWNTIME_MOMENT or not filter.admits(change):
            continue
        place = filter.place(where)
        if place is None:
            continue
        _id, at, host, stype, metric, status, previous, summary = change
        found.append(
            StatusChangeEvent(
                id=change_id,
                timestamp=at,  # type: ignore[arg-type]
                hostname=str(host),
                service_type=str(stype),
                metric=str(metric),
                status=str(status),
                previous_status=None if previous is None else str(previous),
                summary=None if summary is None else str(summary),
                site=place[0],
                ngi=place[1],
                name=str(metric),
            )
        )
    if tracker is not None and by_id:
        touched = {
            (site, ngi)
            for _, where in by_id.values()
            for site, ngi in where
            if (filter.sites is None or site in filter.sites)
            and (filter.ngis is None or ngi in filter.ngis)
        }
        since = min(_aware(change[1]) for change, _ in by_id.values())
        last_id = max(by_id)
        found.extend(
            StatusChangeEvent.of_level(last_id, change)
            for change in level_changes(
                session,
                principal,
                tracker=tracker,
                places=touched,
                since=since,
                now=now,
                reports=filter.reports,
            )
            if filter.admits_level(change)
        )
    cursor.advance(list(by_id), now)
    return found, len(by_id) >= limit


def _aware(moment: object) -> dt.datetime:
    assert isinstance(moment, dt.datetime)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
