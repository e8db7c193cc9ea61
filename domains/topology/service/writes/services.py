"""Services: created at a site by its managers, edited and deleted under the site's roles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from domains.common.authz import authorize
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.topology.models import Service, ServiceType, Site
from domains.topology.ownership import EntityRef
from domains.topology.rules import HOST_NAME_RE, LEGACY_MONITORING_EXCEPTIONS, Action, TopologyRule
from domains.topology.service.reads import T_SERVICE
from domains.topology.service.writes.checks import (
    apply_changes,
    audit_created,
    check_description,
    check_fields,
    check_legacy_key,
    check_text_fields,
    delete_audited,
    exists,
    require,
    set_legacy_key,
    snapshot,
)

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
        raise Invalid("monitored", TopologyRule.SERVICE_PRODUCTION_UNMONITORED)


def _check_host_name(host_name: str) -> None:
    if not HOST_NAME_RE.match(host_name) or "." not in host_name:
        raise Invalid("hostName", TopologyRule.SERVICE_HOST_NAME_MALFORMED)


def _check_host_free(session: Session, host_name: str, service_type_id: int, site_id: int) -> None:
    """GOCDB: a (host name, service type) pair may not exist at another site."""
    if exists(
        session,
        T_SERVICE.c.id,
        T_SERVICE.c.host_name == host_name,
        T_SERVICE.c.service_type_id == service_type_id,
        T_SERVICE.c.site_id != site_id,
    ):
        raise Invalid("hostName", TopologyRule.SERVICE_HOST_TAKEN)


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
    authorize(session, principal, Action.SITE_ADD_SERVICE, EntityRef("site", site_id))
    check_text_fields(
        url=url,
        host_dn=host_dn,
        ipv4_address=ipv4_address,
        ipv6_address=ipv6_address,
        operating_system=operating_system,
        architecture=architecture,
        email=email,
    )
    _check_host_name(host_name)
    check_description("description", description, 255)
    require(session, Site, site_id, "site")
    service_type: ServiceType = require(session, ServiceType, service_type_id, "service type")
    check_production_monitored(service_type, production=production, monitored=monitored)
    _check_host_free(session, host_name, service_type_id, site_id)
    check_legacy_key(session, Service, primary_key)
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
    set_legacy_key(session, service, primary_key)
    audit_created(
        session,
        principal,
        "service",
        service,
        ("site_id", "service_type_id", "url", "production", "monitored", "beta"),
    )
    return service


def update_service(
    session: Session, principal: Principal, *, service_id: int, changes: Mapping[str, Any]
) -> Service:
    authorize(session, principal, Action.EDIT_OBJECT, EntityRef("service", service_id))
    service: Service = require(session, Service, service_id, "service")
    apply_service_update(session, principal, service, changes)
    return service


def apply_service_update(
    session: Session, principal: Principal, service: Service, changes: Mapping[str, Any]
) -> None:
    """`update_service` on a service the caller was authorized to edit: GOCDB's rules
    (production => monitored among them) checked, the changes applied and audited."""
    check_fields(changes, SERVICE_FIELDS)
    check_text_fields(**changes)
    merged = {**snapshot(service, SERVICE_FIELDS), **changes}
    _check_host_name(merged["host_name"])
    check_description("description", merged["description"], 255)
    service_type: ServiceType = require(
        session, ServiceType, service.service_type_id, "service type"
    )
    check_production_monitored(
        service_type, production=merged["production"], monitored=merged["monitored"]
    )
    if merged["host_name"] != service.host_name:
        _check_host_free(session, merged["host_name"], service.service_type_id, service.site_id)
    apply_changes(session, principal, "service", service, changes)


def delete_service(session: Session, principal: Principal, *, service_id: int) -> None:
    authorize(session, principal, Action.SITE_DELETE_SERVICE, EntityRef("service", service_id))
    service: Service = require(session, Service, service_id, "service")
    delete_audited(
        session,
        principal,
        "service",
        service,
        ("host_name", "site_id", "service_type_id", "primary_key"),
    )
