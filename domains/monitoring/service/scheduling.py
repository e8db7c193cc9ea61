"""The probes' schedule: which checks are expected, when each is due, who runs it.

- `sync_checks`: one ScheduledCheck per (monitored production service, metric) that the
  metric profile of an enabled report expects for the service's type (the versions valid
  today), for the metrics the catalogue defines; checks no longer expected are dropped.
  Besides, every monitored production `gLite-APEL` service gets APEL-Pub and APEL-Sync
  (probes/apel.py) when the catalogue defines them, whatever the profiles list, as EGI's
  APEL server checks every such site. A new check's first run is spread over its metric's
  interval (a stable offset per service and metric), so a thousand endpoints do not all run
  at the same second.
- `claim_due`: claims due checks with `UPDATE … WHERE` the row is still claimable (not
  claimed, or its lease run out): of two schedulers that picked the same rows, the second
  one's UPDATE finds them claimed and gets none.
- `plan_checks`: what a claimed batch runs: each check's registered target (targets.py),
  probe (built-in or plugin command, its time limit) and metric parameters; the probes that
  read the database (APEL-Pub, APEL-Sync) need no target and are run by `run_planned` in
  the planning session, before any network probe starts.
- `complete_checks`: the outcome of a claimed batch: the next due time (the metric's
  interval after an OK, its retry interval after a non-OK result until
  `max_check_attempts` results in a row were non-OK) and the claim released.

No authorization: this is the workers' own bookkeeping, with no API of its own.
"""

from __future__ import annotations

import datetime as dt
import secrets
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.monitoring.models.catalogue import (
    Metric,
    MetricProfile,
    MetricProfileEntry,
    Probe,
    ProbeKind,
    Report,
    Versioned,
)
from domains.monitoring.models.scheduling import ScheduledCheck
from domains.monitoring.probes import apel
from domains.monitoring.probes.nagios import OK, ProbeResult
from domains.monitoring.probes.targets import Target, TargetError, target_of
from domains.topology.models import Service, ServiceType, Site

V = TypeVar("V", bound=Versioned)


def valid_versions(session: Session, model: type[V], day: dt.date) -> dict[str, V]:
    """The version of each thing (by uuid) valid on `day`: the latest with date <= day."""
    rows = session.scalars(
        select(model).where(col(model.date) <= day).order_by(col(model.uuid), col(model.date))
    ).all()
    return {row.uuid: row for row in rows}


def _metrics(session: Session, day: dt.date) -> dict[str, Metric]:
    return {m.name: m for m in valid_versions(session, Metric, day).values()}


def expected_metrics(session: Session, day: dt.date) -> dict[str, set[str]]:
    """service type -> the metrics the enabled reports' metric profiles expect on `day`,
    and APEL-Pub and APEL-Sync on gLite-APEL whatever they say."""
    reports = [r for r in valid_versions(session, Report, day).values() if not r.disabled]
    profiles = valid_versions(session, MetricProfile, day)
    ids = [profiles[r.metric_profile_uuid].id for r in reports if r.metric_profile_uuid in profiles]
    expected: dict[str, set[str]] = {}
    if ids:
        entries = session.scalars(
            select(MetricProfileEntry).where(col(MetricProfileEntry.profile_id).in_(ids))
        ).all()
        for entry in entries:
            expected.setdefault(entry.service_type, set()).add(entry.metric)
    for service_type, metrics in apel.EXPECTED.items():
        expected.setdefault(service_type, set()).update(metrics)
    return expected


def spread(service_id: int, metric: str, interval_seconds: int) -> dt.timedelta:
    """A stable offset within the interval for the first run of (service, metric)."""
    key = f"{service_id}/{metric}".encode()
    return dt.timedelta(seconds=zlib.crc32(key) % max(1, interval_seconds))


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: int = 0
    removed: int = 0


