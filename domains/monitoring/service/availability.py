"""Daily availability/reliability from what the database holds, through the pure engine
(`domains.monitoring.engine`), and its queries.

`compute_report_day(session, report, day)` is one independent, idempotent task: it reads the
report's profiles valid that day (the latest version dated on or before it), the monitored
production services of the topology (a service is ARGO's endpoint: host name + service
type; its site and NGI), the day's metric results and the previous day's last one per
metric, and the downtimes that the report counts (ARGO's EGI behaviour by default: OUTAGE
and SCHEDULED; the report's flags add UNSCHEDULED and WARNING ones); then replaces that
(report, day)'s rows of `DailyAvailability`.

`availability(...)` answers daily, monthly and custom periods from the stored days with
argo-web-api's formulas (`engine.periods`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.db import copy_rows
from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS
from domains.common.outbox import OutboxEvent, emit, on_event
from domains.common.time import utcnow
from domains.downtimes import service as downtimes
from domains.downtimes.models import Classification, Severity
from domains.monitoring.engine.aggregation import AggregationSpec
from domains.monitoring.engine.integrate import DailyAR
from domains.monitoring.engine.operations import OperationsTable, ProfileError
from domains.monitoring.engine.pipeline import (
    DayInputs,
    DayOutput,
    Endpoint,
    MetricExclusion,
    MetricKey,
    Period,
    Recomputations,
    Result,
    SiteExclusion,
    SourceExclusion,
    StatusChange,
    Topology,
    compute_day,
)
from domains.monitoring.engine.thresholds import Graded, ThresholdRules
from domains.monitoring.engine.timeline import day_start, second_of
from domains.monitoring.models import (
    AggregationProfile,
    ArLevel,
    DailyAvailability,
    MetricProfile,
    MetricResult,
    OperationsProfile,
    Recomputation,
    RecomputeDay,
    Report,
    ThresholdsProfile,
    Weights,
)
from domains.monitoring.models.recomputations import APPLIED
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service.catalogue import (
    AVAILABILITY_REQUESTED as AVAILABILITY_REQUESTED,
)
from domains.monitoring.service.catalogue import (
    metric_services,
    report_named,
    valid_on,
)
from domains.monitoring.service.change_points import T_RESULT, day_changes, day_statement
from domains.topology.service import T_NGI, T_SERVICE, T_SERVICE_TYPE, T_SITE

log = logging.getLogger("opsgraph.monitoring.availability")

COMPUTE_HANDLER = "monitoring.compute_availability"
V = TypeVar("V", Report, MetricProfile, OperationsProfile, AggregationProfile, Weights)
GRANULARITIES = ("daily", "monthly", "custom")
ONE_DAY = dt.timedelta(days=1)
NO_RECOMPUTATIONS = Recomputations()


def report_on(session: Session, report: str, day: dt.date) -> Report:
    """A report by uuid or name, in its version valid on `day` (the catalogue's
    `report_named`); Invalid naming `report` when there is none."""
    found = report_named(session, report, day)
    if found is None:
        raise Invalid("report", MonitoringRule.MONITORING_REPORT_UNKNOWN)
    return found


def _profile(session: Session, model: type[V], report: Report, uuid: str | None, day: dt.date) -> V:
    found = None if uuid is None else valid_on(session, model, day, uuid=uuid)
    if found is None:
        raise Invalid("report", MonitoringRule.MONITORING_PROFILE_UNKNOWN)
    return found


def _weights(session: Session, report: Report, day: dt.date) -> dict[str, float]:
    if report.weights_uuid is None:
        return {}
    found = valid_on(session, Weights, day, uuid=report.weights_uuid)
    if found is None:
        return {}
    out: dict[str, float] = {}
    for group in found.document.get("groups", []):
        try:
            out[str(group["name"])] = float(group["value"])
        except (KeyError, TypeError, ValueError):
            continue
    return out


@dataclass(frozen=True, slots=True)
class _Service:
    id: int
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class Narrowing:
    """Which part of the topology a computation reads (None: any): the endpoints of these
    NGIs, sites, service types and host names. The A/R job reads everything; a status
    query of one site reads that site's endpoints only (`service.levels`)."""

    ngis: Sequence[str] | None = None
    sites: Sequence[str] | None = None
    service_types: Sequence[str] | None = None
    hostnames: Sequence[str] | None = None


