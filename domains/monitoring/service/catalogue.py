"""The catalogue's reads and writes: ARGO's profiles, weights and reports (versioned by
date), probes and metrics.

Reads are public. Writes begin with `authorize(...)`: platform administrators only. A write
takes ARGO's JSON document (profiles.py checks it); creating gives a new `uuid` (or keeps
the document's `id`), updating adds the version of the document's `date` (today when it has
none), replacing the version of that date if there is one, as argo-web-api's PUT does;
deleting removes every version. `profiles_valid_on` gives what a report computes a day with.
A new version dated D asks the workers, in the write's transaction, to compute again the
stored A/R days from D of every report using it (`rerun_stored_days`).
Every write is audited in its transaction (`domains.common.audit.record_change`, entity types
AUDIT_TYPES), as topology's are; a plugin's arguments and a metric's parameters are masked
there where they look like secrets.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common import audit
from domains.common.audit import record_change
from domains.common.authz import authorize
from domains.common.errors import Invalid, NotFound
from domains.common.identity import Principal
from domains.common.outbox import emit
from domains.common.time import utcnow
from domains.monitoring.models.availability import DailyAvailability
from domains.monitoring.models.catalogue import (
    AggregationProfile,
    MetricProfile,
    MetricProfileEntry,
    OperationsProfile,
    Report,
    ThresholdsProfile,
    Versioned,
    Weights,
)
from domains.monitoring.probes.runner import BUILTINS
from domains.monitoring.profiles import (
    REPORT,
    Parsed,
    ProfileKind,
    aggregation_operations,
    parse,
    render,
)
from domains.monitoring.rules import Action
from domains.monitoring.rules import MonitoringRule as R

V = TypeVar("V", bound=Versioned)

TABLES: dict[str, type[Versioned]] = {
    ProfileKind.METRIC: MetricProfile,
    ProfileKind.OPERATIONS: OperationsProfile,
    ProfileKind.AGGREGATION: AggregationProfile,
    ProfileKind.THRESHOLDS: ThresholdsProfile,
    ProfileKind.WEIGHTS: Weights,
    REPORT: Report,
}
REPORT_COLUMN: dict[str, Any] = {
    ProfileKind.METRIC: Report.metric_profile_uuid,
    ProfileKind.OPERATIONS: Report.operations_profile_uuid,
    ProfileKind.AGGREGATION: Report.aggregation_profile_uuid,
    ProfileKind.THRESHOLDS: Report.thresholds_profile_uuid,
    ProfileKind.WEIGHTS: Report.weights_uuid,
}
BUILTIN_PROBES = BUILTINS  # the runner's: tcp, http, tls, apel-pub, apel-sync
# a request to compute one (report, day), handled by `service.availability` (which reads
# this module, hence the name here)
AVAILABILITY_REQUESTED = "monitoring.availability_requested"

# the audit log's entity type of each kind (the change log shows them as reference data)
AUDIT_KIND: dict[str, str] = {
    ProfileKind.METRIC: "monitoring_metric_profile",
    ProfileKind.OPERATIONS: "monitoring_operations_profile",
    ProfileKind.AGGREGATION: "monitoring_aggregation_profile",
    ProfileKind.THRESHOLDS: "monitoring_thresholds_profile",
    ProfileKind.WEIGHTS: "monitoring_weights",
    REPORT: "monitoring_report",
}
AUDIT_PROBE = "monitoring_probe"
AUDIT_METRIC = "monitoring_metric"
AUDIT_TYPES: tuple[str, ...] = (*AUDIT_KIND.values(), AUDIT_PROBE, AUDIT_METRIC)
PROFILE_FIELDS = ("uuid", "date", "name", "description", "document")
PROBE_FIELDS = (
    "uuid",
    "date",
    "name",
    "version",
    "kind",
    "builtin",
    "command",
    "timeout_seconds",
    "description",
)
METRIC_FIELDS = (
    "uuid",
    "date",
    "name",
    "probe_name",
    "probe_version",
    "parameters",
    "interval_seconds",
    "retry_interval_seconds",
    "max_check_attempts",
    "description",
)
# a parameter or plugin option whose name says it holds a secret
_SECRET_WORDS = ("pass", "secret", "token", "key", "auth", "credential", "cookie")
MASK = audit.MASK


def today() -> date:
    return utcnow().date()


# ---------------------------------------------------------------------------------------
# reads


def versions_on(session: Session, kind: str, day: date | None = None) -> list[Any]:
    """Every profile (or report) of `kind` as valid on `day` (today when None): per uuid,
    the version with the latest date not after `day`; by name."""
    table = TABLES[kind]
    day = day or today()
    latest = (
        select(col(table.uuid), func.max(col(table.date)).label("date"))
        .where(col(table.date) <= day)
        .group_by(col(table.uuid))
        .subquery()
    )
    return list(
        session.scalars(
            select(table)
            .join(latest, (col(table.uuid) == latest.c.uuid) & (col(table.date) == latest.c.date))
            .order_by(col(table.name))
        )
    )


def valid_on(session: Session, model: type[V], day: date, *, uuid: str) -> V | None:
    """The version of a catalogue thing valid on `day`: the latest dated on or before it."""
    return session.scalars(
        select(model)
        .where(col(model.uuid) == uuid, col(model.date) <= day)
        .order_by(col(model.date).desc())
        .limit(1)
    ).first()


def version_on(session: Session, kind: str, uuid: str, day: date | None = None) -> Any | None:
    return valid_on(session, TABLES[kind], day or today(), uuid=uuid)


def history(session: Session, kind: str, uuid: str) -> list[Any]:
    """Every version of one profile or report, oldest first."""
    table = TABLES[kind]
    return list(
        session.scalars(select(table).where(col(table.uuid) == uuid).order_by(col(table.date)))
    )


def report_by_name(session: Session, name: str, day: date | None = None) -> Report | None:
    """The report called `name` as valid on `day` (today when None)."""
    for report in versions_on(session, REPORT, day):
        if report.name == name:
            assert isinstance(report, Report)
            return report
    return None


def report_named(session: Session, report: str, day: date | None = None) -> Report | None:
    """A report by ARGO id (uuid) or by name, in its version valid on `day` (today when
    None): what the availability queries and ARGO's routes name a report by."""
    return valid_on(session, Report, day or today(), uuid=report) or report_by_name(
        session, report, day
    )


