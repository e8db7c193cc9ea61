"""Metric results in: `ingest_results`, the one entry of the three paths (opsgraph's probe
workers, the `publishMetricResults` mutation of monitoring hosts, ARGO's `metric_data`
messages on the monitoring topic).

Each record is checked on its own; a bad one becomes a `Rejection` (its index, the field,
the rule, the reason in words), is counted for its source and rule
(`monitoring_result_rejection`), and nothing of it is stored, while the good ones of the
same batch are. The checks, in order: text fields present, within their lengths and
storable; the status one of Nagios's four (MISSING and DOWNTIME are computed, never
reported); the timestamp no further ahead than the clock-skew tolerance nor older than the
late-results age; the metric in the catalogue; the host name with its service type an
endpoint the topology registers. A result of an earlier day than today (UTC) is late: its
day, and the next one when that is over too (its last result seeds the next day at 00:00),
are marked for recomputation (`service/late.py`) for each report that covers its series on that
day (the report's version of the day has a metric profile, in its version of the day,
listing the service type and metric, and the host is a monitored production service of
that type, as the A/R engine reads the topology); a result no report covers marks nothing.
The marks are written with the results, in the same transaction, and marking a (report,
day) again changes nothing. Accepted results update the live status (`service/status.py`)
in the same transaction.

`ingest_messages` is the topic's path: AMS messages decoded first (a malformed Avro record
or a message of another `type` is a rejection too), then `ingest_results`.
`publish_results` is the GraphQL path: the caller must hold a monitoring-host grant.
`purge_expired_results` is retention; the grants are managed by platform administrators.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.authz import Caller, authorize
from domains.common.db import copy_rows
from domains.common.errors import Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.pagination import PageRequest
from domains.common.query import RecordPage, keyset_page
from domains.common.text import unstorable_text
from domains.common.time import utcnow
from domains.monitoring.avro import MalformedRecord, MetricResultIn, from_message
from domains.monitoring.models.catalogue import Metric
from domains.monitoring.models.results import (
    IDENTIFIER_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    SUMMARY_MAX,
    GrantKind,
    MetricResult,
    MonitoringHostGrant,
    RecomputeDay,
    ResultRejectionCount,
)
from domains.monitoring.models.status import StatusChange
from domains.monitoring.rules import Action, MonitoringRule, monitoring_host_grant
from domains.monitoring.service import change_points, late, partitions
from domains.monitoring.service import status as status_service
from domains.topology.models import Service, ServiceType

__all__ = [
    "PROBES_SOURCE",
    "REPORTED_STATUSES",
    "IngestOutcome",
    "IngestPolicy",
    "MetricResultIn",
    "Rejection",
    "ResultSource",
    "grant_monitoring_host",
    "ingest_messages",
    "ingest_results",
    "grant_by_id",
    "monitoring_host_grants_page",
    "publish_results",
    "purge_expired_results",
    "current_policy",
    "rejection_counts",
    "revoke_monitoring_host",
    "set_policy",
]

T_RESULT: Table = MetricResult.__table__  # type: ignore[attr-defined]
T_GRANT: Table = MonitoringHostGrant.__table__  # type: ignore[attr-defined]
T_REJECTION: Table = ResultRejectionCount.__table__  # type: ignore[attr-defined]
T_RECOMPUTE: Table = RecomputeDay.__table__  # type: ignore[attr-defined]

# who sent a batch: "opsgraph-probes", "topic:<project>/<topic>", "graphql:<identifier>"
ResultSource: TypeAlias = str
PROBES_SOURCE: ResultSource = "opsgraph-probes"

# what a monitoring engine reports (Nagios's exit codes 0-3); MISSING, DOWNTIME and
# EXCLUDED are states the A/R engine computes, never results
REPORTED_STATUSES = frozenset({"OK", "WARNING", "CRITICAL", "UNKNOWN"})
TAGS_MAX = 64
MAX_BATCH = 10_000  # results per publishMetricResults call


@dataclass(frozen=True, slots=True)
class IngestPolicy:
    """How far ahead of the server's clock a result may be (a monitoring host's clock may
    run fast), and how old a result may still arrive (OPSGRAPH_MONITORING_CLOCK_SKEW_SECONDS,
    OPSGRAPH_MONITORING_LATE_RESULTS_HOURS), and how long they are kept
    (OPSGRAPH_MONITORING_RETENTION_DAYS: a recomputation re-runs no day older)."""

    clock_skew: dt.timedelta = dt.timedelta(minutes=5)
    late_age: dt.timedelta = dt.timedelta(hours=72)
    retention_days: int = 90


_policy = IngestPolicy()


def set_policy(policy: IngestPolicy) -> IngestPolicy:
    """The policy `ingest_results` applies when its caller names none (from the settings:
    workers.monitoring.configure, which every process running workers or serving calls);
    the one it replaces."""
    global _policy
    before, _policy = _policy, policy
    return before


def current_policy() -> IngestPolicy:
    return _policy


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int  # the record's position in the batch
    field: str
    rule: MonitoringRule
    reason: str

    @property
    def rule_code(self) -> str:
        return self.rule.code


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    accepted: int
    rejected: list[Rejection] = field(default_factory=list)
    # days marked for recomputation (for at least one report) by late results of this batch
    recompute: tuple[dt.date, ...] = ()


# --- checks --------------------------------------------------------------------------------

_REQUIRED = (
    ("service", NAME_MAX),
    ("hostname", NAME_MAX),
    ("metric", NAME_MAX),
    ("status", 16),
)
_OPTIONAL = (
    ("monitoring_host", NAME_MAX),
    ("summary", SUMMARY_MAX),
    ("message", MESSAGE_MAX),
    ("actual_data", MESSAGE_MAX),
)


def _text_problem(name: str, value: object, limit: int, *, required: bool) -> Rejection | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        return Rejection(-1, name, MonitoringRule.RESULT_FIELD_EMPTY, "must be non-empty text")
    if len(value) > limit:
        return Rejection(
            -1,
            name,
            MonitoringRule.RESULT_TEXT_TOO_LONG,
            f"{len(value)} characters; at most {limit}",
        )
    problem = unstorable_text(value)
    if problem is not None:
        return Rejection(-1, name, MonitoringRule.RESULT_TEXT_NOT_STORABLE, problem)
    return None


def check_record(
    record: MetricResultIn, policy: IngestPolicy, now: dt.datetime
) -> Rejection | None:
    """The first rule the record breaks that needs no database (index -1: set by the
    caller), or None."""
    for name, limit in _REQUIRED:
        found = _text_problem(name, getattr(record, name), limit, required=True)
        if found is not None:
            return found
    for name, limit in _OPTIONAL:
        found = _text_problem(name, getattr(record, name), limit, required=False)
        if found is not None:
            return found
    tags = record.tags
    if not isinstance(tags, Mapping) or len(tags) > TAGS_MAX:
        return Rejection(
            -1, "tags", MonitoringRule.RESULT_TAGS_INVALID, f"a map of at most {TAGS_MAX} entries"
        )
    for key, value in tags.items():
        found = _text_problem(f"tags.{key}"[:64], key, NAME_MAX, required=True) or _text_problem(
            f"tags.{key}"[:64], value, SUMMARY_MAX, required=False
        )
        if found is not None:
            return Rejection(-1, found.field, MonitoringRule.RESULT_TAGS_INVALID, found.reason)
    if record.status not in REPORTED_STATUSES:
        return Rejection(
            -1,
            "status",
            MonitoringRule.RESULT_STATUS_UNKNOWN,
            f"{record.status[:40]!r} is not one of OK, WARNING, CRITICAL, UNKNOWN",
        )
    moment = record.timestamp
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
        return Rejection(
            -1, "timestamp", MonitoringRule.RESULT_TIMESTAMP_MALFORMED, "a UTC date and time"
        )
    if moment > now + policy.clock_skew:
        return Rejection(
            -1,
            "timestamp",
            MonitoringRule.RESULT_TIMESTAMP_IN_FUTURE,
            f"{moment.isoformat()} is more than {policy.clock_skew} ahead of the server's clock",
        )
    if moment < now - policy.late_age:
        return Rejection(
            -1,
            "timestamp",
            MonitoringRule.RESULT_TIMESTAMP_TOO_OLD,
            f"{moment.isoformat()} is older than the late-results age of {policy.late_age}",
        )
    return None


def known_metrics(session: Session, names: Iterable[str]) -> set[str]:
    wanted = set(names)
    if not wanted:
        return set()
    return set(
        session.scalars(select(col(Metric.name)).where(col(Metric.name).in_(wanted)).distinct())
    )


def known_endpoints(
    session: Session, hosts: Iterable[str], *, counted: bool = False
) -> set[tuple[str, str]]:
    """(host name, service type) of the registered services on these hosts; `counted`:
    only those the A/R engine reads, the monitored production ones
    (`service/availability.py`'s topology)."""
    wanted = set(hosts)
    if not wanted:
        return set()
    query = (
        select(col(Service.host_name), col(ServiceType.name))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .where(col(Service.host_name).in_(wanted))
    )
    if counted:
        query = query.where(col(Service.monitored).is_(True), col(Service.production).is_(True))
    rows = session.execute(query).all()
    return {(str(host), str(stype)) for host, stype in rows}


# --- writes --------------------------------------------------------------------------------


def _insert_ignoring_duplicates(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(make(table).on_conflict_do_nothing(), rows)


def _count_rejections(
    session: Session, source: ResultSource, rejected: Sequence[Rejection], now: dt.datetime
) -> None:
    if not rejected:
        return
    table = T_REJECTION
    counts = Counter(r.rule.code for r in rejected)
    last = {r.rule.code: r for r in rejected}
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for code, n in sorted(counts.items()):
        r = last[code]
        stmt = make(table).values(
            source=source[:NAME_MAX],
            rule=code,
            count=n,
            last_at=now,
            last_field=r.field[:64],
            last_reason=r.reason[:1000],
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["source", "rule"],
                set_={
                    "count": table.c.count + n,
                    "last_at": now,
                    "last_field": r.field[:64],
                    "last_reason": r.reason[:1000],
                },
            )
        )


_COPIED = (
    "timestamp",
    "hostname",
    "service_type",
    "metric",
    "status",
    "summary",
    "message",
    "perfdata",
    "monitoring_host",
    "tags",
    "source",
    "ingested_at",
)


def _store(
    session: Session, source: ResultSource, records: Sequence[MetricResultIn], now: dt.datetime
) -> None:
    """The accepted results, in this transaction: PostgreSQL's COPY on its connection (one
    stream for the batch, where an INSERT per row was a quarter of the consumer's time);
    a multi-row INSERT elsewhere."""
    postgres = session.get_bind().dialect.name == "postgresql"
    encoded: dict[tuple[tuple[str, str | None], ...], str] = {}

    def tags(record: MetricResultIn) -> Any:
        if not postgres:
            return dict(record.tags)
        # COPY takes the JSON text: a batch's records mostly carry the same tags
        key = tuple(record.tags.items())
        found = encoded.get(key)
        if found is None:
            found = encoded[key] = json.dumps(dict(record.tags))
        return found

    rows = [
        (
            r.timestamp,
            r.hostname,
            r.service,
            r.metric,
            r.status,
            r.summary,
            r.message,
            r.actual_data,
            r.monitoring_host,
            tags(r),
            source,
            now,
        )
        for r in records
    ]
    if not postgres:
        session.execute(insert(T_RESULT), [dict(zip(_COPIED, row, strict=True)) for row in rows])
        return
    copy_rows(session, T_RESULT.name, _COPIED, rows)


def ingest_results(
    session: Session,
    source: ResultSource,
    records: Sequence[MetricResultIn],
    *,
    policy: IngestPolicy | None = None,
    now: dt.datetime | None = None,
) -> IngestOutcome:
    """Store the good records, reject the others (see the module's notes); flushes, never
    commits."""
    policy = policy or _policy
    now = now or utcnow()
    rejected: list[Rejection] = []
    candidates: list[tuple[int, MetricResultIn]] = []
    for index, record in enumerate(records):
        problem = check_record(record, policy, now)
        if problem is None:
            candidates.append((index, record))
        else:
            rejected.append(Rejection(index, problem.field, problem.rule, problem.reason))
    metrics = known_metrics(session, (r.metric for _, r in candidates))
    endpoints = known_endpoints(session, (r.hostname for _, r in candidates))
    accepted: list[MetricResultIn] = []
    for index, record in candidates:
        if record.metric not in metrics:
            rejected.append(
                Rejection(
                    index,
                    "metric",
                    MonitoringRule.RESULT_METRIC_UNKNOWN,
                    f"{record.metric!r} is no metric of the catalogue",
                )
            )
        elif (record.hostname, record.service) not in endpoints:
            rejected.append(
                Rejection(
                    index,
                    "hostname",
                    MonitoringRule.RESULT_ENDPOINT_UNKNOWN,
                    f"no {record.service!r} service is registered on {record.hostname!r}",
                )
            )
        else:
            accepted.append(record)
    if accepted:
        _store(session, source[:NAME_MAX], accepted, now)
        status_service.apply_results(session, accepted)
    series = late.late_series(accepted, now.date())
    counted = known_endpoints(session, late.hosts(series), counted=True)
    marks = late.covering_reports(session, series, counted)
    _insert_ignoring_duplicates(
        session, T_RECOMPUTE, [{"report_uuid": u, "day": d, "marked_at": now} for u, d in marks]
    )
    rejected.sort(key=lambda r: r.index)
    _count_rejections(session, source, rejected, now)
    session.flush()
    days = tuple(sorted({d for _, d in marks}))
    return IngestOutcome(accepted=len(accepted), rejected=rejected, recompute=days)


@dataclass(frozen=True, slots=True)
class Message:
    """An AMS message as the topic keeps it: attributes and the raw (decoded) data."""

    attributes: Mapping[str, Any]
    data: bytes


def ingest_messages(
    session: Session,
    source: ResultSource,
    messages: Sequence[Message],
    *,
    policy: IngestPolicy | None = None,
    now: dt.datetime | None = None,
) -> IngestOutcome:
    """ARGO `metric_data` messages: each decoded, then all the decodable ones ingested; a
    rejection's index is the message's position in `messages`."""
    decoded: list[MetricResultIn] = []
    positions: list[int] = []
    malformed: list[Rejection] = []
    for index, message in enumerate(messages):
        try:
            decoded.append(from_message(message.attributes, message.data))
            positions.append(index)
        except MalformedRecord as bad:
            malformed.append(Rejection(index, bad.field, bad.rule, bad.reason))
    outcome = ingest_results(session, source, decoded, policy=policy, now=now)
    remapped = [Rejection(positions[r.index], r.field, r.rule, r.reason) for r in outcome.rejected]
    if malformed:
        _count_rejections(session, source, malformed, now or utcnow())
    every = sorted([*malformed, *remapped], key=lambda r: r.index)
    return IngestOutcome(accepted=outcome.accepted, rejected=every, recompute=outcome.recompute)


# --- monitoring hosts ----------------------------------------------------------------------


def publish_results(
    session: Session,
    principal: Principal,
    records: Sequence[MetricResultIn],
    *,
    policy: IngestPolicy | None = None,
    now: dt.datetime | None = None,
) -> IngestOutcome:
    """A monitoring host's results (GraphQL): the caller must hold a grant (or be a platform
    administrator); the source the rejections are counted under is the grant's identifier."""
    authorize(session, principal, Action.PUBLISH_RESULTS)
    grant = monitoring_host_grant(session, principal)
    if len(records) > MAX_BATCH:
        raise Invalid(
            "input.results",
            MonitoringRule.RESULT_BATCH_TOO_LARGE,
            f"input.results: {len(records)} results; at most {MAX_BATCH} per call",
        )
    who = grant.identifier if grant is not None else (principal.subject or "platform")
    return ingest_results(session, f"graphql:{who}"[:NAME_MAX], records, policy=policy, now=now)


def grant_monitoring_host(
    session: Session, principal: Principal, *, kind: GrantKind, identifier: str, note: str = ""
) -> MonitoringHostGrant:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    identifier = identifier.strip()
    if not identifier:
        raise Invalid("input.identifier", MonitoringRule.MONITORING_HOST_IDENTIFIER_EMPTY)
    if len(identifier) > IDENTIFIER_MAX or unstorable_text(identifier):
        raise Invalid("input.identifier", MonitoringRule.MONITORING_HOST_IDENTIFIER_INVALID)
    if len(note) > NAME_MAX or unstorable_text(note):
        raise Invalid("input.note", MonitoringRule.MONITORING_HOST_NOTE_INVALID)
    existing = session.execute(
        select(MonitoringHostGrant).where(
            MonitoringHostGrant.identifier == identifier  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    if existing is not None:
        existing.kind, existing.note = kind, note
        session.flush()
        return existing
    grant = MonitoringHostGrant(
        kind=kind, identifier=identifier, note=note, granted_by=principal.subject or ""
    )
    session.add(grant)
    session.flush()
    return grant


def revoke_monitoring_host(session: Session, principal: Principal, *, grant_id: int) -> int:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    grant = session.get(MonitoringHostGrant, grant_id)
    if grant is None:
        raise NotFound("no such monitoring-host grant")
    gone = pk(grant)
    session.delete(grant)
    session.flush()
    return gone


def monitoring_host_grants_page(
    session: Session, principal: Principal, *, page: PageRequest
) -> RecordPage:
    """A page of the monitoring-host grants, oldest first (platform administrators)."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    return keyset_page(session, select(*T_GRANT.c), T_GRANT.c.id, page)


def grant_by_id(
    session: Session, principal: Principal, grant_id: int
) -> MonitoringHostGrant | None:
    """One grant by id; None for whoever may not read the grants."""
    if not principal.is_superuser:
        return None
    return session.get(MonitoringHostGrant, grant_id)


def rejection_counts(session: Session, principal: Principal) -> list[ResultRejectionCount]:
    """Rejections per source and rule (what a monitoring host got wrong, and why); for
    platform administrators (a source names a subject or DN)."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    return list(
        session.scalars(
            select(ResultRejectionCount).order_by(
                col(ResultRejectionCount.source), col(ResultRejectionCount.rule)
            )
        )
    )


# --- retention -----------------------------------------------------------------------------


def purge_expired_results(session: Session, *, older_than: dt.datetime) -> int:
    """Delete results (and status history, and the A/R's change points) from before
    `older_than`; how many results. On PostgreSQL whole days go with their partitions, the
    rest row by row."""
    dropped = partitions.drop_day_partitions(session, before=older_than.date())
    gone = session.execute(delete(T_RESULT).where(T_RESULT.c.timestamp < older_than))
    session.execute(delete(StatusChange).where(col(StatusChange.timestamp) < older_than))
    change_points.purge(session, older_than=older_than)
    return dropped + int(gone.rowcount or 0)  # type: ignore[attr-defined]


PARTITION_DAYS_AHEAD = 2


def prepare_partitions(session: Session, *, now: dt.datetime) -> list[dt.date]:
    """The day partitions of yesterday (late results), today and the next days exist (on
    PostgreSQL; nothing on SQLite); the days it created."""
    today = now.astimezone(dt.UTC).date()
    days = [today + dt.timedelta(days=n) for n in range(-1, PARTITION_DAYS_AHEAD + 1)]
    return partitions.ensure_day_partitions(session, days)


def result_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(T_RESULT)).scalar_one())