EVERYTHING = Narrowing()


def _services(
    session: Session, service_types: Sequence[str], narrowing: Narrowing = EVERYTHING
) -> tuple[list[_Service], dict[str, str]]:
    s, st, site, ngi = T_SERVICE.c, T_SERVICE_TYPE.c, T_SITE.c, T_NGI.c
    query = (
        select(s.id, s.host_name, st.name, site.short_name, ngi.name)
        .select_from(
            T_SERVICE.join(T_SERVICE_TYPE, st.id == s.service_type_id)
            .join(T_SITE, site.id == s.site_id)
            .join(T_NGI, ngi.id == site.ngi_id)
        )
        .where(s.monitored.is_(True), s.production.is_(True), st.name.in_(list(service_types)))
    )
    for column, wanted in (
        (ngi.name, narrowing.ngis),
        (site.short_name, narrowing.sites),
        (st.name, narrowing.service_types),
        (s.host_name, narrowing.hostnames),
    ):
        if wanted is not None:
            query = query.where(column.in_(list(wanted)))
    rows = session.execute(query.order_by(site.short_name, st.name, s.host_name)).all()
    services = [_Service(int(i), Endpoint(str(h), str(t), str(si))) for i, h, t, si, _ in rows]
    return services, {str(si): str(n) for _, _, _, si, n in rows}


@dataclass(frozen=True, slots=True)
class Grading:
    """A report's thresholds profile on one day (`engine.thresholds`), with the endpoint
    group (site) of each endpoint that rules naming a group are matched against."""

    rules: ThresholdRules
    groups: Mapping[tuple[str, str], str]  # (host, service type) -> site

    def grade(
        self, host: str, service_type: str, metric: str, status: str, perfdata: str | None
    ) -> Graded:
        group = self.groups.get((host, service_type), "")
        return self.rules.grade(group, host, metric, status, perfdata)


def thresholds_on(
    session: Session, report: Report, day: dt.date, operations: OperationsTable
) -> ThresholdRules | None:
    """The rules of the report's thresholds profile in its version valid on `day`, as the
    other profiles are resolved; None without a profile, a version that day or a rule."""
    if report.thresholds_profile_uuid is None:
        return None
    found = valid_on(session, ThresholdsProfile, day, uuid=report.thresholds_profile_uuid)
    if found is None:
        return None
    rules = ThresholdRules.from_argo(found.document, operations)
    return rules if rules.rules else None


def grading_on(
    session: Session, report: Report, day: dt.date, groups: Mapping[tuple[str, str], str]
) -> Grading | None:
    """The report's `Grading` on `day` (its operations and thresholds profiles valid that
    day), None when it has no thresholds rules (or no operations profile) then."""
    if report.thresholds_profile_uuid is None or report.operations_profile_uuid is None:
        return None
    ops_row = valid_on(session, OperationsProfile, day, uuid=report.operations_profile_uuid)
    if ops_row is None:
        return None
    rules = thresholds_on(session, report, day, OperationsTable.from_argo(ops_row.document))
    return None if rules is None else Grading(rules, groups)


