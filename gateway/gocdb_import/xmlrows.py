"""GOCDB's PI XML, read into the rows the domains' import functions load: one parser per
PI method, each element read by GOCDB's names (lib/Gocdb_Services/PI). What GOCDB
renders empty it omits; an omitted optional value is read as None, so that a value
emptied in GOCDB is emptied here too. Values the PI does not render (a service's e-mail,
a site's CSIRT telephone) are left out of the rows, and so never overwritten."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from domains.common.imports import ImportRefused
from domains.downtimes.service.imports import AffectedService, DowntimeRow
from domains.topology.service.writes.imports import (
    CertificationChangeRow,
    NgiRow,
    ProjectRow,
    PropertyRow,
    ServiceTypeRow,
    SiteRow,
)
from domains.topology.service.writes.imports_services import (
    EndpointRow,
    ServiceGroupRow,
    ServiceRow,
)

_KEY = re.compile(r"^(\d+)G0$")
# GOCDB's portal page of a service (`...?Page_Type=Service&id=N`), or opsgraph's
# (`/services/<global id>`): where a service's id is, when its primary key is a legacy one
_GOCDB_PAGE_ID = re.compile(r"[?&]id=(\d+)(?:&|$)")
_SERVICE_PAGE_OF_OURS = re.compile(r"/services/([A-Za-z0-9+/=%]+)$")


class BadDocument(Exception):
    """A page that is no PI answer: not well-formed, a DTD, or GOCDB's <error>."""


@dataclass(frozen=True)
class Page:
    """One answer of the PI: its entity elements, and the next cursor if it is paged."""

    elements: list[ET.Element]
    next_cursor: str | None
    paged: bool


def read_page(content: bytes, entity_tag: str) -> Page:
    # What defusedxml guards against comes with a DTD (entities expanding without bound,
    # external entities); GOCDB's answers have none, so a document with one is refused
    # before expat reads it.
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise BadDocument("a DTD or entity declaration: refused")
    try:
        root = ET.fromstring(content)  # noqa: S314  (no DTD reaches it: see above)
    except ET.ParseError as exc:
        raise BadDocument(f"not well-formed XML ({exc})") from None
    if root.tag == "error" or root.find("error") is not None:
        message = (root.text if root.tag == "error" else root.findtext("error")) or ""
        raise BadDocument(f"the PI answered an error: {message.strip()}")
    if root.tag != "results":
        raise BadDocument(f"<{root.tag}> where a PI answer has <results>")
    meta = root.find("meta")
    next_cursor = None
    if meta is not None:
        for link in meta.findall("link"):
            found = re.search(r"[?&]next_cursor=(\d+)", link.get("href", ""))
            if link.get("rel") == "next" and found:
                next_cursor = found.group(1)
        if (meta.findtext("count") or "0").strip() == "0":
            next_cursor = None
    return Page(root.findall(entity_tag), next_cursor, meta is not None)


# --- values ----------------------------------------------------------------------------


def _text(el: ET.Element, path: str) -> str | None:
    value = el.findtext(path)
    return None if value is None or value.strip() == "" else value.strip()


def _required(el: ET.Element, path: str, entity: str) -> str:
    value = _text(el, path)
    if value is None:
        raise ImportRefused(entity, f"has no {path}")
    return value


def _int(value: str | None, entity: str, what: str) -> int:
    if value is None or not value.isdigit():
        raise ImportRefused(entity, f"{what} {value!r} is not a whole number")
    return int(value)


def _key_id(value: str | None, entity: str) -> int:
    """The id in a key of the form `<n>G0`."""
    found = _KEY.match(value or "")
    if found is None:
        raise ImportRefused(entity, f"primary key {value!r} is not of the form <n>G0")
    return int(found.group(1))


def _flag(el: ET.Element, path: str, entity: str, yes: str, no: str) -> bool | None:
    value = _text(el, path)
    if value is None:
        return None
    if value.upper() not in (yes, no):
        raise ImportRefused(entity, f"{path} is {value!r}, not {yes} or {no}")
    return value.upper() == yes


