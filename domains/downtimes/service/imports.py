"""Loading a GOCDB's downtimes as they are (`opsgraph import gocdb`): each keeps GOCDB's
id, primary key, classification, dates and insert date. A platform action, not a
declaration: the 24/48-hour rules do not apply, no event is emitted (nobody is notified of
history), and a downtime already over is marked as announced started and ended, so that
the transitions job does not announce it either."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.authz import Caller, authorize
from domains.common.identity import Principal
from domains.common.imports import (
    ImportRefused,
    Tally,
    advance_id_sequences,
    check_distinct,
    finish,
    prefetch,
    upsert_row,
)
from domains.common.time import utcnow
from domains.downtimes.models import (
    Classification,
    Downtime,
    DowntimeEndpoint,
    DowntimeService,
    Severity,
)
from domains.topology.service import T_ENDPOINT, T_SERVICE


@dataclass(frozen=True)
class AffectedService:
    """A service a downtime affects (by its primary key, as the PI names it), and the
    endpoints of it GOCDB lists as affected."""

    service_key: str
    endpoint_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class DowntimeRow:
    id: int
    primary_key: str
    classification: str
    severity: str
    description: str
    inserted_at: datetime
    starts_at: datetime
    ends_at: datetime
    services: tuple[AffectedService, ...]


def _enum(kind: type[Any], value: str, entity: str, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise ImportRefused(entity, f"unknown {what} {value!r}") from None


def _links(
    session: Session, rows: Sequence[DowntimeRow]
) -> tuple[dict[str, int], dict[int, int], dict[int, set[int]]]:
    """The id of each affected service by its key, its site and its endpoints, in two
    statements."""
    keys = sorted({a.service_key for r in rows for a in r.services})
    found = session.execute(
        select(T_SERVICE.c.primary_key, T_SERVICE.c.id, T_SERVICE.c.site_id).where(
            T_SERVICE.c.primary_key.in_(keys)
        )
    ).all()
    by_key = {key: ident for key, ident, _site in found}
    site_of = {ident: site for _key, ident, site in found}
    service_ids = sorted(site_of)
    endpoints: dict[int, set[int]] = {s: set() for s in site_of}
    for endpoint_id, service_id in session.execute(
        select(T_ENDPOINT.c.id, T_ENDPOINT.c.service_id).where(
            T_ENDPOINT.c.service_id.in_(service_ids)
        )
    ).all():
        endpoints[service_id].add(endpoint_id)
    return by_key, site_of, endpoints


def _wanted_links(
    row: DowntimeRow,
    by_key: dict[str, int],
    site_of: dict[int, int],
    endpoints: dict[int, set[int]],
    entity: str,
) -> tuple[int, dict[int, bool], set[int]]:
    """(site, {service: all endpoints?}, endpoint ids) of one downtime, checked."""
    if not row.services:
        raise ImportRefused(entity, "affects no service")
    links: dict[int, bool] = {}
    chosen: set[int] = set()
    for affected in row.services:
        service_id = by_key.get(affected.service_key)
        if service_id is None:
            raise ImportRefused(entity, f"unknown service {affected.service_key}")
        own = endpoints[service_id]
        stray = set(affected.endpoint_ids) - own
        if stray:
            raise ImportRefused(
                entity, f"endpoint {min(stray)} is not one of service {affected.service_key}'s"
            )
        # every endpoint of the service listed: the whole service, as a declaration of it
        whole = set(affected.endpoint_ids) == own
        links[service_id] = whole
        if not whole:
            chosen |= set(affected.endpoint_ids)
    sites = {site_of[s] for s in links}
    if len(sites) != 1:
        raise ImportRefused(entity, "affects services of more than one site")
    return sites.pop(), links, chosen


def _sync_links(
    session: Session, downtime_id: int, links: dict[int, bool], chosen: set[int]
) -> dict[str, list[Any]]:
    current = {
        link.service_id: link
        for link in session.execute(
            select(DowntimeService).where(DowntimeService.downtime_id == downtime_id)  # type: ignore[arg-type]
        ).scalars()
    }
    current_endpoints = set(
        session.execute(
            select(DowntimeEndpoint.endpoint_id).where(DowntimeEndpoint.downtime_id == downtime_id)  # type: ignore[call-overload]
        ).scalars()
    )
    before = {s: link.all_endpoints for s, link in current.items()}
    changes: dict[str, list[Any]] = {}
    if before != links:
        for service_id, link in current.items():
            if service_id not in links:
                session.delete(link)
            else:
                link.all_endpoints = links[service_id]
        for service_id, whole in links.items():
            if service_id not in current:
                session.add(
                    DowntimeService(
                        downtime_id=downtime_id, service_id=service_id, all_endpoints=whole
                    )
                )
        changes["service_ids"] = [sorted(before) or None, sorted(links)]
    if current_endpoints != chosen:
        for endpoint_id in current_endpoints - chosen:
            session.execute(
                DowntimeEndpoint.__table__.delete().where(  # type: ignore[attr-defined]
                    DowntimeEndpoint.downtime_id == downtime_id,
                    DowntimeEndpoint.endpoint_id == endpoint_id,
                )
            )
        for endpoint_id in sorted(chosen - current_endpoints):
            session.add(DowntimeEndpoint(downtime_id=downtime_id, endpoint_id=endpoint_id))
        changes["endpoint_ids"] = [sorted(current_endpoints) or None, sorted(chosen) or None]
    session.flush()
    return changes


def import_downtimes(
    session: Session,
    principal: Principal,
    rows: Sequence[DowntimeRow],
    tally: Tally,
    *,
    now: datetime | None = None,
) -> None:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    now = now or utcnow()
    check_distinct((r.id for r in rows), "downtime")
    by_key, site_of, endpoints = _links(session, rows)
    checked = []
    for r in rows:  # every row checked before anything is written
        entity = f"downtime {r.primary_key}"
        values = {
            "id": r.id,
            "primary_key": r.primary_key,
            "classification": _enum(Classification, r.classification, entity, "classification"),
            "severity": _enum(Severity, r.severity, entity, "severity"),
            "description": r.description,
            "declared_at": r.inserted_at,
            "starts_at": r.starts_at,
            "ends_at": r.ends_at,
        }
        if r.ends_at < r.starts_at:
            raise ImportRefused(entity, "ends before it starts")
        site_id, links, chosen = _wanted_links(r, by_key, site_of, endpoints, entity)
        checked.append((r, entity, {**values, "site_id": site_id}, links, chosen))
    prefetch(session, Downtime, [r.id for r in rows])
    for r, entity, values, links, chosen in checked:
        on_create = {
            "updated_at": r.inserted_at,
            "declared_by": audit.actor_of(principal),
            "started_notified": r.starts_at <= now,
            "ended_notified": r.ends_at <= now,
        }
        row, created, changes = upsert_row(
            session, Downtime, values, entity=entity, on_create=on_create
        )
        changes |= _sync_links(session, r.id, links, chosen)
        finish(
            session,
            principal,
            "downtime",
            row,
            created=created,
            changes=changes,
            tally=tally,
            name=r.primary_key,
        )
    advance_id_sequences(session, Downtime)
