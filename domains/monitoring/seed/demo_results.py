"""A week of metric results for the demo federation (`seed_demo_results`), so that status
and reports show something real on first start.

Hourly results, ending at the moment of seeding, for every monitored production service
of the demo's production sites whose service type the seeded metric profile lists (its
latest version), one series per metric the profile expects there, each at a fixed minute
of the hour. What they say, deterministically (a fixed random seed):

- mostly OK, with rare one-off WARNING/UNKNOWN results and, on about one series in eight,
  one CRITICAL incident of a few hours during the week;
- a few endpoints failing now: CRITICAL since some hours before the end;
- one endpoint flapping: its first metric (a connection check in the demo profile)
  alternating OK/CRITICAL over the last two
  days (what flapping detection exists for);
- one certificate about to expire: WARNING all week;
- endpoints under the demo's downtimes (domains/downtimes/seed, read from the database):
  CRITICAL while an OUTAGE lasts, WARNING during a WARNING one, as a real probe would see.

Written with Core inserts in bulk (`ingest_results` checks each record, which a seed does
not need); the live status (`MetricStatus`) and its history (`StatusChange`) are derived
from the same series exactly as `service/status.py` keeps them, and each finished day of
the week is marked for A/R computation for every report (`RecomputeDay`). Flushes, never commits.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Table, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domains.common.time import utcnow
from domains.downtimes.models import Severity
from domains.downtimes.service import T_DOWNTIME, T_DT_SERVICE
from domains.monitoring.models.catalogue import MetricProfile, MetricProfileEntry, Report
from domains.monitoring.models.results import MetricResult, RecomputeDay
from domains.monitoring.models.status import MetricStatus, StatusChange
from domains.monitoring.service import change_points
from domains.monitoring.service.results import PROBES_SOURCE
from domains.topology.models import CertificationStatus, ProductionInfrastructure
from domains.topology.service import T_SERVICE, T_SERVICE_TYPE, T_SITE

T_RESULT: Table = MetricResult.__table__  # type: ignore[attr-defined]
T_STATUS: Table = MetricStatus.__table__  # type: ignore[attr-defined]
T_CHANGE: Table = StatusChange.__table__  # type: ignore[attr-defined]
T_RECOMPUTE: Table = RecomputeDay.__table__  # type: ignore[attr-defined]
T_PROFILE: Table = MetricProfile.__table__  # type: ignore[attr-defined]
T_ENTRY: Table = MetricProfileEntry.__table__  # type: ignore[attr-defined]
T_REPORT: Table = Report.__table__  # type: ignore[attr-defined]

SEED = 14  # the number: the same week every time for the same `now`
DAYS = 7
MONITORING_HOST = "mon.demo.opsgraph.example"
# the metric profile of the demo's report (domains/monitoring/seed/argo_mon_critical.json)
DEMO_METRIC_PROFILE = "ARGO_MON_CRITICAL"
FAILING_NOW = 3  # endpoints CRITICAL at the end of the week
INCIDENT_SHARE = 8  # one series in this many has one incident during the week

Endpoint = tuple[str, str]  # (host name, service type)


@dataclass(frozen=True, slots=True)
class Window:
    """A downtime over one endpoint: [start, end), and the status a probe sees meanwhile."""

    start: dt.datetime
    end: dt.datetime
    status: str


@dataclass(frozen=True, slots=True)
class DemoWeek:
    """What `seed_demo_results` wrote (the endpoints it chose for each behaviour)."""

    results: int
    series: int
    changes: int
    failing: tuple[Endpoint, ...]
    flapping: Endpoint | None
    expiring: Endpoint | None
    in_downtime: tuple[Endpoint, ...]


def profile_metrics(
    session: Session, name: str = DEMO_METRIC_PROFILE
) -> dict[str, tuple[str, ...]]:
    """service type -> the metrics expected there, in the profile's order, from the latest
    version of the metric profile(s) named `name`."""
    latest = (
        select(T_PROFILE.c.uuid, func.max(T_PROFILE.c.date).label("date"))
        .where(T_PROFILE.c.name == name)
        .group_by(T_PROFILE.c.uuid)
        .subquery()
    )
    rows = session.execute(
        select(T_ENTRY.c.service_type, T_ENTRY.c.metric)
        .join(T_PROFILE, T_PROFILE.c.id == T_ENTRY.c.profile_id)
        .join(latest, (latest.c.uuid == T_PROFILE.c.uuid) & (latest.c.date == T_PROFILE.c.date))
        .order_by(T_ENTRY.c.id)
    ).all()
    out: dict[str, list[str]] = defaultdict(list)
    for service_type, metric in rows:
        if metric not in out[service_type]:
            out[service_type].append(metric)
    return {k: tuple(v) for k, v in out.items()}


def monitored_endpoints(session: Session, service_types: Sequence[str]) -> list[Endpoint]:
    """(host, service type) of the monitored production services of certified production
    sites, of these types, sorted."""
    rows = session.execute(
        select(T_SERVICE.c.host_name, T_SERVICE_TYPE.c.name)
        .join(T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id)
        .join(T_SITE, T_SITE.c.id == T_SERVICE.c.site_id)
        .where(
            T_SERVICE_TYPE.c.name.in_(list(service_types)),
            T_SERVICE.c.monitored.is_(True),
            T_SERVICE.c.production.is_(True),
            T_SITE.c.certification_status == CertificationStatus.CERTIFIED,
            T_SITE.c.production_infrastructure == ProductionInfrastructure.PRODUCTION,
        )
        .distinct()
    ).all()
    return sorted((str(host), str(stype)) for host, stype in rows)


def downtime_windows(
    session: Session, start: dt.datetime, end: dt.datetime
) -> dict[Endpoint, list[Window]]:
    """The downtimes over [start, end) per endpoint, with when each service left early."""
    rows = session.execute(
        select(
            T_SERVICE.c.host_name,
            T_SERVICE_TYPE.c.name,
            T_DOWNTIME.c.severity,
            T_DOWNTIME.c.starts_at,
            T_DOWNTIME.c.ends_at,
            T_DT_SERVICE.c.ended_at,
        )
        .join(T_DT_SERVICE, T_DT_SERVICE.c.downtime_id == T_DOWNTIME.c.id)
        .join(T_SERVICE, T_SERVICE.c.id == T_DT_SERVICE.c.service_id)
        .join(T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id)
        .where(T_DOWNTIME.c.starts_at < end, T_DOWNTIME.c.ends_at > start)
    ).all()
    out: dict[Endpoint, list[Window]] = defaultdict(list)
    for host, stype, severity, starts_at, ends_at, ended_at in rows:
        stop = ends_at if ended_at is None else min(ends_at, ended_at)
        status = "CRITICAL" if Severity(severity) is Severity.OUTAGE else "WARNING"
        out[(str(host), str(stype))].append(Window(starts_at, stop, status))
    return dict(out)


def _summary(metric: str, status: str, rng: random.Random) -> tuple[str, str | None]:
    """A Nagios-like summary line and perfdata for a result."""
    if "certificate" in metric:
        days = rng.randint(60, 360) if status == "OK" else rng.randint(8, 29)
        if status == "CRITICAL":
            return "CRITICAL - TLS handshake failed: connection refused", None
        if status == "UNKNOWN":
            return "UNKNOWN - timed out after 30 s", None
        return f"{status} - certificate valid for {days} more days", f"days_left={days};30;7"
    latency = rng.uniform(0.004, 0.25) if status == "OK" else rng.uniform(1.0, 4.0)
    if status == "OK":
        return f"OK - {latency:.3f} second response time", f"time={latency:.6f}s;1;5;0"
    if status == "WARNING":
        return f"WARNING - {latency:.3f} second response time", f"time={latency:.6f}s;1;5;0"
    if status == "UNKNOWN":
        return "UNKNOWN - timed out after 30 s", None
    return rng.choice(
        (
            "CRITICAL - connection refused",
            "CRITICAL - no route to host",
            "CRITICAL - HTTP 503 Service Unavailable",
        )
    ), None


def _choose(rng: random.Random, pool: Sequence[Endpoint], k: int) -> list[Endpoint]:
    return rng.sample(list(pool), min(k, len(pool)))


def seed_demo_results(
    session: Session,
    *,
    now: dt.datetime | None = None,
    profile: Mapping[str, Sequence[str]] | None = None,
    profile_name: str = DEMO_METRIC_PROFILE,
) -> DemoWeek:
    """Write a week of results ending at `now` (deterministic given `now`) over the demo
    federation for `profile` (service type -> metrics; default: the latest version of the
    seeded metric profile `profile_name`), with the live status they imply; flushes."""
    now = now or utcnow()
    metrics = dict(profile) if profile is not None else profile_metrics(session, profile_name)
    endpoints = monitored_endpoints(session, sorted(metrics))
    end = now.replace(second=0, microsecond=0)
    start = end.replace(minute=0) - dt.timedelta(days=DAYS)
    windows = downtime_windows(session, start, end)
    rng = random.Random(SEED)
    quiet = [e for e in endpoints if e not in windows]
    failing = _choose(rng, quiet, FAILING_NOW)
    rest = [e for e in quiet if e not in failing]
    flapping = next(iter(_choose(rng, rest, 1)), None)
    with_cert = [
        e for e in rest if e != flapping and any("certificate" in m for m in metrics[e[1]])
    ]
    expiring = next(iter(_choose(rng, with_cert, 1)), None)
    flap_from = end - dt.timedelta(days=2)
    results: list[dict[str, object]] = []
    statuses: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    for endpoint in endpoints:
        host, stype = endpoint
        for index, metric in enumerate(metrics[stype]):
            minute = rng.randrange(60)
            moment = start + dt.timedelta(minutes=minute)
            incident: tuple[dt.datetime, dt.datetime] | None = None
            if rng.randrange(INCIDENT_SHARE) == 0:
                begins = start + dt.timedelta(hours=rng.randrange(24 * DAYS - 6))
                incident = (begins, begins + dt.timedelta(hours=rng.randint(2, 6)))
            fails_since = end - dt.timedelta(hours=rng.randint(3, 20))
            previous: str | None = None
            since = moment
            summary: str | None = None
            last = moment
            hour = 0
            while moment <= end:
                status = "OK"
                roll = rng.random()
                if roll < 0.01:
                    status = "WARNING"
                elif roll < 0.02:
                    status = "UNKNOWN"
                if incident is not None and incident[0] <= moment < incident[1]:
                    status = "CRITICAL"
                if endpoint == expiring and "certificate" in metric:
                    status = "WARNING"
                if endpoint == flapping and index == 0 and moment >= flap_from:
                    status = "CRITICAL" if hour % 2 else "OK"
                if endpoint in failing and moment >= fails_since:
                    status = "CRITICAL"
                for window in windows.get(endpoint, ()):
                    if window.start <= moment < window.end and (
                        window.status == "CRITICAL" or status == "OK"
                    ):
                        status = window.status
                summary, perfdata = _summary(metric, status, rng)
                results.append(
                    {
                        "timestamp": moment,
                        "hostname": host,
                        "service_type": stype,
                        "metric": metric,
                        "status": status,
                        "summary": summary,
                        "perfdata": perfdata,
                    }
                )
                if status != previous:
                    changes.append(
                        {
                            "timestamp": moment,
                            "hostname": host,
                            "service_type": stype,
                            "metric": metric,
                            "status": status,
                            "previous_status": previous,
                            "summary": summary,
                        }
                    )
                    previous, since = status, moment
                last = moment
                moment += dt.timedelta(hours=1)
                hour += 1
            statuses.append(
                {
                    "hostname": host,
                    "service_type": stype,
                    "metric": metric,
                    "status": previous,
                    "timestamp": last,
                    "since": since,
                    "summary": summary,
                    "monitoring_host": MONITORING_HOST,
                }
            )
    # what every result shares goes in the statement, not through each row's bind processing
    insert_result = insert(T_RESULT).values(
        monitoring_host=MONITORING_HOST,
        tags=literal_column("'{}'"),
        source=PROBES_SOURCE,
        ingested_at=now,
    )
    for statement, rows in (
        (insert_result, results),
        (insert(T_STATUS), statuses),
        (insert(T_CHANGE), changes),
    ):
        for first in range(0, len(rows), 20_000):
            session.execute(statement, rows[first : first + 20_000])
    change_points.rebuild(session, since=start.date())  # written past ingestion
    days = [start.date() + dt.timedelta(days=d) for d in range(DAYS + 1)]
    reports = sorted(set(session.scalars(select(T_REPORT.c.uuid).distinct())))
    finished = [
        {"report_uuid": u, "day": d, "marked_at": now}
        for u in reports
        for d in days
        if d < end.date()
    ]
    if finished and results:
        dialect = session.get_bind().dialect.name
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(make(T_RECOMPUTE).on_conflict_do_nothing(), finished)
    session.flush()
    return DemoWeek(
        results=len(results),
        series=len(statuses),
        changes=len(changes),
        failing=tuple(failing),
        flapping=flapping,
        expiring=expiring,
        in_downtime=tuple(e for e in endpoints if e in windows),
    )


__all__ = ["DemoWeek", "seed_demo_results"]
