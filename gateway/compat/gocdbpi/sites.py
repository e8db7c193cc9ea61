"""Site methods of the PI: get_site_list, get_site, get_site_contacts,
get_site_security_info, get_site_count_per_country, get_subgrid_list, access_test."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from domains.common.models import legacy_key
from domains.common.query import Record
from domains.identity.models import EntityKind
from domains.topology import service as topology
from domains.topology.filters import SiteFilter, SiteLike
from domains.topology.service import pi
from domains.topology.service.pi import PiLevel
from gateway.compat.gocdbpi import xml
from gateway.compat.gocdbpi.contacts import add_contact, personal_data
from gateway.compat.gocdbpi.params import Params
from gateway.compat.gocdbpi.registry import Call, Method

SITE_PARAMS = frozenset(
    {
        "sitename",
        "roc",
        "country",
        "certification_status",
        "exclude_certification_status",
        "production_status",
        "scope",
        "scope_match",
        "extensions",
    }
)


def site_filter(params: Params) -> SiteFilter:
    """GOCDB's site parameters (LIKE patterns, scopes, extensions) as the domain's filter."""
    return SiteFilter(
        scopes=params.scopes(),
        properties=params.extensions(),
        like=SiteLike(
            short_name=params.get("sitename"),
            ngi=params.get("roc"),
            country=params.get("country"),
            certification_status=params.get("certification_status"),
            exclude_certification_status=params.get("exclude_certification_status"),
            production_infrastructure=params.get("production_status"),
        ),
    )


def read_sites(call: Call, site_filter: SiteFilter) -> list[Record]:
    page = topology.list_sites(
        call.session,
        call.principal,
        filter=site_filter,
        page=call.page.request(),
        scope_defaults=call.instance.scope_defaults,
    )
    return list(page.items)


def primary_key(row: Record) -> str:
    """PRIMARY_KEY: the row's own (`<n>G0` here, GOCDB's for imported rows)."""
    return str(row.primary_key) if row.primary_key else legacy_key(int(row.id))


def site_url(call: Call, short_name: str) -> str:
    return call.instance.portal_url(f"/sites/{quote(short_name, safe='')}")


def ngi_names(call: Call, rows: Sequence[Record]) -> dict[int, str]:
    ngis = topology.ngis_by_id(call.session, call.principal, sorted({r.ngi_id for r in rows}))
    return {ngi_id: str(ngi.name) for ngi_id, ngi in ngis.items()}


def get_site_list(call: Call) -> bytes:
    rows = read_sites(call, site_filter(call.params))
    ngis = ngi_names(call, rows)
    root = xml.results()
    for row in rows:
        root.add("SITE").set("ID", row.id).set("PRIMARY_KEY", primary_key(row)).set(
            "NAME", row.short_name
        ).set("COUNTRY", row.country_name).set("COUNTRY_CODE", row.country_code).set(
            "ROC", ngis.get(row.ngi_id)
        ).set("SUBGRID", None).set("GIIS_URL", row.giis_url)
    return root.render()


def get_site(call: Call) -> bytes:
    rows = read_sites(call, site_filter(call.params))
    ids = [int(row.id) for row in rows]
    ngis = ngi_names(call, rows)
    scopes = topology.scopes_of(call.session, call.principal, "site", ids)
    properties = topology.properties_of(call.session, call.principal, "site", ids)
    personal = personal_data(call)
    root = xml.results()
    for row in rows:
        key = primary_key(row)
        site = (
            root.add("SITE").set("ID", row.id).set("PRIMARY_KEY", key).set("NAME", row.short_name)
        )
        site.add_if("PRIMARY_KEY", key)
        site.add_if("SHORT_NAME", row.short_name)
        site.add_if("OFFICIAL_NAME", row.official_name)
        site.add_if("SITE_DESCRIPTION", row.description)
        site.add_if("GOCDB_PORTAL_URL", site_url(call, row.short_name))
        site.add_if("HOME_URL", row.home_url)
        site.add_if("CONTACT_EMAIL", personal.of_ngi(row.email, row.ngi_id))
        site.add_if("CONTACT_TEL", personal.of_ngi(row.telephone, row.ngi_id))
        site.add_if("ALARM_EMAIL", personal.of_ngi(row.alarm_email, row.ngi_id))
        site.add_if("GIIS_URL", row.giis_url)
        site.add_if("COUNTRY_CODE", row.country_code)
        site.add_if("COUNTRY", row.country_name)
        site.add_if("ROC", ngis.get(row.ngi_id))
        site.add_if("PRODUCTION_INFRASTRUCTURE", row.production_infrastructure)
        site.add_if("CERTIFICATION_STATUS", row.certification_status)
        site.add_if("TIMEZONE", row.timezone)
        site.add_if("LATITUDE", row.latitude)
        site.add_if("LONGITUDE", row.longitude)
        site.add_if("CSIRT_EMAIL", personal.of_ngi(row.csirt_email, row.ngi_id))
        site.add("NOTIFICATIONS", xml.true_false(bool(row.notify)))
        site.add("DOMAIN").add_if("DOMAIN_NAME", row.domain)
        add_scopes(site, scopes.get(int(row.id), []))
        add_extensions(site, properties.get(int(row.id), []))
    call.page.meta(root, ids)
    return root.render()


def add_scopes(parent: xml.Element, scopes: Sequence[Record]) -> None:
    element = parent.add("SCOPES")
    for scope in scopes:
        element.add("SCOPE", scope.name)


def add_extensions(parent: xml.Element, properties: Sequence[Record]) -> None:
    element = parent.add("EXTENSIONS")
    for prop in properties:
        extension = element.add("EXTENSION")
        extension.add("LOCAL_ID", prop.id)
        extension.add("KEY", prop.key)
        extension.add("VALUE", prop.value)


METHODS: tuple[Method, ...] = (
    Method("get_site_list", PiLevel.PUBLIC, SITE_PARAMS, paged=False, handler=get_site_list),
    Method("get_site", PiLevel.PERSONAL_DATA, SITE_PARAMS, paged=True, handler=get_site),
)


def get_site_count_per_country(call: Call) -> bytes:
    params = call.params
    counts = pi.site_count_per_country(
        call.session,
        call.principal,
        like=SiteLike(
            certification_status=params.get("certification_status"),
            production_infrastructure=params.get("production_status"),
        ),
        scope=params.get("scope"),
    )
    root = xml.results()
    for country, count in counts:
        site = root.add("SITE")
        site.add_if("COUNTRY", country)
        site.add("COUNT", count)
    return root.render()


def get_subgrid_list(_call: Call) -> bytes:
    """GOCDB's subgrids are not kept here: every answer is GOCDB's empty list."""
    return xml.results().render()


def access_test(call: Call) -> bytes:
    principal = call.principal
    root = xml.results().set("identifier", principal.client_dn or principal.subject)
    root.add("authorized", "true")
    return root.render()


def get_site_contacts(call: Call) -> bytes:
    params = call.params
    rows = read_sites(
        call,
        SiteFilter(
            scopes=params.scopes(),
            like=SiteLike(
                short_name=params.get("sitename"),
                ngi=params.get("roc"),
                country=params.get("country"),
            ),
        ),
    )
    ids = [int(row.id) for row in rows]
    held = pi.contacts_over(
        call.session,
        personal_data(call),
        EntityKind.SITE,
        ids,
        role_type=params.get("roletype"),
    )
    root = xml.results()
    for row in rows:
        site = site_header(root, row)
        for contact in held.get(int(row.id), []):
            add_contact(site, contact)
    call.page.meta(root, ids)
    return root.render()


def site_header(root: xml.Element, row: Record) -> xml.Element:
    """`SITE` as the contact and security lists open it (ID with GOCDB's `G0`)."""
    key = primary_key(row)
    site = root.add("SITE").set("ID", legacy_key(int(row.id))).set("PRIMARY_KEY", key)
    site.set("NAME", row.short_name)
    site.add("PRIMARY_KEY", key)
    site.add("SHORT_NAME", row.short_name)
    return site


def get_site_security_info(call: Call) -> bytes:
    params = call.params
    rows = read_sites(
        call,
        SiteFilter(
            scopes=params.scopes(),
            like=site_filter(params).like,
        ),
    )
    personal = personal_data(call)
    root = xml.results()
    for row in rows:
        site = site_header(root, row)
        site.add("CSIRT_EMAIL", personal.of_ngi(row.csirt_email, row.ngi_id))
        site.add("CSIRT_TEL", personal.of_ngi(row.csirt_telephone, row.ngi_id))
    call.page.meta(root, [int(row.id) for row in rows])
    return root.render()


METHODS += (
    Method(
        "get_site_contacts",
        PiLevel.PERSONAL_DATA,
        frozenset({"sitename", "roc", "country", "roletype", "scope", "scope_match"}),
        paged=True,
        handler=get_site_contacts,
    ),
    Method(
        "get_site_security_info",
        PiLevel.PERSONAL_DATA,
        SITE_PARAMS - {"extensions"},
        paged=True,
        handler=get_site_security_info,
    ),
    Method(
        "get_site_count_per_country",
        PiLevel.PUBLIC,
        frozenset({"production_status", "certification_status", "scope"}),
        paged=False,
        handler=get_site_count_per_country,
    ),
    Method(
        "get_subgrid_list",
        PiLevel.PUBLIC,
        frozenset({"subgrid"}),
        paged=False,
        handler=get_subgrid_list,
    ),
    Method("access_test", PiLevel.PERSONAL_DATA, None, paged=False, handler=access_test),
)