def metric_services(session: Session, profile: MetricProfile) -> dict[str, tuple[str, ...]]:
    """A metric profile version's service type -> metrics, in the profile's order: its
    entry rows (stored in the document's order), the one source the A/R and
    `profiles_valid_on` read."""
    services: dict[str, list[str]] = {}
    for stype, metric in session.execute(
        select(col(MetricProfileEntry.service_type), col(MetricProfileEntry.metric))
        .where(col(MetricProfileEntry.profile_id) == profile.id)
        .order_by(col(MetricProfileEntry.id))
    ):
        services.setdefault(stype, []).append(metric)
    return {stype: tuple(metrics) for stype, metrics in services.items()}


@dataclass(frozen=True, slots=True)
class ReportProfiles:
    """What a report computes one day with: the versions of its profiles valid that day."""

    day: date
    report: Report
    metric_profile: MetricProfile
    operations: OperationsProfile
    aggregation: AggregationProfile
    thresholds: ThresholdsProfile | None
    weights: Weights | None
    # the metric profile's service type -> metrics, in the profile's order
    metrics: Mapping[str, tuple[str, ...]]


def profiles_valid_on(session: Session, report_name: str, day: date) -> ReportProfiles:
    """The report `report_name` and the versions of its profiles valid on `day`. Raises
    NotFound when the report, or one of its profiles, has no version that day."""
    report = report_by_name(session, report_name, day)
    if report is None:
        raise NotFound(f"no report {report_name!r} on {day.isoformat()}")

    def of(kind: ProfileKind, uuid: str | None) -> Any:
        if uuid is None:
            return None
        found = version_on(session, kind, uuid, day)
        if found is None:
            raise NotFound(f"report {report_name!r}: no {kind} profile {uuid} on {day}")
        return found

    metric_profile = of(ProfileKind.METRIC, report.metric_profile_uuid)
    metrics = metric_services(session, metric_profile)
    return ReportProfiles(
        day,
        report,
        metric_profile,
        of(ProfileKind.OPERATIONS, report.operations_profile_uuid),
        of(ProfileKind.AGGREGATION, report.aggregation_profile_uuid),
        of(ProfileKind.THRESHOLDS, report.thresholds_profile_uuid),
        of(ProfileKind.WEIGHTS, report.weights_uuid),
        metrics,
    )


def as_argo(kind: str, row: Any) -> dict[str, Any]:
    """ARGO's JSON of one stored version."""
    return render(kind, row.uuid, row.date, row.document)


# ---------------------------------------------------------------------------------------
# writes