def day_results(
    session: Session,
    service_types: Sequence[str],
    day: dt.date,
    *,
    hosts: Sequence[str] | None = None,
    recomputations: Recomputations = NO_RECOMPUTATIONS,
    grading: Grading | None = None,
) -> tuple[dict[MetricKey, list[Result]], dict[MetricKey, str]]:
    """The day's results of these service types (of these host names only, read in batches
    of 1000) per series (host, type, metric), and the status of the previous day's last
    result per series that no excluded monitoring source published (the 00:00 seed), in one
    statement per batch.

    Only what changes a metric timeline comes back: a result whose status equals the one
    before it in its series (by time, then id) is left in the database, since the status in
    force at every second stays the same without it (the engine's `metric_timeline` keeps
    the later of two results in one second, and `optimize` drops repeats); the day's first
    result is compared with the seed likewise. They are read from the change points that
    ingestion keeps (`service/change_points.py`: each series' first result of a day and its
    changes, ~10 % of the results), by time, and compared here per series, which keeps
    the rows `day_statement`'s window keeps over the points or the results. While
    `recomputations` exclude a monitoring source, a dropped repeat could be the one that
    counts: every result of both days comes back then, read from the results.

    With a `grading` (the report's thresholds), the statuses are those the rules give:
    the rows of the metrics a rule names are read whole, with their perfdata, re-graded
    here, and only then compared with the one before (the raw statuses SQL compares are
    not the ones that count); the other metrics keep the fast path above."""
    start = day_start(day)
    every = bool(recomputations.sources)
    collation = None
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # two days' rows are sorted (by time, or by series for every raw result): in
        # memory rather than on disk (this transaction only), series by bytes rather than
        # the database's locale (a third of that statement's time; grouping needs only
        # equality)
        session.execute(text("SET LOCAL work_mem = '128MB'"))
        collation = "C"
    results: dict[MetricKey, list[Result]] = defaultdict(list)
    previous: dict[MetricKey, str] = {}
    batches = [None] if hosts is None else [hosts[i : i + 1000] for i in range(0, len(hosts), 1000)]
    graded = None if grading is None else sorted(grading.rules.metrics)
    for batch in batches:
        if grading is not None and graded:
            _graded_rows(
                session,
                (service_types, start, batch, graded),
                grading,
                recomputations,
                (results, previous),
            )
        if not every:
            day_changes(
                session, (service_types, start, batch, graded), postgres, (results, previous)
            )
            continue
        # fetched whole (`all`: one fetchall, where iterating fetched row by row, a third
        # of the reads' time in Python), as Core rows (no ORM loading of each)
        statement = day_statement(
            service_types,
            start,
            batch,
            every=True,
            without=graded,
            table=T_RESULT,
            collation=collation,
        )
        for host, stype, metric, ts, status, source in (
            session.connection().execute(statement).all()
        ):
            if ts >= start:
                results[(host, stype, metric)].append(
                    Result(second_of(ts, start), status, source or "")
                )
            elif not recomputations.source_excluded(source or "", ts):
                previous[(host, stype, metric)] = status
    return results, previous


def _graded_rows(
    session: Session,
    scope: tuple[Sequence[str], dt.datetime, Sequence[str] | None, Sequence[str]],
    grading: Grading,
    recomputations: Recomputations,
    into: tuple[dict[MetricKey, list[Result]], dict[MetricKey, str]],
) -> None:
    """The two days' rows of the graded metrics of a batch, re-graded, then kept as
    `day_results` keeps the others: the seed and the day's changes (every row while a
    monitoring source is excluded)."""
    service_types, start, hosts, metrics = scope
    results, previous = into
    every = bool(recomputations.sources)
    r = MetricResult.__table__.c  # type: ignore[attr-defined]
    query = select(
        r.hostname, r.service_type, r.metric, r.timestamp, r.status, r.monitoring_host, r.perfdata
    ).where(
        r.timestamp >= start - ONE_DAY,
        r.timestamp < start + ONE_DAY,
        r.service_type.in_(list(service_types)),
        r.metric.in_(list(metrics)),
    )
    if hosts is not None:
        query = query.where(r.hostname.in_(list(hosts)))
    last: dict[MetricKey, str] = {}
    for host, stype, metric, ts, raw, source, perfdata in session.execute(
        query.order_by(r.timestamp, r.id)
    ):
        key = (host, stype, metric)
        status = grading.grade(host, stype, metric, raw, perfdata).status
        if ts >= start:
            if every or last.get(key) != status:
                results[key].append(Result(second_of(ts, start), status, source or ""))
        elif not every or not recomputations.source_excluded(source or "", ts):
            previous[key] = status
        last[key] = status


def _downtimes(
    session: Session, report: Report, services: Sequence[_Service], start: dt.datetime
) -> dict[tuple[str, str], list[Period]]:
    severities = {Severity.OUTAGE} | ({Severity.WARNING} if report.downtimes_warning else set())
    classes = {Classification.SCHEDULED} | (
        {Classification.UNSCHEDULED} if report.downtimes_unscheduled else set()
    )
    by_id = {s.id: s.endpoint for s in services}
    end = start + ONE_DAY
    out: dict[tuple[str, str], list[Period]] = {}
    rows = downtimes.downtimes_of_services(session, ANONYMOUS, list(by_id))
    for service_id, found in rows.items():
        ep = by_id[service_id]
        for row in found:
            if row.severity not in severities or row.classification not in classes:
                continue
            ends = downtimes.effective_end(row.ends_at, row.service_ended_at)
            if row.starts_at < end and ends > start:
                out.setdefault((ep.hostname, ep.service), []).append(Period(row.starts_at, ends))
    return out


