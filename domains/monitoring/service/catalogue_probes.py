"""The catalogue's probes and metrics: their writes (platform administrators, audited)
and reads; split from catalogue.py, whose helpers they share."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.authz import authorize
from domains.common.errors import Invalid, NotFound
from domains.common.identity import Principal
from domains.monitoring.models.catalogue import (
    Metric,
    MetricProfile,
    MetricProfileEntry,
    Probe,
    ProbeKind,
)
from domains.monitoring.probes.plugin import PluginError, check_arguments
from domains.monitoring.probes.runner import ParameterError, check_parameters
from domains.monitoring.rules import Action
from domains.monitoring.rules import MonitoringRule as R
from domains.monitoring.service.catalogue import (
    AUDIT_METRIC,
    AUDIT_PROBE,
    BUILTIN_PROBES,
    METRIC_FIELDS,
    PROBE_FIELDS,
    audit_catalogue_write,
    audited_fields,
    check_catalogue_name,
    today,
    valid_on,
)


def create_probe(
    session: Session,
    principal: Principal,
    *,
    name: str,
    version: str,
    kind: ProbeKind,
    builtin: str | None = None,
    command: Sequence[str] = (),
    description: str = "",
    timeout_seconds: int = 30,
    day: date | None = None,
    at: str = "",
) -> Probe:
    """A probe: a built-in (`builtin`: tcp, http, tls, apel-pub or apel-sync) or an external
    Nagios plugin (`command`: its path below the plugin directory and argument templates
    substituting only {host}, {port} and {url}). `at` prefixes the field names errors give
    (`input.`)."""
    authorize(session, principal, Action.MANAGE_CATALOGUE)
    check_catalogue_name(name, f"{at}name")
    check_catalogue_name(version, f"{at}version")
    _check_probe(kind, builtin, command, timeout_seconds, at)
    taken = session.scalars(
        select(Probe).where(col(Probe.name) == name, col(Probe.version) == version)
    ).first()
    if taken is not None:
        raise Invalid(f"{at}version", R.MONITORING_PROBE_VERSION_TAKEN)
    probe = Probe(
        uuid=str(uuidlib.uuid4()),
        date=day or today(),
        name=name,
        version=version,
        kind=kind,
        builtin=builtin,
        command=list(command),
        description=description,
        timeout_seconds=timeout_seconds,
        created_by=principal.subject or "",
    )
    session.add(probe)
    session.flush()
    audit_catalogue_write(
        session, principal, AUDIT_PROBE, "create", probe, {}, audited_fields(probe, PROBE_FIELDS)
    )
    return probe


def _check_probe(
    kind: ProbeKind, builtin: str | None, command: Sequence[str], timeout_seconds: int, at: str
) -> None:
    if kind is ProbeKind.BUILTIN:
        if command or builtin is None:
            raise Invalid(f"{at}builtin", R.MONITORING_PROBE_KIND_MISMATCH)
        if builtin not in BUILTIN_PROBES:
            raise Invalid(f"{at}builtin", R.MONITORING_PROBE_BUILTIN_UNKNOWN)
    else:
        if builtin is not None or not command:
            raise Invalid(f"{at}command", R.MONITORING_PROBE_KIND_MISMATCH)
        try:
            check_arguments(command)
        except PluginError as error:
            field = f"{at}command"
            raise Invalid(field, R.MONITORING_PROBE_COMMAND_INVALID, f"{field}: {error}") from None
    if not 1 <= timeout_seconds <= 600:
        raise Invalid(f"{at}timeoutSeconds", R.MONITORING_TIMEOUT_OUT_OF_RANGE)


def _probe(session: Session, probe_id: int) -> Probe:
    probe = session.get(Probe, probe_id)
    if probe is None:
        raise NotFound(f"no probe {probe_id}")
    return probe


def update_probe(
    session: Session,
    principal: Principal,
    probe_id: int,
    *,
    builtin: str | None = None,
    command: Sequence[str] | None = None,
    description: str | None = None,
    timeout_seconds: int | None = None,
    at: str = "",
) -> Probe:
    """Change how one probe version runs, in place (its name, version and kind stay: a new
    version of the software is a new probe); the fields left out keep their values."""
    authorize(session, principal, Action.MANAGE_CATALOGUE)
    probe = _probe(session, probe_id)
    before = audited_fields(probe, PROBE_FIELDS)
    new_builtin = probe.builtin if builtin is None else builtin
    new_command = list(probe.command) if command is None else list(command)
    new_timeout = probe.timeout_seconds if timeout_seconds is None else timeout_seconds
    _check_probe(probe.kind, new_builtin, new_command, new_timeout, at)
    probe.builtin, probe.command, probe.timeout_seconds = new_builtin, new_command, new_timeout
    if description is not None:
        probe.description = description
    session.flush()
    audit_catalogue_write(
        session,
        principal,
        AUDIT_PROBE,
        "update",
        probe,
        before,
        audited_fields(probe, PROBE_FIELDS),
    )
    return probe


def delete_probe(session: Session, principal: Principal, probe_id: int) -> None:
    """Refused while a metric (in any version) runs the probe: the metric goes first."""
    authorize(session, principal, Action.MANAGE_CATALOGUE)
    probe = _probe(session, probe_id)
    user = session.scalars(
        select(col(Metric.name))
        .where(col(Metric.probe_name) == probe.name, col(Metric.probe_version) == probe.version)
        .limit(1)
    ).first()
    if user is not None:
        raise Invalid("id", R.MONITORING_PROBE_IN_USE, f"id: metric {user} runs this probe")
    gone = audited_fields(probe, PROBE_FIELDS)
    session.delete(probe)
    session.flush()
    audit_catalogue_write(session, principal, AUDIT_PROBE, "delete", probe, gone, {})


def create_metric(
    session: Session,
    principal: Principal,
    *,
    name: str,
    probe_name: str,
    probe_version: str,
    parameters: object = None,
    interval_seconds: int = 300,
    retry_interval_seconds: int = 180,
    max_check_attempts: int = 3,
    description: str = "",
    day: date | None = None,
    at: str = "",
) -> Metric:
    """A metric (a new version of the one of the same name, if any): a probe, by name and
    version, with parameters and intervals in seconds."""
    authorize(session, principal, Action.MANAGE_CATALOGUE)
    check_catalogue_name(name, f"{at}name")
    _check_metric(
        session,
        probe_name,
        probe_version,
        parameters,
        interval_seconds,
        retry_interval_seconds,
        max_check_attempts,
        at,
    )
    existing = session.scalars(select(Metric).where(col(Metric.name) == name)).first()
    uuid = existing.uuid if existing is not None else str(uuidlib.uuid4())
    day = day or today()
    previous = valid_on(session, Metric, day, uuid=uuid)
    before = {} if previous is None else audited_fields(previous, METRIC_FIELDS)
    # a new version of a metric of the same name; the one of the same date is replaced
    session.execute(
        delete(Metric).where(col(Metric.uuid) == uuid, col(Metric.date) == day),
        execution_options={"synchronize_session": "fetch"},
    )
    metric = Metric(
        uuid=uuid,
        date=day,
        name=name,
        probe_name=probe_name,
        probe_version=probe_version,
        parameters=dict(parameters or {}),  # type: ignore[call-overload]
        interval_seconds=interval_seconds,
        retry_interval_seconds=retry_interval_seconds,
        max_check_attempts=max_check_attempts,
        description=description,
        created_by=principal.subject or "",
    )
    session.add(metric)
    session.flush()
    verb = "create" if previous is None else "update"
    audit_catalogue_write(
        session,
        principal,
        AUDIT_METRIC,
        verb,
        metric,
        before,
        audited_fields(metric, METRIC_FIELDS),
    )
    return metric


def _check_metric(
    session: Session,
    probe_name: str,
    probe_version: str,
    parameters: object,
    interval_seconds: int,
    retry_interval_seconds: int,
    max_check_attempts: int,
    at: str,
) -> None:
    probe = session.scalars(
        select(Probe).where(col(Probe.name) == probe_name, col(Probe.version) == probe_version)
    ).first()
    if probe is None:
        raise Invalid(f"{at}probeVersion", R.MONITORING_PROBE_UNKNOWN)
    if parameters is not None and not isinstance(parameters, Mapping):
        raise Invalid(
            f"{at}parameters", R.MONITORING_FIELD_WRONG_TYPE, f"{at}parameters: an object"
        )
    if probe.kind is ProbeKind.BUILTIN and probe.builtin is not None:
        try:
            check_parameters(probe.builtin, parameters or {})
        except ParameterError as exc:
            raise Invalid(
                f"{at}parameters.{exc.name}", R.MONITORING_METRIC_PARAMETERS_INVALID, str(exc)
            ) from exc
    for field, seconds in (
        ("interval", interval_seconds),
        ("retryInterval", retry_interval_seconds),
    ):
        if not 60 <= seconds <= 86400:
            raise Invalid(f"{at}{field}", R.MONITORING_INTERVAL_OUT_OF_RANGE)
    if not 1 <= max_check_attempts <= 10:
        raise Invalid(f"{at}maxCheckAttempts", R.MONITORING_ATTEMPTS_OUT_OF_RANGE)


def _metric(session: Session, metric_id: int) -> Metric:
    metric = session.get(Metric, metric_id)
    if metric is None:
        raise NotFound(f"no metric {metric_id}")
    return metric


def update_metric(
    session: Session,
    principal: Principal,
    metric_id: int,
    *,
    probe_name: str | None = None,
    probe_version: str | None = None,
    parameters: object = None,
    interval_seconds: int | None = None,
    retry_interval_seconds: int | None = None,
    max_check_attempts: int | None = None,
    description: str | None = None,
    at: str = "",
) -> Metric:
    """Change one version of a metric in place (a dated new version is `create_metric`'s);
    the fields left out keep their values, and the whole is checked as a new one is."""
    authorize(session, principal, Action.MANAGE_CATALOGUE)
    metric = _metric(session, metric_id)
    before = audited_fields(metric, METRIC_FIELDS)
    values = {
        "probe_name": metric.probe_name if probe_name is None else probe_name,
        "probe_version": metric.probe_version if probe_version is None else probe_version,
        "parameters": dict(metric.parameters) if parameters is None else parameters,
        "interval_seconds": (
            metric.interval_seconds if interval_seconds is None else interval_seconds
        ),
        "retry_interval_seconds": (
            metric.retry_interval_seconds
            if retry_interval_seconds is None
            else retry_interval_seconds
        ),
        "max_check_attempts": (
            metric.max_check_attempts if max_check_attempts is None else max_check_attempts
        ),
    }
    _check_metric(session, **values, at=at)  # type: ignore[arg-type]
    for name, value in values.items():
        setattr(metric, name, dict(value) if name == "parameters" else value)  # type: ignore[call-overload]
    if description is not None:
        metric.description = description
    session.flush()
    audit_catalogue_write(
        session,
        principal,
        AUDIT_METRIC,
        "update",
        metric,
        before,
        audited_fields(metric, METRIC_FIELDS),
    )
    return metric


def delete_metric(session: Session, principal: Principal, metric_id: int) -> None:
    """Every version of the metric; refused while a metric profile (in any version) lists
    it, since reports expect its results."""
    authorize(session, principal, Action.MANAGE_CATALOGUE)
    metric = _metric(session, metric_id)
    profile = session.scalars(
        select(col(MetricProfile.name))
        .join(MetricProfileEntry, col(MetricProfileEntry.profile_id) == col(MetricProfile.id))
        .where(col(MetricProfileEntry.metric) == metric.name)
        .limit(1)
    ).first()
    if profile is not None:
        raise Invalid(
            "id", R.MONITORING_METRIC_IN_USE, f"id: metric profile {profile} lists this metric"
        )
    versions = list(
        session.scalars(
            select(Metric).where(col(Metric.uuid) == metric.uuid).order_by(col(Metric.date))
        )
    )
    gone = audited_fields(metric, METRIC_FIELDS) | {"versions": [v.date for v in versions]}
    for version in versions:
        session.delete(version)
    session.flush()
    audit_catalogue_write(session, principal, AUDIT_METRIC, "delete", metric, gone, {})


def probes(session: Session) -> list[Probe]:
    """Every probe, every version."""
    return list(session.scalars(select(Probe).order_by(col(Probe.name), col(Probe.version))))


def metrics_on(session: Session, day: date | None = None) -> dict[str, Metric]:
    """Every metric as valid on `day`, by name."""
    latest = (
        select(col(Metric.uuid), func.max(col(Metric.date)).label("date"))
        .where(col(Metric.date) <= (day or today()))
        .group_by(col(Metric.uuid))
        .subquery()
    )
    rows = session.scalars(
        select(Metric).join(
            latest, (col(Metric.uuid) == latest.c.uuid) & (col(Metric.date) == latest.c.date)
        )
    )
    return {row.name: row for row in rows}