def create_profile(
    session: Session, principal: Principal, kind: str, document: object, *, at: str = "document"
) -> Any:
    """A new profile (or report) from ARGO's JSON; its `id` is kept when given and new."""
    authorize(session, principal, Action.MANAGE_CATALOGUE)
    parsed = _checked(session, kind, document, at)
    uuid = parsed.uuid or str(uuidlib.uuid4())
    if history(session, kind, uuid):
        raise Invalid(f"{at}.id", R.MONITORING_PROFILE_NAME_TAKEN, f"{at}.id: {uuid} exists")
    _name_free(session, kind, parsed.name, uuid, at)
    row = _store(session, principal, kind, uuid, parsed)
    audit_catalogue_write(
        session, principal, AUDIT_KIND[kind], "create", row, {}, audited_fields(row, PROFILE_FIELDS)
    )
    return row


def update_profile(
    session: Session,
    principal: Principal,
    kind: str,
    uuid: str,
    document: object,
    *,
    at: str = "document",
) -> Any:
    """The version of the document's date (today without one) of an existing profile."""
    authorize(session, principal, Action.MANAGE_CATALOGUE)
    if not history(session, kind, uuid):
        raise NotFound(f"no {kind} profile {uuid}")
    parsed = _checked(session, kind, document, at)
    if parsed.uuid is not None and parsed.uuid != uuid:
        raise Invalid(f"{at}.id", R.MONITORING_UUID_INVALID, f"{at}.id: not the id updated")
    _name_free(session, kind, parsed.name, uuid, at)
    table = TABLES[kind]
    day = parsed.date or today()
    # what the new version follows: the one it replaces, else the one valid that day before
    previous = valid_on(session, table, day, uuid=uuid) or history(session, kind, uuid)[0]
    before = audited_fields(previous, PROFILE_FIELDS)
    _delete_versions(session, table, col(table.uuid) == uuid, col(table.date) == day)
    row = _store(session, principal, kind, uuid, parsed)
    rerun_stored_days(session, kind, uuid, day)
    audit_catalogue_write(
        session,
        principal,
        AUDIT_KIND[kind],
        "update",
        row,
        before,
        audited_fields(row, PROFILE_FIELDS),
    )
    return row


def delete_profile(session: Session, principal: Principal, kind: str, uuid: str) -> None:
    """Every version; refused while a report (in any version) names the profile."""
    authorize(session, principal, Action.MANAGE_CATALOGUE)
    versions = history(session, kind, uuid)
    if not versions:
        raise NotFound(f"no {kind} profile {uuid}")
    if kind != REPORT:
        users = session.scalars(
            select(col(Report.name)).where(col(REPORT_COLUMN[kind]) == uuid).limit(1)
        ).first()
        if users is not None:
            raise Invalid("id", R.MONITORING_PROFILE_IN_USE, f"id: report {users} uses it")
    table = TABLES[kind]
    gone = audited_fields(versions[-1], PROFILE_FIELDS) | {"versions": [v.date for v in versions]}
    _delete_versions(session, table, col(table.uuid) == uuid)
    audit_catalogue_write(session, principal, AUDIT_KIND[kind], "delete", versions[-1], gone, {})


def rerun_stored_days(session: Session, kind: str, uuid: str, day: date) -> int:
    """Ask the workers to compute again (an outbox request per (report, day), as the
    recomputations' re-runs do) every stored A/R day that the version of `uuid` dated `day`
    now decides: from `day` until the day before its next version (up to today), of each
    report naming it in any version (or of the report itself). Days before `day` were
    computed with the previous version and keep their values, as in ARGO. How many
    requests were made."""
    table = TABLES[kind]
    later = session.scalars(
        select(func.min(col(table.date))).where(col(table.uuid) == uuid, col(table.date) > day)
    ).first()
    last = today() if later is None else min(today(), later - timedelta(days=1))
    if kind == REPORT:
        reports = [uuid]
    else:
        reports = list(
            session.scalars(
                select(col(Report.uuid)).where(col(REPORT_COLUMN[kind]) == uuid).distinct()
            )
        )
    if not reports or last < day:
        return 0
    a = DailyAvailability
    stored = session.execute(
        select(col(a.report_uuid), col(a.day))
        .where(col(a.report_uuid).in_(reports), col(a.day) >= day, col(a.day) <= last)
        .distinct()
        .order_by(col(a.report_uuid), col(a.day))
    ).all()
    for report_uuid, stored_day in stored:
        emit(
            session, AVAILABILITY_REQUESTED, {"report": report_uuid, "day": stored_day.isoformat()}
        )
    return len(stored)


