"""Recomputations (models.recomputations), the one set of functions GraphQL and the ARGO web
API's `/api/v2/recomputations` call.

- Who may: platform administrators; an NGI's operations manager (or deputy) when every part
  of the recomputation is scoped to sites of that NGI (excluded sites; metric exclusions and
  status changes naming a group (site) or a host of them). Excluding a monitoring source,
  or a metric or state of no particular site or host, changes every site's A/R: platform
  administrators only. Reading is public, as ARGO's results are, but the requester's
  e-mail shows only to those who may manage the recomputation (`may_manage`).
- A recomputation applies as soon as it is written (the engine reads it:
  `availability.recomputations_on`), and creating, replacing or deleting one asks the
  workers to compute again exactly the (report, day) it touches (through the outbox event
  `monitoring.availability_requested`): the days of its span, the day after when it drops
  a monitoring source's results (a day's last result seeds the next), up to today, and not
  before the first day whose results are all still kept (OPSGRAPH_MONITORING_RETENTION_DAYS:
  a day whose results are gone keeps the A/R computed when they were there).
- Every write is audited (`recomputation.create|update|delete|status`); the workflow's
  status (ARGO's pending → approved → running → done, or rejected) is
  `service.recomputation_workflow`'s."""

from __future__ import annotations

import datetime as dt
import re
import uuid as uuidlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common import audit
from domains.common.authz import authorize, can, policy
from domains.common.errors import Invalid, NotFound
from domains.common.identity import Principal
from domains.common.pagination import PageRequest
from domains.common.query import RecordPage, keyset_page
from domains.common.text import unstorable_text
from domains.common.time import utcnow
from domains.identity import service as identity
from domains.identity.models import EntityKind
from domains.monitoring.models import Report
from domains.monitoring.models.recomputations import REASON_MAX, Recomputation
from domains.monitoring.models.results import NAME_MAX
from domains.monitoring.rules import MonitoringRule as R
from domains.monitoring.rules import RecomputationAction
from domains.monitoring.service import availability, catalogue
from domains.monitoring.service.results import current_policy
from domains.topology.service import T_NGI, T_SERVICE, T_SITE

