"""Topology writes: every change is authorized here, validated, audited, and flushed
(never committed; the caller's unit of work commits)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.errors import Conflict, Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import legacy_key, pk
from domains.common.text import check_text, check_texts
from domains.common.time import utcnow
from domains.identity import service as identity
from domains.identity.rules import Action
from domains.topology.models import (
    MAX_PROPERTIES_PER_ENTITY,
    MAX_PROPERTY_LENGTH,
    CertificationStatus,
    CertificationStatusLog,
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
from domains.topology.rules import (
    FORBIDDEN_DESCRIPTION_CHARS,
    HOST_NAME_RE,
    LEGACY_KEY_RE,
    LEGACY_MONITORING_EXCEPTIONS,
    PROPERTY_KEY_RE,
    SHORT_NAME_RE,
    TAG_NAME_RE,
    certification_change_allowed,
)
from domains.topology.service import PROPERTY_TABLES, SCOPE_LINKS, T_ENDPOINT, T_SERVICE


def _check_length(field: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise Invalid(field, f"at most {limit} characters")
    check_text(field, value)


def _check_texts(**values: object) -> None:
    """Every text given: none of the characters XML forbids (feeds and XML routes show
    them). Field names in snake_case are reported in camelCase, as the API spells them."""
    check_texts({name: v for name, v in values.items() if isinstance(v, str)})


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
    identity.require_superuser(principal)
    _check_tag_name("name", name)
    _check_description("description", description, 2000)
    _check_unique(session, Project.name, name, "name")
    _check_legacy_key(session, Project, primary_key)
    project = Project(name=name, description=description)
    session.add(project)
    session.flush()
    _set_legacy_key(session, project, primary_key)
    _audit_created(session, principal, "project", project, ())
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
    identity.require_superuser(principal)
    _check_tag_name("name", name)
    _check_description("description", description, 2000)
    _check_texts(
        email=email,
        rod_email=rod_email,
        security_email=security_email,
        helpdesk_email=helpdesk_email,
    )
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
    _audit_created(session, principal, "ngi", ngi, ())
    return ngi


def create_country(session: Session, principal: Principal, *, code: str, name: str) -> Country:
    identity.require_superuser(principal)
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise Invalid("code", "ISO 3166-1 alpha-2: two capital letters")
    if not name or len(name) > 255:
        raise Invalid("name", "1 to 255 characters")
    check_text("name", name)
    _check_unique(session, Country.code, code, "code")
    _check_unique(session, Country.name, name, "name")
    country = Country(code=code, name=name)
    session.add(country)
    session.flush()
    _audit_created(session, principal, "country", country, ())
    return country


def create_scope(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    reserved: bool = False,
) -> Scope:
    identity.require_superuser(principal)
    _check_tag_name("name", name)
    _check_description("description", description, 2000)
    _check_unique(session, Scope.name, name, "name")
    scope = Scope(name=name, description=description, reserved=reserved)
    session.add(scope)
    session.flush()
    _audit_created(session, principal, "scope", scope, ())
    return scope


def create_service_type(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    monitoring_exception: bool = False,
) -> ServiceType:
    identity.require_superuser(principal)
    _check_tag_name("name", name)
    _check_description("description", description, 2000)
    _check_unique(session, ServiceType.name, name, "name")
    service_type = ServiceType(
        name=name, description=description, monitoring_exception=monitoring_exception
    )
    session.add(service_type)
    session.flush()
    _audit_created(session, principal, "service_type", service_type, ())
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
    identity.authorize(session, principal, Action.NGI_ADD_SITE, "ngi", ngi_id)
    _check_texts(
        official_name=official_name,
        domain=domain,
        home_url=home_url,
        email=email,
        telephone=telephone,
        alarm_email=alarm_email,
        csirt_email=csirt_email,
        csirt_telephone=csirt_telephone,
        giis_url=giis_url,
    )
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
    _audit_created(
        session,
        principal,
        "site",
        site,
        ("ngi_id", "country_id", "certification_status", "production_infrastructure"),
    )
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
    identity.authorize(session, principal, Action.SITE_ADD_SERVICE, "site", site_id)
    _check_texts(
        url=url,
        host_dn=host_dn,
        ipv4_address=ipv4_address,
        ipv6_address=ipv6_address,
        operating_system=operating_system,
        architecture=architecture,
        email=email,
    )
    if not HOST_NAME_RE.match(host_name) or "." not in host_name:
        raise Invalid("hostName", "a fully qualified host name")
    _check_description("description", description, 255)
    _require(session, Site, site_id, "site")
    service_type: ServiceType = _require(session, ServiceType, service_type_id, "service type")
    check_production_monitored(service_type, production=production, monitored=monitored)
    _check_host_free(session, host_name, service_type_id, site_id)
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
    _audit_created(
        session,
        principal,
        "service",
        service,
        ("site_id", "service_type_id", "url", "production", "monitored", "beta"),
    )
    return service


def _check_host_free(session: Session, host_name: str, service_type_id: int, site_id: int) -> None:
    """GOCDB: a (host name, service type) pair may not exist at another site."""
    clash = session.execute(
        select(T_SERVICE.c.id).where(
            T_SERVICE.c.host_name == host_name,
            T_SERVICE.c.service_type_id == service_type_id,
            T_SERVICE.c.site_id != site_id,
        )
    ).first()
    if clash is not None:
        raise Invalid("hostName", "host name and service type already registered at another site")


def _check_endpoint_name(session: Session, service_id: int, name: str) -> None:
    if not name:
        raise Invalid("name", "must not be empty")
    _check_length("name", name, 255)
    taken = session.execute(
        select(T_ENDPOINT.c.id).where(
            T_ENDPOINT.c.service_id == service_id, T_ENDPOINT.c.name == name
        )
    ).first()
    if taken is not None:
        raise Invalid("name", "endpoint names are unique within a service")


def _audit_created(
    session: Session, principal: Principal, kind: str, obj: Any, fields: Sequence[str]
) -> None:
    audit.record(
        session,
        principal,
        action=f"{kind}.create",
        entity_type=kind,
        entity_id=pk(obj),
        entity_name=_entity_label(obj),
        changes=audit.diff(
            {},
            {name: getattr(obj, name) for name in ("primary_key", *fields) if hasattr(obj, name)},
        ),
    )


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
    identity.authorize(session, principal, Action.EDIT_OBJECT, "service", service_id)
    service: Service = _require(session, Service, service_id, "service")
    _check_texts(url=url, interface_name=interface_name, email=email)
    _check_endpoint_name(session, service_id, name)
    _check_description("description", description, 2000)
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
    _audit_created(
        session,
        principal,
        "endpoint",
        endpoint,
        ("service_id", "url", "interface_name", "monitored"),
    )
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
    identity.require_superuser(principal)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise Invalid("name", "letters, digits, '.', '_' and '-' only")
    _check_description("description", description, 2000)
    _check_texts(email=email)
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
    _audit_created(session, principal, "service_group", group, ())
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


def _owner_for_authz(session: Session, kind: str, owner_id: int) -> tuple[str, int]:
    """The entity whose roles govern edits of `kind`/`owner_id` (an endpoint is edited
    under its service, i.e. its site)."""
    if kind == "endpoint":
        endpoint = _require(session, Endpoint, owner_id, "endpoint")
        return "service", endpoint.service_id
    return kind, owner_id


def _authorize_edit(session: Session, principal: Principal, kind: str, owner_id: int) -> None:
    identity.authorize(
        session, principal, Action.EDIT_OBJECT, *_owner_for_authz(session, kind, owner_id)
    )


def _entity_label(obj: Any) -> str:
    for name in ("short_name", "name", "host_name"):
        value = getattr(obj, name, None)
        if value:
            return str(value)
    return ""


def _scope_names(session: Session, scope_ids: Sequence[int]) -> list[str]:
    return [s.name for s in (_require(session, Scope, i, "scope") for i in scope_ids)]


def _parent_scope_ids(session: Session, kind: str, owner: Any) -> set[int]:
    """Scopes of the parent: a non-admin may give a child a reserved scope only if its
    parent has it (site <- NGI, service <- site)."""
    parent: tuple[str, int] | None = None
    if kind == "site":
        parent = ("ngi", owner.ngi_id)
    elif kind == "service":
        parent = ("site", owner.site_id)
    if parent is None:
        return set()
    link, fk = SCOPE_LINKS[parent[0]]
    return set(session.execute(select(link.c.scope_id).where(link.c[fk] == parent[1])).scalars())


def _check_kind(kind: str, allowed: Mapping[str, Any]) -> None:
    if kind not in allowed:
        raise Invalid("kind", f"one of {', '.join(sorted(allowed))}")


def tag_scopes(
    session: Session, principal: Principal, *, kind: str, owner_id: int, scope_ids: Sequence[int]
) -> None:
    """Tag an entity with scopes; tags it already has are kept as they are.

    Reserved scopes: only admins give them to NGIs and service groups; on a site or service
    a non-admin may add one only if the parent already has it."""
    _check_kind(kind, _SCOPE_MODELS)
    _authorize_edit(session, principal, kind, owner_id)
    owner = _require(session, _OWNER_MODELS[kind], owner_id, kind)
    link_model = _SCOPE_MODELS[kind]
    link, fk = SCOPE_LINKS[kind]
    present = set(session.execute(select(link.c.scope_id).where(link.c[fk] == owner_id)).scalars())
    parent_scopes = None if principal.is_superuser else _parent_scope_ids(session, kind, owner)
    added: list[int] = []
    for scope_id in dict.fromkeys(scope_ids):
        scope = _require(session, Scope, scope_id, "scope")
        if scope_id in present:
            continue
        if scope.reserved and parent_scopes is not None and scope_id not in parent_scopes:
            raise Invalid(
                "scopes",
                "a reserved scope needs an admin, or the parent to have it",
                f"scopes: {scope.name} is reserved; only an admin may add it here",
            )
        session.add(link_model(**{fk: owner_id, "scope_id": scope_id}))
        added.append(scope_id)
    session.flush()
    if added:
        audit.record(
            session,
            principal,
            action=f"{kind}.tag",
            entity_type=kind,
            entity_id=owner_id,
            entity_name=_entity_label(owner),
            changes={"scopes": [None, _scope_names(session, added)]},
        )


def untag_scopes(
    session: Session, principal: Principal, *, kind: str, owner_id: int, scope_ids: Sequence[int]
) -> None:
    """Remove scopes. Taking a reserved scope off a site takes it off the site's services
    too; every entity keeps at least one non-reserved scope."""
    _check_kind(kind, _SCOPE_MODELS)
    _authorize_edit(session, principal, kind, owner_id)
    owner = _require(session, _OWNER_MODELS[kind], owner_id, kind)
    link, fk = SCOPE_LINKS[kind]
    present = set(session.execute(select(link.c.scope_id).where(link.c[fk] == owner_id)).scalars())
    removing = [i for i in dict.fromkeys(scope_ids) if i in present]
    scopes = {i: _require(session, Scope, i, "scope") for i in present}
    remaining_open = [i for i in present - set(removing) if not scopes[i].reserved]
    if removing and not remaining_open:
        raise Invalid("scopes", "at least one non-reserved scope must remain")
    if not removing:
        return
    session.execute(link.delete().where(link.c[fk] == owner_id, link.c.scope_id.in_(removing)))
    reserved = [i for i in removing if scopes[i].reserved]
    if kind == "site" and reserved:
        service_link, service_fk = SCOPE_LINKS["service"]
        session.execute(
            service_link.delete().where(
                service_link.c[service_fk].in_(
                    select(T_SERVICE.c.id).where(T_SERVICE.c.site_id == owner_id)
                ),
                service_link.c.scope_id.in_(reserved),
            )
        )
    session.flush()
    audit.record(
        session,
        principal,
        action=f"{kind}.untag",
        entity_type=kind,
        entity_id=owner_id,
        entity_name=_entity_label(owner),
        changes={"scopes": [_scope_names(session, removing), None]},
    )


def set_property(
    session: Session, principal: Principal, *, kind: str, owner_id: int, key: str, value: str
) -> None:
    """Insert or replace one extension property (at most 20 per entity, 255 characters)."""
    _check_kind(kind, _PROPERTY_MODELS)
    _authorize_edit(session, principal, kind, owner_id)
    owner = _require(session, _OWNER_MODELS[kind], owner_id, kind)
    if not key or not PROPERTY_KEY_RE.match(key):
        raise Invalid("key", "non-empty, without spaces, '=' or parentheses")
    _check_length("key", key, MAX_PROPERTY_LENGTH)
    _check_length("value", value, MAX_PROPERTY_LENGTH)
    table, fk = PROPERTY_TABLES[kind]
    existing = session.execute(
        select(table.c.id, table.c.key, table.c.value).where(table.c[fk] == owner_id)
    ).all()
    model = _PROPERTY_MODELS[kind]
    before: str | None = None
    for row in existing:
        if row.key == key:
            before = row.value
            prop = _require(session, model, row.id, "property")
            prop.value = value
            break
    else:
        if len(existing) >= MAX_PROPERTIES_PER_ENTITY:
            raise Invalid("key", f"at most {MAX_PROPERTIES_PER_ENTITY} properties per entity")
        session.add(model(**{fk: owner_id, "key": key, "value": value}))
    session.flush()
    if before != value:
        audit.record(
            session,
            principal,
            action=f"{kind}.set_property",
            entity_type=kind,
            entity_id=owner_id,
            entity_name=_entity_label(owner),
            changes={f"property:{key}": [before, value]},
        )


def remove_property(
    session: Session, principal: Principal, *, kind: str, owner_id: int, key: str
) -> bool:
    """Remove one extension property; False if the entity had none by that key."""
    _check_kind(kind, _PROPERTY_MODELS)
    _authorize_edit(session, principal, kind, owner_id)
    owner = _require(session, _OWNER_MODELS[kind], owner_id, kind)
    table, fk = PROPERTY_TABLES[kind]
    row = session.execute(
        select(table.c.id, table.c.value).where(table.c[fk] == owner_id, table.c.key == key)
    ).first()
    if row is None:
        return False
    session.execute(table.delete().where(table.c.id == row.id))
    session.flush()
    audit.record(
        session,
        principal,
        action=f"{kind}.remove_property",
        entity_type=kind,
        entity_id=owner_id,
        entity_name=_entity_label(owner),
        changes={f"property:{key}": [row.value, None]},
    )
    return True


# --- updates and deletes ------------------------------------------------------------------

SITE_FIELDS = frozenset(
    {
        "official_name",
        "description",
        "production_infrastructure",
        "country_id",
        "timezone",
        "latitude",
        "longitude",
        "domain",
        "home_url",
        "email",
        "telephone",
        "alarm_email",
        "csirt_email",
        "csirt_telephone",
        "giis_url",
        "notify",
        "short_name",
    }
)


def _snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def _check_fields(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """First thing in every update: only known, changeable fields go any further."""
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(sorted(unknown)[0], "not a field that can be changed here")


def _apply(obj: Any, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        setattr(obj, name, value)


def update_site(
    session: Session, principal: Principal, *, site_id: int, changes: Mapping[str, Any]
) -> Site:
    """Change a site's fields (not its NGI, nor its certification status: see
    change_certification_status)."""
    identity.authorize(session, principal, Action.EDIT_OBJECT, "site", site_id)
    _check_fields(changes, SITE_FIELDS)
    _check_texts(**changes)
    site: Site = _require(session, Site, site_id, "site")
    merged = {**_snapshot(site, SITE_FIELDS), **changes}
    _validate_site_fields(
        short_name=merged["short_name"],
        description=merged["description"],
        latitude=merged["latitude"],
        longitude=merged["longitude"],
        giis_url=merged["giis_url"],
        timezone=merged["timezone"],
    )
    if "short_name" in changes and changes["short_name"] != site.short_name:
        _check_unique(session, Site.short_name, changes["short_name"], "shortName")
    if "country_id" in changes:
        _require(session, Country, changes["country_id"], "country")
    before = _snapshot(site, changes)
    _apply(site, changes)
    session.flush()
    audit.record(
        session,
        principal,
        action="site.update",
        entity_type="site",
        entity_id=site_id,
        entity_name=site.short_name,
        changes=audit.diff(before, _snapshot(site, changes)),
    )
    return site


def change_certification_status(
    session: Session,
    principal: Principal,
    *,
    site_id: int,
    status: CertificationStatus,
    reason: str,
) -> Site:
    """GOCDB's transition rules (admins may bypass them) and a mandatory reason; logged."""
    identity.authorize(session, principal, Action.SITE_EDIT_CERT_STATUS, "site", site_id)
    site: Site = _require(session, Site, site_id, "site")
    if not reason.strip() or len(reason) > 300:
        raise Invalid("reason", "1 to 300 characters")
    _check_description("reason", reason, 300)
    old = site.certification_status
    if status is old:
        raise Invalid("status", f"the site is {old.value} already")
    if not principal.is_superuser and not certification_change_allowed(old, status):
        raise Invalid(
            "status",
            f"{old.value} -> {status.value} is not an allowed change",
        )
    site.certification_status = status
    site.certification_status_changed_at = utcnow()
    session.add(
        CertificationStatusLog(
            site_id=site_id,
            old_status=old,
            new_status=status,
            changed_by=audit.actor_of(principal),
            reason=reason,
        )
    )
    session.flush()
    audit.record(
        session,
        principal,
        action="site.certification_status",
        entity_type="site",
        entity_id=site_id,
        entity_name=site.short_name,
        changes={"certification_status": [old.value, status.value]},
        reason=reason,
    )
    return site


