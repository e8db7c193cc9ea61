"""Endpoints of a service, written under the roles of the service's site."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from domains.common.authz import authorize
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.models import pk
from domains.topology.models import Endpoint, Service, ServiceType
from domains.topology.ownership import EntityRef
from domains.topology.rules import Action, TopologyRule
from domains.topology.service.reads import T_ENDPOINT
from domains.topology.service.writes.checks import (
    apply_changes,
    audit_created,
    check_description,
    check_fields,
    check_length,
    check_text_fields,
    delete_audited,
    exists,
    require,
)

ENDPOINT_FIELDS = frozenset({"name", "url", "interface_name", "monitored", "description", "email"})


def _check_endpoint_name(session: Session, service_id: int, name: str) -> None:
    if not name:
        raise Invalid("name", TopologyRule.ENDPOINT_NAME_EMPTY)
    check_length("name", name, 255)
    if exists(
        session, T_ENDPOINT.c.id, T_ENDPOINT.c.service_id == service_id, T_ENDPOINT.c.name == name
    ):
        raise Invalid("name", TopologyRule.ENDPOINT_NAME_TAKEN)


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
    authorize(session, principal, Action.EDIT_OBJECT, EntityRef("service", service_id))
    service: Service = require(session, Service, service_id, "service")
    return create_endpoint(
        session,
        principal,
        service,
        name=name,
        url=url,
        interface_name=interface_name,
        monitored=monitored,
        description=description,
        email=email,
    )


def create_endpoint(
    session: Session,
    principal: Principal,
    service: Service,
    *,
    name: str,
    url: str | None = None,
    interface_name: str | None = None,
    monitored: bool | None = None,
    description: str = "",
    email: str | None = None,
) -> Endpoint:
    """`add_endpoint` to a service the caller was authorized to edit."""
    service_id = pk(service)
    check_text_fields(url=url, interface_name=interface_name, email=email)
    _check_endpoint_name(session, service_id, name)
    check_description("description", description, 2000)
    # GOCDB's write API: the interface defaults to the service type, `monitored` to the
    # service's own flag.
    if interface_name is None:
        service_type: ServiceType = require(
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
    audit_created(
        session,
        principal,
        "endpoint",
        endpoint,
        ("service_id", "url", "interface_name", "monitored"),
    )
    return endpoint


def update_endpoint(
    session: Session, principal: Principal, *, endpoint_id: int, changes: Mapping[str, Any]
) -> Endpoint:
    endpoint: Endpoint = require(session, Endpoint, endpoint_id, "endpoint")
    authorize(session, principal, Action.EDIT_OBJECT, EntityRef("service", endpoint.service_id))
    apply_endpoint_update(session, principal, endpoint, changes)
    return endpoint


def apply_endpoint_update(
    session: Session, principal: Principal, endpoint: Endpoint, changes: Mapping[str, Any]
) -> None:
    """`update_endpoint` of an endpoint the caller was authorized to edit."""
    check_fields(changes, ENDPOINT_FIELDS)
    check_text_fields(**changes)
    if "name" in changes and changes["name"] != endpoint.name:
        _check_endpoint_name(session, endpoint.service_id, changes["name"])
    if "description" in changes:
        check_description("description", changes["description"], 2000)
    if "interface_name" in changes and not changes["interface_name"]:
        raise Invalid("interfaceName", TopologyRule.ENDPOINT_INTERFACE_NAME_EMPTY)
    apply_changes(session, principal, "endpoint", endpoint, changes)


def delete_endpoint(session: Session, principal: Principal, *, endpoint_id: int) -> None:
    endpoint: Endpoint = require(session, Endpoint, endpoint_id, "endpoint")
    authorize(session, principal, Action.EDIT_OBJECT, EntityRef("service", endpoint.service_id))
    remove_endpoint(session, principal, endpoint)


def remove_endpoint(session: Session, principal: Principal, endpoint: Endpoint) -> None:
    """`delete_endpoint` of an endpoint the caller was authorized to edit."""
    delete_audited(session, principal, "endpoint", endpoint, ("name", "url", "service_id"))
