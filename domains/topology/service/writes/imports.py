"""Loading a GOCDB's topology as it is (`opsgraph import gocdb`): every row keeps GOCDB's
id and primary key, is created, updated in place or left alone (common/imports.py), and
is audited `<kind>.import` as the platform. The edit rules (reserved scopes, certification
transitions, production => monitored) are GOCDB's decisions already taken: not applied
again. What names something unknown refuses its whole batch (ImportRefused)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from domains.common.audit import record_change
from domains.common.authz import Caller, authorize
from domains.common.identity import Principal
from domains.common.imports import (
    ImportRefused,
    Outcome,
    Tally,
    advance_id_sequences,
    check_distinct,
    check_lengths,
    finish,
    prefetch,
    sync_links,
    upsert_row,
)
from domains.topology.models import (
    CertificationStatus,
    CertificationStatusLog,
    Country,
    Ngi,
    NgiScope,
    ProductionInfrastructure,
    Project,
    ProjectNgi,
    Scope,
    ServiceGroup,
    ServiceType,
    Site,
    SiteProperty,
    SiteScope,
)


@dataclass(frozen=True)
class PropertyRow:
    """An extension property with GOCDB's id (LOCAL_ID)."""

    id: int
    key: str
    value: str


@dataclass(frozen=True)
class ProjectRow:
    """`id`: None where the PI renders a project without one (found again by its name)."""

    id: int | None
    name: str


@dataclass(frozen=True)
class NgiRow:
    """`values`: Ngi's columns (id, name, primary_key, description, e-mails)."""

    values: Mapping[str, Any]
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceTypeRow:
    id: int
    name: str
    description: str = ""


@dataclass(frozen=True)
class SiteRow:
    """`values`: Site's own columns; the NGI and country by name, as GOCDB gives them."""

    values: Mapping[str, Any]
    ngi: str
    country_code: str
    country_name: str
    scopes: tuple[str, ...] = ()
    properties: tuple[PropertyRow, ...] = ()


@dataclass(frozen=True)
class CertificationChangeRow:
    id: int
    site: str
    old_status: str
    new_status: str
    changed_by: str
    changed_at: datetime
    reason: str


@dataclass
class Names:
    """Ids by name of what a batch refers to, looked up once per batch."""

    ids: dict[str, int] = field(default_factory=dict)

    def of(self, name: str, entity: str, what: str) -> int:
        found = self.ids.get(name)
        if found is None:
            raise ImportRefused(entity, f"unknown {what} {name!r}")
        return found


def ids_by_name(session: Session, column: Any, names: Iterable[str]) -> Names:
    model = column.class_
    wanted = sorted(set(names))
    rows = (
        session.execute(select(column, model.id).where(column.in_(wanted))).all() if wanted else []
    )
    return Names(dict(rows))


def check_unique(
    session: Session, column: Any, wanted: Mapping[int, str | None], kind: str
) -> None:
    """Refuse a row whose unique name (or primary key) another row of ours already holds:
    the import would otherwise fail at the database without saying which."""
    model = column.class_
    values = {v: k for k, v in wanted.items() if v is not None}
    if len(values) < len([v for v in wanted.values() if v is not None]):
        raise ImportRefused(kind, f"{column.key} given to two rows in one batch")
    held = (
        session.execute(select(column, model.id).where(column.in_(sorted(values)))).all()
        if values
        else []
    )
    for value, ident in held:
        if ident != values[value]:
            raise ImportRefused(
                f"{kind} {values[value]}", f"{column.key} {value!r} is held by {kind} {ident}"
            )


def scope_ids(
    session: Session, principal: Principal, names: Iterable[str], tally: Tally
) -> dict[str, int]:
    """The ids of these scopes by name, creating those we do not have (GOCDB's PI gives
    scope names only: a new one is created not reserved, with no description)."""
    wanted = sorted(set(names))
    found = ids_by_name(session, Scope.name, wanted).ids
    for name in wanted:
        if name not in found:
            check_lengths(Scope, {"name": name}, f"scope {name}")
            scope = Scope(name=name)
            session.add(scope)
            session.flush()
            record_change(session, principal, "scope", "import", scope, {"name": [None, name]})
            tally.add("scope", Outcome.CREATED)
            assert scope.id is not None
            found[name] = scope.id
    return found


