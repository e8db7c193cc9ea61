"""Downtimes: declaration and edits with GOCDB's rules, reads for the timeline, the feeds
and other domains, and the events every change records in the outbox.

Every write authorizes first (EDIT_OBJECT on the parent site), validates with
domains.downtimes.rules, writes, audits and emits in the caller's transaction (flushed,
never committed). `now` is injectable everywhere a rule reads the clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from domains.common import audit
from domains.common.errors import Invalid, NotFound
from domains.common.identity import ANONYMOUS, Principal
from domains.common.models import legacy_key, pk
from domains.common.outbox import emit
from domains.common.pagination import PageRequest
from domains.common.query import Record, RecordPage, keyset_page
from domains.common.scopes import ScopeDefaults, ScopeSelection
from domains.common.time import utcnow
from domains.downtimes import rules
from domains.downtimes.models import (
    Classification,
    Downtime,
    DowntimeEndpoint,
    DowntimeService,
    Severity,
)
from domains.identity import service as identity
from domains.identity.rules import Action
from domains.topology import service as topology
from domains.topology.filters import PropertyExpr
from domains.topology.service import (
    T_COUNTRY,
    T_ENDPOINT,
    T_NGI,
    T_SERVICE,
    T_SERVICE_TYPE,
    T_SITE,
)

T_DOWNTIME: Table = Downtime.__table__  # type: ignore[attr-defined]
T_DT_SERVICE: Table = DowntimeService.__table__  # type: ignore[attr-defined]
T_DT_ENDPOINT: Table = DowntimeEndpoint.__table__  # type: ignore[attr-defined]

DOWNTIME_COLUMNS = tuple(column.name for column in T_DOWNTIME.c)

# The extension property of a service that names the VOs it serves (comma-separated);
# the VO filter of the timeline and of subscriptions reads it.
VO_PROPERTY = "vo"

EVENT_DECLARED = "downtime.declared"
EVENT_CHANGED = "downtime.changed"
EVENT_CANCELLED = "downtime.cancelled"
EVENT_STARTED = "downtime.started"
EVENT_ENDED = "downtime.ended"
EVENT_KINDS = (EVENT_DECLARED, EVENT_CHANGED, EVENT_CANCELLED, EVENT_STARTED, EVENT_ENDED)


# ---------------------------------------------------------------------------------------
# Writes


@dataclass(frozen=True, slots=True)
class _Target:
    """The services (and their site) that a declaration or an edit names."""

    site_id: int
    service_ids: tuple[int, ...]
    endpoint_ids: tuple[int, ...]
    # service id -> the chosen endpoints of it (none chosen: the whole service)
    endpoints_by_service: Mapping[int, frozenset[int]]


def _unique(ids: Sequence[int], field: str) -> tuple[int, ...]:
    if len(set(ids)) != len(ids):
        raise Invalid(field, rules.RULE_EACH_ONCE)
    return tuple(ids)


def _sites_of_services(session: Session, service_ids: Sequence[int], field: str) -> dict[int, int]:
    """service id -> site id; every id must name an existing service."""
    found = dict(
        session.execute(
            select(T_SERVICE.c.id, T_SERVICE.c.site_id).where(T_SERVICE.c.id.in_(service_ids))
        ).all()
    )
    missing = [i for i in service_ids if i not in found]
    if missing:
        raise Invalid(field, "ids of existing services", f"{field}: no service {missing[0]}")
    return {int(k): int(v) for k, v in found.items()}


def _endpoint_services(
    session: Session, endpoint_ids: Sequence[int], service_ids: Sequence[int], field: str
) -> dict[int, frozenset[int]]:
    if not endpoint_ids:
        return {}
    owners = dict(
        session.execute(
            select(T_ENDPOINT.c.id, T_ENDPOINT.c.service_id).where(
                T_ENDPOINT.c.id.in_(endpoint_ids)
            )
        ).all()
    )
    chosen = set(service_ids)
    out: dict[int, set[int]] = defaultdict(set)
    for endpoint_id in endpoint_ids:
        owner = owners.get(endpoint_id)
        if owner is None:
            raise Invalid(field, "ids of existing endpoints", f"{field}: no endpoint {endpoint_id}")
        if owner not in chosen:
            raise Invalid(field, rules.RULE_ENDPOINTS_OF_SERVICES)
        out[int(owner)].add(endpoint_id)
    return {k: frozenset(v) for k, v in out.items()}


def _targets(
    session: Session, service_ids: Sequence[int], endpoint_ids: Sequence[int], *, prefix: str
) -> list[_Target]:
    """Validate the affected services and endpoints; one target per site, by site id."""
    services_field, endpoints_field = f"{prefix}.serviceIds", f"{prefix}.endpointIds"
    if not service_ids:
        raise Invalid(services_field, rules.RULE_SERVICES_REQUIRED)
    services = _unique(service_ids, services_field)
    endpoints = _unique(endpoint_ids, endpoints_field)
    sites = _sites_of_services(session, services, services_field)
    by_service = _endpoint_services(session, endpoints, services, endpoints_field)
    targets = []
    for site_id in sorted(set(sites.values())):
        mine = tuple(s for s in services if sites[s] == site_id)
        chosen = {s: by_service[s] for s in mine if s in by_service}
        targets.append(
            _Target(
                site_id=site_id,
                service_ids=mine,
                endpoint_ids=tuple(
                    e for e in endpoints if any(e in found for found in chosen.values())
                ),
                endpoints_by_service=chosen,
            )
        )
    return targets


def _target(
    session: Session, service_ids: Sequence[int], endpoint_ids: Sequence[int], *, prefix: str
) -> _Target:
    """The affected services and endpoints of ONE downtime: all of one site."""
    targets = _targets(session, service_ids, endpoint_ids, prefix=prefix)
    if len(targets) != 1:
        raise Invalid(f"{prefix}.serviceIds", rules.RULE_ONE_SITE)
    return targets[0]


def _write_links(session: Session, downtime_id: int, target: _Target) -> None:
    """Replace the links; a service that stays keeps its early end."""
    ended = dict(
        session.execute(
            select(T_DT_SERVICE.c.service_id, T_DT_SERVICE.c.ended_at).where(
                T_DT_SERVICE.c.downtime_id == downtime_id
            )
        ).all()
    )
    session.execute(delete(T_DT_ENDPOINT).where(T_DT_ENDPOINT.c.downtime_id == downtime_id))
    session.execute(delete(T_DT_SERVICE).where(T_DT_SERVICE.c.downtime_id == downtime_id))
    session.execute(
        T_DT_SERVICE.insert(),
        [
            {
                "downtime_id": downtime_id,
                "service_id": service_id,
                "all_endpoints": service_id not in target.endpoints_by_service,
                "ended_at": ended.get(service_id),
            }
            for service_id in target.service_ids
        ],
    )
    if target.endpoint_ids:
        session.execute(
            T_DT_ENDPOINT.insert(),
            [{"downtime_id": downtime_id, "endpoint_id": e} for e in target.endpoint_ids],
        )


def _fields(downtime: Downtime) -> dict[str, Any]:
    return {
        "severity": downtime.severity,
        "classification": downtime.classification,
        "starts_at": downtime.starts_at,
        "ends_at": downtime.ends_at,
        "description": downtime.description,
    }


def _create(
    session: Session,
    principal: Principal,
    target: _Target,
    *,
    severity: Severity,
    starts_at: datetime,
    ends_at: datetime,
    description: str,
    now: datetime,
) -> Downtime:
    downtime = Downtime(
        site_id=target.site_id,
        severity=severity,
        classification=rules.classify(starts_at, now),
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        declared_at=now,
        updated_at=now,
        declared_by=audit.actor_of(principal),
    )
    session.add(downtime)
    session.flush()
    downtime_id = pk(downtime)
    downtime.primary_key = legacy_key(downtime_id)
    _write_links(session, downtime_id, target)
    session.flush()
    audit.record(
        session,
        principal,
        action="downtime.declare",
        entity_type="downtime",
        entity_id=downtime_id,
        entity_name=downtime.primary_key,
        changes=audit.diff(
            {},
            {
                **_fields(downtime),
                "service_ids": list(target.service_ids),
                "endpoint_ids": list(target.endpoint_ids),
            },
        ),
    )
    emit(session, EVENT_DECLARED, snapshot(session, downtime_id))
    return downtime


def _declare(
    session: Session,
    principal: Principal,
    targets: Sequence[_Target],
    *,
    severity: Severity,
    starts_at: datetime,
    ends_at: datetime,
    description: str,
    now: datetime,
) -> list[Downtime]:
    for target in targets:
        identity.authorize(session, principal, Action.EDIT_OBJECT, "site", target.site_id)
    rules.check_window(starts_at, ends_at, now)
    text = rules.check_description(description)
    return [
        _create(
            session,
            principal,
            target,
            severity=severity,
            starts_at=starts_at,
            ends_at=ends_at,
            description=text,
            now=now,
        )
        for target in targets
    ]


def declare_downtime(
    session: Session,
    principal: Principal,
    *,
    service_ids: Sequence[int],
    endpoint_ids: Sequence[int] = (),
    severity: Severity,
    starts_at: datetime,
    ends_at: datetime,
    description: str,
    now: datetime | None = None,
) -> Downtime:
    """One downtime of services of one site (GOCDB: a downtime never spans sites)."""
    identity.require_authenticated(principal)
    target = _target(session, service_ids, endpoint_ids, prefix="input")
    return _declare(
        session,
        principal,
        [target],
        severity=severity,
        starts_at=starts_at,
        ends_at=ends_at,
        description=description,
        now=now or utcnow(),
    )[0]


def declare_downtimes(
    session: Session,
    principal: Principal,
    *,
    service_ids: Sequence[int],
    endpoint_ids: Sequence[int] = (),
    severity: Severity,
    starts_at: datetime,
    ends_at: datetime,
    description: str,
    now: datetime | None = None,
) -> list[Downtime]:
    """The same window over services of several sites: one downtime per site, ordered by
    site id, all in the caller's one transaction (any refusal refuses them all)."""
    identity.require_authenticated(principal)
    return _declare(
        session,
        principal,
        _targets(session, service_ids, endpoint_ids, prefix="input"),
        severity=severity,
        starts_at=starts_at,
        ends_at=ends_at,
        description=description,
        now=now or utcnow(),
    )


