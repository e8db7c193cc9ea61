"""GOCDB's write API (`/gocdbpi/v5/…`, served by the gateway's gocdbpi.write): the writes a
site API credential may make.

They are authorized by the credentials of the target's site (GOCDB's APIAuthentication with
allowAPIWrite), not by roles: `api_target` finds the site, service or endpoint and checks
that one of the caller's identifiers is registered at its site with allow_write, and every
write below takes the `ApiTarget` it returns, so none runs unchecked. No one is exempt, a
platform administrator neither (GOCDB has no such bypass, and the audit entry names the
credential). Each write then does what the role-authorized one does (the same checks,
production => monitored among them, and its audit entry), as the credential.

Refusals are GOCDB's: NotFound for an unknown entity, property or endpoint, Forbidden
without a writing credential, Conflict where GOCDB answers 409 (a key already set, a value
that does not match, a property limit, a field already set), Invalid for bad input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import Principal
from domains.common.models import pk
from domains.topology.models import (
    MAX_PROPERTIES_PER_ENTITY,
    CredentialKind,
    Endpoint,
    Service,
    ServiceType,
    Site,
    SiteApiCredential,
)
from domains.topology.rules import TopologyRule
from domains.topology.service.credentials import (
    note_credential_use,
    presents,
    site_credentials_for,
)
from domains.topology.service.reads import PROPERTY_TABLES, T_ENDPOINT
from domains.topology.service.writes.checks import require
from domains.topology.service.writes.endpoints import (
    apply_endpoint_update,
    create_endpoint,
    remove_endpoint,
)
from domains.topology.service.writes.properties import (
    drop_properties,
    drop_property,
    store_property,
)
from domains.topology.service.writes.services import apply_service_update

_MODELS: dict[str, type[Any]] = {"site": Site, "service": Service, "endpoint": Endpoint}
_BOOLEANS = frozenset({"production", "monitored", "beta", "notify"})
# the service and endpoint fields that may be empty (stored as None)
_OPTIONAL = frozenset(
    {
        "url",
        "host_dn",
        "ipv4_address",
        "ipv6_address",
        "operating_system",
        "architecture",
        "email",
    }
)
NOT_AUTHENTICATED = (
    "You need to be authenticated to access this resource. Please provide a valid IGTF X.509 "
    "certificate or an OIDC token"
)


@dataclass(frozen=True, slots=True)
class ApiTarget:
    """A site, service or endpoint that a credential of its site may write: what
    `api_target` returns. `actor` is the caller, naming the credential for the audit;
    `label` is GOCDB's name for it in messages (short name, host name, endpoint name)."""

    kind: str
    entity: Any
    site: Site
    actor: Principal
    credential_id: int

    @property
    def label(self) -> str:
        for name in ("short_name", "host_name", "name"):
            value = getattr(self.entity, name, None)
            if value:
                return str(value)
        return ""  # pragma: no cover  (every target has one of them)


def _writing_credential(
    session: Session, principal: Principal, site: Site, *, restrict_personal_data: bool
) -> SiteApiCredential | None:
    """The caller's credential at `site` that allows writing: an X.509 one for the DN of
    the caller's certificate, an OIDC one for the subject of the caller's token. Without
    `restrict_personal_data`, GOCDB's legacy rule: any credential of the site writes."""
    for credential in site_credentials_for(session, principal, site_id=pk(site)):
        allowed = credential.allow_write or not restrict_personal_data
        if allowed and presents(principal, credential):
            return credential
    return None