def sync_checks(session: Session, *, now: dt.datetime) -> SyncReport:
    """Make the schedule hold exactly the expected checks (see the module's notes)."""
    metrics = _metrics(session, now.date())
    expected = expected_metrics(session, now.date())
    services = session.execute(
        select(col(Service.id), col(ServiceType.name))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .where(col(Service.production).is_(True), col(Service.monitored).is_(True))
        .where(col(ServiceType.name).in_(list(expected)))
    ).all()
    wanted: set[tuple[int, str]] = {
        (service_id, metric)
        for service_id, type_name in services
        if service_id is not None
        for metric in expected[type_name]
        if metric in metrics
    }
    existing = {
        (row.service_id, row.metric): row.id
        for row in session.scalars(select(ScheduledCheck)).all()
    }
    stale = [check_id for key, check_id in existing.items() if key not in wanted]
    if stale:
        session.execute(delete(ScheduledCheck).where(col(ScheduledCheck.id).in_(stale)))
    added = sorted(wanted - existing.keys())
    session.add_all(
        ScheduledCheck(
            service_id=service_id,
            metric=metric,
            next_due=now + spread(service_id, metric, metrics[metric].interval_seconds),
        )
        for service_id, metric in added
    )
    session.flush()
    return SyncReport(added=len(added), removed=len(stale))


# --- claiming ---------------------------------------------------------------------------


def _claimable(now: dt.datetime) -> Any:
    return and_(
        col(ScheduledCheck.next_due) <= now,
        or_(col(ScheduledCheck.claimed_until).is_(None), col(ScheduledCheck.claimed_until) < now),
    )


def due_checks(session: Session, *, now: dt.datetime, limit: int) -> list[int]:
    """The ids of up to `limit` due, claimable checks, the most overdue first."""
    ids = session.scalars(
        select(col(ScheduledCheck.id))
        .where(_claimable(now))
        .order_by(col(ScheduledCheck.next_due), col(ScheduledCheck.id))
        .limit(limit)
    ).all()
    return [i for i in ids if i is not None]


@dataclass(frozen=True, slots=True)
class Claim:
    token: str
    check_ids: tuple[int, ...] = field(default_factory=tuple)