def _require(session: Session, downtime_id: int) -> Downtime:
    downtime = session.get(Downtime, downtime_id)
    if downtime is None:
        raise NotFound(f"downtime {downtime_id} does not exist")
    return downtime


def _authorized(session: Session, principal: Principal, downtime_id: int) -> Downtime:
    identity.require_authenticated(principal)
    downtime = _require(session, downtime_id)
    identity.authorize(session, principal, Action.EDIT_OBJECT, "site", downtime.site_id)
    return downtime


def _service_ids(session: Session, downtime_id: int) -> list[int]:
    return list(
        session.execute(
            select(T_DT_SERVICE.c.service_id)
            .where(T_DT_SERVICE.c.downtime_id == downtime_id)
            .order_by(T_DT_SERVICE.c.service_id)
        ).scalars()
    )


def _endpoint_ids(session: Session, downtime_id: int) -> list[int]:
    return list(
        session.execute(
            select(T_DT_ENDPOINT.c.endpoint_id)
            .where(T_DT_ENDPOINT.c.downtime_id == downtime_id)
            .order_by(T_DT_ENDPOINT.c.endpoint_id)
        ).scalars()
    )


def _changed(
    session: Session,
    principal: Principal,
    downtime: Downtime,
    action: str,
    changes: Mapping[str, list[Any]],
    now: datetime,
) -> None:
    """Audit and announce an edit; an edit that moves the start or the end back into the
    future makes the transitions job announce that moment again."""
    downtime.updated_at = now
    if downtime.starts_at > now:
        downtime.started_notified = False
    if downtime.ends_at > now:
        downtime.ended_notified = False
    session.flush()
    downtime_id = pk(downtime)
    audit.record(
        session,
        principal,
        action=action,
        entity_type="downtime",
        entity_id=downtime_id,
        entity_name=downtime.primary_key or "",
        changes=changes,
    )
    emit(session, EVENT_CHANGED, {**snapshot(session, downtime_id), "changes": dict(changes)})


