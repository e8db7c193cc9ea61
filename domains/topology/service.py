"""Topology rules and queries. Every read and write of the topology goes through here."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    false,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from domains.common.errors import Conflict, Forbidden, Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import legacy_key, pk
from domains.common.pagination import PageRequest
from domains.common.query import Record, RecordPage, keyset_page
from domains.common.time import utcnow
from domains.topology.filters import (
    PropertyExpr,
    ScopeDefaults,
    ScopeMatch,
    ScopeSelection,
    ServiceFilter,
    ServiceGroupFilter,
    SiteFilter,
)
from domains.topology.models import (
    MAX_PROPERTIES_PER_ENTITY,
    MAX_PROPERTY_LENGTH,
    CertificationStatus,
    Country,
    Endpoint,
    EndpointProperty,
    Ngi,
    NgiScope,
    ProductionInfrastructure,
    Project,
    ProjectNgi,
    Scope,
    Service,
    ServiceGroup,
    ServiceGroupMember,
    ServiceGroupProperty,
    ServiceGroupScope,
    ServiceProperty,
    ServiceScope,
    ServiceType,
    Site,
    SiteProperty,
    SiteScope,
)

# Field formats from GOCDB's schema definition.
SHORT_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
HOST_NAME_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
TAG_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
LEGACY_KEY_RE = re.compile(r"^[0-9]+G[0-9]$")
PROPERTY_KEY_RE = re.compile(r"^[^\s=()]+$")
FORBIDDEN_DESCRIPTION_CHARS = set("\"'`;<>")

# Services of these types may be in production without being monitored (GOCDB keeps this
# legacy list beside the per-type monitoring-exception flag).
LEGACY_MONITORING_EXCEPTIONS = frozenset({"VOMS", "emi.ARGUS", "org.squid-cache.Squid"})


# ---------------------------------------------------------------------------------------
# Tables as column lists: reads return plain rows, which are three times cheaper than ORM
# instances (measured: 2,000 services, 5.8 ms as rows against 15.5 ms as objects).

T_PROJECT: Table = Project.__table__  # type: ignore[attr-defined]
T_NGI: Table = Ngi.__table__  # type: ignore[attr-defined]
T_PROJECT_NGI: Table = ProjectNgi.__table__  # type: ignore[attr-defined]
T_COUNTRY: Table = Country.__table__  # type: ignore[attr-defined]
T_SITE: Table = Site.__table__  # type: ignore[attr-defined]
T_SERVICE_TYPE: Table = ServiceType.__table__  # type: ignore[attr-defined]
T_SERVICE: Table = Service.__table__  # type: ignore[attr-defined]
T_ENDPOINT: Table = Endpoint.__table__  # type: ignore[attr-defined]
T_GROUP: Table = ServiceGroup.__table__  # type: ignore[attr-defined]
T_GROUP_MEMBER: Table = ServiceGroupMember.__table__  # type: ignore[attr-defined]
T_SCOPE: Table = Scope.__table__  # type: ignore[attr-defined]

SCOPE_LINKS: dict[str, tuple[Table, str]] = {
    "ngi": (NgiScope.__table__, "ngi_id"),  # type: ignore[attr-defined]
    "site": (SiteScope.__table__, "site_id"),  # type: ignore[attr-defined]
    "service": (ServiceScope.__table__, "service_id"),  # type: ignore[attr-defined]
    "service_group": (ServiceGroupScope.__table__, "service_group_id"),  # type: ignore[attr-defined]
}
PROPERTY_TABLES: dict[str, tuple[Table, str]] = {
    "site": (SiteProperty.__table__, "site_id"),  # type: ignore[attr-defined]
    "service": (ServiceProperty.__table__, "service_id"),  # type: ignore[attr-defined]
    "endpoint": (EndpointProperty.__table__, "endpoint_id"),  # type: ignore[attr-defined]
    "service_group": (ServiceGroupProperty.__table__, "service_group_id"),  # type: ignore[attr-defined]
}


def _columns(table: Table, *extra: str) -> tuple[str, ...]:
    return (*(column.name for column in table.c), *extra)


# Column names of the rows that the read functions return, in order; the GraphQL layer
# reads rows by position through these.
PROJECT_COLUMNS = _columns(T_PROJECT)
NGI_COLUMNS = _columns(T_NGI)
SITE_COLUMNS = _columns(T_SITE, "country_code", "country_name")
SERVICE_TYPE_COLUMNS = _columns(T_SERVICE_TYPE)
SERVICE_COLUMNS = _columns(T_SERVICE, "service_type_name")
ENDPOINT_COLUMNS = _columns(T_ENDPOINT)
GROUP_COLUMNS = _columns(T_GROUP)
SCOPE_COLUMNS = _columns(T_SCOPE)


def _site_select() -> Select[Any]:
    return select(
        *T_SITE.c,
        T_COUNTRY.c.code.label("country_code"),
        T_COUNTRY.c.name.label("country_name"),
    ).join(T_COUNTRY, T_COUNTRY.c.id == T_SITE.c.country_id)


def _service_select() -> Select[Any]:
    return select(*T_SERVICE.c, T_SERVICE_TYPE.c.name.label("service_type_name")).join(
        T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id
    )


# ---------------------------------------------------------------------------------------
# Visibility


def may_read_personal_data(principal: Principal) -> bool:
    """Contact e-mails and phone numbers are personal data (GOCDB's READ_PERSONAL_DATA).

    Until roles exist only the platform itself reads them; everyone else sees them hidden.
    """
    return principal.is_platform


# ---------------------------------------------------------------------------------------
# Filter building blocks


def _scope_clause(
    kind: str, owner_id: ColumnElement[int], selection: ScopeSelection, defaults: ScopeDefaults
) -> ColumnElement[bool]:
    names, match = selection.resolve(defaults)
    if not names:
        return true()
    link, fk = SCOPE_LINKS[kind]

    def has(names_: Sequence[str]) -> ColumnElement[bool]:
        return exists(
            select(1)
            .select_from(link.join(T_SCOPE, T_SCOPE.c.id == link.c.scope_id))
            .where(link.c[fk] == owner_id, T_SCOPE.c.name.in_(list(names_)))
        )

    if match is ScopeMatch.ANY:
        return has(names)
    return and_(*(has([name]) for name in names))


def _property_clause(
    kind: str, owner_id: ColumnElement[int], expr: PropertyExpr
) -> ColumnElement[bool]:
    table, fk = PROPERTY_TABLES[kind]
    if expr.key is not None:
        conditions = [table.c[fk] == owner_id, table.c.key == expr.key]
        if expr.value is not None:
            conditions.append(table.c.value == expr.value)
        return exists(select(1).select_from(table).where(*conditions))
    if expr.all_of is not None:
        return and_(*(_property_clause(kind, owner_id, sub) for sub in expr.all_of))
    if expr.any_of is not None:
        return or_(*(_property_clause(kind, owner_id, sub) for sub in expr.any_of))
    assert expr.negate is not None  # validate() guarantees one form
    return not_(_property_clause(kind, owner_id, expr.negate))


def _in(column: ColumnElement[Any], values: Sequence[Any] | None) -> ColumnElement[bool]:
    if values is None:
        return true()
    if not values:
        return false()
    return column.in_(list(values))


def _country_clause(values: Sequence[str] | None) -> ColumnElement[bool]:
    # Countries match by ISO code or by name, as GOCDB's `country` parameter does by name.
    if values is None:
        return true()
    return or_(T_COUNTRY.c.code.in_([v.upper() for v in values]), T_COUNTRY.c.name.in_(values))


def _ngi_name_clause(
    ngi_id: ColumnElement[int], names: Sequence[str] | None
) -> ColumnElement[bool]:
    if names is None:
        return true()
    return ngi_id.in_(select(T_NGI.c.id).where(T_NGI.c.name.in_(list(names))))


# ---------------------------------------------------------------------------------------
# Reads: lists


def list_projects(session: Session, principal: Principal, *, page: PageRequest) -> RecordPage:
    return keyset_page(session, select(*T_PROJECT.c), T_PROJECT.c.id, page)


def list_ngis(
    session: Session,
    principal: Principal,
    *,
    page: PageRequest,
    scopes: ScopeSelection | None = None,
    scope_defaults: ScopeDefaults,
) -> RecordPage:
    stmt = select(*T_NGI.c).where(
        _scope_clause("ngi", T_NGI.c.id, scopes or ScopeSelection(), scope_defaults)
    )
    return keyset_page(session, stmt, T_NGI.c.id, page)


def list_sites(
    session: Session,
    principal: Principal,
    *,
    filter: SiteFilter,
    page: PageRequest,
    scope_defaults: ScopeDefaults,
) -> RecordPage:
    if filter.properties is not None:
        filter.properties.validate("filter.properties")
    stmt = _site_select().where(
        _in(T_SITE.c.short_name, filter.short_names),
        _ngi_name_clause(T_SITE.c.ngi_id, filter.ngis),
        _country_clause(filter.countries),
        _in(T_SITE.c.certification_status, filter.certification_statuses),
        _in(T_SITE.c.production_infrastructure, filter.production_infrastructures),
        _scope_clause("site", T_SITE.c.id, filter.scopes, scope_defaults),
    )
    if filter.exclude_certification_statuses:
        stmt = stmt.where(
            T_SITE.c.certification_status.not_in(list(filter.exclude_certification_statuses))
        )
    if filter.properties is not None:
        stmt = stmt.where(_property_clause("site", T_SITE.c.id, filter.properties))
    return keyset_page(session, stmt, T_SITE.c.id, page)


def list_services(
    session: Session,
    principal: Principal,
    *,
    filter: ServiceFilter,
    page: PageRequest,
    scope_defaults: ScopeDefaults,
) -> RecordPage:
    if filter.properties is not None:
        filter.properties.validate("filter.properties")
    stmt = _service_select().where(
        _in(T_SERVICE.c.host_name, filter.host_names),
        _in(T_SERVICE_TYPE.c.name, filter.service_types),
        _scope_clause("service", T_SERVICE.c.id, filter.scopes, scope_defaults),
    )
    for column, wanted in (
        (T_SERVICE.c.monitored, filter.monitored),
        (T_SERVICE.c.production, filter.production),
        (T_SERVICE.c.beta, filter.beta),
    ):
        if wanted is not None:
            stmt = stmt.where(column.is_(wanted))
    if filter.sites is not None or filter.ngis is not None or filter.countries is not None:
        site_ids = (
            select(T_SITE.c.id)
            .join(T_COUNTRY, T_COUNTRY.c.id == T_SITE.c.country_id)
            .where(
                _in(T_SITE.c.short_name, filter.sites),
                _ngi_name_clause(T_SITE.c.ngi_id, filter.ngis),
                _country_clause(filter.countries),
            )
        )
        stmt = stmt.where(T_SERVICE.c.site_id.in_(site_ids))
    if filter.properties is not None:
        stmt = stmt.where(_property_clause("service", T_SERVICE.c.id, filter.properties))
    return keyset_page(session, stmt, T_SERVICE.c.id, page)


def list_service_types(session: Session, principal: Principal, *, page: PageRequest) -> RecordPage:
    return keyset_page(session, select(*T_SERVICE_TYPE.c), T_SERVICE_TYPE.c.id, page)


def list_service_groups(
    session: Session,
    principal: Principal,
    *,
    filter: ServiceGroupFilter,
    page: PageRequest,
    scope_defaults: ScopeDefaults,
) -> RecordPage:
    if filter.properties is not None:
        filter.properties.validate("filter.properties")
    stmt = select(*T_GROUP.c).where(
        _in(T_GROUP.c.name, filter.names),
        _scope_clause("service_group", T_GROUP.c.id, filter.scopes, scope_defaults),
    )
    if filter.properties is not None:
        stmt = stmt.where(_property_clause("service_group", T_GROUP.c.id, filter.properties))
    return keyset_page(session, stmt, T_GROUP.c.id, page)


def list_scopes(session: Session, principal: Principal, *, page: PageRequest) -> RecordPage:
    return keyset_page(session, select(*T_SCOPE.c), T_SCOPE.c.id, page)


# ---------------------------------------------------------------------------------------
# Reads: single objects by natural key


def _one_or_none(session: Session, stmt: Select[Any]) -> Record | None:
    return session.execute(stmt).first()


def get_ngi_by_name(session: Session, principal: Principal, *, name: str) -> Record | None:
    return _one_or_none(session, select(*T_NGI.c).where(T_NGI.c.name == name))


def get_site_by_short_name(
    session: Session, principal: Principal, *, short_name: str
) -> Record | None:
    return _one_or_none(session, _site_select().where(T_SITE.c.short_name == short_name))


def get_service_type_by_name(session: Session, principal: Principal, *, name: str) -> Record | None:
    return _one_or_none(session, select(*T_SERVICE_TYPE.c).where(T_SERVICE_TYPE.c.name == name))


def get_by_primary_key(
    session: Session, principal: Principal, *, kind: str, primary_key: str
) -> Record | None:
    """Look up a site, service, NGI, project or service group by its legacy GOCDB key."""
    stmts: dict[str, Select[Any]] = {
        "site": _site_select().where(T_SITE.c.primary_key == primary_key),
        "service": _service_select().where(T_SERVICE.c.primary_key == primary_key),
        "ngi": select(*T_NGI.c).where(T_NGI.c.primary_key == primary_key),
        "project": select(*T_PROJECT.c).where(T_PROJECT.c.primary_key == primary_key),
        "service_group": select(*T_GROUP.c).where(T_GROUP.c.primary_key == primary_key),
    }
    return _one_or_none(session, stmts[kind])


# ---------------------------------------------------------------------------------------
# Reads in batches, for the per-request loaders (one statement per batch)


# Statements of the batch reads are built once; the key list is an expanding parameter,
# which is much cheaper per call than `in_(list)` with hundreds of literal values.
_IDS: BindParameter[int] = bindparam("ids", expanding=True)


def _batch(stmt: Select[Any], key: ColumnElement[int], order: ColumnElement[Any]) -> Select[Any]:
    return stmt.where(key.in_(_IDS)).order_by(order)


_BY_ID: dict[str, Select[Any]] = {
    "project": _batch(select(*T_PROJECT.c), T_PROJECT.c.id, T_PROJECT.c.id),
    "ngi": _batch(select(*T_NGI.c), T_NGI.c.id, T_NGI.c.id),
    "site": _batch(_site_select(), T_SITE.c.id, T_SITE.c.id),
    "service": _batch(_service_select(), T_SERVICE.c.id, T_SERVICE.c.id),
    "endpoint": _batch(select(*T_ENDPOINT.c), T_ENDPOINT.c.id, T_ENDPOINT.c.id),
    "service_type": _batch(select(*T_SERVICE_TYPE.c), T_SERVICE_TYPE.c.id, T_SERVICE_TYPE.c.id),
    "service_group": _batch(select(*T_GROUP.c), T_GROUP.c.id, T_GROUP.c.id),
    "scope": _batch(select(*T_SCOPE.c), T_SCOPE.c.id, T_SCOPE.c.id),
}


def _by_id(session: Session, kind: str, ids: Sequence[int]) -> dict[int, Record]:
    return {row[0]: row for row in session.execute(_BY_ID[kind], {"ids": list(ids)}).all()}


def projects_by_id(session: Session, principal: Principal, ids: Sequence[int]) -> dict[int, Record]:
    return _by_id(session, "project", ids)


def ngis_by_id(session: Session, principal: Principal, ids: Sequence[int]) -> dict[int, Record]:
    return _by_id(session, "ngi", ids)


def sites_by_id(session: Session, principal: Principal, ids: Sequence[int]) -> dict[int, Record]:
    return _by_id(session, "site", ids)


def services_by_id(session: Session, principal: Principal, ids: Sequence[int]) -> dict[int, Record]:
    return _by_id(session, "service", ids)


def endpoints_by_id(
    session: Session, principal: Principal, ids: Sequence[int]
) -> dict[int, Record]:
    return _by_id(session, "endpoint", ids)


def service_types_by_id(
    session: Session, principal: Principal, ids: Sequence[int]
) -> dict[int, Record]:
    return _by_id(session, "service_type", ids)


def service_groups_by_id(
    session: Session, principal: Principal, ids: Sequence[int]
) -> dict[int, Record]:
    return _by_id(session, "service_group", ids)


def scopes_by_id(session: Session, principal: Principal, ids: Sequence[int]) -> dict[int, Record]:
    return _by_id(session, "scope", ids)


def _grouped(rows: Result[Any], key: str) -> dict[int, list[Record]]:
    position = list(rows.keys()).index(key)  # by position: much cheaper than by name
    out: dict[int, list[Record]] = defaultdict(list)
    for row in rows.all():  # one fetchall, not a fetchone per row
        out[row[position]].append(row)
    return out


_SITES_BY_NGI = _batch(_site_select(), T_SITE.c.ngi_id, T_SITE.c.id)
_SERVICES_BY_SITE = _batch(_service_select(), T_SERVICE.c.site_id, T_SERVICE.c.id)
_ENDPOINTS_BY_SERVICE = _batch(select(*T_ENDPOINT.c), T_ENDPOINT.c.service_id, T_ENDPOINT.c.id)
_SERVICES_BY_GROUP = _batch(
    _service_select()
    .add_columns(T_GROUP_MEMBER.c.service_group_id.label("group_id"))
    .join(T_GROUP_MEMBER, T_GROUP_MEMBER.c.service_id == T_SERVICE.c.id),
    T_GROUP_MEMBER.c.service_group_id,
    T_SERVICE.c.id,
)
_NGIS_BY_PROJECT = _batch(
    select(*T_NGI.c, T_PROJECT_NGI.c.project_id.label("project_id")).join(
        T_PROJECT_NGI, T_PROJECT_NGI.c.ngi_id == T_NGI.c.id
    ),
    T_PROJECT_NGI.c.project_id,
    T_NGI.c.id,
)
_PROJECTS_BY_NGI = _batch(
    select(*T_PROJECT.c, T_PROJECT_NGI.c.ngi_id.label("ngi_id")).join(
        T_PROJECT_NGI, T_PROJECT_NGI.c.project_id == T_PROJECT.c.id
    ),
    T_PROJECT_NGI.c.ngi_id,
    T_PROJECT.c.id,
)
_SCOPES_OF = {
    kind: _batch(
        select(*T_SCOPE.c, link.c[fk].label("owner_id")).join(
            link, link.c.scope_id == T_SCOPE.c.id
        ),
        link.c[fk],
        T_SCOPE.c.name,
    )
    for kind, (link, fk) in SCOPE_LINKS.items()
}
_PROPERTIES_OF = {
    kind: _batch(
        select(table.c.id, table.c.key, table.c.value, table.c[fk].label("owner_id")),
        table.c[fk],
        table.c.key,
    )
    for kind, (table, fk) in PROPERTY_TABLES.items()
}


def _children(
    session: Session, stmt: Select[Any], key: str, ids: Sequence[int]
) -> dict[int, list[Record]]:
    return _grouped(session.execute(stmt, {"ids": list(ids)}), key)


def sites_by_ngi(
    session: Session, principal: Principal, ngi_ids: Sequence[int]
) -> dict[int, list[Record]]:
    return _children(session, _SITES_BY_NGI, "ngi_id", ngi_ids)


def services_by_site(
    session: Session, principal: Principal, site_ids: Sequence[int]
) -> dict[int, list[Record]]:
    return _children(session, _SERVICES_BY_SITE, "site_id", site_ids)


def endpoints_by_service(
    session: Session, principal: Principal, service_ids: Sequence[int]
) -> dict[int, list[Record]]:
    return _children(session, _ENDPOINTS_BY_SERVICE, "service_id", service_ids)


def services_by_group(
    session: Session, principal: Principal, group_ids: Sequence[int]
) -> dict[int, list[Record]]:
    return _children(session, _SERVICES_BY_GROUP, "group_id", group_ids)


def ngis_by_project(
    session: Session, principal: Principal, project_ids: Sequence[int]
) -> dict[int, list[Record]]:
    return _children(session, _NGIS_BY_PROJECT, "project_id", project_ids)


def projects_by_ngi(
    session: Session, principal: Principal, ngi_ids: Sequence[int]
) -> dict[int, list[Record]]:
    return _children(session, _PROJECTS_BY_NGI, "ngi_id", ngi_ids)


def scopes_of(
    session: Session, principal: Principal, kind: str, owner_ids: Sequence[int]
) -> dict[int, list[Record]]:
    return _children(session, _SCOPES_OF[kind], "owner_id", owner_ids)


def properties_of(
    session: Session, principal: Principal, kind: str, owner_ids: Sequence[int]
) -> dict[int, list[Record]]:
    return _children(session, _PROPERTIES_OF[kind], "owner_id", owner_ids)


# ---------------------------------------------------------------------------------------
# Writes. The full role model arrives with the identity issue; until then only the
# platform (CLI, seeding) writes, and every rule on field formats is enforced here.


def _require_platform(principal: Principal) -> None:
    if not principal.is_platform:
        raise Forbidden("only the platform may change the topology")


def _check_length(field: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise Invalid(field, f"at most {limit} characters")


def _check_description(field: str, value: str, limit: int) -> None:
    _check_length(field, value, limit)
    if FORBIDDEN_DESCRIPTION_CHARS & set(value):
        raise Invalid(field, "must not contain quotes, backticks, ';', '<' or '>'")


def _check_tag_name(field: str, value: str) -> None:
    if not TAG_NAME_RE.match(value):
        raise Invalid(field, "letters, digits, '.', '_' and '-' only")


def _require(session: Session, model: type[Any], entity_id: int, what: str) -> Any:
    obj = session.get(model, entity_id)
    if obj is None:
        raise NotFound(f"{what} {entity_id} does not exist")
    return obj


def _check_unique(session: Session, column: Any, value: Any, field: str) -> None:
    """Refuse a duplicate natural key with a field-naming error, not an IntegrityError."""
    if session.execute(select(column).where(column == value).limit(1)).first() is not None:
        raise Invalid(field, "already in use", f"{field}: {value!r} is already in use")


def _check_legacy_key(session: Session, model: type[Any], primary_key: str | None) -> None:
    if primary_key is not None:
        if not LEGACY_KEY_RE.match(primary_key):
            raise Invalid("primaryKey", "digits followed by G and a digit, as in 123G0")
        _check_unique(session, model.primary_key, primary_key, "primaryKey")


def _set_legacy_key(session: Session, obj: Any, primary_key: str | None) -> None:
    """Keep an imported GOCDB key, or give the GOCDB form `<id>G0` of our own id."""
    if primary_key is None:
        primary_key = legacy_key(pk(obj))
        model = type(obj)
        taken = session.execute(
            select(model.id).where(model.primary_key == primary_key, model.id != pk(obj))
        ).first()
        if taken is not None:
            raise Conflict(
                f"legacy key {primary_key} is held by an imported {model.__name__}; "
                "give this one a primary key explicitly"
            )
    obj.primary_key = primary_key


def create_project(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    primary_key: str | None = None,
) -> Project:
    _require_platform(principal)
    _check_tag_name("name", name)
    _check_description("description", description, 2000)
    _check_unique(session, Project.name, name, "name")
    _check_legacy_key(session, Project, primary_key)
    project = Project(name=name, description=description)
    session.add(project)
    session.flush()
    _set_legacy_key(session, project, primary_key)
    return project


def create_ngi(
    session: Session,
    principal: Principal,
    *,
    name: str,
    project_ids: Sequence[int] = (),
    description: str = "",
    email: str | None = None,
    rod_email: str | None = None,
    security_email: str | None = None,
    helpdesk_email: str | None = None,
    primary_key: str | None = None,
) -> Ngi:
    _require_platform(principal)
    _check_tag_name("name", name)
    _check_description("description", description, 2000)
    _check_unique(session, Ngi.name, name, "name")
    _check_legacy_key(session, Ngi, primary_key)
    if len(set(project_ids)) != len(project_ids):
        raise Invalid("projectIds", "each project once")
    for project_id in project_ids:
        _require(session, Project, project_id, "project")
    ngi = Ngi(
        name=name,
        description=description,
        email=email,
        rod_email=rod_email,
        security_email=security_email,
        helpdesk_email=helpdesk_email,
    )
    session.add(ngi)
    session.flush()
    _set_legacy_key(session, ngi, primary_key)
    for project_id in project_ids:
        session.add(ProjectNgi(project_id=project_id, ngi_id=pk(ngi)))
    session.flush()
    return ngi


def create_country(session: Session, principal: Principal, *, code: str, name: str) -> Country:
    _require_platform(principal)
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise Invalid("code", "ISO 3166-1 alpha-2: two capital letters")
    if not name or len(name) > 255:
        raise Invalid("name", "1 to 255 characters")
    _check_unique(session, Country.code, code, "code")
    _check_unique(session, Country.name, name, "name")
    country = Country(code=code, name=name)
    session.add(country)
    session.flush()
    return country


def create_scope(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    reserved: bool = False,
) -> Scope:
    _require_platform(principal)
    _check_tag_name("name", name)
    _check_description("description", description, 2000)
    _check_unique(session, Scope.name, name, "name")
    scope = Scope(name=name, description=description, reserved=reserved)
    session.add(scope)
    session.flush()
    return scope


def create_service_type(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    monitoring_exception: bool = False,
) -> ServiceType:
    _require_platform(principal)
    _check_tag_name("name", name)
    _check_description("description", description, 2000)
    _check_unique(session, ServiceType.name, name, "name")
    service_type = ServiceType(
        name=name, description=description, monitoring_exception=monitoring_exception
    )
    session.add(service_type)
    session.flush()
    return service_type


def _validate_site_fields(
    *,
    short_name: str,
    description: str,
    latitude: float | None,
    longitude: float | None,
    giis_url: str | None,
    timezone: str | None,
) -> None:
    if not SHORT_NAME_RE.match(short_name):
        raise Invalid("shortName", "letters, digits, '.', '_' and '-' only")
    _check_length("shortName", short_name, 255)
    _check_description("description", description, 2000)
    if latitude is not None and not -90 <= latitude <= 90:
        raise Invalid("latitude", "between -90 and 90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise Invalid("longitude", "between -180 and 180")
    if giis_url is not None and not giis_url.startswith("ldap://"):
        raise Invalid("giisUrl", "must be an ldap:// URL")
    if timezone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Invalid("timezone", "an IANA time zone name") from exc


def create_site(
    session: Session,
    principal: Principal,
    *,
    short_name: str,
    ngi_id: int,
    country_id: int,
    certification_status: CertificationStatus = CertificationStatus.CANDIDATE,
    production_infrastructure: ProductionInfrastructure = ProductionInfrastructure.PRODUCTION,
    official_name: str | None = None,
    description: str = "",
    timezone: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    domain: str | None = None,
    home_url: str | None = None,
    email: str | None = None,
    telephone: str | None = None,
    alarm_email: str | None = None,
    csirt_email: str | None = None,
    csirt_telephone: str | None = None,
    giis_url: str | None = None,
    notify: bool = False,
    primary_key: str | None = None,
) -> Site:
    _require_platform(principal)
    _validate_site_fields(
        short_name=short_name,
        description=description,
        latitude=latitude,
        longitude=longitude,
        giis_url=giis_url,
        timezone=timezone,
    )
    _require(session, Ngi, ngi_id, "NGI")
    _require(session, Country, country_id, "country")
    _check_unique(session, Site.short_name, short_name, "shortName")
    _check_legacy_key(session, Site, primary_key)
    site = Site(
        short_name=short_name,
        ngi_id=ngi_id,
        country_id=country_id,
        certification_status=certification_status,
        production_infrastructure=production_infrastructure,
        official_name=official_name,
        description=description,
        timezone=timezone,
        latitude=latitude,
        longitude=longitude,
        domain=domain,
        home_url=home_url,
        email=email,
        telephone=telephone,
        alarm_email=alarm_email,
        csirt_email=csirt_email,
        csirt_telephone=csirt_telephone,
        giis_url=giis_url,
        notify=notify,
        certification_status_changed_at=utcnow(),
    )
    session.add(site)
    session.flush()
    _set_legacy_key(session, site, primary_key)
    return site


def check_production_monitored(
    service_type: ServiceType, *, production: bool, monitored: bool
) -> None:
    """GOCDB: a production service must be monitored unless its type has the exception."""
    if (
        production
        and not monitored
        and not service_type.monitoring_exception
        and service_type.name not in LEGACY_MONITORING_EXCEPTIONS
    ):
        raise Invalid("monitored", "a production service must be monitored")


def create_service(
    session: Session,
    principal: Principal,
    *,
    site_id: int,
    service_type_id: int,
    host_name: str,
    url: str | None = None,
    production: bool = True,
    monitored: bool = True,
    beta: bool = False,
    notify: bool = False,
    host_dn: str | None = None,
    ipv4_address: str | None = None,
    ipv6_address: str | None = None,
    operating_system: str | None = None,
    architecture: str | None = None,
    email: str | None = None,
    description: str = "",
    primary_key: str | None = None,
) -> Service:
    _require_platform(principal)
    if not HOST_NAME_RE.match(host_name) or "." not in host_name:
        raise Invalid("hostName", "a fully qualified host name")
    _check_description("description", description, 255)
    _require(session, Site, site_id, "site")
    service_type: ServiceType = _require(session, ServiceType, service_type_id, "service type")
    check_production_monitored(service_type, production=production, monitored=monitored)
    clash = session.execute(
        select(T_SERVICE.c.id).where(
            T_SERVICE.c.host_name == host_name,
            T_SERVICE.c.service_type_id == service_type_id,
            T_SERVICE.c.site_id != site_id,
        )
    ).first()
    if clash is not None:
        raise Invalid("hostName", "host name and service type already registered at another site")
    _check_legacy_key(session, Service, primary_key)
    service = Service(
        site_id=site_id,
        service_type_id=service_type_id,
        host_name=host_name,
        url=url,
        production=production,
        monitored=monitored,
        beta=beta,
        notify=notify,
        host_dn=host_dn,
        ipv4_address=ipv4_address,
        ipv6_address=ipv6_address,
        operating_system=operating_system,
        architecture=architecture,
        email=email,
        description=description,
    )
    session.add(service)
    session.flush()
    _set_legacy_key(session, service, primary_key)
    return service


def add_endpoint(
    session: Session,
    principal: Principal,
    *,
    service_id: int,
    name: str,
    url: str | None = None,
    interface_name: str | None = None,
    monitored: bool | None = None,
    description: str = "",
    email: str | None = None,
) -> Endpoint:
    _require_platform(principal)
    service: Service = _require(session, Service, service_id, "service")
    if not name:
        raise Invalid("name", "must not be empty")
    _check_length("name", name, 255)
    _check_description("description", description, 2000)
    taken = session.execute(
        select(T_ENDPOINT.c.id).where(
            T_ENDPOINT.c.service_id == service_id, T_ENDPOINT.c.name == name
        )
    ).first()
    if taken is not None:
        raise Invalid("name", "endpoint names are unique within a service")
    # GOCDB's write API: the interface defaults to the service type, `monitored` to the
    # service's own flag.
    if interface_name is None:
        service_type: ServiceType = _require(
            session, ServiceType, service.service_type_id, "service type"
        )
        interface_name = service_type.name
    endpoint = Endpoint(
        service_id=service_id,
        name=name,
        url=url,
        interface_name=interface_name,
        monitored=service.monitored if monitored is None else monitored,
        description=description,
        email=email,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def create_service_group(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    monitored: bool = False,
    email: str | None = None,
    service_ids: Sequence[int] = (),
    primary_key: str | None = None,
) -> ServiceGroup:
    _require_platform(principal)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise Invalid("name", "letters, digits, '.', '_' and '-' only")
    _check_description("description", description, 2000)
    _check_unique(session, ServiceGroup.name, name, "name")
    _check_legacy_key(session, ServiceGroup, primary_key)
    if len(set(service_ids)) != len(service_ids):
        raise Invalid("serviceIds", "each service once")
    for service_id in service_ids:
        _require(session, Service, service_id, "service")
    group = ServiceGroup(name=name, description=description, monitored=monitored, email=email)
    session.add(group)
    session.flush()
    _set_legacy_key(session, group, primary_key)
    for service_id in service_ids:
        session.add(ServiceGroupMember(service_group_id=pk(group), service_id=service_id))
    session.flush()
    return group


_SCOPE_MODELS: dict[str, type[Any]] = {
    "ngi": NgiScope,
    "site": SiteScope,
    "service": ServiceScope,
    "service_group": ServiceGroupScope,
}
_OWNER_MODELS: dict[str, type[Any]] = {
    "ngi": Ngi,
    "site": Site,
    "service": Service,
    "service_group": ServiceGroup,
    "endpoint": Endpoint,
}
_PROPERTY_MODELS: dict[str, type[Any]] = {
    "site": SiteProperty,
    "service": ServiceProperty,
    "endpoint": EndpointProperty,
    "service_group": ServiceGroupProperty,
}


def tag_scopes(
    session: Session, principal: Principal, *, kind: str, owner_id: int, scope_ids: Sequence[int]
) -> None:
    """Tag an entity with scopes; tags it already has are kept as they are."""
    _require_platform(principal)
    if kind not in _SCOPE_MODELS:
        raise Invalid("kind", f"one of {', '.join(sorted(_SCOPE_MODELS))}")
    _require(session, _OWNER_MODELS[kind], owner_id, kind)
    link_model = _SCOPE_MODELS[kind]
    link, fk = SCOPE_LINKS[kind]
    present = set(session.execute(select(link.c.scope_id).where(link.c[fk] == owner_id)).scalars())
    for scope_id in dict.fromkeys(scope_ids):
        _require(session, Scope, scope_id, "scope")
        if scope_id not in present:
            session.add(link_model(**{fk: owner_id, "scope_id": scope_id}))
    session.flush()


def set_property(
    session: Session, principal: Principal, *, kind: str, owner_id: int, key: str, value: str
) -> None:
    """Insert or replace one extension property (at most 20 per entity, 255 characters)."""
    _require_platform(principal)
    if kind not in _PROPERTY_MODELS:
        raise Invalid("kind", f"one of {', '.join(sorted(_PROPERTY_MODELS))}")
    _require(session, _OWNER_MODELS[kind], owner_id, kind)
    if not key or not PROPERTY_KEY_RE.match(key):
        raise Invalid("key", "non-empty, without spaces, '=' or parentheses")
    _check_length("key", key, MAX_PROPERTY_LENGTH)
    _check_length("value", value, MAX_PROPERTY_LENGTH)
    table, fk = PROPERTY_TABLES[kind]
    existing = session.execute(select(table.c.id, table.c.key).where(table.c[fk] == owner_id)).all()
    model = _PROPERTY_MODELS[kind]
    for row in existing:
        if row.key == key:
            prop = _require(session, model, row.id, "property")
            prop.value = value
            session.flush()
            return
    if len(existing) >= MAX_PROPERTIES_PER_ENTITY:
        raise Invalid("key", f"at most {MAX_PROPERTIES_PER_ENTITY} properties per entity")
    session.add(model(**{fk: owner_id, "key": key, "value": value}))
    session.flush()