def sync_scopes(
    session: Session,
    link: type[SQLModel],
    owner: Mapping[str, int],
    names: Sequence[str],
    ids: Mapping[str, int],
) -> dict[str, list[Any]]:
    """The owner's scope links made to exactly `names`; the change as {"scopes": [...]}."""
    by_id = {ident: name for name, ident in ids.items()}
    added, removed = sync_links(session, link, owner, "scope_id", [ids[n] for n in names])
    if not added and not removed:
        return {}
    now = sorted(names)
    before = sorted({*now, *(by_id.get(i, str(i)) for i in removed)} - {by_id[i] for i in added})
    return {"scopes": [before, now]}


def sync_properties(
    session: Session,
    model: type[SQLModel],
    owner: Mapping[str, int],
    rows: Sequence[PropertyRow],
    entity: str,
) -> dict[str, list[Any]]:
    """The owner's extension properties made to exactly `rows` (GOCDB's ids kept); the
    changes as {"property:<key>": [before, after]}, as set_property audits them."""
    ((fk, owner_id),) = owner.items()
    current = {
        p.id: p  # type: ignore[attr-defined]
        for p in session.execute(select(model).where(getattr(model, fk) == owner_id)).scalars()
    }
    keys = [r.key for r in rows]
    if len(set(keys)) < len(keys):
        raise ImportRefused(entity, "an extension property key is given twice")
    changes: dict[str, list[Any]] = {}
    wanted = {r.id for r in rows}
    for ident, prop in current.items():
        if ident not in wanted:
            changes[f"property:{prop.key}"] = [prop.value, None]  # type: ignore[attr-defined]
            session.delete(prop)
    session.flush()
    prefetch(session, model, wanted)
    for r in rows:
        values = {"id": r.id, fk: owner_id, "key": r.key, "value": r.value}
        row, created, changed = upsert_row(
            session, model, values, entity=f"{entity} property {r.key}"
        )
        if created or "value" in changed or "key" in changed:
            before = None if created else changed.get("value", [r.value])[0]
            changes[f"property:{r.key}"] = [before, r.value]
        if fk in changed and not created:
            raise ImportRefused(entity, f"extension property {r.id} belongs to another entity")
    return changes


# --- projects, NGIs, service types -----------------------------------------------------


def import_projects(
    session: Session, principal: Principal, rows: Sequence[ProjectRow], tally: Tally
) -> None:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    keyed = [r for r in rows if r.id is not None]
    check_distinct((r.id for r in keyed if r.id is not None), "project")
    check_unique(
        session, Project.name, {r.id: r.name for r in keyed if r.id is not None}, "project"
    )
    by_name = ids_by_name(session, Project.name, (r.name for r in rows if r.id is None)).ids
    prefetch(session, Project, [r.id for r in keyed if r.id is not None])
    for r in rows:
        entity = f"project {r.name}"
        if r.id is None and r.name in by_name:
            tally.add("project", Outcome.UNCHANGED)
            continue
        if r.id is None:
            check_lengths(Project, {"name": r.name}, entity)
            row = Project(name=r.name)
            session.add(row)
            session.flush()
            row.primary_key = f"{row.id}G0"
            by_name[r.name] = row.id  # type: ignore[assignment]
            finish(
                session,
                principal,
                "project",
                row,
                created=True,
                changes={"name": [None, r.name]},
                tally=tally,
            )
            continue
        values = {"id": r.id, "name": r.name}
        row, created, changes = upsert_row(
            session, Project, values, entity=entity, on_create={"primary_key": f"{r.id}G0"}
        )
        finish(session, principal, "project", row, created=created, changes=changes, tally=tally)
    advance_id_sequences(session, Project)