def update_downtime(
    session: Session,
    principal: Principal,
    *,
    downtime_id: int,
    severity: Severity | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    description: str | None = None,
    service_ids: Sequence[int] | None = None,
    endpoint_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> Downtime:
    """Edit with GOCDB's rules: not once finished, not a SCHEDULED one within 24 h of its
    start, never longer than before, a changed start in the future; the classification is
    computed again. Services may change within the same site."""
    downtime = _authorized(session, principal, downtime_id)
    now = now or utcnow()
    rules.check_changeable(downtime.classification, downtime.starts_at, downtime.ends_at, now)
    new_start = downtime.starts_at if starts_at is None else starts_at
    new_end = downtime.ends_at if ends_at is None else ends_at
    rules.check_window(new_start, new_end, now, new_start=new_start != downtime.starts_at)
    rules.check_edit(
        old_start=downtime.starts_at,
        old_end=downtime.ends_at,
        new_start=new_start,
        new_end=new_end,
        now=now,
    )
    text = None if description is None else rules.check_description(description)
    before = {
        **_fields(downtime),
        "service_ids": _service_ids(session, downtime_id),
        "endpoint_ids": _endpoint_ids(session, downtime_id),
    }
    if service_ids is not None or endpoint_ids is not None:
        target = _target(
            session,
            before["service_ids"] if service_ids is None else service_ids,
            before["endpoint_ids"] if endpoint_ids is None else endpoint_ids,
            prefix="input",
        )
        if target.site_id != downtime.site_id:
            raise Invalid("input.serviceIds", rules.RULE_ONE_SITE)
        _write_links(session, downtime_id, target)
    if severity is not None:
        downtime.severity = severity
    if text is not None:
        downtime.description = text
    downtime.starts_at, downtime.ends_at = new_start, new_end
    # services that left early leave by the new end at the latest
    session.execute(
        update(T_DT_SERVICE)
        .where(T_DT_SERVICE.c.downtime_id == downtime_id, T_DT_SERVICE.c.ended_at > new_end)
        .values(ended_at=new_end)
    )
    downtime.classification = rules.classify(new_start, now)
    after = {
        **_fields(downtime),
        "service_ids": _service_ids(session, downtime_id),
        "endpoint_ids": _endpoint_ids(session, downtime_id),
    }
    _changed(session, principal, downtime, "downtime.update", audit.diff(before, after), now)
    return downtime


def delete_downtime(
    session: Session, principal: Principal, *, downtime_id: int, now: datetime | None = None
) -> None:
    """Only before its start, and not a SCHEDULED one within 24 h of it (monitoring has
    already taken it in by then)."""
    downtime = _authorized(session, principal, downtime_id)
    now = now or utcnow()
    rules.check_deletable(downtime.classification, downtime.starts_at, now, field="id")
    gone = snapshot(session, downtime_id)
    fields = _fields(downtime)
    session.delete(downtime)
    session.flush()
    audit.record(
        session,
        principal,
        action="downtime.delete",
        entity_type="downtime",
        entity_id=downtime_id,
        entity_name=gone["primaryKey"] or "",
        changes=audit.diff(fields, {}),
    )
    emit(session, EVENT_CANCELLED, gone)


def end_downtime(
    session: Session, principal: Principal, *, downtime_id: int, now: datetime | None = None
) -> Downtime:
    """End an ongoing downtime: its end becomes now + 60 s."""
    downtime = _authorized(session, principal, downtime_id)
    now = now or utcnow()
    rules.check_ongoing(downtime.starts_at, downtime.ends_at, now, field="id")
    before = downtime.ends_at
    downtime.ends_at = min(downtime.ends_at, now + rules.END_NOW_DELAY)
    changes = audit.diff({"ends_at": before}, {"ends_at": downtime.ends_at})
    _changed(session, principal, downtime, "downtime.end", changes, now)
    return downtime


def end_downtime_services(
    session: Session,
    principal: Principal,
    *,
    downtime_id: int,
    service_ids: Sequence[int],
    now: datetime | None = None,
) -> Downtime:
    """Partial ending: these services leave an ongoing downtime in 60 s while it goes on for
    the others. Ending every remaining service ends the downtime itself."""
    downtime = _authorized(session, principal, downtime_id)
    now = now or utcnow()
    rules.check_ongoing(downtime.starts_at, downtime.ends_at, now, field="id")
    field_ = "serviceIds"
    if not service_ids:
        raise Invalid(field_, rules.RULE_SERVICES_REQUIRED)
    wanted = _unique(service_ids, field_)
    links = {
        row.service_id: row.ended_at
        for row in session.execute(
            select(T_DT_SERVICE.c.service_id, T_DT_SERVICE.c.ended_at).where(
                T_DT_SERVICE.c.downtime_id == downtime_id
            )
        )
    }
    if any(s not in links for s in wanted):
        raise Invalid(field_, rules.RULE_SERVICES_OF_DOWNTIME)
    end = min(downtime.ends_at, now + rules.END_NOW_DELAY)
    session.execute(
        update(T_DT_SERVICE)
        .where(
            T_DT_SERVICE.c.downtime_id == downtime_id,
            T_DT_SERVICE.c.service_id.in_(wanted),
            or_(T_DT_SERVICE.c.ended_at.is_(None), T_DT_SERVICE.c.ended_at > end),
        )
        .values(ended_at=end)
    )
    changes: dict[str, list[Any]] = {"ended_service_ids": [[], sorted(wanted)]}
    remaining = [s for s, ended in links.items() if s not in wanted and ended is None]
    if not remaining and end < downtime.ends_at:
        changes.update(audit.diff({"ends_at": downtime.ends_at}, {"ends_at": end}))
        downtime.ends_at = end
    _changed(session, principal, downtime, "downtime.end_services", changes, now)
    return downtime


# ---------------------------------------------------------------------------------------
# The snapshot events carry: what a subscriber's filter and a notification need, taken
# in the transaction of the change (a cancelled downtime is gone afterwards).


def snapshot(session: Session, downtime_id: int) -> dict[str, Any]:
    row = session.execute(
        select(
            *T_DOWNTIME.c,
            T_SITE.c.short_name.label("site_name"),
            T_SITE.c.ngi_id.label("ngi_id"),
            T_NGI.c.name.label("ngi_name"),
            T_COUNTRY.c.code.label("country_code"),
        )
        .join(T_SITE, T_SITE.c.id == T_DOWNTIME.c.site_id)
        .join(T_NGI, T_NGI.c.id == T_SITE.c.ngi_id)
        .join(T_COUNTRY, T_COUNTRY.c.id == T_SITE.c.country_id)
        .where(T_DOWNTIME.c.id == downtime_id)
    ).one()
    services = session.execute(
        select(
            T_SERVICE.c.id,
            T_SERVICE.c.host_name,
            T_SERVICE_TYPE.c.name,
            T_DT_SERVICE.c.ended_at,
        )
        .join(T_DT_SERVICE, T_DT_SERVICE.c.service_id == T_SERVICE.c.id)
        .join(T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id)
        .where(T_DT_SERVICE.c.downtime_id == downtime_id)
        .order_by(T_SERVICE.c.id)
    ).all()
    vos = vos_of_services(session, [s[0] for s in services])
    return {
        "id": row.id,
        "primaryKey": row.primary_key,
        "siteId": row.site_id,
        "site": row.site_name,
        "ngiId": row.ngi_id,
        "ngi": row.ngi_name,
        "country": row.country_code,
        "severity": str(row.severity),
        "classification": str(row.classification),
        "startsAt": row.starts_at.isoformat(),
        "endsAt": row.ends_at.isoformat(),
        "description": row.description,
        "services": [
            {
                "id": service_id,
                "hostName": host,
                "serviceType": type_name,
                "endedAt": None if ended is None else ended.isoformat(),
                "vos": vos.get(service_id, []),
            }
            for service_id, host, type_name, ended in services
        ],
        "endpointIds": _endpoint_ids(session, downtime_id),
    }


def vos_of_services(session: Session, service_ids: Sequence[int]) -> dict[int, list[str]]:
    """service id -> the VOs its `vo` extension property names."""
    if not service_ids:
        return {}
    groups = topology.properties_of(session, ANONYMOUS, "service", service_ids)
    out: dict[int, list[str]] = {}
    for owner, props in groups.items():
        names = [
            name.strip()
            for prop in props
            if prop.key == VO_PROPERTY
            for name in str(prop.value).split(",")
            if name.strip()
        ]
        if names:
            out[owner] = sorted(set(names))
    return out


# ---------------------------------------------------------------------------------------
# The transitions job: "started" and "ended" exactly once each, also after an outage.


def emit_transitions(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Emit `downtime.started` for every downtime whose start has come and
    `downtime.ended` for every one whose end has come, and mark them, in the caller's
    transaction. Rows are claimed with FOR UPDATE SKIP LOCKED, so two schedulers never
    announce the same moment. A downtime whose start and end both passed while nobody
    ran gets both, started first. Returns how many events were emitted."""
    now = now or utcnow()
    emitted = 0
    for flag, moment, kind in (
        (T_DOWNTIME.c.started_notified, T_DOWNTIME.c.starts_at, EVENT_STARTED),
        (T_DOWNTIME.c.ended_notified, T_DOWNTIME.c.ends_at, EVENT_ENDED),
    ):
        due = list(
            session.execute(
                select(T_DOWNTIME.c.id)
                .where(flag.is_(False), moment <= now)
                .order_by(moment, T_DOWNTIME.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        for downtime_id in due:
            emit(session, kind, snapshot(session, downtime_id))
            emitted += 1
        if due:
            session.execute(
                update(T_DOWNTIME).where(T_DOWNTIME.c.id.in_(due)).values({flag.name: True})
            )
    session.flush()
    return emitted


# ---------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True, slots=True)
class DowntimeFilter:
    """Conditions combine with AND. Service conditions (host, type, scopes, production,
    monitored, properties, VO) hold when ONE affected service meets all of them."""

    ids: tuple[int, ...] | None = None
    primary_keys: tuple[str, ...] | None = None
    ongoing: bool | None = None
    upcoming: bool | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    top_entity: tuple[str, ...] | None = None
    severities: tuple[Severity, ...] | None = None
    classifications: tuple[Classification, ...] | None = None
    sites: tuple[str, ...] | None = None
    ngis: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    site_ids: tuple[int, ...] | None = None
    host_names: tuple[str, ...] | None = None
    service_types: tuple[str, ...] | None = None
    service_ids: tuple[int, ...] | None = None
    scopes: ScopeSelection = field(default_factory=ScopeSelection)
    production: bool | None = None
    monitored: bool | None = None
    vos: tuple[str, ...] | None = None
    site_properties: PropertyExpr | None = None
    service_properties: PropertyExpr | None = None


def _vo_clause(service_id: ColumnElement[int], vos: Sequence[str]) -> ColumnElement[bool]:
    table, fk = topology.PROPERTY_TABLES["service"]
    padded = literal(",") + func.replace(table.c.value, " ", "") + literal(",")
    return exists(
        select(1)
        .select_from(table)
        .where(
            table.c[fk] == service_id,
            table.c.key == VO_PROPERTY,
            or_(*(padded.contains(f",{vo},", autoescape=True) for vo in vos)),
        )
    )


def _service_clause(filter: DowntimeFilter, defaults: ScopeDefaults) -> ColumnElement[bool]:
    names, _match = filter.scopes.resolve(defaults)
    conditions: list[ColumnElement[bool]] = []
    if filter.host_names is not None:
        conditions.append(topology.in_clause(T_SERVICE.c.host_name, filter.host_names))
    if filter.service_types is not None:
        conditions.append(topology.in_clause(T_SERVICE_TYPE.c.name, filter.service_types))
    if filter.service_ids is not None:
        conditions.append(topology.in_clause(T_SERVICE.c.id, filter.service_ids))
    if names:
        conditions.append(topology.scope_clause("service", T_SERVICE.c.id, filter.scopes, defaults))
    if filter.production is not None:
        conditions.append(T_SERVICE.c.production.is_(filter.production))
    if filter.monitored is not None:
        conditions.append(T_SERVICE.c.monitored.is_(filter.monitored))
    if filter.vos is not None:
        conditions.append(_vo_clause(T_SERVICE.c.id, filter.vos))
    if filter.service_properties is not None:
        conditions.append(
            topology.property_clause("service", T_SERVICE.c.id, filter.service_properties)
        )
    if not conditions:
        return true()
    return exists(
        select(1)
        .select_from(
            T_DT_SERVICE.join(T_SERVICE, T_SERVICE.c.id == T_DT_SERVICE.c.service_id).join(
                T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id
            )
        )
        .where(T_DT_SERVICE.c.downtime_id == T_DOWNTIME.c.id, *conditions)
    )


def _site_clause(filter: DowntimeFilter) -> ColumnElement[bool]:
    if (
        filter.sites is None
        and filter.ngis is None
        and filter.countries is None
        and filter.site_properties is None
    ):
        return true()
    sites = (
        select(T_SITE.c.id)
        .join(T_COUNTRY, T_COUNTRY.c.id == T_SITE.c.country_id)
        .where(
            topology.in_clause(T_SITE.c.short_name, filter.sites),
            topology.ngi_name_clause(T_SITE.c.ngi_id, filter.ngis),
            topology.country_clause(filter.countries),
        )
    )
    if filter.site_properties is not None:
        sites = sites.where(topology.property_clause("site", T_SITE.c.id, filter.site_properties))
    return T_DOWNTIME.c.site_id.in_(sites)


def _top_entity_clause(names: Sequence[str]) -> ColumnElement[bool]:
    """GOCDB's `topentity`: a host name, site, NGI or country (code or name)."""
    sites = (
        select(T_SITE.c.id)
        .join(T_NGI, T_NGI.c.id == T_SITE.c.ngi_id)
        .join(T_COUNTRY, T_COUNTRY.c.id == T_SITE.c.country_id)
        .where(
            or_(
                T_SITE.c.short_name.in_(list(names)),
                T_NGI.c.name.in_(list(names)),
                T_COUNTRY.c.code.in_([n.upper() for n in names]),
                T_COUNTRY.c.name.in_(list(names)),
            )
        )
    )
    hosts = exists(
        select(1)
        .select_from(T_DT_SERVICE.join(T_SERVICE, T_SERVICE.c.id == T_DT_SERVICE.c.service_id))
        .where(
            T_DT_SERVICE.c.downtime_id == T_DOWNTIME.c.id,
            T_SERVICE.c.host_name.in_(list(names)),
        )
    )
    return or_(T_DOWNTIME.c.site_id.in_(sites), hosts)


def downtime_conditions(
    filter: DowntimeFilter, *, scope_defaults: ScopeDefaults, now: datetime
) -> list[ColumnElement[bool]]:
    """The WHERE of a filtered downtime list (shared by the GraphQL list and the feeds)."""
    for path, expr in (
        ("filter.siteProperties", filter.site_properties),
        ("filter.serviceProperties", filter.service_properties),
    ):
        if expr is not None:
            expr.validate(path)
    for name, value in (
        ("filter.windowStart", filter.window_start),
        ("filter.windowEnd", filter.window_end),
    ):
        if value is not None:
            rules.check_aware(name, value)
    if (
        filter.window_start is not None
        and filter.window_end is not None
        and filter.window_end < filter.window_start
    ):
        raise Invalid("filter.windowEnd", "must not be before windowStart")
    d = T_DOWNTIME.c
    conditions: list[ColumnElement[bool]] = [
        topology.in_clause(d.id, filter.ids),
        topology.in_clause(d.primary_key, filter.primary_keys),
        topology.in_clause(d.severity, filter.severities),
        topology.in_clause(d.classification, filter.classifications),
        topology.in_clause(d.site_id, filter.site_ids),
        _site_clause(filter),
        _service_clause(filter, scope_defaults),
    ]
    if filter.ongoing is not None:
        ongoing = and_(d.starts_at <= now, d.ends_at > now)
        conditions.append(ongoing if filter.ongoing else ~ongoing)
    if filter.upcoming is not None:
        conditions.append(d.starts_at > now if filter.upcoming else d.starts_at <= now)
    # overlap semantics: the downtime and the window share a moment
    if filter.window_start is not None:
        conditions.append(d.ends_at > filter.window_start)
    if filter.window_end is not None:
        conditions.append(d.starts_at < filter.window_end)
    if filter.top_entity is not None:
        conditions.append(_top_entity_clause(filter.top_entity))
    return conditions


def list_downtimes(
    session: Session,
    principal: Principal,
    *,
    filter: DowntimeFilter,
    page: PageRequest,
    scope_defaults: ScopeDefaults,
    now: datetime | None = None,
) -> RecordPage:
    """Downtimes are public, as GOCDB's get_downtime is: anyone may read them."""
    conditions = downtime_conditions(filter, scope_defaults=scope_defaults, now=now or utcnow())
    return keyset_page(session, select(*T_DOWNTIME.c).where(*conditions), T_DOWNTIME.c.id, page)


def iter_downtimes(
    session: Session,
    principal: Principal,
    *,
    filter: DowntimeFilter,
    scope_defaults: ScopeDefaults,
    now: datetime | None = None,
    limit: int,
) -> list[Record]:
    """At most `limit` downtimes, by start then id (the feeds' order)."""
    conditions = downtime_conditions(filter, scope_defaults=scope_defaults, now=now or utcnow())
    stmt = (
        select(*T_DOWNTIME.c)
        .where(*conditions)
        .order_by(T_DOWNTIME.c.starts_at, T_DOWNTIME.c.id)
        .limit(limit)
    )
    return list(session.execute(stmt).all())


def get_downtime(
    session: Session,
    principal: Principal,
    *,
    downtime_id: int | None = None,
    primary_key: str | None = None,
) -> Record | None:
    stmt = select(*T_DOWNTIME.c)
    if downtime_id is not None:
        stmt = stmt.where(T_DOWNTIME.c.id == downtime_id)
    if primary_key is not None:
        stmt = stmt.where(T_DOWNTIME.c.primary_key == primary_key)
    return session.execute(stmt).first()


_IDS: BindParameter[int] = bindparam("ids", expanding=True)
_BY_ID = select(*T_DOWNTIME.c).where(T_DOWNTIME.c.id.in_(_IDS)).order_by(T_DOWNTIME.c.id)
_LINKS = (
    select(*T_DT_SERVICE.c)
    .where(T_DT_SERVICE.c.downtime_id.in_(_IDS))
    .order_by(T_DT_SERVICE.c.downtime_id, T_DT_SERVICE.c.service_id)
)
_ENDPOINT_LINKS = (
    select(*T_DT_ENDPOINT.c)
    .where(T_DT_ENDPOINT.c.downtime_id.in_(_IDS))
    .order_by(T_DT_ENDPOINT.c.downtime_id, T_DT_ENDPOINT.c.endpoint_id)
)
_OF_SITES = (
    select(*T_DOWNTIME.c)
    .where(T_DOWNTIME.c.site_id.in_(_IDS))
    .order_by(T_DOWNTIME.c.starts_at, T_DOWNTIME.c.id)
)
_OF_SERVICES = (
    select(
        *T_DOWNTIME.c,
        T_DT_SERVICE.c.service_id.label("service_id"),
        T_DT_SERVICE.c.ended_at.label("service_ended_at"),
    )
    .join(T_DT_SERVICE, T_DT_SERVICE.c.downtime_id == T_DOWNTIME.c.id)
    .where(T_DT_SERVICE.c.service_id.in_(_IDS))
    .order_by(T_DOWNTIME.c.starts_at, T_DOWNTIME.c.id)
)


def _grouped(rows: Iterable[Any], position: int) -> dict[int, list[Record]]:
    out: dict[int, list[Record]] = defaultdict(list)
    for row in rows:
        out[row[position]].append(row)
    return out


def downtimes_by_id(
    session: Session, principal: Principal, ids: Sequence[int]
) -> dict[int, Record]:
    return {row[0]: row for row in session.execute(_BY_ID, {"ids": list(ids)}).all()}


def service_links(
    session: Session, principal: Principal, downtime_ids: Sequence[int]
) -> dict[int, list[Record]]:
    """downtime id -> its (downtime_id, service_id, all_endpoints, ended_at) rows."""
    return _grouped(session.execute(_LINKS, {"ids": list(downtime_ids)}).all(), 0)


def endpoint_links(
    session: Session, principal: Principal, downtime_ids: Sequence[int]
) -> dict[int, list[int]]:
    rows = session.execute(_ENDPOINT_LINKS, {"ids": list(downtime_ids)}).all()
    return {k: [int(r.endpoint_id) for r in v] for k, v in _grouped(rows, 0).items()}


def downtimes_of_sites(
    session: Session, principal: Principal, site_ids: Sequence[int]
) -> dict[int, list[Record]]:
    """site id -> its downtimes, by start."""
    position = DOWNTIME_COLUMNS.index("site_id")
    return _grouped(session.execute(_OF_SITES, {"ids": list(site_ids)}).all(), position)


def downtimes_of_services(
    session: Session, principal: Principal, service_ids: Sequence[int]
) -> dict[int, list[Record]]:
    """service id -> the downtimes affecting it, by start, each row with the service's own
    `service_id` and `service_ended_at` (partial ending) after the downtime's columns."""
    rows = session.execute(_OF_SERVICES, {"ids": list(service_ids)}).all()
    return _grouped(rows, len(DOWNTIME_COLUMNS))


def effective_end(ends_at: datetime, service_ended_at: datetime | None) -> datetime:
    """When a service left its downtime: its early end, unless the downtime itself was
    shortened to before it later."""
    if service_ended_at is None:
        return ends_at
    return min(ends_at, service_ended_at)


def _effective_end() -> ColumnElement[datetime]:
    """The SQL of effective_end; an edit keeps every early end within the downtime
    (update_downtime), so the early end wins when there is one."""
    return func.coalesce(T_DT_SERVICE.c.ended_at, T_DOWNTIME.c.ends_at)


def covers(
    rows: Iterable[Record], at: datetime, severities: Sequence[Severity] | None = None
) -> bool:
    """Whether one of a service's downtime rows (from `downtimes_of_services`) covers `at`;
    a service ended early left its downtime at its own end."""
    rules.check_aware("time", at)
    for row in rows:
        end = effective_end(row.ends_at, row.service_ended_at)
        if row.starts_at <= at < end and (severities is None or row.severity in severities):
            return True
    return False


def services_in_downtime_at(
    session: Session,
    principal: Principal,
    *,
    service_ids: Sequence[int],
    at: datetime,
    severities: Sequence[Severity] | None = None,
) -> set[int]:
    """Which of these services were in a downtime at `at` (an early end of a service
    counts: it left the downtime then)."""
    rules.check_aware("time", at)
    d, ds = T_DOWNTIME.c, T_DT_SERVICE.c
    stmt = (
        select(ds.service_id)
        .join(T_DOWNTIME, d.id == ds.downtime_id)
        .where(
            ds.service_id.in_(list(service_ids)),
            d.starts_at <= at,
            d.ends_at > at,
            _effective_end() > at,
            topology.in_clause(d.severity, severities),
        )
        .distinct()
    )
    return {int(s) for s in session.execute(stmt).scalars()}


@dataclass(frozen=True, slots=True)
class Interval:
    """Part of [t1, t2] during which an endpoint was in a downtime."""

    start: datetime
    end: datetime
    downtime_id: int


# Large key lists go in chunks: SQLite caps the parameters of one statement.
_CHUNK = 5000


def endpoint_downtime_intervals(
    session: Session,
    principal: Principal,
    *,
    endpoint_ids: Sequence[int],
    start: datetime,
    end: datetime,
    severities: Sequence[Severity] = (Severity.OUTAGE,),
) -> dict[int, list[Interval]]:
    """For monitoring: which of these endpoints were in a downtime (an OUTAGE, by
    default) during [start, end], and when, clipped to the window and sorted.

    An endpoint is affected when its service is, unless the downtime names endpoints of
    that service and not this one; a service ended early leaves at its own end.
    Endpoints never affected are absent. One statement per 5,000 endpoints."""
    rules.check_aware("start", start)
    rules.check_aware("end", end)
    if end < start:
        raise Invalid("end", "must not be before start")
    d, ds, e, de = T_DOWNTIME.c, T_DT_SERVICE.c, T_ENDPOINT.c, T_DT_ENDPOINT.c
    ends = _effective_end()
    stmt = (
        select(e.id, d.id, d.starts_at, ends)
        .select_from(
            T_ENDPOINT.join(T_DT_SERVICE, ds.service_id == e.service_id).join(
                T_DOWNTIME, d.id == ds.downtime_id
            )
        )
        .where(
            e.id.in_(_IDS),
            d.severity.in_(list(severities)),
            d.starts_at < end,
            d.ends_at > start,  # implied by the next line; lets the index bound the scan
            ends > start,
            or_(
                ds.all_endpoints.is_(True),
                exists(
                    select(1)
                    .select_from(T_DT_ENDPOINT)
                    .where(de.downtime_id == d.id, de.endpoint_id == e.id)
                ),
            ),
        )
    )
    out: dict[int, list[Interval]] = defaultdict(list)
    keys = list(dict.fromkeys(endpoint_ids))
    for i in range(0, len(keys), _CHUNK):
        for endpoint_id, downtime_id, starts, ends in session.execute(
            stmt, {"ids": keys[i : i + _CHUNK]}
        ).all():
            out[endpoint_id].append(Interval(max(starts, start), min(ends, end), downtime_id))
    for intervals in out.values():
        intervals.sort(key=lambda iv: (iv.start, iv.end, iv.downtime_id))
    return dict(out)


def site_ids_with_roles(session: Session, principal: Principal) -> list[int]:
    """ "My sites": the sites on which the caller holds a granted role, directly or through
    their NGI (the personal feeds)."""
    identity.require_authenticated(principal)
    if principal.user_id is None:
        return []
    site_ids: set[int] = set()
    ngi_ids: set[int] = set()
    for role in identity.granted_roles(session, principal.user_id):
        if role.entity_type.value == "site":
            site_ids.add(role.entity_id)
        elif role.entity_type.value == "ngi":
            ngi_ids.add(role.entity_id)
    if ngi_ids:
        site_ids.update(
            session.execute(select(T_SITE.c.id).where(T_SITE.c.ngi_id.in_(ngi_ids))).scalars()
        )
    return sorted(site_ids)