def _float(el: ET.Element, path: str, entity: str) -> float | None:
    value = _text(el, path)
    try:
        return None if value is None else float(value)
    except ValueError:
        raise ImportRefused(entity, f"{path} {value!r} is not a number") from None


def _unix(el: ET.Element, path: str, entity: str) -> datetime:
    return datetime.fromtimestamp(_int(_text(el, path), entity, path), UTC)


def _scopes(el: ET.Element) -> tuple[str, ...]:
    return tuple(s.text.strip() for s in el.findall("SCOPES/SCOPE") if s.text and s.text.strip())


def _properties(el: ET.Element, entity: str) -> tuple[PropertyRow, ...]:
    return tuple(
        PropertyRow(
            id=_int(_text(p, "LOCAL_ID"), entity, "extension LOCAL_ID"),
            key=_required(p, "KEY", entity),
            value=p.findtext("VALUE") or "",
        )
        for p in el.findall("EXTENSIONS/EXTENSION")
    )


def _set_if(values: dict[str, Any], name: str, value: Any) -> None:
    """Only values the PI rendered: an absent flag leaves ours as it is."""
    if value is not None:
        values[name] = value


# --- one parser per method ---------------------------------------------------------------


def projects(el: ET.Element) -> ProjectRow:
    entity = f"project {el.get('NAME')}"
    ident = el.get("ID")
    return ProjectRow(
        id=None if ident is None else _int(ident, entity, "ID"),
        name=_required_attribute(el, "NAME", entity),
    )


def _required_attribute(el: ET.Element, name: str, entity: str) -> str:
    value = (el.get(name) or "").strip()
    if not value:
        raise ImportRefused(entity, f"has no {name}")
    return value


def ngis(el: ET.Element) -> NgiRow:
    name = _text(el, "NAME") or el.get("NAME") or ""
    entity = f"ngi {name}"
    ident = _text(el, "OBJECT_ID") or _text(el, "PRIMARY_KEY")
    values = {
        "id": _int(ident, entity, "OBJECT_ID"),
        "name": name,
        "primary_key": _text(el, "PRIMARY_KEY"),
        "description": _text(el, "DESCRIPTION") or "",
        "email": _text(el, "EMAIL"),
        "rod_email": _text(el, "ROD_EMAIL"),
        "helpdesk_email": _text(el, "HELPDESK_EMAIL"),
        "security_email": _text(el, "SECURITY_EMAIL"),
    }
    return NgiRow(values=values, scopes=_scopes(el))


def service_types(el: ET.Element) -> ServiceTypeRow:
    name = _text(el, "SERVICE_TYPE_NAME") or ""
    entity = f"service type {name}"
    return ServiceTypeRow(
        id=_key_id(el.get("TYPE_ID") or el.get("PRIMARY_KEY"), entity),
        name=name,
        description=_text(el, "SERVICE_TYPE_DESC") or "",
    )


def sites(el: ET.Element) -> SiteRow:
    name = _text(el, "SHORT_NAME") or el.get("NAME") or ""
    entity = f"site {name}"
    values: dict[str, Any] = {
        "id": _int(el.get("ID"), entity, "ID"),
        "primary_key": el.get("PRIMARY_KEY") or _text(el, "PRIMARY_KEY"),
        "short_name": name,
        "official_name": _text(el, "OFFICIAL_NAME"),
        "description": _text(el, "SITE_DESCRIPTION") or "",
        "home_url": _text(el, "HOME_URL"),
        "email": _text(el, "CONTACT_EMAIL"),
        "telephone": _text(el, "CONTACT_TEL"),
        "alarm_email": _text(el, "ALARM_EMAIL"),
        "giis_url": _text(el, "GIIS_URL"),
        "production_infrastructure": _required(el, "PRODUCTION_INFRASTRUCTURE", entity),
        "certification_status": _required(el, "CERTIFICATION_STATUS", entity),
        "timezone": _text(el, "TIMEZONE"),
        "latitude": _float(el, "LATITUDE", entity),
        "longitude": _float(el, "LONGITUDE", entity),
        "csirt_email": _text(el, "CSIRT_EMAIL"),
        "domain": _text(el, "DOMAIN/DOMAIN_NAME"),
    }
    _set_if(values, "notify", _flag(el, "NOTIFICATIONS", entity, "TRUE", "FALSE"))
    return SiteRow(
        values=values,
        ngi=_required(el, "ROC", entity),
        country_code=_required(el, "COUNTRY_CODE", entity),
        country_name=_required(el, "COUNTRY", entity),
        scopes=_scopes(el),
        properties=_properties(el, entity),
    )