def import_ngis(
    session: Session,
    principal: Principal,
    rows: Sequence[NgiRow],
    tally: Tally,
    *,
    project: str | None = None,
) -> None:
    """NGIs with their scopes; `project`: the project every NGI belongs to (GOCDB's PI
    does not say which project an NGI is in: with one project, it is that one)."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_distinct((r.values["id"] for r in rows), "ngi")
    check_unique(session, Ngi.name, {r.values["id"]: r.values["name"] for r in rows}, "ngi")
    check_unique(
        session, Ngi.primary_key, {r.values["id"]: r.values.get("primary_key") for r in rows}, "ngi"
    )
    project_id = (
        None
        if project is None
        else ids_by_name(session, Project.name, [project]).of(
            project, f"project {project}", "project"
        )
    )
    scopes = scope_ids(session, principal, (s for r in rows for s in r.scopes), tally)
    prefetch(session, Ngi, [r.values["id"] for r in rows])
    for r in rows:
        entity = f"ngi {r.values['name']}"
        row, created, changes = upsert_row(session, Ngi, r.values, entity=entity)
        changes |= sync_scopes(session, NgiScope, {"ngi_id": row.id}, r.scopes, scopes)
        if project_id is not None:
            added, _ = sync_links(
                session, ProjectNgi, {"ngi_id": row.id}, "project_id", [project_id]
            )
            if added:
                changes["project"] = [None, project]
        finish(session, principal, "ngi", row, created=created, changes=changes, tally=tally)
    advance_id_sequences(session, Ngi)


def import_service_types(
    session: Session, principal: Principal, rows: Sequence[ServiceTypeRow], tally: Tally
) -> None:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_distinct((r.id for r in rows), "service type")
    check_unique(session, ServiceType.name, {r.id: r.name for r in rows}, "service_type")
    prefetch(session, ServiceType, [r.id for r in rows])
    for r in rows:
        values = {"id": r.id, "name": r.name, "description": r.description}
        row, created, changes = upsert_row(
            session, ServiceType, values, entity=f"service type {r.name}"
        )
        finish(
            session, principal, "service_type", row, created=created, changes=changes, tally=tally
        )
    advance_id_sequences(session, ServiceType)


# --- sites -----------------------------------------------------------------------------


def _country_ids(
    session: Session, principal: Principal, rows: Sequence[SiteRow], tally: Tally
) -> dict[str, int]:
    """Countries by code, created from the names the sites give where we have none."""
    names = {r.country_code: r.country_name for r in rows}
    found = ids_by_name(session, Country.code, names).ids
    for code, name in sorted(names.items()):
        if code in found:
            continue
        entity = f"country {code}"
        if len(code) != 2:
            raise ImportRefused(entity, "a country code has two letters")
        check_lengths(Country, {"name": name}, entity)
        held = ids_by_name(session, Country.name, [name]).ids
        if held:
            raise ImportRefused(entity, f"country name {name!r} is held by another code")
        country = Country(code=code, name=name)
        session.add(country)
        session.flush()
        record_change(session, principal, "country", "import", country, {"code": [None, code]})
        tally.add("country", Outcome.CREATED)
        assert country.id is not None
        found[code] = country.id
    return found


def _enum(kind: type[Any], value: Any, entity: str, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise ImportRefused(entity, f"unknown {what} {value!r}") from None


def import_sites(
    session: Session, principal: Principal, rows: Sequence[SiteRow], tally: Tally
) -> None:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_distinct((r.values["id"] for r in rows), "site")
    ids = {r.values["id"]: r for r in rows}
    check_unique(
        session, Site.short_name, {i: r.values["short_name"] for i, r in ids.items()}, "site"
    )
    check_unique(
        session, Site.primary_key, {i: r.values.get("primary_key") for i, r in ids.items()}, "site"
    )
    ngis = ids_by_name(session, Ngi.name, (r.ngi for r in rows))
    for r in rows:  # every reference checked before anything is written
        entity = f"site {r.values['short_name']}"
        ngis.of(r.ngi, entity, "NGI")
        _enum(CertificationStatus, r.values["certification_status"], entity, "certification status")
        _enum(
            ProductionInfrastructure,
            r.values["production_infrastructure"],
            entity,
            "production infrastructure",
        )
    countries = _country_ids(session, principal, rows, tally)
    scopes = scope_ids(session, principal, (s for r in rows for s in r.scopes), tally)
    prefetch(session, Site, ids)
    for r in rows:
        entity = f"site {r.values['short_name']}"
        values = {
            **r.values,
            "certification_status": CertificationStatus(r.values["certification_status"]),
            "production_infrastructure": ProductionInfrastructure(
                r.values["production_infrastructure"]
            ),
            "ngi_id": ngis.ids[r.ngi],
            "country_id": countries[r.country_code],
        }
        row, created, changes = upsert_row(session, Site, values, entity=entity)
        changes |= sync_scopes(session, SiteScope, {"site_id": row.id}, r.scopes, scopes)
        changes |= sync_properties(session, SiteProperty, {"site_id": row.id}, r.properties, entity)
        finish(session, principal, "site", row, created=created, changes=changes, tally=tally)
    advance_id_sequences(session, Site, SiteProperty)


def import_certification_changes(
    session: Session, principal: Principal, rows: Sequence[CertificationChangeRow], tally: Tally
) -> None:
    """A site's certification history with GOCDB's ids; audited on the site, as
    change_certification_status records a change."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_distinct((r.id for r in rows), "certification change")
    sites = ids_by_name(session, Site.short_name, (r.site for r in rows))
    checked = []
    for r in rows:  # every reference checked before anything is written
        entity = f"certification change {r.id} of {r.site}"
        values = {
            "id": r.id,
            "site_id": sites.of(r.site, entity, "site"),
            "old_status": _enum(CertificationStatus, r.old_status, entity, "certification status"),
            "new_status": _enum(CertificationStatus, r.new_status, entity, "certification status"),
            "changed_by": r.changed_by,
            "changed_at": r.changed_at,
            "reason": r.reason,
        }
        check_lengths(CertificationStatusLog, values, entity)
        checked.append((r, entity, values))
    prefetch(session, CertificationStatusLog, [r.id for r in rows])
    for r, entity, values in checked:
        _row, created, changes = upsert_row(session, CertificationStatusLog, values, entity=entity)
        if not created and not changes:
            tally.add("certification_change", Outcome.UNCHANGED)
            continue
        site = session.get(Site, values["site_id"])
        change = f"{r.old_status} -> {r.new_status} at {r.changed_at.isoformat()}: {r.reason}"
        record_change(
            session,
            principal,
            "site",
            "import",
            site,
            {f"certification_change:{r.id}": [None if created else "changed", change]},
        )
        tally.add("certification_change", Outcome.CREATED if created else Outcome.UPDATED)
    advance_id_sequences(session, CertificationStatusLog)


# GOCDB's ENTITY_TYPE of a role's entity -> the column its name is in
_OWNED = {
    "project": Project.name,
    "ngi": Ngi.name,
    "site": Site.short_name,
    "servicegroup": ServiceGroup.name,
}


def owned_entity_ids(
    session: Session, names: Mapping[str, Iterable[str]]
) -> dict[str, dict[str, int]]:
    """Ids by name of the entities roles are held over, per GOCDB entity type (project,
    ngi, site, servicegroup): one statement per type asked for. An unknown type or name
    is simply absent (the caller says why it skips that role)."""
    return {
        kind: ids_by_name(session, _OWNED[kind], wanted).ids
        for kind, wanted in names.items()
        if kind in _OWNED
    }


def only_project_name(session: Session) -> str | None:
    """The project, when there is exactly one: GOCDB's PI does not say which project an
    NGI is in, and with one project (EGI's case) it can only be that one."""
    names = session.execute(select(Project.name).limit(2)).scalars().all()  # type: ignore[call-overload]
    return names[0] if len(names) == 1 else None
