"""Reference data both topology seeds share (reference.toml): project, scopes, service types
and their endpoint templates, countries, site kinds and profiles; the rules both seeds
apply to them; and the get-or-create helpers that write them through the service layer."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.common.seed_data import expect, load, record
from domains.topology import rules
from domains.topology import service as svc
from domains.topology.models import ServiceType
from domains.topology.service import writes

# Scope and service type names the rules below use; reference.toml defines each of them.
EGI, LOCAL, FEDCLOUD = "EGI", "Local", "FedCloud"
WLCG, TIER1, TIER2 = "wlcg", "tier1", "tier2"
NON_RESERVED = frozenset({EGI, LOCAL})

ARC = "ARC-CE"
HTCONDOR = "org.opensciencegrid.htcondorce"
SRM = "SRM"
WEBDAV = "webdav"
XROOTD = "XRootD"
NOVA = "org.openstack.nova"
SWIFT = "org.openstack.swift"
OCCI = "eu.egi.cloud.vm-management.occi"
CLOUD_ACCOUNTING = "eu.egi.cloud.accounting"
TOP_BDII = "Top-BDII"
SITE_BDII = "Site-BDII"
GLITE_APEL = "gLite-APEL"
APEL = "APEL"
VOMS = "VOMS"
SQUID = "org.squid-cache.Squid"
STORAGE_ACCOUNTING = "eu.egi.storage.accounting"
PERUN = "egi.Perun"
ARGUS = "emi.ARGUS"

CE_TYPES = frozenset({ARC, HTCONDOR})
STORAGE_TYPES = frozenset({SRM, WEBDAV, XROOTD})
WLCG_TYPES = CE_TYPES | STORAGE_TYPES | {SQUID, SITE_BDII}
CLOUD_TYPES = frozenset({NOVA, SWIFT, OCCI, CLOUD_ACCOUNTING})

CE = "CE"  # in a profile: the site's compute element type
KINDS = ("t1", "t2", "grid", "cloud", "core", "test")
PROFILES = ("grid", "cloud", "core")  # the other kinds follow the grid profile


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    description: str
    reserved: bool


@dataclass(frozen=True, slots=True)
class EndpointTemplate:
    name: str
    url: str  # with {host}, {site} (short name) and {vo}
    interface: str | None = None  # None: the service type's name

    def url_for(self, *, host: str, site: str, vo: str) -> str:
        return self.url.format(host=host, site=site, vo=vo)


@dataclass(frozen=True, slots=True)
class ServiceTypeSpec:
    name: str
    description: str
    monitoring_exception: bool
    endpoints: tuple[EndpointTemplate, ...]  # the first is the service's own URL


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    ngi: str
    tld: str
    timezone: str
    latitude: float
    longitude: float
    dial: str


@dataclass(frozen=True, slots=True)
class ServiceSlot:
    """One service of a site: its type and the label of its host (`ce01`.<domain>)."""

    service_type: str
    host: str


class ServiceFlags(NamedTuple):
    production: bool
    monitored: bool
    beta: bool


@dataclass(frozen=True, slots=True)
class Reference:
    project: str
    project_description: str
    scopes: tuple[Scope, ...]
    service_types: Mapping[str, ServiceTypeSpec]  # by name, in the file's order
    countries: tuple[Country, ...]
    site_kinds: Mapping[str, str]  # kind -> what a site of the kind is
    profiles: Mapping[str, tuple[ServiceSlot, ...]]

    def endpoints(self, service_type: str) -> tuple[EndpointTemplate, ...]:
        return self.service_types[service_type].endpoints

    def country(self, code: str) -> Country:
        return next(c for c in self.countries if c.code == code)


def _slots(raw: Sequence[Mapping[str, Any]], where: str) -> tuple[ServiceSlot, ...]:
    return tuple(record(ServiceSlot, s, where=where) for s in raw)


@functools.cache
def reference() -> Reference:
    """reference.toml, read once and checked against the names the code relies on."""
    raw = load(__package__, "reference.toml")
    expect(
        raw,
        ("scopes", "countries", "project", "site_kinds", "profiles", "service_types"),
        where="reference.toml",
    )
    expect(raw["project"], ("name", "description"), where="[project]")
    expect(raw["site_kinds"], KINDS, where="[site_kinds]")
    expect(raw["profiles"], PROFILES, where="[profiles]")
    types = (
        record(
            ServiceTypeSpec,
            t,
            where=f"service type {t.get('name')}",
            endpoints=lambda es: tuple(
                record(EndpointTemplate, e, where="endpoint template") for e in es
            ),
        )
        for t in raw["service_types"]
    )
    data = Reference(
        project=raw["project"]["name"],
        project_description=raw["project"]["description"],
        scopes=tuple(record(Scope, s, where=f"scope {s.get('name')}") for s in raw["scopes"]),
        service_types={t.name: t for t in types},
        countries=tuple(
            record(Country, c, where=f"country {c.get('code')}", latitude=float, longitude=float)
            for c in raw["countries"]
        ),
        site_kinds=dict(raw["site_kinds"]),
        profiles={k: _slots(v, f"profile {k}") for k, v in raw["profiles"].items()},
    )
    _check(data)
    return data


def _check(data: Reference) -> None:
    named_scopes = NON_RESERVED | {FEDCLOUD, WLCG, TIER1, TIER2}
    named_types = WLCG_TYPES | CLOUD_TYPES
    named_types |= {TOP_BDII, GLITE_APEL, APEL, VOMS, STORAGE_ACCOUNTING, PERUN, ARGUS}
    named_types |= {s.service_type for p in data.profiles.values() for s in p} - {CE}
    problems = [f"no scope {n}" for n in sorted(named_scopes - {s.name for s in data.scopes})]
    problems += [f"no service type {n}" for n in sorted(named_types - set(data.service_types))]
    problems += [f"{n} has no endpoint" for n, t in data.service_types.items() if not t.endpoints]
    if problems:
        raise ValueError(f"reference.toml: {'; '.join(problems)}")


def profile(kind: str, ce_type: str, count: int) -> list[ServiceSlot]:
    """The first `count` services of a site of this kind, extended with more CEs or nodes."""
    profiles = reference().profiles
    base = profiles[kind] if kind in profiles else profiles["grid"]
    out = [ServiceSlot(ce_type if s.service_type == CE else s.service_type, s.host) for s in base]
    out = out[:count]
    extra = 0
    while len(out) < count:
        extra += 1
        if kind == "cloud":
            out.append(ServiceSlot(NOVA, f"cloud{extra:02d}"))
        elif extra % 2:
            out.append(ServiceSlot(ce_type, f"ce{3 + (extra + 1) // 2:02d}"))
        else:
            out.append(ServiceSlot(XROOTD, f"se{1 + extra // 2:02d}"))
    return out


def site_scopes(kind: str, *, local_only: bool) -> list[str]:
    names = [LOCAL if local_only else EGI]
    if kind in ("t1", "t2"):
        names += [WLCG, TIER1 if kind == "t1" else TIER2]
    if kind == "cloud":
        names.append(FEDCLOUD)
    return names


def service_scopes(site_scopes: Sequence[str], type_name: str, local_only: bool) -> list[str]:
    base = [LOCAL] if local_only else [s for s in site_scopes if s in NON_RESERVED]
    if WLCG in site_scopes and type_name in WLCG_TYPES:
        base.append(WLCG)
    if FEDCLOUD in site_scopes and type_name in CLOUD_TYPES:
        base.append(FEDCLOUD)
    return base


def may_be_unmonitored(service_type: ServiceType) -> bool:
    return (
        service_type.monitoring_exception or service_type.name in rules.LEGACY_MONITORING_EXCEPTIONS
    )


# --- get-or-create (all writes through the service layer) ---------------------------------


def ensure_project(session: Session) -> int:
    data = reference()
    found = session.execute(
        select(svc.T_PROJECT.c.id).where(svc.T_PROJECT.c.name == data.project)
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    project = writes.create_project(
        session, PLATFORM, name=data.project, description=data.project_description
    )
    return pk(project)


def ensure_scopes(session: Session) -> dict[str, int]:
    existing = {
        row.name: int(row.id)
        for row in session.execute(select(svc.T_SCOPE.c.id, svc.T_SCOPE.c.name))
    }
    for scope in reference().scopes:
        if scope.name not in existing:
            created = writes.create_scope(
                session,
                PLATFORM,
                name=scope.name,
                description=scope.description,
                reserved=scope.reserved,
            )
            existing[scope.name] = pk(created)
    return existing


def ensure_service_types(session: Session) -> dict[str, ServiceType]:
    types: dict[str, ServiceType] = {
        t.name: t for t in session.execute(select(ServiceType)).scalars()
    }
    for spec in reference().service_types.values():
        if spec.name not in types:
            types[spec.name] = writes.create_service_type(
                session,
                PLATFORM,
                name=spec.name,
                description=spec.description,
                monitoring_exception=spec.monitoring_exception,
            )
    return types


def ensure_countries(session: Session, countries: Sequence[Country]) -> dict[str, int]:
    existing = {
        row.code: int(row.id)
        for row in session.execute(select(svc.T_COUNTRY.c.id, svc.T_COUNTRY.c.code))
    }
    for country in countries:
        if country.code not in existing:
            created = writes.create_country(session, PLATFORM, code=country.code, name=country.name)
            existing[country.code] = pk(created)
    return existing


def ensure_ngi(
    session: Session,
    *,
    name: str,
    description: str,
    domain: str,
    project_id: int,
    scope_ids: Sequence[int],
    primary_key: str | None = None,
) -> int:
    found = svc.get_ngi_by_name(session, PLATFORM, name=name)
    if found is not None:
        return int(found.id)
    slug = name.lower().replace("_", "-")
    ngi = writes.create_ngi(
        session,
        PLATFORM,
        name=name,
        project_ids=[project_id],
        description=description,
        email=f"{slug}-ops@{domain}",
        rod_email=f"{slug}-rod@{domain}",
        security_email=f"{slug}-security@{domain}",
        helpdesk_email=f"{slug}-support@{domain}",
        primary_key=primary_key,
    )
    ngi_id = pk(ngi)
    writes.tag_scopes(session, PLATFORM, kind="ngi", owner_id=ngi_id, scope_ids=list(scope_ids))
    return ngi_id
