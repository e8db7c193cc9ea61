"""Service methods of the PI: get_service (and its older name get_service_endpoint, the same
answer) and get_service_types. Public (level 1): a service's and an endpoint's e-mail are
not rendered, as GOCDB stopped rendering them in 5.7."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from domains.common.graphql import to_global_id
from domains.common.query import Record
from domains.topology import service as topology
from domains.topology.filters import ServiceFilter, SiteLike
from domains.topology.models import CertificationStatus
from domains.topology.service.pi import PiLevel
from gateway.compat.gocdbpi import xml
from gateway.compat.gocdbpi.params import Params, yes_no
from gateway.compat.gocdbpi.registry import Call, Method
from gateway.compat.gocdbpi.sites import add_extensions, add_scopes, primary_key

SERVICE_PARAMS = frozenset(
    {
        "hostname",
        "sitename",
        "roc",
        "country",
        "service_type",
        "monitored",
        "scope",
        "scope_match",
        "extensions",
    }
)


def service_filter(params: Params) -> ServiceFilter:
    """GOCDB's get_service parameters (LIKE patterns, Y/N, scopes, extensions) as the
    domain's filter; services of Closed sites are never listed (GOCDB's rule)."""
    return ServiceFilter(
        scopes=params.scopes(),
        properties=params.extensions(),
        monitored=yes_no(params.get("monitored")),
        host_name_like=params.get("hostname"),
        service_type_like=params.get("service_type"),
        site_like=SiteLike(
            short_name=params.get("sitename"),
            ngi=params.get("roc"),
            country=params.get("country"),
            exclude_certification_status=CertificationStatus.CLOSED.value,
        ),
    )


def service_url(call: Call, service_id: int) -> str:
    """The web app's page of a service (`/services/<global id>`)."""
    return call.instance.portal_url(f"/services/{quote(to_global_id('Service', service_id))}")


def add_endpoints(
    parent: xml.Element,
    endpoints: Sequence[Record],
    properties: dict[int, list[Record]],
    *,
    monitored: bool = True,
) -> None:
    """ENDPOINTS/ENDPOINT (ID NAME EXTENSIONS URL INTERFACENAME [ENDPOINT_MONITORED])."""
    element = parent.add("ENDPOINTS")
    for endpoint in endpoints:
        item = element.add("ENDPOINT")
        item.add("ID", endpoint.id)
        item.add("NAME", endpoint.name)
        add_extensions(item, properties.get(int(endpoint.id), []))
        item.add("URL", endpoint.url)
        item.add("INTERFACENAME", endpoint.interface_name)
        if monitored:
            item.add("ENDPOINT_MONITORED", xml.yes_no(bool(endpoint.monitored)))


def get_service(call: Call) -> bytes:
    session, principal = call.session, call.principal
    page = topology.list_services(
        session,
        principal,
        filter=service_filter(call.params),
        page=call.page.request(),
        scope_defaults=call.instance.scope_defaults,
    )
    rows = list(page.items)
    ids = [int(row.id) for row in rows]
    sites = topology.sites_by_id(session, principal, sorted({int(r.site_id) for r in rows}))
    ngis = topology.ngis_by_id(session, principal, sorted({int(s.ngi_id) for s in sites.values()}))
    endpoints = topology.endpoints_by_service(session, principal, ids)
    endpoint_ids = [int(e.id) for found in endpoints.values() for e in found]
    endpoint_properties = topology.properties_of(session, principal, "endpoint", endpoint_ids)
    scopes = topology.scopes_of(session, principal, "service", ids)
    properties = topology.properties_of(session, principal, "service", ids)
    root = xml.results()
    for row in rows:
        service_id = int(row.id)
        site = sites[int(row.site_id)]
        key = primary_key(row)
        item = root.add("SERVICE_ENDPOINT").set("PRIMARY_KEY", key)
        item.add_if("PRIMARY_KEY", key)
        item.add_if("HOSTNAME", row.host_name)
        item.add_if("GOCDB_PORTAL_URL", service_url(call, service_id))
        item.add_if("HOSTDN", row.host_dn)
        item.add_if("HOST_OS", row.operating_system)
        item.add_if("HOST_ARCH", row.architecture)
        item.add("BETA", xml.yes_no(bool(row.beta)))
        item.add_if("SERVICE_TYPE", row.service_type_name)
        item.add_if("HOST_IP", row.ipv4_address)
        item.add_if("HOST_IPV6", row.ipv6_address)
        item.add("CORE", "")
        item.add("IN_PRODUCTION", xml.yes_no(bool(row.production)))
        item.add("NODE_MONITORED", xml.yes_no(bool(row.monitored)))
        item.add("NOTIFICATIONS", xml.yes_no(bool(row.notify)))
        item.add_if("SITENAME", site.short_name)
        item.add_if("COUNTRY_NAME", site.country_name)
        item.add_if("COUNTRY_CODE", site.country_code)
        ngi = ngis.get(int(site.ngi_id))
        item.add_if("ROC_NAME", None if ngi is None else ngi.name)
        item.add("URL", row.url)
        add_endpoints(item, endpoints.get(service_id, []), endpoint_properties)
        add_scopes(item, scopes.get(service_id, []))
        add_extensions(item, properties.get(service_id, []))
    call.page.meta(root, ids)
    return root.render()


def get_service_types(call: Call) -> bytes:
    """Every service type, GOCDB's TYPE_ID and PRIMARY_KEY being its id + `G0`."""
    page = topology.list_service_types(call.session, call.principal, page=call.page.request())
    root = xml.results()
    for row in page.items:
        key = f"{row.id}G0"
        item = root.add("SERVICE_TYPE").set("TYPE_ID", key).set("PRIMARY_KEY", key)
        item.add("SERVICE_TYPE_NAME", row.name)
        item.add("SERVICE_TYPE_DESC", row.description)
    return root.render()


METHODS = (
    Method("get_service", PiLevel.PUBLIC, SERVICE_PARAMS, paged=True, handler=get_service),
    Method("get_service_endpoint", PiLevel.PUBLIC, SERVICE_PARAMS, paged=True, handler=get_service),
    Method(
        "get_service_types", PiLevel.PUBLIC, frozenset(), paged=False, handler=get_service_types
    ),
)