T_RECOMPUTATION: Table = Recomputation.__table__  # type: ignore[attr-defined]
ONE_DAY = dt.timedelta(days=1)
MAX_ENTRIES = 100
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN", "MISSING", "DOWNTIME")
# the NGI roles that manage an NGI's recomputations (GOCDB's deputy stands in for the manager)
OPERATIONS_MANAGERS = frozenset({"NGI Operations Manager", "NGI Operations Deputy Manager"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ZULU = "%Y-%m-%dT%H:%M:%SZ"


# --- what a recomputation says -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricExclusionSpec:
    metric: str
    hostname: str | None = None
    service: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class SourceExclusionSpec:
    host: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class StatusChangeSpec:
    state: str
    group: str | None = None
    service: str | None = None
    endpoint: str | None = None
    metric: str | None = None
    start: dt.datetime | None = None  # None: the recomputation's period
    end: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class RecomputationSpec:
    """The whole of a recomputation (a replacement gives every field again)."""

    report: str  # name or id
    requester_name: str
    requester_email: str
    reason: str
    start: dt.datetime
    end: dt.datetime
    exclude: Sequence[str] = ()
    exclude_metrics: Sequence[MetricExclusionSpec] = ()
    exclude_monitoring_source: Sequence[SourceExclusionSpec] = ()
    applied_status_changes: Sequence[StatusChangeSpec] = field(default_factory=tuple)


Field = Callable[[str], str]


def graphql_field(name: str) -> str:
    """`input.requesterName` for the snake-case name (the GraphQL input's fields)."""
    return "input." + re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def argo_field(name: str) -> str:
    """`body.requester_name` (the ARGO JSON body's fields)."""
    return f"body.{name}"


def zulu(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(ZULU)


def parse_zulu(value: object, name: str, at: Field = argo_field) -> dt.datetime:
    if not isinstance(value, str):
        raise Invalid(at(name), R.RECOMPUTATION_TIME_INVALID)
    try:
        return dt.datetime.strptime(value, ZULU).replace(tzinfo=dt.UTC)
    except ValueError:
        raise Invalid(at(name), R.RECOMPUTATION_TIME_INVALID) from None


# --- checks --------------------------------------------------------------------------------


def _name(value: str | None, name: str, at: Field, limit: int = NAME_MAX) -> str:
    text = (value or "").strip()
    if not text or len(text) > limit or unstorable_text(text):
        rule = (
            R.RECOMPUTATION_REASON_INVALID if limit == REASON_MAX else R.RECOMPUTATION_TEXT_INVALID
        )
        raise Invalid(at(name), rule)
    return text


def _optional(value: str | None, name: str, at: Field) -> str | None:
    return None if value is None else _name(value, name, at)


def _utc(value: dt.datetime, name: str, at: Field) -> dt.datetime:
    if value.tzinfo is None:
        raise Invalid(at(name), R.MONITORING_TIME_WITHOUT_OFFSET)
    return value.astimezone(dt.UTC)


def _period(
    start: dt.datetime, end: dt.datetime, names: tuple[str, str], at: Field
) -> tuple[dt.datetime, dt.datetime]:
    s, e = _utc(start, names[0], at), _utc(end, names[1], at)
    if e < s:
        raise Invalid(at(names[1]), R.MONITORING_PERIOD_REVERSED)
    return s, e


@dataclass(frozen=True, slots=True)
class _Checked:
    values: dict[str, Any]
    sites: frozenset[str]  # the sites it names (excluded, groups, hosts' sites)
    everywhere: bool  # a part of it applies to no particular site or host


def _sites_of_hosts(session: Session, hosts: Iterable[str]) -> dict[str, set[str]]:
    s, site = T_SERVICE.c, T_SITE.c
    out: dict[str, set[str]] = {}
    wanted = sorted(set(hosts))
    if wanted:
        for host, short_name in session.execute(
            select(s.host_name, site.short_name)
            .select_from(T_SERVICE.join(T_SITE, site.id == s.site_id))
            .where(s.host_name.in_(wanted))
        ):
            out.setdefault(str(host), set()).add(str(short_name))
    return out


def _known_sites(session: Session, names: Iterable[str]) -> set[str]:
    wanted = sorted(set(names))
    if not wanted:
        return set()
    return {
        str(n)
        for n in session.scalars(select(T_SITE.c.short_name).where(T_SITE.c.short_name.in_(wanted)))
    }


def validated(session: Session, spec: RecomputationSpec, at: Field = graphql_field) -> _Checked:
    """The row's values (ARGO's JSON in its lists) and what it touches; Invalid naming the
    field (`at` spells it: GraphQL's input or ARGO's body) otherwise."""
    report = catalogue.report_named(session, spec.report.strip())
    if report is None:
        raise Invalid(at("report"), R.MONITORING_REPORT_UNKNOWN)
    start, end = _period(spec.start, spec.end, ("start_time", "end_time"), at)
    email = _name(spec.requester_email, "requester_email", at)
    if not _EMAIL.fullmatch(email):
        raise Invalid(at("requester_email"), R.RECOMPUTATION_EMAIL_INVALID)
    for key in (
        "exclude",
        "exclude_metrics",
        "exclude_monitoring_source",
        "applied_status_changes",
    ):
        if len(getattr(spec, key)) > MAX_ENTRIES:
            raise Invalid(at(key), R.RECOMPUTATION_TOO_MANY)
    groups = [(_name(s, f"exclude[{i}]", at), f"exclude[{i}]") for i, s in enumerate(spec.exclude)]
    exclude = sorted({s for s, _ in groups})
    hosts: list[tuple[str, str]] = []
    everywhere = False
    metrics: list[dict[str, Any]] = []
    for i, m in enumerate(spec.exclude_metrics):
        path = f"exclude_metrics[{i}]"
        entry = {"metric": _name(m.metric, f"{path}.metric", at)}
        for key in ("hostname", "service", "group"):
            value = _optional(getattr(m, key), f"{path}.{key}", at)
            if value is not None:
                entry[key] = value
        if "group" in entry:
            groups.append((entry["group"], f"{path}.group"))
        if "hostname" in entry:
            hosts.append((entry["hostname"], f"{path}.hostname"))
        everywhere |= "group" not in entry and "hostname" not in entry
        metrics.append(entry)
    sources: list[dict[str, Any]] = []
    spans = [(start, end)]
    for i, src in enumerate(spec.exclude_monitoring_source):
        path = f"exclude_monitoring_source[{i}]"
        s, e = _period(src.start, src.end, (f"{path}.start_time", f"{path}.end_time"), at)
        sources.append(
            {
                "host": _name(src.host, f"{path}.host", at),
                "start_time": zulu(s),
                "end_time": zulu(e),
            }
        )
        spans.append((s, e))
        everywhere = True
    changes: list[dict[str, Any]] = []
    for i, c in enumerate(spec.applied_status_changes):
        path = f"applied_status_changes[{i}]"
        state = c.state.strip().upper()
        if state not in STATES:
            raise Invalid(at(f"{path}.state"), R.RECOMPUTATION_STATE_UNKNOWN)
        entry = {}
        for key in ("group", "service", "endpoint", "metric"):
            value = _optional(getattr(c, key), f"{path}.{key}", at)
            if value is not None:
                entry[key] = value
        if not entry:
            raise Invalid(at(path), R.RECOMPUTATION_TARGET_REQUIRED)
        entry["state"] = state
        if c.start is not None or c.end is not None:
            s, e = _period(
                c.start or start, c.end or end, (f"{path}.start_time", f"{path}.end_time"), at
            )
            entry["start_time"], entry["end_time"] = zulu(s), zulu(e)
            spans.append((s, e))
        if "group" in entry:
            groups.append((entry["group"], f"{path}.group"))
        if "endpoint" in entry:
            hosts.append((entry["endpoint"], f"{path}.endpoint"))
        everywhere |= "group" not in entry and "endpoint" not in entry
        changes.append(entry)
    known = _known_sites(session, (g for g, _ in groups))
    for name, path in groups:
        if name not in known:
            raise Invalid(at(path), R.RECOMPUTATION_SITE_UNKNOWN)
    sites_of = _sites_of_hosts(session, (h for h, _ in hosts))
    for name, path in hosts:
        if name not in sites_of:
            raise Invalid(at(path), R.RECOMPUTATION_HOST_UNKNOWN)
    sites = set(known) | {s for found in sites_of.values() for s in found}
    values = {
        "report_uuid": report.uuid,
        "requester_name": _name(spec.requester_name, "requester_name", at),
        "requester_email": email,
        "reason": _name(spec.reason, "reason", at, REASON_MAX),
        "start_time": start,
        "end_time": end,
        "span_start": min(s for s, _ in spans),
        "span_end": max(e for _, e in spans),
        "exclude": exclude,
        "exclude_metrics": metrics,
        "exclude_monitoring_source": sources,
        "applied_status_changes": changes,
    }
    return _Checked(values, frozenset(sites), everywhere)


# --- who may -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """The NGIs whose sites a recomputation touches; None: more than particular sites."""

    ngis: frozenset[int] | None


def _scope(session: Session, sites: frozenset[str], everywhere: bool) -> Scope:
    if everywhere:
        return Scope(None)
    rows = session.execute(
        select(T_SITE.c.short_name, T_NGI.c.id)
        .select_from(T_SITE.join(T_NGI, T_NGI.c.id == T_SITE.c.ngi_id))
        .where(T_SITE.c.short_name.in_(sorted(sites)))
    ).all()
    if len({r[0] for r in rows}) < len(sites):  # a site that is gone since
        return Scope(None)
    return Scope(frozenset(int(r[1]) for r in rows))


def _stored_scope(session: Session, row: Recomputation | Any) -> Scope:
    """The scope of a stored recomputation (the same reading as `validated`'s)."""
    sites = set(row.exclude)
    hosts: set[str] = set()
    everywhere = bool(row.exclude_monitoring_source)
    for entry, host_key in (
        *((m, "hostname") for m in row.exclude_metrics),
        *((c, "endpoint") for c in row.applied_status_changes),
    ):
        if "group" in entry:
            sites.add(entry["group"])
        if host_key in entry:
            hosts.add(entry[host_key])
        everywhere |= "group" not in entry and host_key not in entry
    sites_of = _sites_of_hosts(session, hosts)
    if len(sites_of) < len(hosts):
        everywhere = True
    sites |= {s for found in sites_of.values() for s in found}
    return _scope(session, frozenset(sites), everywhere)


@policy(RecomputationAction)
def decide(
    session: Session, principal: Principal, action: RecomputationAction, entity: object
) -> str | None:
    """`entity`: a `Scope`. Reached only by a signed-in caller who is not a platform
    administrator."""
    assert isinstance(entity, Scope)
    if entity.ngis is None:
        return (
            "only platform administrators may recompute beyond particular sites (a monitoring "
            "source, or a metric or state of no particular site or host)"
        )
    managed = (
        {
            role.entity_id
            for role in identity.granted_roles(session, principal.user_id)
            if role.entity_type == EntityKind.NGI and role.role_type in OPERATIONS_MANAGERS
        }
        if principal.user_id is not None
        else set()
    )
    if entity.ngis <= managed:
        return None
    return "only platform administrators and the operations managers of its sites' NGIs may"


def may_manage(session: Session, principal: Principal, row: Recomputation | Any) -> bool:
    if principal.is_anonymous:
        return False
    if principal.is_superuser:
        return True
    return can(
        session, principal, RecomputationAction.MANAGE_RECOMPUTATION, _stored_scope(session, row)
    )


# --- re-runs -------------------------------------------------------------------------------


def days_touched(row: Recomputation | Any, today: dt.date, first_kept: dt.date) -> list[dt.date]:
    """The days whose A/R `row` changes, from `first_kept` to `today`."""
    last = row.span_end.astimezone(dt.UTC).date()
    if row.exclude_monitoring_source:
        last += ONE_DAY  # a dropped last result no longer seeds the next day
    day = max(row.span_start.astimezone(dt.UTC).date(), first_kept)
    out = []
    while day <= min(last, today):
        out.append(day)
        day += ONE_DAY
    return out


def rerun(session: Session, rows: Sequence[Any], now: dt.datetime) -> None:
    today = now.astimezone(dt.UTC).date()
    first_kept = today - dt.timedelta(days=current_policy().retention_days - 1)
    wanted = sorted({(r.report_uuid, d) for r in rows for d in days_touched(r, today, first_kept)})
    for report_uuid, day in wanted:
        availability.request_availability(session, report_uuid, day)


@dataclass(frozen=True, slots=True)
class _Before:
    report_uuid: str
    span_start: dt.datetime
    span_end: dt.datetime
    exclude_monitoring_source: list[Any]


def _values(row: Recomputation) -> dict[str, Any]:
    return {
        c.name: getattr(row, c.name)
        for c in T_RECOMPUTATION.c
        if c.name not in ("id", "created_at", "updated_at", "history", "created_by")
    }


# --- writes and reads ----------------------------------------------------------------------


def create_recomputation(
    session: Session,
    principal: Principal,
    *,
    spec: RecomputationSpec,
    at: Field = graphql_field,
    now: dt.datetime | None = None,
) -> Recomputation:
    now = now or utcnow()
    checked = validated(session, spec, at)
    authorize(
        session,
        principal,
        RecomputationAction.MANAGE_RECOMPUTATION,
        _scope(session, checked.sites, checked.everywhere),
    )
    row = Recomputation(
        uuid=str(uuidlib.uuid4()),
        created_by=audit.actor_of(principal),
        created_at=now,
        updated_at=now,
        history=[{"status": "approved", "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S")}],
        **checked.values,
    )
    session.add(row)
    session.flush()
    audit.record_change(
        session, principal, "recomputation", "create", row, audit.diff({}, checked.values)
    )
    rerun(session, [row], now)
    return row


def managed(session: Session, principal: Principal, uuid: str) -> Recomputation:
    row = session.scalars(select(Recomputation).where(col(Recomputation.uuid) == uuid)).first()
    if row is None:
        raise NotFound(f"recomputation {uuid} does not exist")
    authorize(
        session, principal, RecomputationAction.MANAGE_RECOMPUTATION, _stored_scope(session, row)
    )
    return row


def update_recomputation(
    session: Session,
    principal: Principal,
    *,
    uuid: str,
    spec: RecomputationSpec,
    at: Field = graphql_field,
    now: dt.datetime | None = None,
) -> Recomputation:
    """Replace it: the caller must be allowed both the old and the new one; the days of
    both are computed again."""
    now = now or utcnow()
    row = managed(session, principal, uuid)
    checked = validated(session, spec, at)
    authorize(
        session,
        principal,
        RecomputationAction.MANAGE_RECOMPUTATION,
        _scope(session, checked.sites, checked.everywhere),
    )
    before_values = _values(row)
    before = _Before(row.report_uuid, row.span_start, row.span_end, row.exclude_monitoring_source)
    for key, value in checked.values.items():
        setattr(row, key, value)
    row.updated_at = now
    session.flush()
    changes = audit.diff(before_values, checked.values)
    if changes:
        audit.record_change(session, principal, "recomputation", "update", row, changes)
    rerun(session, [before, row], now)
    return row


def delete_recomputation(
    session: Session, principal: Principal, *, uuid: str, now: dt.datetime | None = None
) -> None:
    row = managed(session, principal, uuid)
    audit.record_change(
        session, principal, "recomputation", "delete", row, audit.diff(_values(row), {})
    )
    before = _Before(row.report_uuid, row.span_start, row.span_end, row.exclude_monitoring_source)
    session.delete(row)
    session.flush()
    rerun(session, [before], now or utcnow())


def get_recomputation(session: Session, uuid: str) -> Recomputation | None:
    """Public, as ARGO's results are (`as_argo`/the GraphQL type hide the e-mail)."""
    return session.scalars(select(Recomputation).where(col(Recomputation.uuid) == uuid)).first()


def get_by_id(session: Session, db_id: int) -> Recomputation | None:
    return session.get(Recomputation, db_id)


def uuid_of(session: Session, db_id: int) -> str:
    """The ARGO id of the recomputation with database id `db_id` (NOT_FOUND if none)."""
    row = session.get(Recomputation, db_id)
    if row is None:
        raise NotFound(f"recomputation {db_id} does not exist")
    return row.uuid


def _filtered(report_uuids: Sequence[str] | None, day: dt.date | None) -> Any:
    stmt = select(*T_RECOMPUTATION.c)
    t = T_RECOMPUTATION.c
    if report_uuids is not None:
        stmt = stmt.where(t.report_uuid.in_(list(report_uuids)))
    if day is not None:
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        stmt = stmt.where(t.start_time < start + ONE_DAY, t.end_time >= start)
    return stmt


def report_uuids(session: Session, report: str | None) -> list[str] | None:
    """The uuid a report name or id stands for ([] for none); None: every report."""
    if report is None:
        return None
    return sorted(
        set(
            session.scalars(
                select(col(Report.uuid)).where(
                    or_(col(Report.uuid) == report, col(Report.name) == report)
                )
            )
        )
    )


def recomputations_page(
    session: Session,
    principal: Principal,
    *,
    page: PageRequest,
    report: str | None = None,
    day: dt.date | None = None,
) -> RecordPage:
    """A page of recomputations, oldest first, of one report (name or id) and those whose
    period includes `day` when given."""
    stmt = _filtered(report_uuids(session, report), day)
    return keyset_page(session, stmt, T_RECOMPUTATION.c.id, page)


def recomputations(
    session: Session, *, report: str | None = None, day: dt.date | None = None
) -> list[Any]:
    """Every recomputation (ARGO's list has no pages), oldest first, filtered as above."""
    stmt = _filtered(report_uuids(session, report), day).order_by(T_RECOMPUTATION.c.id)
    return list(session.execute(stmt).all())


def report_names(session: Session, uuids: Iterable[str]) -> dict[str, str]:
    """Each report's latest name."""
    out: dict[str, str] = {}
    wanted = sorted(set(uuids))
    if wanted:
        for uuid, name in session.execute(
            select(col(Report.uuid), col(Report.name))
            .where(col(Report.uuid).in_(wanted))
            .order_by(col(Report.date))
        ):
            out[str(uuid)] = str(name)
    return out