def audited_fields(row: Any, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def _secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _masked_command(command: Sequence[str]) -> list[str]:
    """A plugin's argv as the audit log keeps it: the value of an option whose name says
    it is a secret (`--password x`, `--token=x`) masked; templates and paths as they are."""
    out: list[str] = []
    hide_next = False
    for arg in command:
        if hide_next and not arg.startswith("-"):
            out.append(MASK)
            hide_next = False
            continue
        name, eq, _ = arg.partition("=")
        if arg.startswith("-") and _secret(name):
            if eq:
                out.append(f"{name}={MASK}")
            else:
                out.append(arg)
                hide_next = True
            continue
        hide_next = False
        out.append(arg)
    return out


def _audit_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with what may be a secret masked (the log is read by more than the
    platform administrators who wrote it), dates in ISO form."""
    out = dict(values)
    if isinstance(out.get("command"), list):
        out["command"] = _masked_command(out["command"])
    if isinstance(out.get("parameters"), Mapping):
        out["parameters"] = {
            k: (MASK if _secret(str(k)) and v not in (None, "") else v)
            for k, v in out["parameters"].items()
        }
    for name, value in out.items():
        if isinstance(value, date):
            out[name] = value.isoformat()
        elif isinstance(value, list) and value and isinstance(value[0], date):
            out[name] = [d.isoformat() for d in value]
    return out


def audit_catalogue_write(
    session: Session,
    principal: Principal,
    kind: str,
    verb: str,
    row: Any,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    """The change log's entry `<kind>.<verb>` about `row`, as topology's writes record
    theirs: each field that changed with [before, after]."""
    record_change(
        session, principal, kind, verb, row, audit.diff(_audit_form(before), _audit_form(after))
    )


def _delete_versions(session: Session, table: type[Versioned], *where: Any) -> None:
    """ORM deletes, so that the session forgets the rows (SQLite reuses their ids)."""
    if table is MetricProfile:
        ids = select(col(MetricProfile.id)).where(*where).scalar_subquery()
        session.execute(
            delete(MetricProfileEntry).where(col(MetricProfileEntry.profile_id).in_(ids)),
            execution_options={"synchronize_session": "fetch"},
        )
    session.execute(delete(table).where(*where), execution_options={"synchronize_session": "fetch"})


def _checked(session: Session, kind: str, document: object, at: str) -> Parsed:
    parsed = parse(kind, document, at)
    if kind == REPORT:
        _check_references(session, parsed, at)
    return parsed


def _check_references(session: Session, parsed: Parsed, at: str) -> None:
    """Each profile a report names exists; its aggregation's operations are the operations
    profile's; the report renders each profile's own name."""
    names: dict[str, str] = {}
    found: dict[ProfileKind, Any] = {}
    for kind, uuid, path in parsed.references:
        row = version_on(session, kind, uuid, date.max)
        if row is None:
            raise Invalid(path, R.MONITORING_PROFILE_UNKNOWN, f"{path}: no {kind} profile {uuid}")
        names[uuid] = row.name
        found[kind] = row
    defined = {op["name"] for op in found[ProfileKind.OPERATIONS].document["operations"]}
    for path, operation in aggregation_operations(found[ProfileKind.AGGREGATION].document):
        if operation not in defined:
            raise Invalid(
                f"{at}.profiles",
                R.MONITORING_OPERATION_UNKNOWN,
                f"{at}.profiles: the aggregation's {path} {operation} is not an operation of "
                f"the operations profile",
            )
    for reference in parsed.document["profiles"]:
        reference["name"] = names[reference["id"]]


def _name_free(session: Session, kind: str, name: str, uuid: str, at: str) -> None:
    table = TABLES[kind]
    other = session.scalars(
        select(col(table.uuid)).where(col(table.name) == name, col(table.uuid) != uuid).limit(1)
    ).first()
    if other is not None:
        field = f"{at}.info.name" if kind == REPORT else f"{at}.name"
        raise Invalid(field, R.MONITORING_PROFILE_NAME_TAKEN)


def _store(session: Session, principal: Principal, kind: str, uuid: str, parsed: Parsed) -> Any:
    table: Any = TABLES[kind]
    row = table(
        uuid=uuid,
        date=parsed.date or today(),
        name=parsed.name,
        description=parsed.description,
        created_by=principal.subject or "",
        document=parsed.document,
        **parsed.columns,
    )
    session.add(row)
    session.flush()
    if parsed.entries:
        assert row.id is not None
        session.add_all(
            MetricProfileEntry(profile_id=row.id, service_type=service_type, metric=metric)
            for service_type, metric in parsed.entries
        )
        session.flush()
    return row


# ---------------------------------------------------------------------------------------
# probes and metrics


def check_catalogue_name(name: str, field: str) -> None:
    if not name.strip():
        raise Invalid(field, R.MONITORING_NAME_EMPTY)
    if len(name) > 255:
        raise Invalid(field, R.MONITORING_NAME_TOO_LONG)
