"""Downtime writes: declaration and edits with GOCDB's rules.

Every write authorizes first (EDIT_OBJECT on the parent site), validates with
domains.downtimes.rules, writes, audits and emits in the caller's transaction (flushed,
never committed). `now` is injectable everywhere a rule reads the clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.authz import Caller, authorize
from domains.common.errors import Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import legacy_key, pk
from domains.common.outbox import emit
from domains.common.time import utcnow
from domains.downtimes import rules
from domains.downtimes.models import Downtime, Severity
from domains.downtimes.rules import DowntimeRule
from domains.downtimes.service.snapshots import (
    linked_endpoint_ids,
    linked_service_ids,
    snapshot,
)
from domains.downtimes.service.tables import (
    EVENT_CANCELLED,
    EVENT_CHANGED,
    EVENT_DECLARED,
    T_DT_ENDPOINT,
    T_DT_SERVICE,
)
from domains.topology.ownership import EntityRef
from domains.topology.rules import Action
from domains.topology.service import T_ENDPOINT, T_SERVICE


@dataclass(frozen=True, slots=True, kw_only=True)
class Declaration:
    """What a declaration names, as declare_downtime and declare_downtimes both take it:
    the services, the endpoints of them it narrows to (none: whole services), the
    severity, the window and the description."""

    service_ids: Sequence[int]
    endpoint_ids: Sequence[int] = ()
    severity: Severity
    starts_at: datetime
    ends_at: datetime
    description: str


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
        raise Invalid(field, DowntimeRule.DOWNTIME_IDS_REPEATED)
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
        raise Invalid(
            field, DowntimeRule.DOWNTIME_SERVICE_UNKNOWN, f"{field}: no service {missing[0]}"
        )
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
            raise Invalid(
                field,
                DowntimeRule.DOWNTIME_ENDPOINT_UNKNOWN,
                f"{field}: no endpoint {endpoint_id}",
            )
        if owner not in chosen:
            raise Invalid(field, DowntimeRule.DOWNTIME_ENDPOINTS_OF_CHOSEN_SERVICES)
        out[int(owner)].add(endpoint_id)
    return {k: frozenset(v) for k, v in out.items()}


def _targets(
    session: Session, service_ids: Sequence[int], endpoint_ids: Sequence[int], *, prefix: str
) -> list[_Target]:
    """Validate the affected services and endpoints; one target per site, by site id."""
    services_field, endpoints_field = f"{prefix}.serviceIds", f"{prefix}.endpointIds"
    if not service_ids:
        raise Invalid(services_field, DowntimeRule.DOWNTIME_SERVICES_REQUIRED)
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
        raise Invalid(f"{prefix}.serviceIds", DowntimeRule.DOWNTIME_SERVICES_OF_ONE_SITE)
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
    declaration: Declaration,
    now: datetime,
) -> Downtime:
    downtime = Downtime(
        site_id=target.site_id,
        severity=declaration.severity,
        classification=rules.classify(declaration.starts_at, now),
        description=declaration.description,
        starts_at=declaration.starts_at,
        ends_at=declaration.ends_at,
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
    declaration: Declaration,
    now: datetime,
) -> list[Downtime]:
    for target in targets:
        authorize(session, principal, Action.EDIT_OBJECT, EntityRef("site", target.site_id))
    rules.check_window(declaration.starts_at, declaration.ends_at, now)
    checked = replace(declaration, description=rules.check_description(declaration.description))
    return [_create(session, principal, target, checked, now) for target in targets]


def declare_downtime(
    session: Session,
    principal: Principal,
    *,
    declaration: Declaration,
    now: datetime | None = None,
) -> Downtime:
    """One downtime of services of one site (GOCDB: a downtime never spans sites)."""
    authorize(session, principal, Caller.SIGNED_IN)
    target = _target(session, declaration.service_ids, declaration.endpoint_ids, prefix="input")
    return _declare(session, principal, [target], declaration, now or utcnow())[0]


def declare_downtimes(
    session: Session,
    principal: Principal,
    *,
    declaration: Declaration,
    now: datetime | None = None,
) -> list[Downtime]:
    """The same window over services of several sites: one downtime per site, ordered by
    site id, all in the caller's one transaction (any refusal refuses them all)."""
    authorize(session, principal, Caller.SIGNED_IN)
    targets = _targets(session, declaration.service_ids, declaration.endpoint_ids, prefix="input")
    return _declare(session, principal, targets, declaration, now or utcnow())


def _require(session: Session, downtime_id: int) -> Downtime:
    downtime = session.get(Downtime, downtime_id)
    if downtime is None:
        raise NotFound(f"downtime {downtime_id} does not exist")
    return downtime


def _authorized(session: Session, principal: Principal, downtime_id: int) -> Downtime:
    authorize(session, principal, Caller.SIGNED_IN)
    downtime = _require(session, downtime_id)
    authorize(session, principal, Action.EDIT_OBJECT, EntityRef("site", downtime.site_id))
    return downtime


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
        "service_ids": linked_service_ids(session, downtime_id),
        "endpoint_ids": linked_endpoint_ids(session, downtime_id),
    }
    if service_ids is not None or endpoint_ids is not None:
        target = _target(
            session,
            before["service_ids"] if service_ids is None else service_ids,
            before["endpoint_ids"] if endpoint_ids is None else endpoint_ids,
            prefix="input",
        )
        if target.site_id != downtime.site_id:
            raise Invalid("input.serviceIds", DowntimeRule.DOWNTIME_SERVICES_OF_ONE_SITE)
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
        "service_ids": linked_service_ids(session, downtime_id),
        "endpoint_ids": linked_endpoint_ids(session, downtime_id),
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
    rules.check_deletable(downtime.classification, downtime.starts_at, now, field="input.id")
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
    rules.check_ongoing(downtime.starts_at, downtime.ends_at, now, field="input.id")
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
    rules.check_ongoing(downtime.starts_at, downtime.ends_at, now, field="input.id")
    field_ = "input.serviceIds"
    if not service_ids:
        raise Invalid(field_, DowntimeRule.DOWNTIME_SERVICES_REQUIRED)
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
        raise Invalid(field_, DowntimeRule.DOWNTIME_SERVICE_NOT_AFFECTED)
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