def api_target(
    session: Session,
    principal: Principal,
    kind: str,
    entity_id: int,
    *,
    restrict_personal_data: bool = True,
) -> ApiTarget:
    """The `kind` (site, service or endpoint) `entity_id`, once the caller presents a
    credential of its site that allows writing; its use is noted. `restrict_personal_data`
    is the instance's setting (OPSGRAPH_RESTRICT_PERSONAL_DATA): off, as in GOCDB, every
    registered credential may write, whatever its allow_write."""
    if principal.is_anonymous:
        raise Unauthenticated(NOT_AUTHENTICATED)
    entity = session.get(_MODELS[kind], entity_id)
    if entity is None:
        raise NotFound(f"A {kind} with the specified id could not be found")
    service = entity if kind == "service" else None
    if kind == "endpoint":
        service = require(session, Service, entity.service_id, "service")
    site: Site = entity if service is None else require(session, Site, service.site_id, "site")
    credential = _writing_credential(
        session, principal, site, restrict_personal_data=restrict_personal_data
    )
    if credential is None:
        kind_name, identifier = (
            (CredentialKind.X509.value, principal.client_dn)
            if principal.client_dn
            else (CredentialKind.OIDC_SUBJECT.value, principal.subject)
        )
        raise Forbidden(
            f'The {kind_name} identifier "{identifier}" is not authorised to alter the '
            f"{site.short_name} site"
        )
    note_credential_use(session, pk(credential))
    actor = replace(principal, api_credential=credential.identifier)
    return ApiTarget(kind, entity, site, actor, pk(credential))


# --- extension properties ----------------------------------------------------------------


def _properties(session: Session, target: ApiTarget) -> dict[str, str]:
    table, fk = PROPERTY_TABLES[target.kind]
    rows = session.execute(
        select(table.c.key, table.c.value).where(table.c[fk] == pk(target.entity))
    ).all()
    return {row.key: row.value for row in rows}


def add_properties(
    session: Session, target: ApiTarget, pairs: Mapping[str, str], *, overwrite: bool
) -> None:
    """Set each key = value (POST: none of the keys may exist yet; PUT: existing ones are
    overwritten); all or nothing, within the limit of properties per entity."""
    existing = _properties(session, target)
    if not overwrite:
        for key in pairs:
            if key in existing:
                raise Conflict(
                    f'A property with name "{key}" already exists for this object, '
                    "no properties were added."
                )
    if len(existing.keys() | pairs.keys()) > MAX_PROPERTIES_PER_ENTITY:
        raise Conflict(
            "Property(s) could not be added due to the property limit of "
            f"{MAX_PROPERTIES_PER_ENTITY}"
        )
    for key, value in pairs.items():
        store_property(
            session, target.actor, kind=target.kind, owner=target.entity, key=key, value=value
        )


def remove_properties(
    session: Session, target: ApiTarget, pairs: Mapping[str, str | None] | None
) -> None:
    """Remove the keys given (each must exist; a value given must be the property's), or
    every property when none are given; all or nothing."""
    if not pairs:
        drop_properties(session, target.actor, kind=target.kind, owner=target.entity)
        return
    existing = _properties(session, target)
    for key, value in pairs.items():
        if key not in existing:
            raise NotFound(
                f'A property with key "{key}" could not be found for {target.label}. '
                "No properties have been deleted."
            )
        if value and existing[key] != value:
            raise Conflict(
                f'The value provided for the property with key "{key}" does not match the '
                "existing one. No properties have been deleted."
            )
    for key in pairs:
        drop_property(session, target.actor, kind=target.kind, owner=target.entity, key=key)


# --- service and endpoint fields ---------------------------------------------------------


def _unset(value: object) -> bool:
    return value is None or value == ""


def _check_unset(target: ApiTarget, field: str, api_name: str) -> None:
    """POST sets a field only if it has no value yet (a boolean always has one)."""
    if field in _BOOLEANS or not _unset(getattr(target.entity, field)):
        raise Conflict(
            f"{api_name} has already been set for this {target.kind}. Consider using a PUT request."
        )


def set_service_field(
    session: Session,
    target: ApiTarget,
    field: str,
    value: str | bool,
    *,
    api_name: str,
    only_if_unset: bool,
) -> None:
    """Set one field of the service (`api_name`: GOCDB's name for it, for messages); POST
    (`only_if_unset`) refuses a field that has a value."""
    if target.kind != "service":  # pragma: no cover  (the gateway routes by kind)
        raise TypeError("a service field of a service")
    if only_if_unset:
        _check_unset(target, field, api_name)
    stored: str | bool | None = None if field in _OPTIONAL and value == "" else value
    apply_service_update(session, target.actor, target.entity, {field: stored})


