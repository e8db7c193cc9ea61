"""Mutations of services and their endpoints."""

from __future__ import annotations

import strawberry
from strawberry.types.unset import UNSET

from domains.common.authz import requires
from domains.common.errors import Invalid
from domains.common.graphql import Deleted, Info, id_of_type
from domains.common.models import pk
from domains.topology import service as topology
from domains.topology.mutations.common import non_null, set_fields
from domains.topology.rules import Action, TopologyRule
from domains.topology.service import writes
from domains.topology.types import (
    EndpointNode,
    ServiceNode,
)


def _fresh_service(info: Info, service_id: int) -> ServiceNode:
    rows = topology.services_by_id(info.context.session, info.context.principal, [service_id])
    return ServiceNode.from_row(rows[service_id])


def _fresh_endpoint(info: Info, endpoint_id: int) -> EndpointNode:
    rows = topology.endpoints_by_id(info.context.session, info.context.principal, [endpoint_id])
    return EndpointNode.from_row(rows[endpoint_id])


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


@strawberry.type
class CreateServicePayload:
    service: ServiceNode


@strawberry.type
class UpdateServicePayload:
    service: ServiceNode


@strawberry.type
class AddEndpointPayload:
    endpoint: EndpointNode


@strawberry.type
class UpdateEndpointPayload:
    endpoint: EndpointNode


@strawberry.input(description="Fields left out stay as they are.")
class UpdateEndpointInput:
    id: strawberry.ID
    name: str | None = UNSET
    url: str | None = UNSET
    interface_name: str | None = UNSET
    monitored: bool | None = UNSET
    description: str | None = UNSET
    email: str | None = UNSET


@strawberry.input
class DeleteServiceInput:
    id: strawberry.ID


@strawberry.input
class DeleteEndpointInput:
    id: strawberry.ID


@strawberry.type
class ServiceMutation:
    @strawberry.mutation(description="Add a service to a site.")
    @requires(Action.SITE_ADD_SERVICE, on="the site input.siteId")
    def create_service(self, info: Info, input: CreateServiceInput) -> CreateServicePayload:
        ctx = info.context
        site_id = id_of_type(input.site_id, "Site", argument="input.siteId")
        service_type = topology.get_service_type_by_name(
            ctx.session, ctx.principal, name=input.service_type
        )
        if service_type is None:
            raise Invalid("input.serviceType", TopologyRule.SERVICE_TYPE_UNKNOWN)
        fields = set_fields(input, _SERVICE_FIELDS)
        service = writes.create_service(
            ctx.session, ctx.principal, site_id=site_id, service_type_id=service_type.id, **fields
        )
        return CreateServicePayload(service=_fresh_service(info, pk(service)))

    @strawberry.mutation(description="Change a service's fields.")
    @requires(Action.EDIT_OBJECT, on="the service input.id (its site)")
    def update_service(self, info: Info, input: UpdateServiceInput) -> UpdateServicePayload:
        ctx = info.context
        service_id = id_of_type(input.id, "Service", argument="input.id")
        fields = set_fields(input, _SERVICE_FIELDS)
        non_null(
            fields,
            ("host_name", "production", "monitored", "beta", "notify", "description"),
            "input",
        )
        writes.update_service(ctx.session, ctx.principal, service_id=service_id, changes=fields)
        return UpdateServicePayload(service=_fresh_service(info, service_id))

    @strawberry.mutation(description="Delete a service and its endpoints.")
    @requires(Action.SITE_DELETE_SERVICE, on="the service input.id (its site)")
    def delete_service(self, info: Info, input: DeleteServiceInput) -> Deleted:
        ctx = info.context
        service_id = id_of_type(input.id, "Service", argument="input.id")
        writes.delete_service(ctx.session, ctx.principal, service_id=service_id)
        return Deleted(id=input.id)

    @strawberry.mutation(description="Add an endpoint to a service.")
    @requires(Action.EDIT_OBJECT, on="the service input.serviceId (its site)")
    def add_endpoint(self, info: Info, input: AddEndpointInput) -> AddEndpointPayload:
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
        return AddEndpointPayload(endpoint=_fresh_endpoint(info, pk(endpoint)))

    @strawberry.mutation(description="Change an endpoint's fields.")
    @requires(Action.EDIT_OBJECT, on="the endpoint input.id's service (its site)")
    def update_endpoint(self, info: Info, input: UpdateEndpointInput) -> UpdateEndpointPayload:
        ctx = info.context
        endpoint_id = id_of_type(input.id, "Endpoint", argument="input.id")
        fields = set_fields(input, _ENDPOINT_FIELDS)
        non_null(fields, ("name", "interface_name", "monitored", "description"), "input")
        writes.update_endpoint(ctx.session, ctx.principal, endpoint_id=endpoint_id, changes=fields)
        return UpdateEndpointPayload(endpoint=_fresh_endpoint(info, endpoint_id))

    @strawberry.mutation(description="Delete an endpoint.")
    @requires(Action.EDIT_OBJECT, on="the endpoint input.id's service (its site)")
    def delete_endpoint(self, info: Info, input: DeleteEndpointInput) -> Deleted:
        ctx = info.context
        endpoint_id = id_of_type(input.id, "Endpoint", argument="input.id")
        writes.delete_endpoint(ctx.session, ctx.principal, endpoint_id=endpoint_id)
        return Deleted(id=input.id)