def _endpoint(el: ET.Element, service_type: str, entity: str) -> EndpointRow:
    name = _required(el, "NAME", entity)
    entity = f"{entity} endpoint {name}"
    values: dict[str, Any] = {
        "id": _int(_text(el, "ID"), entity, "ID"),
        "name": name,
        "url": _text(el, "URL"),
        # GOCDB's default for an endpoint without one: its service's type
        "interface_name": _text(el, "INTERFACENAME") or service_type,
    }
    _set_if(values, "monitored", _flag(el, "ENDPOINT_MONITORED", entity, "Y", "N"))
    return EndpointRow(values=values, properties=_properties(el, entity))


def _service_id(el: ET.Element, key: str | None, entity: str) -> int:
    """GOCDB renders a service's key as `<id>G0`; a registry keeping legacy keys (opsgraph)
    gives the id in the service's portal page."""
    page = _text(el, "GOCDB_PORTAL_URL") or ""
    found = _GOCDB_PAGE_ID.search(page)
    if found:
        return int(found.group(1))
    found = _SERVICE_PAGE_OF_OURS.search(page)
    if found:
        try:
            kind, _, ident = base64.b64decode(unquote(found.group(1))).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            kind, ident = "", ""
        if kind == "Service" and ident.isdigit():
            return int(ident)
    return _key_id(key, entity)


def services(el: ET.Element) -> ServiceRow:
    key = el.get("PRIMARY_KEY") or _text(el, "PRIMARY_KEY")
    entity = f"service {key} ({_text(el, 'HOSTNAME')})"
    service_type = _required(el, "SERVICE_TYPE", entity)
    values: dict[str, Any] = {
        "id": _service_id(el, key, entity),
        "primary_key": key,
        "host_name": _required(el, "HOSTNAME", entity),
        "host_dn": _text(el, "HOSTDN"),
        "operating_system": _text(el, "HOST_OS"),
        "architecture": _text(el, "HOST_ARCH"),
        "ipv4_address": _text(el, "HOST_IP"),
        "ipv6_address": _text(el, "HOST_IPV6"),
        "url": _text(el, "URL"),
    }
    for name, path in (
        ("beta", "BETA"),
        ("production", "IN_PRODUCTION"),
        ("monitored", "NODE_MONITORED"),
        ("notify", "NOTIFICATIONS"),
    ):
        _set_if(values, name, _flag(el, path, entity, "Y", "N"))
    if el.find("DESCRIPTION") is not None:
        values["description"] = _text(el, "DESCRIPTION") or ""
    return ServiceRow(
        values=values,
        site=_required(el, "SITENAME", entity),
        service_type=service_type,
        scopes=_scopes(el),
        properties=_properties(el, entity),
        endpoints=tuple(
            _endpoint(e, service_type, entity) for e in el.findall("ENDPOINTS/ENDPOINT")
        ),
    )


