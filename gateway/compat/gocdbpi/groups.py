"""Service-group methods of the PI: get_service_group (the groups with their services) and
get_service_group_role (the groups with who holds roles over them). Both level 3, as in
GOCDB; a service group has no page in the web app, so its GOCDB_PORTAL_URL is empty."""

from __future__ import annotations

from domains.common.query import Record
from domains.topology import service as topology
from domains.topology.filters import ServiceGroupFilter
from domains.topology.service import people
from domains.topology.service.pi import PiLevel
from gateway.compat.gocdbpi import xml
from gateway.compat.gocdbpi.params import Params
from gateway.compat.gocdbpi.registry import Call, Method
from gateway.compat.gocdbpi.services import add_endpoints, service_url
from gateway.compat.gocdbpi.sites import add_extensions, add_scopes, primary_key

GROUP_PARAMS = frozenset({"service_group_name", "scope", "scope_match", "extensions"})
GROUP_ROLE_PARAMS = frozenset({"service_group_name", "scope", "scope_match"})


def group_filter(params: Params) -> ServiceGroupFilter:
    return ServiceGroupFilter(
        scopes=params.scopes(),
        properties=params.extensions(),
        name_like=params.get("service_group_name"),
    )


def read_groups(call: Call) -> list[Record]:
    page = topology.list_service_groups(
        call.session,
        call.principal,
        filter=group_filter(call.params),
        page=call.page.request(),
        scope_defaults=call.instance.scope_defaults,
    )
    return list(page.items)


def add_group(root: xml.Element, row: Record) -> xml.Element:
    """SERVICE_GROUP @ID @PRIMARY_KEY with NAME DESCRIPTION MONITORED CONTACT_EMAIL
    GOCDB_PORTAL_URL: the level-3 caller reads the group's contact, as in GOCDB."""
    item = root.add("SERVICE_GROUP").set("ID", row.id).set("PRIMARY_KEY", primary_key(row))
    item.add("NAME", row.name)
    item.add("DESCRIPTION", row.description)
    item.add("MONITORED", xml.yes_no(bool(row.monitored)))
    item.add("CONTACT_EMAIL", row.email)
    item.add("GOCDB_PORTAL_URL", "")
    return item


def get_service_group(call: Call) -> bytes:
    session, principal = call.session, call.principal
    rows = read_groups(call)
    ids = [int(row.id) for row in rows]
    members = topology.services_by_group(session, principal, ids)
    service_ids = sorted({int(s.id) for found in members.values() for s in found})
    endpoints = topology.endpoints_by_service(session, principal, service_ids)
    endpoint_ids = [int(e.id) for found in endpoints.values() for e in found]
    endpoint_properties = topology.properties_of(session, principal, "endpoint", endpoint_ids)
    service_scopes = topology.scopes_of(session, principal, "service", service_ids)
    service_properties = topology.properties_of(session, principal, "service", service_ids)
    scopes = topology.scopes_of(session, principal, "service_group", ids)
    properties = topology.properties_of(session, principal, "service_group", ids)
    root = xml.results()
    for row in rows:
        group_id = int(row.id)
        item = add_group(root, row)
        for service in members.get(group_id, []):
            service_id = int(service.id)
            member = item.add("SERVICE_ENDPOINT").set("PRIMARY_KEY", primary_key(service))
            member.add("HOSTNAME", service.host_name)
            member.add("GOCDB_PORTAL_URL", service_url(call, service_id))
            member.add("SERVICE_TYPE", service.service_type_name)
            member.add("HOST_IP", service.ipv4_address)
            member.add("HOST_IPV6", service.ipv6_address)
            member.add("HOSTDN", service.host_dn)
            member.add("IN_PRODUCTION", xml.yes_no(bool(service.production)))
            member.add("NODE_MONITORED", xml.yes_no(bool(service.monitored)))
            add_endpoints(
                member, endpoints.get(service_id, []), endpoint_properties, monitored=False
            )
            add_scopes(member, service_scopes.get(service_id, []))
            add_extensions(member, service_properties.get(service_id, []))
        add_scopes(item, scopes.get(group_id, []))
        add_extensions(item, properties.get(group_id, []))
    call.page.meta(root, ids)
    return root.render()


def get_service_group_role(call: Call) -> bytes:
    rows = read_groups(call)
    ids = [int(row.id) for row in rows]
    holders = people.group_role_holders(
        call.session,
        call.principal,
        ids,
        restrict_personal_data=call.instance.restrict_personal_data,
    )
    root = xml.results()
    for row in rows:
        item = add_group(root, row)
        for holder in holders.get(int(row.id), []):
            user = item.add("USER")
            user.add("FORENAME", holder.forename)
            user.add("SURNAME", holder.surname)
            user.add("CERTDN", holder.dn)
            user.add("GOCDB_PORTAL_URL", "")
            user.add("ROLE", holder.role_type)
    call.page.meta(root, ids)
    return root.render()


METHODS = (
    Method(
        "get_service_group",
        PiLevel.PERSONAL_DATA,
        GROUP_PARAMS,
        paged=True,
        handler=get_service_group,
    ),
    Method(
        "get_service_group_role",
        PiLevel.PERSONAL_DATA,
        GROUP_ROLE_PARAMS,
        paged=True,
        handler=get_service_group_role,
    ),
)