SERVICE_FIELDS = frozenset(
    {
        "host_name",
        "url",
        "production",
        "monitored",
        "beta",
        "notify",
        "host_dn",
        "ipv4_address",
        "ipv6_address",
        "operating_system",
        "architecture",
        "email",
        "description",
    }
)


def update_service(
    session: Session, principal: Principal, *, service_id: int, changes: Mapping[str, Any]
) -> Service:
    identity.authorize(session, principal, Action.EDIT_OBJECT, "service", service_id)
    service: Service = _require(session, Service, service_id, "service")
    _check_fields(changes, SERVICE_FIELDS)
    _check_texts(**changes)
    merged = {**_snapshot(service, SERVICE_FIELDS), **changes}
    if not HOST_NAME_RE.match(merged["host_name"]) or "." not in merged["host_name"]:
        raise Invalid("hostName", "a fully qualified host name")
    _check_description("description", merged["description"], 255)
    service_type: ServiceType = _require(
        session, ServiceType, service.service_type_id, "service type"
    )
    check_production_monitored(
        service_type, production=merged["production"], monitored=merged["monitored"]
    )
    if merged["host_name"] != service.host_name:
        _check_host_free(session, merged["host_name"], service.service_type_id, service.site_id)
    before = _snapshot(service, changes)
    _apply(service, changes)
    session.flush()
    audit.record(
        session,
        principal,
        action="service.update",
        entity_type="service",
        entity_id=service_id,
        entity_name=service.host_name,
        changes=audit.diff(before, _snapshot(service, changes)),
    )
    return service