def _default_interface(session: Session, service: Service) -> str:
    service_type: ServiceType = require(
        session, ServiceType, service.service_type_id, "service type"
    )
    return service_type.name


def set_endpoint_field(
    session: Session,
    target: ApiTarget,
    field: str,
    value: str | bool,
    *,
    api_name: str,
    only_if_unset: bool,
) -> None:
    """Set one field of the endpoint; POST (`only_if_unset`) refuses a field that has a
    value. An empty interface name is the service type's name, as GOCDB has it."""
    if target.kind != "endpoint":  # pragma: no cover  (the gateway routes by kind)
        raise TypeError("an endpoint field of an endpoint")
    if only_if_unset:
        _check_unset(target, field, api_name)
    endpoint: Endpoint = target.entity
    stored: str | bool | None = value
    if field == "interface_name" and value == "":
        service = require(session, Service, endpoint.service_id, "service")
        stored = _default_interface(session, service)
    elif field in _OPTIONAL and value == "":
        stored = None
    if field == "name" and stored == endpoint.name:
        return
    apply_endpoint_update(session, target.actor, endpoint, {field: stored})


def put_endpoint(
    session: Session, target: ApiTarget, values: Mapping[str, Any], *, create_only: bool
) -> None:
    """Create an endpoint of the service from `values` (ENDPOINT_API_FIELDS; `name`
    required, `url` too when creating), or, unless `create_only`, update the fields given
    of the service's endpoint of that name. Creating, the interface name defaults to the
    service type, `monitored` to the service's own flag."""
    service: Service = target.entity
    if target.kind != "service":  # pragma: no cover  (the gateway routes by kind)
        raise TypeError("an endpoint of a service")
    name = values.get("name")
    if not isinstance(name, str) or not name:
        raise Invalid("name", TopologyRule.ENDPOINT_NAME_EMPTY, "An endpoint must have a name.")
    fields = {k: (None if k in _OPTIONAL and v == "" else v) for k, v in values.items()}
    found = session.execute(
        select(T_ENDPOINT.c.id).where(
            T_ENDPOINT.c.service_id == pk(service), T_ENDPOINT.c.name == name
        )
    ).first()
    if found is not None:
        if create_only:
            raise Conflict("Please provide a unique name for this Service Endpoint.")
        endpoint: Endpoint = require(session, Endpoint, found.id, "endpoint")
        changes = {k: v for k, v in fields.items() if k != "name" and getattr(endpoint, k) != v}
        if changes.get("interface_name") == "":
            changes["interface_name"] = _default_interface(session, service)
        if changes:
            apply_endpoint_update(session, target.actor, endpoint, changes)
        return
    if _unset(fields.get("url")):
        raise Invalid(
            "url",
            TopologyRule.ENDPOINT_URL_REQUIRED,
            "A url is required to create an endpoint.",
        )
    create_endpoint(
        session,
        target.actor,
        service,
        name=name,
        url=fields["url"],
        interface_name=fields.get("interface_name") or None,
        monitored=fields.get("monitored"),
        description=fields.get("description") or "",
        email=fields.get("email"),
    )


def delete_service_endpoint(session: Session, target: ApiTarget, endpoint_id: int) -> None:
    """Delete the endpoint `endpoint_id` of the service."""
    endpoint = session.get(Endpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("An endpoint with the specified ID could not be found")
    if endpoint.service_id != pk(target.entity):
        raise Invalid(
            "endpoint",
            TopologyRule.ENDPOINT_OF_ANOTHER_SERVICE,
            "The endpoint specified does not belong to the service specified",
        )
    remove_endpoint(session, target.actor, endpoint)
