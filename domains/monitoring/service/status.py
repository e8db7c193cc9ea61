"""The live status of every metric on every endpoint, kept current inside
`ingest_results`' transaction, and its history of changes.

A result newer than the metric's current one replaces it; a change of status adds a
`StatusChange` row (the first result of a metric on an endpoint too, with no previous
status). A late result older than the current one changes nothing here: the A/R engine
reads it from the stored results, and the status history stays in time order. The A/R's
change points (`service/change_points.py`) are kept from the same read, late results
included."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.db import array_text, copy_rows
from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS, Principal
from domains.common.time import changing_at, next_midnight, utcnow
from domains.downtimes import service as downtimes
from domains.downtimes.models import Classification, Severity
from domains.monitoring.avro import MetricResultIn
from domains.monitoring.engine.aggregation import AggregationSpec
from domains.monitoring.engine.operations import OperationsTable
from domains.monitoring.engine.thresholds import Graded
from domains.monitoring.models import (
    AggregationProfile,
    MetricProfile,
    MetricProfileEntry,
    MetricResult,
    OperationsProfile,
    Report,
)
from domains.monitoring.models.status import MetricStatus, StatusChange
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service import availability, catalogue, change_points
from domains.topology.models import Service, ServiceType, Site

T_CHANGE: Table = StatusChange.__table__  # type: ignore[attr-defined]
T_STATUS: Table = MetricStatus.__table__  # type: ignore[attr-defined]

Key = tuple[str, str, str]  # (host name, service type, metric)


def _key(result: MetricResultIn) -> Key:
    return (result.hostname, result.service, result.metric)


def apply_results(session: Session, results: Sequence[MetricResultIn]) -> int:
    """Fold accepted results into the current status; how many status changes it made.
    Core statements only (a read of the current rows, one upsert and one INSERT of the
    changes, each batched into multi-row statements): a batch of thousands of results is a
    handful of round trips."""
    if not results:
        return 0
    ordered = sorted(results, key=lambda r: r.timestamp)
    keys = {_key(r) for r in ordered}
    hosts = sorted({key[0] for key in keys})
    current: dict[Key, dict[str, Any]] = {}
    columns = (T_STATUS.c.hostname, T_STATUS.c.service_type, T_STATUS.c.metric)
    # by host name (the primary key's first column): a plain IN list the planner serves from
    # the index, where a row-value IN of thousands of keys is slow on PostgreSQL
    for start in range(0, len(hosts), 1000):
        for row in session.execute(
            select(*columns, T_STATUS.c.status, T_STATUS.c.timestamp, T_STATUS.c.since).where(
                T_STATUS.c.hostname.in_(hosts[start : start + 1000])
            )
        ).all():
            key = (row[0], row[1], row[2])
            if key in keys:
                current[key] = {"status": row[3], "timestamp": row[4], "since": row[5]}
    latest = {key: (state["status"], state["timestamp"]) for key, state in current.items()}
    touched: dict[Key, dict[str, Any]] = {}
    changes: list[dict[str, object]] = []
    for result in ordered:
        key = _key(result)
        state = current.get(key)
        if state is None:
            state = current[key] = {"status": result.status, "since": result.timestamp}
            changes.append(_change(result, None))
        elif result.timestamp < state["timestamp"]:
            continue  # late: the history keeps its order
        elif result.status != state["status"]:
            changes.append(_change(result, state["status"]))
            state["status"] = result.status
            state["since"] = result.timestamp
        state["timestamp"] = result.timestamp
        state["summary"] = result.summary
        state["monitoring_host"] = result.monitoring_host
        touched[key] = state
    if touched:
        _upsert(session, [_row(key, state) for key, state in touched.items()])
    if changes:
        _insert_changes(session, changes)
    change_points.record(session, ordered, latest)
    return len(changes)


_KEPT = ("status", "timestamp", "since", "summary", "monitoring_host")
_COLUMNS = ("hostname", "service_type", "metric", *_KEPT)


_ARRAYS = {  # the type each column's array is cast to
    "hostname": "text",
    "service_type": "text",
    "metric": "text",
    "status": "text",
    "timestamp": "timestamptz",
    "since": "timestamptz",
    "summary": "text",
    "monitoring_host": "text",
}
_UNNESTED = text(
    # every name is the model's, none from a result
    f"INSERT INTO {T_STATUS.name} ({', '.join(_COLUMNS)}) SELECT * FROM unnest("  # noqa: S608
    + ", ".join(f"CAST(:{name} AS {_ARRAYS[name]}[])" for name in _COLUMNS)
    + ") ON CONFLICT (hostname, service_type, metric) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _KEPT)
)


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # ONE statement for the batch, each column bound as one array's text (psycopg
        # dumping eight lists value by value in Python was ~15 % of the consumer's time; a
        # COPY into a temporary table first cost three more round trips a batch)
        session.execute(_UNNESTED, {name: array_text(r[name] for r in rows) for name in _COLUMNS})
        return
    upsert = sqlite.insert(T_STATUS)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["hostname", "service_type", "metric"],
            set_={name: upsert.excluded[name] for name in _KEPT},
        ),
        rows,
    )


def _row(key: Key, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "hostname": key[0],
        "service_type": key[1],
        "metric": key[2],
        "status": state["status"],
        "timestamp": state["timestamp"],
        "since": state["since"],
        "summary": state["summary"],
        "monitoring_host": state["monitoring_host"],
    }


_CHANGE_COLUMNS = (
    "timestamp",
    "hostname",
    "service_type",
    "metric",
    "status",
    "previous_status",
    "summary",
)


def _insert_changes(session: Session, changes: list[dict[str, object]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        copy_rows(
            session,
            T_CHANGE.name,
            _CHANGE_COLUMNS,
            (tuple(c[name] for name in _CHANGE_COLUMNS) for c in changes),
        )
    else:
        session.execute(insert(T_CHANGE), changes)


def _change(result: MetricResultIn, previous: str | None) -> dict[str, object]:
    return {
        "timestamp": result.timestamp,
        "hostname": result.hostname,
        "service_type": result.service,
        "metric": result.metric,
        "status": result.status,
        "previous_status": previous,
        "summary": result.summary,
    }


@dataclass(frozen=True, slots=True)
class MetricStatusRow:
    hostname: str
    service_type: str
    metric: str
    status: str
    timestamp: dt.datetime
    since: dt.datetime
    summary: str | None


def metric_statuses(
    session: Session, principal: Principal, *, hostname: str, service_type: str | None = None
) -> list[MetricStatusRow]:
    """The current status of each metric on a host (public, as ARGO's status is)."""
    query = select(MetricStatus).where(col(MetricStatus.hostname) == hostname)
    if service_type is not None:
        query = query.where(col(MetricStatus.service_type) == service_type)
    rows = session.scalars(query.order_by(col(MetricStatus.service_type), col(MetricStatus.metric)))
    return [
        MetricStatusRow(
            r.hostname, r.service_type, r.metric, r.status, r.timestamp, r.since, r.summary
        )
        for r in rows
    ]


def status_history(
    session: Session,
    principal: Principal,
    *,
    hostname: str,
    service_type: str,
    metric: str,
    since: dt.datetime | None = None,
) -> list[StatusChange]:
    query = select(StatusChange).where(
        col(StatusChange.hostname) == hostname,
        col(StatusChange.service_type) == service_type,
        col(StatusChange.metric) == metric,
    )
    if since is not None:
        if since.tzinfo is None or since.utcoffset() is None:
            raise Invalid("since", MonitoringRule.MONITORING_TIME_WITHOUT_OFFSET)
        query = query.where(col(StatusChange.timestamp) >= since)
    return list(session.scalars(query.order_by(col(StatusChange.timestamp), col(StatusChange.id))))


@dataclass(frozen=True, slots=True)
class EndpointStatusRow:
    """An endpoint's status now under a report: its expected metrics' statuses (MISSING, the
    profile's `defaults.missing`, for one without a result) combined with the aggregation
    profile's `metric_operation`, cell by cell in the loaded truth table; the profile's
    `defaults.down` while a downtime the report counts lasts."""

    report: str
    hostname: str
    service_type: str
    status: str
    metrics: tuple[tuple[str, str], ...]  # (metric, status), in the metric profile's order
    in_downtime: bool
    # the metrics the report's thresholds profile re-graded: (metric, how), a status in
    # `metrics` being `how.status`, with the probe's status and the rule items applied
    regraded: tuple[tuple[str, Graded], ...] = ()


def endpoint_status(
    session: Session,
    principal: Principal,
    *,
    report: str,
    hostname: str,
    service_type: str,
    now: dt.datetime | None = None,
) -> EndpointStatusRow:
    """Public, as ARGO's status is. Invalid (`report`) for an unknown report, or a service
    type its metric profile does not name."""
    now = now or utcnow()
    day = now.astimezone(dt.UTC).date()
    rep = availability.report_on(session, report, day)
    ops_row = catalogue.valid_on(
        session, OperationsProfile, day, uuid=rep.operations_profile_uuid or ""
    )
    agg_row = catalogue.valid_on(
        session, AggregationProfile, day, uuid=rep.aggregation_profile_uuid or ""
    )
    mp_row = catalogue.valid_on(session, MetricProfile, day, uuid=rep.metric_profile_uuid or "")
    if ops_row is None or agg_row is None or mp_row is None:
        raise Invalid("report", MonitoringRule.MONITORING_PROFILE_UNKNOWN)
    operations = OperationsTable.from_argo(ops_row.document)
    aggregation = AggregationSpec.from_argo(agg_row.document)
    expected = list(
        session.scalars(
            select(col(MetricProfileEntry.metric))
            .where(
                col(MetricProfileEntry.profile_id) == mp_row.id,
                col(MetricProfileEntry.service_type) == service_type,
            )
            .order_by(col(MetricProfileEntry.id))
        )
    )
    if not expected:
        raise Invalid(
            "serviceType",
            MonitoringRule.STATUS_SERVICE_TYPE_NOT_IN_REPORT,
            f"serviceType: the report {report!r} expects no metrics of {service_type!r}",
        )
    rows = metric_statuses(session, principal, hostname=hostname, service_type=service_type)
    current = {r.metric: r.status for r in rows}
    regraded = _regraded(session, rep, day, operations, rows, expected)
    for metric, how in regraded:
        current[metric] = how.status
    metrics = tuple((m, current.get(m, operations.defaults.missing)) for m in expected)
    status = metrics[0][1]
    for _, other in metrics[1:]:
        status = operations.apply(aggregation.metric_operation, status, other)
    in_downtime, moments = _in_downtime(session, rep, hostname, service_type, now)
    # `now` chose the day's profiles (until the next midnight) and the downtime in force
    changing_at(now, [next_midnight(now), *moments])
    if in_downtime:
        status = operations.defaults.down
    return EndpointStatusRow(
        report, hostname, service_type, status, metrics, in_downtime, tuple(regraded)
    )


def _regraded(
    session: Session,
    report: Report,
    day: dt.date,
    operations: OperationsTable,
    rows: Sequence[MetricStatusRow],
    expected: Sequence[str],
) -> list[tuple[str, Graded]]:
    """The current statuses the report's thresholds profile (its version valid on `day`)
    changes: the live status is the probes' (shared by every report), so each report grades
    the perfdata of the latest result, read by the series index, for the metrics its rules
    name."""
    rules = availability.thresholds_on(session, report, day, operations)
    if rules is None:
        return []
    named = rules.metrics.intersection(expected)
    ruled = [r for r in rows if r.metric in named]
    if not ruled:
        return []
    group = session.scalars(
        select(col(Site.short_name))
        .join(Service, col(Service.site_id) == col(Site.id))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .where(
            col(Service.host_name) == ruled[0].hostname,
            col(ServiceType.name) == ruled[0].service_type,
        )
        .order_by(col(Site.short_name))
        .limit(1)
    ).first()
    out: list[tuple[str, Graded]] = []
    for row in ruled:
        perfdata = session.scalars(
            select(col(MetricResult.perfdata))
            .where(
                col(MetricResult.hostname) == row.hostname,
                col(MetricResult.service_type) == row.service_type,
                col(MetricResult.metric) == row.metric,
                col(MetricResult.timestamp) == row.timestamp,
            )
            .order_by(col(MetricResult.id).desc())
            .limit(1)
        ).first()
        how = rules.grade(group or "", row.hostname, row.metric, row.status, perfdata)
        if how.original_status is not None:
            out.append((row.metric, how))
    return out


def _in_downtime(
    session: Session, report: Report, hostname: str, service_type: str, now: dt.datetime
) -> tuple[bool, list[dt.datetime]]:
    """Whether a downtime the report counts (availability's rule: OUTAGE and SCHEDULED, and
    what the report's flags add) covers the service now; the starts and ends of those
    downtimes (where the answer may change)."""
    severities = {Severity.OUTAGE} | ({Severity.WARNING} if report.downtimes_warning else set())
    classes = {Classification.SCHEDULED} | (
        {Classification.UNSCHEDULED} if report.downtimes_unscheduled else set()
    )
    ids = [
        int(i)
        for i in session.scalars(
            select(col(Service.id))
            .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
            .where(col(Service.host_name) == hostname, col(ServiceType.name) == service_type)
        )
        if i is not None
    ]
    covered = False
    moments: list[dt.datetime] = []
    for found in downtimes.downtimes_of_services(session, ANONYMOUS, ids).values():
        for row in found:
            if row.severity not in severities or row.classification not in classes:
                continue
            ends = downtimes.effective_end(row.ends_at, row.service_ended_at)
            moments += (row.starts_at, ends)
            covered = covered or row.starts_at <= now < ends
    return covered, moments
