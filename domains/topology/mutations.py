"""GraphQL mutations of the topology. Each one is a single service call inside the
request's transaction; authorization and every rule live in the writes package."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types.unset import UNSET, UnsetType

from domains.common.authz import Caller, requires
from domains.common.errors import Invalid, NotFound
from domains.common.graphql import Deleted, Info, from_global_id, id_of_type
from domains.common.models import pk
from domains.topology import roles, writes
from domains.topology import service as topology
from domains.topology.models import CertificationStatus, ProductionInfrastructure
from domains.topology.rules import Action
from domains.topology.types import (
    EndpointNode,
    ExtensionProperty,
    RoleNode,
    ScopeNode,
    ServiceNode,
    SiteNode,
    owned_entity,
)

# GraphQL type name -> kind used by the service layer
_KINDS = {
    "NGI": "ngi",
    "Site": "site",
    "Service": "service",
    "Endpoint": "endpoint",
    "ServiceGroup": "service_group",
}


def _entity(global_id: str, argument: str) -> tuple[str, int]:
    found, pk = from_global_id(global_id, argument=argument)
    if found not in _KINDS:
        raise Invalid(argument, "the id of an NGI, Site, Service, Endpoint or ServiceGroup")
    return _KINDS[found], pk


def _set_fields(obj: Any, names: dict[str, str]) -> dict[str, Any]:
    """The fields the caller gave (leaving out UNSET ones), as service-layer names."""
    return {
        target: getattr(obj, source)
        for source, target in names.items()
        if not isinstance(getattr(obj, source), UnsetType)
    }


def _fresh_site(info: Info, site_id: int) -> SiteNode:
    row = topology.sites_by_id(info.context.session, info.context.principal, [site_id])[site_id]
    return SiteNode.from_row(row)


def _fresh_service(info: Info, service_id: int) -> ServiceNode:
    rows = topology.services_by_id(info.context.session, info.context.principal, [service_id])
    return ServiceNode.from_row(rows[service_id])


def _fresh_endpoint(info: Info, endpoint_id: int) -> EndpointNode:
    rows = topology.endpoints_by_id(info.context.session, info.context.principal, [endpoint_id])
    return EndpointNode.from_row(rows[endpoint_id])


def _country_id(info: Info, code: str, argument: str) -> int:
    found = topology.country_id_by_code(info.context.session, code=code.upper())
    if found is None:
        raise Invalid(argument, "an ISO 3166-1 alpha-2 code of a known country")
    return found


# --- sites ---------------------------------------------------------------------------


@strawberry.input
class CreateSiteInput:
    ngi: str = strawberry.field(description="Name of the NGI the site belongs to.")
    short_name: str
    country_code: str = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    official_name: str | None = None
    description: str = ""
    production_infrastructure: ProductionInfrastructure = ProductionInfrastructure.PRODUCTION
    timezone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    domain: str | None = None
    home_url: str | None = None
    email: str | None = None
    telephone: str | None = None
    alarm_email: str | None = None
    csirt_email: str | None = None
    csirt_telephone: str | None = None
    giis_url: str | None = None
    notify: bool = False


_SITE_FIELDS = {
    "short_name": "short_name",
    "official_name": "official_name",
    "description": "description",
    "production_infrastructure": "production_infrastructure",
    "timezone": "timezone",
    "latitude": "latitude",
    "longitude": "longitude",
    "domain": "domain",
    "home_url": "home_url",
    "email": "email",
    "telephone": "telephone",
    "alarm_email": "alarm_email",
    "csirt_email": "csirt_email",
    "csirt_telephone": "csirt_telephone",
    "giis_url": "giis_url",
    "notify": "notify",
}


@strawberry.input(description="Fields left out stay as they are.")
class UpdateSiteInput:
    id: strawberry.ID
    short_name: str | None = UNSET
    country_code: str | None = UNSET
    official_name: str | None = UNSET
    description: str | None = UNSET
    production_infrastructure: ProductionInfrastructure | None = UNSET
    timezone: str | None = UNSET
    latitude: float | None = UNSET
    longitude: float | None = UNSET
    domain: str | None = UNSET
    home_url: str | None = UNSET
    email: str | None = UNSET
    telephone: str | None = UNSET
    alarm_email: str | None = UNSET
    csirt_email: str | None = UNSET
    csirt_telephone: str | None = UNSET
    giis_url: str | None = UNSET
    notify: bool | None = UNSET


@strawberry.input
class ChangeCertificationStatusInput:
    site_id: strawberry.ID
    status: CertificationStatus
    reason: str = strawberry.field(description="Why; 1 to 300 characters, kept in the history.")


# --- services and endpoints -------------------------------------------------------------


@strawberry.input
class CreateServiceInput:
    site_id: strawberry.ID
    service_type: str = strawberry.field(description="Name of the service type, e.g. ARC-CE.")
    host_name: str
    url: str | None = None
    production: bool = True
    monitored: bool = True
    beta: bool = False
    notify: bool = False
    host_dn: str | None = None
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    operating_system: str | None = None
    architecture: str | None = None
    email: str | None = None
    description: str = ""


_SERVICE_FIELDS = {name: name for name in sorted(writes.SERVICE_FIELDS)}


@strawberry.input(description="Fields left out stay as they are.")
class UpdateServiceInput:
    id: strawberry.ID
    host_name: str | None = UNSET
    url: str | None = UNSET
    production: bool | None = UNSET
    monitored: bool | None = UNSET
    beta: bool | None = UNSET
    notify: bool | None = UNSET
    host_dn: str | None = UNSET
    ipv4_address: str | None = UNSET
    ipv6_address: str | None = UNSET
    operating_system: str | None = UNSET
    architecture: str | None = UNSET
    email: str | None = UNSET
    description: str | None = UNSET


@strawberry.input
class AddEndpointInput:
    service_id: strawberry.ID
    name: str = strawberry.field(description="Unique within the service.")
    url: str | None = None
    interface_name: str | None = strawberry.field(
        default=None, description="Defaults to the service type."
    )
    monitored: bool | None = strawberry.field(
        default=None, description="Defaults to the service's own flag."
    )
    description: str = ""
    email: str | None = None


_ENDPOINT_FIELDS = {name: name for name in sorted(writes.ENDPOINT_FIELDS)}


@strawberry.input(description="Fields left out stay as they are.")
class UpdateEndpointInput:
    id: strawberry.ID
    name: str | None = UNSET
    url: str | None = UNSET
    interface_name: str | None = UNSET
    monitored: bool | None = UNSET
    description: str | None = UNSET
    email: str | None = UNSET


@strawberry.input(description="An NGI, Site, Service, Endpoint or ServiceGroup and a property.")
class PropertyInput:
    entity_id: strawberry.ID
    key: str
    value: str | None = strawberry.field(default=None, description="Needed by setProperty.")


@strawberry.input(description="An NGI, Site, Service or ServiceGroup and scope names.")
class ScopesInput:
    entity_id: strawberry.ID
    scopes: list[str]


def _non_null(fields: dict[str, Any], required: tuple[str, ...], prefix: str) -> None:
    for name in required:
        if name in fields and fields[name] is None:
            camel = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
            raise Invalid(f"{prefix}.{camel}", "may be left out but not null")


def _role_id(global_id: str) -> int:
    return id_of_type(global_id, "Role", argument="input.roleId")


def _role_node(info: Info, role: Any) -> RoleNode:
    return RoleNode.from_view(roles.view_of(info.context.session, role))


@strawberry.input
class RequestRoleInput:
    role_type: str = strawberry.field(description="e.g. Site Administrator.")
    entity_id: strawberry.ID = strawberry.field(
        description="Global id of a Project, NGI, Site or ServiceGroup."
    )


@strawberry.input(description="The role request to decide, or the role to revoke.")
class RoleDecisionInput:
    role_id: strawberry.ID


@strawberry.input
class GrantRoleInput(RoleDecisionInput):
    pass


@strawberry.input
class RejectRoleInput(RoleDecisionInput):
    pass


@strawberry.input
class RevokeRoleInput(RoleDecisionInput):
    pass


@strawberry.type
class RequestRolePayload:
    role: RoleNode


@strawberry.type
class GrantRolePayload:
    role: RoleNode


@strawberry.type
class RejectRolePayload:
    role: RoleNode


@strawberry.type
class RevokeRolePayload:
    role: RoleNode


@strawberry.input
class DeleteServiceInput:
    id: strawberry.ID


@strawberry.input
class DeleteEndpointInput:
    id: strawberry.ID


@strawberry.type(
    description="Whether the property was there to remove. Not `Deleted`: a property has no "
    "global id (it is a key of its entity, not an object of its own)."
)
class RemovePropertyPayload:
    removed: bool


@strawberry.type(description="The entity's scopes after the change.")
class TagScopesPayload:
    scopes: list[ScopeNode]


@strawberry.type(description="The entity's scopes after the change.")
class UntagScopesPayload:
    scopes: list[ScopeNode]


def _scope_ids(info: Info, names: list[str]) -> list[int]:
    found = topology.scope_ids_by_name(info.context.session, names=names)
    missing = [n for n in names if n not in found]
    if missing:
        raise Invalid("input.scopes", f"unknown scope {missing[0]!r}")
    return [found[n] for n in names]


def _scopes_now(info: Info, kind: str, owner_id: int) -> list[ScopeNode]:
    if kind == "endpoint":
        raise NotFound("endpoints carry no scopes")
    rows = topology.scopes_of(info.context.session, info.context.principal, kind, [owner_id])
    return [ScopeNode.from_row(r) for r in rows.get(owner_id, [])]


@strawberry.type
class TopologyMutation:
    @strawberry.mutation(description="Register a site in an NGI (needs NGI_ADD_SITE there).")
    @requires(Action.NGI_ADD_SITE, on="the NGI named input.ngi")
    def create_site(self, info: Info, input: CreateSiteInput) -> SiteNode:
        ctx = info.context
        ngi = topology.get_ngi_by_name(ctx.session, ctx.principal, name=input.ngi)
        if ngi is None:
            raise Invalid("input.ngi", "the name of an existing NGI")
        fields = _set_fields(input, _SITE_FIELDS)
        site = writes.create_site(
            ctx.session,
            ctx.principal,
            ngi_id=ngi.id,
            country_id=_country_id(info, input.country_code, "input.countryCode"),
            **fields,
        )
        return _fresh_site(info, pk(site))

    @strawberry.mutation(description="Change a site's fields.")
    @requires(Action.EDIT_OBJECT, on="the site input.id")
    def update_site(self, info: Info, input: UpdateSiteInput) -> SiteNode:
        ctx = info.context
        site_id = id_of_type(input.id, "Site", argument="input.id")
        fields = _set_fields(input, _SITE_FIELDS)
        _non_null(
            fields, ("short_name", "description", "production_infrastructure", "notify"), "input"
        )
        if not isinstance(input.country_code, UnsetType):
            if input.country_code is None:
                raise Invalid("input.countryCode", "may be left out but not null")
            fields["country_id"] = _country_id(info, input.country_code, "input.countryCode")
        writes.update_site(ctx.session, ctx.principal, site_id=site_id, changes=fields)
        return _fresh_site(info, site_id)

    @strawberry.mutation(description="Change a site's certification status, with a reason.")
    @requires(Action.SITE_EDIT_CERT_STATUS, on="the site input.siteId")
    def change_certification_status(
        self, info: Info, input: ChangeCertificationStatusInput
    ) -> SiteNode:
        ctx = info.context
        site_id = id_of_type(input.site_id, "Site", argument="input.siteId")
        writes.change_certification_status(
            ctx.session, ctx.principal, site_id=site_id, status=input.status, reason=input.reason
        )
        return _fresh_site(info, site_id)

    @strawberry.mutation(description="Add a service to a site.")
    @requires(Action.SITE_ADD_SERVICE, on="the site input.siteId")
    def create_service(self, info: Info, input: CreateServiceInput) -> ServiceNode:
        ctx = info.context
        site_id = id_of_type(input.site_id, "Site", argument="input.siteId")
        service_type = topology.get_service_type_by_name(
            ctx.session, ctx.principal, name=input.service_type
        )
        if service_type is None:
            raise Invalid("input.serviceType", "the name of a known service type")
        fields = _set_fields(input, _SERVICE_FIELDS)
        service = writes.create_service(
            ctx.session, ctx.principal, site_id=site_id, service_type_id=service_type.id, **fields
        )
        return _fresh_service(info, pk(service))

    @strawberry.mutation(description="Change a service's fields.")
    @requires(Action.EDIT_OBJECT, on="the service input.id (its site)")
    def update_service(self, info: Info, input: UpdateServiceInput) -> ServiceNode:
        ctx = info.context
        service_id = id_of_type(input.id, "Service", argument="input.id")
        fields = _set_fields(input, _SERVICE_FIELDS)
        _non_null(
            fields,
            ("host_name", "production", "monitored", "beta", "notify", "description"),
            "input",
        )
        writes.update_service(ctx.session, ctx.principal, service_id=service_id, changes=fields)
        return _fresh_service(info, service_id)

    @strawberry.mutation(description="Delete a service and its endpoints.")
    @requires(Action.SITE_DELETE_SERVICE, on="the service id (its site)")
    def delete_service(self, info: Info, input: DeleteServiceInput) -> Deleted:
        ctx = info.context
        service_id = id_of_type(input.id, "Service", argument="input.id")
        writes.delete_service(ctx.session, ctx.principal, service_id=service_id)
        return Deleted(id=input.id)

    @strawberry.mutation(description="Add an endpoint to a service.")
    @requires(Action.EDIT_OBJECT, on="the service input.serviceId (its site)")
    def add_endpoint(self, info: Info, input: AddEndpointInput) -> EndpointNode:
        ctx = info.context
        service_id = id_of_type(input.service_id, "Service", argument="input.serviceId")
        endpoint = writes.add_endpoint(
            ctx.session,
            ctx.principal,
            service_id=service_id,
            name=input.name,
            url=input.url,
            interface_name=input.interface_name,
            monitored=input.monitored,
            description=input.description,
            email=input.email,
        )
        return _fresh_endpoint(info, pk(endpoint))

    @strawberry.mutation(description="Change an endpoint's fields.")
    @requires(Action.EDIT_OBJECT, on="the endpoint input.id's service (its site)")
    def update_endpoint(self, info: Info, input: UpdateEndpointInput) -> EndpointNode:
        ctx = info.context
        endpoint_id = id_of_type(input.id, "Endpoint", argument="input.id")
        fields = _set_fields(input, _ENDPOINT_FIELDS)
        _non_null(fields, ("name", "interface_name", "monitored", "description"), "input")
        writes.update_endpoint(ctx.session, ctx.principal, endpoint_id=endpoint_id, changes=fields)
        return _fresh_endpoint(info, endpoint_id)

    @strawberry.mutation(description="Delete an endpoint.")
    @requires(Action.EDIT_OBJECT, on="the endpoint id's service (its site)")
    def delete_endpoint(self, info: Info, input: DeleteEndpointInput) -> Deleted:
        ctx = info.context
        endpoint_id = id_of_type(input.id, "Endpoint", argument="input.id")
        writes.delete_endpoint(ctx.session, ctx.principal, endpoint_id=endpoint_id)
        return Deleted(id=input.id)

    @strawberry.mutation(description="Set (insert or replace) an extension property.")
    @requires(Action.EDIT_OBJECT, on="the entity input.entityId")
    def set_property(self, info: Info, input: PropertyInput) -> ExtensionProperty:
        ctx = info.context
        kind, owner_id = _entity(input.entity_id, "input.entityId")
        if input.value is None:
            raise Invalid("input.value", "required to set a property")
        writes.set_property(
            ctx.session,
            ctx.principal,
            kind=kind,
            owner_id=owner_id,
            key=input.key,
            value=input.value,
        )
        return ExtensionProperty(key=input.key, value=input.value)

    @strawberry.mutation(description="Remove an extension property; false if there was none.")
    @requires(Action.EDIT_OBJECT, on="the entity input.entityId")
    def remove_property(self, info: Info, input: PropertyInput) -> RemovePropertyPayload:
        ctx = info.context
        kind, owner_id = _entity(input.entity_id, "input.entityId")
        removed = writes.remove_property(
            ctx.session, ctx.principal, kind=kind, owner_id=owner_id, key=input.key
        )
        return RemovePropertyPayload(removed=removed)

    @strawberry.mutation(description="Add scope tags; returns the entity's scopes.")
    @requires(
        Action.EDIT_OBJECT,
        on="the entity input.entityId",
    )
    def tag_scopes(self, info: Info, input: ScopesInput) -> TagScopesPayload:
        ctx = info.context
        kind, owner_id = _entity(input.entity_id, "input.entityId")
        writes.tag_scopes(
            ctx.session,
            ctx.principal,
            kind=kind,
            owner_id=owner_id,
            scope_ids=_scope_ids(info, input.scopes),
        )
        return TagScopesPayload(scopes=_scopes_now(info, kind, owner_id))

    @strawberry.mutation(description="Remove scope tags; returns the entity's scopes.")
    @requires(
        Action.EDIT_OBJECT,
        on="the entity input.entityId",
    )
    def untag_scopes(self, info: Info, input: ScopesInput) -> UntagScopesPayload:
        ctx = info.context
        kind, owner_id = _entity(input.entity_id, "input.entityId")
        writes.untag_scopes(
            ctx.session,
            ctx.principal,
            kind=kind,
            owner_id=owner_id,
            scope_ids=_scope_ids(info, input.scopes),
        )
        return UntagScopesPayload(scopes=_scopes_now(info, kind, owner_id))

    @strawberry.mutation(description="Ask for a role; it waits in PENDING for a decision.")
    @requires(Caller.SIGNED_IN)
    def request_role(self, info: Info, input: RequestRoleInput) -> RequestRolePayload:
        ctx = info.context
        kind, entity_id = owned_entity(input.entity_id, argument="input.entityId")
        role = roles.request_role(
            ctx.session,
            ctx.principal,
            role_type=input.role_type,
            kind=roles.entity_kind(kind),
            entity_id=entity_id,
        )
        return RequestRolePayload(role=_role_node(info, role))

    @strawberry.mutation(description="Grant a pending role request.")
    @requires(Action.GRANT_ROLE, on="the role's entity")
    def grant_role(self, info: Info, input: GrantRoleInput) -> GrantRolePayload:
        ctx = info.context
        role = roles.grant_role(ctx.session, ctx.principal, role_id=_role_id(input.role_id))
        return GrantRolePayload(role=_role_node(info, role))

    @strawberry.mutation(description="Reject a pending role request.")
    @requires(Action.REJECT_ROLE, on="the role's entity")
    def reject_role(self, info: Info, input: RejectRoleInput) -> RejectRolePayload:
        ctx = info.context
        role = roles.reject_role(ctx.session, ctx.principal, role_id=_role_id(input.role_id))
        return RejectRolePayload(role=_role_node(info, role))

    @strawberry.mutation(description="Revoke a granted role (your own, or one you may revoke).")
    @requires(Action.REVOKE_ROLE, on="the role's entity (none to give up one's own role)")
    def revoke_role(self, info: Info, input: RevokeRoleInput) -> RevokeRolePayload:
        ctx = info.context
        role = roles.revoke_role(ctx.session, ctx.principal, role_id=_role_id(input.role_id))
        return RevokeRolePayload(role=_role_node(info, role))