def _zulu(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def recomputations_on(session: Session, report_uuid: str, day: dt.date) -> Recomputations:
    """The report's applied recomputations (approved, running or done; not pending or
    rejected) that touch `day` or the day before (whose last result,
    unless an excluded source published it, seeds the day), for the engine: excluded sites
    over the recomputation's period, excluded metrics (EXCLUDED) likewise, excluded
    monitoring sources over their own periods, status changes over theirs or its."""
    start = day_start(day)
    r = Recomputation
    rows = session.scalars(
        select(r)
        .where(
            col(r.report_uuid) == report_uuid,
            col(r.span_start) < start + ONE_DAY,
            col(r.span_end) >= start - ONE_DAY,
            col(r.status).in_(sorted(APPLIED)),
        )
        .order_by(col(r.id))
    ).all()
    sites: list[SiteExclusion] = []
    metrics: list[MetricExclusion] = []
    sources: list[SourceExclusion] = []
    changes: list[StatusChange] = []
    for row in rows:
        period = Period(row.start_time, row.end_time)
        sites.extend(SiteExclusion(site, period) for site in row.exclude)
        metrics.extend(
            MetricExclusion(
                m["metric"], period, m.get("group"), m.get("service"), m.get("hostname")
            )
            for m in row.exclude_metrics
        )
        sources.extend(
            SourceExclusion(s["host"], Period(_zulu(s["start_time"]), _zulu(s["end_time"])))
            for s in row.exclude_monitoring_source
        )
        changes.extend(
            StatusChange(
                c["state"],
                Period(_zulu(c["start_time"]), _zulu(c["end_time"]))
                if "start_time" in c
                else period,
                c.get("group"),
                c.get("service"),
                c.get("endpoint"),
                c.get("metric"),
            )
            for c in row.applied_status_changes
        )
    return Recomputations(tuple(sites), tuple(metrics), tuple(sources), tuple(changes))


def day_inputs(
    session: Session,
    report: Report,
    day: dt.date,
    now: dt.datetime | None,
    narrowing: Narrowing = EVERYTHING,
) -> DayInputs:
    """Everything the engine needs for (report, day), read from the database (of the
    endpoints `narrowing` selects only)."""
    ops_row = _profile(session, OperationsProfile, report, report.operations_profile_uuid, day)
    agg_row = _profile(session, AggregationProfile, report, report.aggregation_profile_uuid, day)
    mp_row = _profile(session, MetricProfile, report, report.metric_profile_uuid, day)
    operations = OperationsTable.from_argo(ops_row.document)
    aggregation = AggregationSpec.from_argo(agg_row.document)
    profile = metric_services(session, mp_row)
    stypes = sorted(profile)
    services, supergroups = _services(session, stypes, narrowing)
    hosts = None if narrowing == EVERYTHING else sorted({s.endpoint.hostname for s in services})
    start = day_start(day)
    recomputations = recomputations_on(session, report.uuid, day)
    rules = thresholds_on(session, report, day, operations)
    grading = None
    if rules is not None:
        groups: dict[tuple[str, str], str] = {}
        for s in services:  # a host in two sites: the first by name (one series per host)
            groups.setdefault((s.endpoint.hostname, s.endpoint.service), s.endpoint.site)
        grading = Grading(rules, groups)
    results, previous = day_results(
        session, stypes, day, hosts=hosts, recomputations=recomputations, grading=grading
    )
    return DayInputs(
        day=day,
        operations=operations,
        aggregation=aggregation,
        metric_profile=profile,
        topology=Topology(tuple(s.endpoint for s in services), supergroups),
        results=results,
        previous=previous,
        downtimes=_downtimes(session, report, services, start),
        recomputations=recomputations,
        weights=_weights(session, report, day),
        now=now,
    )


T_DAILY = DailyAvailability.__table__  # type: ignore[attr-defined]
_DAILY_COLUMNS = (
    "report_uuid",
    "day",
    "level",
    "parent",
    "service",
    "name",
    "availability",
    "reliability",
    "up",
    "unknown",
    "down",
    "weight",
    "computed_at",
)


def _rows(
    report_uuid: str, day: dt.date, out: DayOutput, inputs: DayInputs
) -> list[tuple[Any, ...]]:
    """The day's `DailyAvailability` rows, in `_DAILY_COLUMNS`' order (levels by value)."""
    now = utcnow()
    rows: list[tuple[Any, ...]] = []

    def add(
        level: ArLevel, parent: str, service: str, name: str, ar: DailyAR, weight: float = 0.0
    ) -> None:
        rows.append(
            (
                report_uuid,
                day,
                level.value,
                parent,
                service,
                name,
                ar.availability,
                ar.reliability,
                ar.up,
                ar.unknown,
                ar.down,
                weight,
                now,
            )
        )

    for (site, stype, host), item in out.endpoints.items():
        add(ArLevel.ENDPOINT, site, stype, host, item.ar)
    for (site, stype), item in out.services.items():
        add(ArLevel.SERVICE, site, "", stype, item.ar)
    for (site, group), item in out.groups.items():
        add(ArLevel.GROUP, site, "", group, item.ar)
    for site, item in out.sites.items():
        ngi = inputs.topology.supergroups.get(site, "")
        add(ArLevel.SITE, ngi, "", site, item.ar, inputs.weights.get(site, 0.0))
    for ngi, value in out.supergroups.items():
        level = ArLevel.SUPERGROUP.value
        ar = (value.availability, value.reliability, None, None, None)
        rows.append((report_uuid, day, level, "", "", ngi, *ar, 0.0, now))
    return rows


def compute_report_day(
    session: Session, report: str, day: dt.date, *, now: dt.datetime | None = None
) -> int:
    """Compute (report, day) and replace its stored rows; the number of rows written. The
    day's results must be in: a day still running is computed up to `now` (default: the
    current time, when the day is today)."""
    version = report_on(session, report, day)
    if now is None and day >= utcnow().date():
        now = utcnow()
    inputs = day_inputs(session, version, day, now)
    out = compute_day(inputs)
    rows = _rows(version.uuid, day, out, inputs)
    session.execute(
        delete(DailyAvailability).where(
            col(DailyAvailability.report_uuid) == version.uuid, col(DailyAvailability.day) == day
        )
    )
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        # one COPY: the pipelined INSERT per row was ~15 % of a day's time
        copy_rows(session, T_DAILY.name, _DAILY_COLUMNS, rows)
    else:
        session.execute(insert(T_DAILY), [dict(zip(_DAILY_COLUMNS, r, strict=True)) for r in rows])
    return len(rows)


def request_availability(session: Session, report_uuid: str, day: dt.date) -> None:
    """Ask the workers to compute (report, day): an outbox event, so that each (report, day)
    is one message any worker may take (`compute_requested`)."""
    emit(session, AVAILABILITY_REQUESTED, {"report": report_uuid, "day": day.isoformat()})


@on_event(AVAILABILITY_REQUESTED, COMPUTE_HANDLER)
def compute_requested(session: Session, event: OutboxEvent) -> None:
    """The handler of a request: computes it; a report or profile that does not hold that
    day is logged and skipped (retrying would not change it)."""
    report, day = str(event.payload["report"]), dt.date.fromisoformat(event.payload["day"])
    try:
        compute_report_day(session, report, day)
    except (Invalid, ProfileError) as problem:
        log.warning("availability of %s on %s not computed: %s", report, day, problem)


def schedule_availability(session: Session, *, now: dt.datetime) -> int:
    """Request yesterday and today for each report enabled today, and the days marked for
    recomputation for it (late results of a series it covers); the marks are cleared. How
    many requests were made."""
    today = now.date()
    marked: dict[str, set[dt.date]] = {}
    for mark in list(session.scalars(select(RecomputeDay))):
        marked.setdefault(mark.report_uuid, set()).add(mark.day)
        session.delete(mark)
    uuids = sorted(set(session.scalars(select(col(Report.uuid)).distinct())))
    requested = 0
    for uuid in uuids:
        current = valid_on(session, Report, today, uuid=uuid)
        if current is None or current.disabled:
            continue
        days = {today, today - ONE_DAY} | marked.get(uuid, set())
        for day in sorted(days):
            request_availability(session, uuid, day)
            requested += 1
    return requested