def delete_service(session: Session, principal: Principal, *, service_id: int) -> None:
    identity.authorize(session, principal, Action.SITE_DELETE_SERVICE, "service", service_id)
    service: Service = _require(session, Service, service_id, "service")
    gone = _snapshot(service, ("host_name", "site_id", "service_type_id", "primary_key"))
    session.delete(service)
    session.flush()
    audit.record(
        session,
        principal,
        action="service.delete",
        entity_type="service",
        entity_id=service_id,
        entity_name=gone["host_name"],
        changes={name: [value, None] for name, value in gone.items()},
    )


ENDPOINT_FIELDS = frozenset({"name", "url", "interface_name", "monitored", "description", "email"})


def update_endpoint(
    session: Session, principal: Principal, *, endpoint_id: int, changes: Mapping[str, Any]
) -> Endpoint:
    endpoint: Endpoint = _require(session, Endpoint, endpoint_id, "endpoint")
    identity.authorize(session, principal, Action.EDIT_OBJECT, "service", endpoint.service_id)
    _check_fields(changes, ENDPOINT_FIELDS)
    _check_texts(**changes)
    if "name" in changes and changes["name"] != endpoint.name:
        _check_endpoint_name(session, endpoint.service_id, changes["name"])
    if "description" in changes:
        _check_description("description", changes["description"], 2000)
    if "interface_name" in changes and not changes["interface_name"]:
        raise Invalid("interfaceName", "must not be empty")
    before = _snapshot(endpoint, changes)
    _apply(endpoint, changes)
    session.flush()
    audit.record(
        session,
        principal,
        action="endpoint.update",
        entity_type="endpoint",
        entity_id=endpoint_id,
        entity_name=endpoint.name,
        changes=audit.diff(before, _snapshot(endpoint, changes)),
    )
    return endpoint


def delete_endpoint(session: Session, principal: Principal, *, endpoint_id: int) -> None:
    endpoint: Endpoint = _require(session, Endpoint, endpoint_id, "endpoint")
    identity.authorize(session, principal, Action.EDIT_OBJECT, "service", endpoint.service_id)
    gone = _snapshot(endpoint, ("name", "url", "service_id"))
    session.delete(endpoint)
    session.flush()
    audit.record(
        session,
        principal,
        action="endpoint.delete",
        entity_type="endpoint",
        entity_id=endpoint_id,
        entity_name=gone["name"],
        changes={name: [value, None] for name, value in gone.items()},
    )