def service_groups(el: ET.Element) -> ServiceGroupRow:
    key = el.get("PRIMARY_KEY")
    name = _text(el, "NAME") or ""
    entity = f"service group {name}"
    ident = el.get("ID")  # rendered by registries keeping legacy keys; GOCDB: <id>G0
    values: dict[str, Any] = {
        "id": _key_id(key, entity) if ident is None else _int(ident, entity, "ID"),
        "primary_key": key,
        "name": name,
        "description": _text(el, "DESCRIPTION") or "",
        "email": _text(el, "CONTACT_EMAIL"),
    }
    _set_if(values, "monitored", _flag(el, "MONITORED", entity, "Y", "N"))
    return ServiceGroupRow(
        values=values,
        members=tuple(
            _required_attribute(s, "PRIMARY_KEY", entity) for s in el.findall("SERVICE_ENDPOINT")
        ),
        scopes=_scopes(el),
        properties=_properties(el, entity),
    )


@dataclass(frozen=True)
class GocdbUser:
    """A user as get_user renders them; the gateway resolves the home site and the roles'
    entities (topology's) before identity loads the user."""

    values: dict[str, Any]
    dn: str | None
    checkin: str | None
    home_site: str | None
    roles: tuple[tuple[str, str, str], ...]  # (role type, entity type, entity name)


def users(el: ET.Element) -> GocdbUser:
    key = el.get("PRIMARY_KEY") or el.get("ID")
    entity = f"user {key}"
    values = {
        "id": _key_id(key, entity),
        "forename": _text(el, "FORENAME"),
        "surname": _text(el, "SURNAME"),
        "title": _text(el, "TITLE"),
        "email": _text(el, "EMAIL"),
        "telephone": _text(el, "TEL"),
        "working_hours_start": _text(el, "WORKING_HOURS_START"),
        "working_hours_end": _text(el, "WORKING_HOURS_END"),
    }
    roles = tuple(
        (
            _required(r, "USER_ROLE", entity),
            _required(r, "ENTITY_TYPE", entity),
            _required(r, "ON_ENTITY", entity),
        )
        for r in el.findall("USER_ROLE")
    )
    return GocdbUser(
        values=values,
        dn=_text(el, "CERTDN"),
        checkin=_text(el, "EGICHECKIN"),
        home_site=_text(el, "HOMESITE"),
        roles=roles,
    )


def certification_changes(el: ET.Element) -> CertificationChangeRow:
    entity = f"certification change {el.get('ID')}"
    return CertificationChangeRow(
        id=_int(el.get("ID"), entity, "ID"),
        site=_required(el, "SITE", entity),
        old_status=_required(el, "OLD_STATUS", entity),
        new_status=_required(el, "NEW_STATUS", entity),
        changed_by=_text(el, "CHANGED_BY") or "",
        changed_at=_unix(el, "UNIX_TIME", entity),
        reason=_text(el, "COMMENT") or "",
    )


def downtimes(el: ET.Element) -> DowntimeRow:
    key = el.get("PRIMARY_KEY") or ""
    entity = f"downtime {key or el.get('ID')}"
    affected = tuple(
        AffectedService(
            service_key=_required(s, "PRIMARY_KEY", entity),
            endpoint_ids=tuple(
                _int(_text(e, "ID"), entity, "endpoint ID")
                for e in s.findall("AFFECTED_ENDPOINTS/ENDPOINT")
            ),
        )
        for s in el.findall("SERVICES/SERVICE")
    )
    return DowntimeRow(
        id=_int(el.get("ID"), entity, "ID"),
        primary_key=key,
        classification=el.get("CLASSIFICATION") or "",
        severity=_required(el, "SEVERITY", entity),
        description=el.findtext("DESCRIPTION") or "",
        inserted_at=_unix(el, "INSERT_DATE", entity),
        starts_at=_unix(el, "START_DATE", entity),
        ends_at=_unix(el, "END_DATE", entity),
        services=affected,
    )


def parse_all(elements: list[ET.Element], parse: Callable[[ET.Element], Any]) -> Iterator[Any]:
    for el in elements:
        yield parse(el)
