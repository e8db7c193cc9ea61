"""Loading a GOCDB's services (with their endpoints) and service groups as they are: the
second half of imports.py, with the same rules (GOCDB's ids kept, platform action, a batch
refused whole when a row names something unknown)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.authz import Caller, authorize
from domains.common.identity import Principal
from domains.common.imports import (
    ImportRefused,
    Tally,
    advance_id_sequences,
    check_distinct,
    finish,
    prefetch,
    sync_links,
    upsert_row,
)
from domains.topology.models import (
    Endpoint,
    EndpointProperty,
    Service,
    ServiceGroup,
    ServiceGroupMember,
    ServiceGroupProperty,
    ServiceGroupScope,
    ServiceProperty,
    ServiceScope,
    ServiceType,
    Site,
)
from domains.topology.service.writes.imports import (
    PropertyRow,
    check_unique,
    ids_by_name,
    scope_ids,
    sync_properties,
    sync_scopes,
)


@dataclass(frozen=True)
class EndpointRow:
    """`values`: Endpoint's columns (id, name, url, interface_name, monitored)."""

    values: Mapping[str, Any]
    properties: tuple[PropertyRow, ...] = ()


@dataclass(frozen=True)
class ServiceRow:
    """`values`: Service's own columns; its site and type by name, as GOCDB gives them."""

    values: Mapping[str, Any]
    site: str
    service_type: str
    scopes: tuple[str, ...] = ()
    properties: tuple[PropertyRow, ...] = ()
    endpoints: tuple[EndpointRow, ...] = ()


@dataclass(frozen=True)
class ServiceGroupRow:
    """`values`: ServiceGroup's columns; `members`: its services' primary keys."""

    values: Mapping[str, Any]
    members: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    properties: tuple[PropertyRow, ...] = ()


def _label(values: Mapping[str, Any]) -> str:
    return f"service {values.get('primary_key') or values['id']} ({values.get('host_name')})"


def _sync_endpoints(
    session: Session,
    principal: Principal,
    service: Service,
    rows: Sequence[EndpointRow],
    tally: Tally,
    entity: str,
) -> dict[str, list[Any]]:
    """The service's endpoints made to exactly `rows`: each endpoint is its own audited
    entity; what went or came is also noted on the service."""
    names = [r.values["name"] for r in rows]
    if len(set(names)) < len(names):
        raise ImportRefused(entity, "two endpoints share a name")
    wanted = {r.values["id"] for r in rows}
    changes: dict[str, list[Any]] = {}
    current = session.execute(select(Endpoint).where(Endpoint.service_id == service.id)).scalars()  # type: ignore[arg-type]
    for endpoint in list(current):
        if endpoint.id not in wanted:
            changes[f"endpoint:{endpoint.name}"] = [endpoint.id, None]
            session.delete(endpoint)
    session.flush()
    prefetch(session, Endpoint, wanted)
    for r in rows:
        name = r.values["name"]
        values = {**r.values, "service_id": service.id}
        row, created, changed = upsert_row(
            session, Endpoint, values, entity=f"{entity} endpoint {name}"
        )
        if not created and "service_id" in changed:
            raise ImportRefused(entity, f"endpoint {row.id} belongs to another service")
        changed |= sync_properties(
            session,
            EndpointProperty,
            {"endpoint_id": row.id},
            r.properties,
            f"{entity} endpoint {name}",
        )
        finish(session, principal, "endpoint", row, created=created, changes=changed, tally=tally)
        if created:
            changes[f"endpoint:{name}"] = [None, row.id]
    return changes


def import_services(
    session: Session, principal: Principal, rows: Sequence[ServiceRow], tally: Tally
) -> None:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_distinct((r.values["id"] for r in rows), "service")
    check_unique(
        session,
        Service.primary_key,
        {r.values["id"]: r.values.get("primary_key") for r in rows},
        "service",
    )
    sites = ids_by_name(session, Site.short_name, (r.site for r in rows))
    types = ids_by_name(session, ServiceType.name, (r.service_type for r in rows))
    for r in rows:  # every reference checked before anything is written
        sites.of(r.site, _label(r.values), "site")
        types.of(r.service_type, _label(r.values), "service type")
    scopes = scope_ids(session, principal, (s for r in rows for s in r.scopes), tally)
    prefetch(session, Service, [r.values["id"] for r in rows])
    for r in rows:
        entity = _label(r.values)
        values = {
            **r.values,
            "site_id": sites.ids[r.site],
            "service_type_id": types.ids[r.service_type],
        }
        row, created, changes = upsert_row(session, Service, values, entity=entity)
        changes |= sync_scopes(session, ServiceScope, {"service_id": row.id}, r.scopes, scopes)
        changes |= sync_properties(
            session, ServiceProperty, {"service_id": row.id}, r.properties, entity
        )
        changes |= _sync_endpoints(session, principal, row, r.endpoints, tally, entity)
        finish(session, principal, "service", row, created=created, changes=changes, tally=tally)
    advance_id_sequences(session, Service, ServiceProperty, Endpoint, EndpointProperty)


def import_service_groups(
    session: Session, principal: Principal, rows: Sequence[ServiceGroupRow], tally: Tally
) -> None:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_distinct((r.values["id"] for r in rows), "service group")
    ids = [r.values["id"] for r in rows]
    check_unique(
        session,
        ServiceGroup.name,
        {r.values["id"]: r.values["name"] for r in rows},
        "service_group",
    )
    check_unique(
        session,
        ServiceGroup.primary_key,
        {r.values["id"]: r.values.get("primary_key") for r in rows},
        "service_group",
    )
    keys = sorted({m for r in rows for m in r.members})
    known: dict[str, int] = (
        dict(
            session.execute(
                select(Service.primary_key, Service.id).where(Service.primary_key.in_(keys))  # type: ignore[union-attr,call-overload]
            ).all()
        )
        if keys
        else {}
    )
    for r in rows:
        for member in r.members:
            if member not in known:
                raise ImportRefused(
                    f"service group {r.values['name']}", f"unknown service {member}"
                )
    scopes = scope_ids(session, principal, (s for r in rows for s in r.scopes), tally)
    prefetch(session, ServiceGroup, ids)
    for r in rows:
        entity = f"service group {r.values['name']}"
        row, created, changes = upsert_row(session, ServiceGroup, r.values, entity=entity)
        owner = {"service_group_id": row.id}
        members = [known[m] for m in r.members]
        added, removed = sync_links(session, ServiceGroupMember, owner, "service_id", members)
        if added or removed:
            changes["services"] = [removed or None, added or None]
        changes |= sync_scopes(session, ServiceGroupScope, owner, r.scopes, scopes)
        changes |= sync_properties(session, ServiceGroupProperty, owner, r.properties, entity)
        finish(
            session, principal, "service_group", row, created=created, changes=changes, tally=tally
        )
    advance_id_sequences(session, ServiceGroup, ServiceGroupProperty)