def claim(
    session: Session, check_ids: Sequence[int], *, now: dt.datetime, lease: dt.timedelta
) -> Claim:
    """Claims those of `check_ids` still claimable (UPDATE … WHERE): what another
    scheduler claimed first is left out."""
    token = secrets.token_hex(16)
    if check_ids:
        session.execute(
            update(ScheduledCheck)
            .where(col(ScheduledCheck.id).in_(list(check_ids)), _claimable(now))
            .values(claim_token=token, claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    claimed = session.scalars(
        select(col(ScheduledCheck.id))
        .where(col(ScheduledCheck.claim_token) == token)
        .order_by(col(ScheduledCheck.id))
    ).all()
    return Claim(token, tuple(i for i in claimed if i is not None))


def claim_due(session: Session, *, now: dt.datetime, limit: int, lease: dt.timedelta) -> Claim:
    return claim(session, due_checks(session, now=now, limit=limit), now=now, lease=lease)


# --- planning and completing --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedCheck:
    check_id: int
    hostname: str
    service_type: str
    metric: str
    target: Target | None  # None: the topology registers none (`problem` says why)
    builtin: str | None = None
    command: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    time_limit: float = 30.0
    problem: str | None = None  # why the check cannot run: its result is UNKNOWN
    site: str = ""  # the service's site (short name)


def plan_checks(
    session: Session, token: str, *, day: dt.date, time_limit: float
) -> list[PlannedCheck]:
    """What each check claimed under `token` runs (`time_limit`: the worker's cap)."""
    rows = session.execute(
        select(
            ScheduledCheck,
            col(Service.host_name),
            col(Service.url),
            col(ServiceType.name),
            col(Site.short_name),
        )
        .join(Service, col(Service.id) == col(ScheduledCheck.service_id))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .join(Site, col(Site.id) == col(Service.site_id))
        .where(col(ScheduledCheck.claim_token) == token)
        .order_by(col(ScheduledCheck.id))
    ).all()
    metrics = _metrics(session, day)
    probes = {(p.name, p.version): p for p in valid_versions(session, Probe, day).values()}
    return [
        _plan(check, host, url, type_name, site, metrics, probes, time_limit)
        for check, host, url, type_name, site in rows
    ]


def _plan(
    check: ScheduledCheck,
    host: str,
    url: str | None,
    type_name: str,
    site: str,
    metrics: dict[str, Metric],
    probes: dict[tuple[str, str], Probe],
    time_limit: float,
) -> PlannedCheck:
    assert check.id is not None
    base = PlannedCheck(check.id, host, type_name, check.metric, None, site=site)
    metric = metrics.get(check.metric)
    if metric is None:
        return _with(base, problem=f"no metric {check.metric} in the catalogue")
    probe = probes.get((metric.probe_name, metric.probe_version))
    if probe is None:
        return _with(base, problem=f"no probe {metric.probe_name} {metric.probe_version}")
    if probe.kind == ProbeKind.BUILTIN and probe.builtin in apel.BUILTINS:
        return PlannedCheck(
            check.id,
            host,
            type_name,
            check.metric,
            None,
            builtin=probe.builtin,
            parameters=dict(metric.parameters),
            site=site,
        )
    try:
        target = target_of(host, type_name, url)
    except TargetError as exc:
        return _with(base, problem=f"no target: {exc}")
    return PlannedCheck(
        check_id=check.id,
        hostname=host,
        service_type=type_name,
        metric=check.metric,
        target=target,
        builtin=probe.builtin if probe.kind == ProbeKind.BUILTIN else None,
        command=tuple(probe.command) if probe.kind == ProbeKind.PLUGIN else (),
        parameters=dict(metric.parameters),
        time_limit=min(time_limit, float(probe.timeout_seconds)),
        site=site,
    )


def _with(base: PlannedCheck, *, problem: str) -> PlannedCheck:
    return PlannedCheck(
        base.check_id, base.hostname, base.service_type, base.metric, None, problem=problem
    )


def run_planned(
    session: Session, plans: Sequence[PlannedCheck], *, now: dt.datetime
) -> dict[int, ProbeResult]:
    """The results of the planned checks whose probe reads the database (APEL-Pub,
    APEL-Sync), by check id, read in `session`; the others are left to the network."""
    done: dict[int, ProbeResult] = {}
    for plan in plans:
        if plan.builtin is not None and plan.builtin in apel.BUILTINS and plan.problem is None:
            done[plan.check_id] = apel.run(session, plan.builtin, plan.site, plan.parameters, now)
    return done


@dataclass(frozen=True, slots=True)
class Outcome:
    check_id: int
    status: str
    ran_at: dt.datetime


def complete_checks(
    session: Session, token: str, outcomes: Iterable[Outcome], *, now: dt.datetime
) -> int:
    """Records the outcomes of the checks still claimed under `token` (a claim that ran
    out and was taken by another scheduler is left to that one); how many."""
    by_id = {o.check_id: o for o in outcomes}
    checks = session.scalars(
        select(ScheduledCheck)
        .where(col(ScheduledCheck.claim_token) == token, col(ScheduledCheck.id).in_(list(by_id)))
        .execution_options(populate_existing=True)  # the claim was an UPDATE: reload
    ).all()
    metrics = _metrics(session, now.date())
    for check in checks:
        assert check.id is not None
        outcome = by_id[check.id]
        metric = metrics.get(check.metric)
        interval = metric.interval_seconds if metric else 300
        retry = metric.retry_interval_seconds if metric else interval
        attempts = metric.max_check_attempts if metric else 1
        check.attempt = 0 if outcome.status == OK else check.attempt + 1
        every = retry if 0 < check.attempt < attempts else interval
        check.next_due = next_due(check.next_due, outcome.ran_at, every)
        check.last_status = outcome.status
        check.last_run_at = outcome.ran_at
        check.claim_token = None
        check.claimed_until = None
    session.flush()
    return len(checks)


def next_due(previous: dt.datetime, ran_at: dt.datetime, every_seconds: int) -> dt.datetime:
    """`every_seconds` after the run, kept in phase with the schedule when the run was on
    time (a late run does not drag every later run with it)."""
    step = dt.timedelta(seconds=max(1, every_seconds))
    due = previous + step
    return due if due > ran_at else ran_at + step
