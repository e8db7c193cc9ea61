"""The demo federation (demo.toml): a small, realistic EGI-like federation written through
the service layer, so every row obeys the same rules as any other write.

The data file says what exists (NGIs, sites, service groups); the rules here derive what
each site runs, its flags, properties and scopes, deterministically (a fixed random seed)."""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.common.seed_data import expect, load, record
from domains.topology.models import CertificationStatus, ProductionInfrastructure, ServiceType
from domains.topology.seed.reference import (
    APEL,
    ARGUS,
    CE_TYPES,
    EGI,
    FEDCLOUD,
    NOVA,
    OCCI,
    PERUN,
    SRM,
    STORAGE_ACCOUNTING,
    STORAGE_TYPES,
    TOP_BDII,
    VOMS,
    WLCG,
    ServiceFlags,
    ServiceSlot,
    ensure_countries,
    ensure_ngi,
    ensure_project,
    ensure_scopes,
    ensure_service_types,
    profile,
    reference,
    service_scopes,
    site_scopes,
)
from domains.topology.service import writes

_CLOSED = CertificationStatus.CLOSED
_TEST = ProductionInfrastructure.TEST


@dataclass(frozen=True, slots=True)
class DemoSite:
    short_name: str
    official_name: str
    country: str
    status: CertificationStatus
    infrastructure: ProductionInfrastructure
    kind: str  # t1, t2, grid, cloud, core, test
    domain: str
    latitude: float
    longitude: float
    ce_type: str
    batch: str
    storage: str
    vo: str
    primary_key: str | None = None
    wlcg_name: str | None = None
    local_only: bool = False
    extras: tuple[ServiceSlot, ...] = ()


@dataclass(frozen=True, slots=True)
class DemoNgi:
    name: str
    description: str
    domain: str
    sites: tuple[DemoSite, ...]
    primary_key: str | None = None


@dataclass(frozen=True, slots=True)
class DemoGroup:
    name: str
    description: str
    members: str  # which services join: a key of the roles `_seed_demo_site` collects
    scopes: tuple[str, ...]
    properties: Mapping[str, str]
    primary_key: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceKey:
    host: str
    service_type: str
    primary_key: str


@dataclass(frozen=True, slots=True)
class EndpointProperty:
    service_type: str
    endpoint: str
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Demo:
    ngis: tuple[DemoNgi, ...]
    groups: tuple[DemoGroup, ...]
    service_keys: tuple[ServiceKey, ...]
    endpoint_properties: tuple[EndpointProperty, ...]

    def sites(self) -> list[tuple[DemoNgi, DemoSite]]:
        """Every site with its NGI, in the file's order."""
        return [(ngi, site) for ngi in self.ngis for site in ngi.sites]


_ROLES = ("core", "t1_srm", "cloud")
_TOP_LEVEL = ("site_defaults", "ngis", "service_groups", "service_keys", "endpoint_properties")


def _site(raw: Mapping[str, Any], defaults: Mapping[str, Any]) -> DemoSite:
    return record(
        DemoSite,
        {**defaults, **raw},
        where=f"demo site {raw.get('short_name')}",
        status=CertificationStatus,
        infrastructure=ProductionInfrastructure,
        latitude=float,
        longitude=float,
        extras=lambda slots: tuple(record(ServiceSlot, s, where="extras") for s in slots),
    )


@functools.cache
def demo_federation() -> Demo:
    """demo.toml, read once; its names checked against reference.toml."""
    raw = load(__package__, "demo.toml")
    expect(raw, _TOP_LEVEL, where="demo.toml")
    defaults = raw["site_defaults"]
    demo = Demo(
        ngis=tuple(
            record(
                DemoNgi,
                n,
                where=f"demo NGI {n.get('name')}",
                sites=lambda sites: tuple(_site(s, defaults) for s in sites),
            )
            for n in raw["ngis"]
        ),
        groups=tuple(
            record(DemoGroup, g, where=f"demo service group {g.get('name')}", scopes=tuple)
            for g in raw["service_groups"]
        ),
        service_keys=tuple(
            record(ServiceKey, k, where="demo service key") for k in raw["service_keys"]
        ),
        endpoint_properties=tuple(
            record(EndpointProperty, p, where="demo endpoint property")
            for p in raw["endpoint_properties"]
        ),
    )
    _check(demo)
    return demo


def _check(demo: Demo) -> None:
    ref = reference()
    countries = {c.code for c in ref.countries}
    scopes = {s.name for s in ref.scopes}
    problems: list[str] = []
    for _, site in demo.sites():
        for type_name in (site.ce_type, *(e.service_type for e in site.extras)):
            if type_name not in ref.service_types:
                problems.append(f"{site.short_name}: no service type {type_name}")
        if site.country not in countries:
            problems.append(f"{site.short_name}: no country {site.country}")
        if site.kind not in ref.site_kinds:
            problems.append(f"{site.short_name}: no site kind {site.kind}")
    for group in demo.groups:
        if group.members not in _ROLES:
            problems.append(f"{group.name}: members is one of {', '.join(_ROLES)}")
        problems += [f"{group.name}: no scope {s}" for s in group.scopes if s not in scopes]
    named = [k.service_type for k in demo.service_keys]
    named += [p.service_type for p in demo.endpoint_properties]
    problems += [f"no service type {t}" for t in named if t not in ref.service_types]
    if problems:
        raise ValueError(f"demo.toml: {'; '.join(problems)}")


def _demo_service_count(site: DemoSite, index: int) -> int:
    if site.kind == "t1":
        return 12
    if site.kind == "t2":
        return 7 + index % 2
    if site.kind == "cloud":
        return 5 + index % 2
    if site.kind == "core":
        return len(reference().profiles["core"])
    if site.kind == "test":
        return 4
    return 4 if site.status is _CLOSED else 5


def _demo_flags(site: DemoSite, index: int, label: str) -> ServiceFlags:
    if site.infrastructure is _TEST:
        return ServiceFlags(False, label.startswith(("ce", "site-bdii")), False)
    if site.status is _CLOSED:
        return ServiceFlags(False, False, False)
    if site.status in (CertificationStatus.CANDIDATE, CertificationStatus.UNCERTIFIED):
        return ServiceFlags(False, True, False)
    if label in ("squid02", "voms2"):
        return ServiceFlags(True, False, False)  # the type has a monitoring exception
    if label == "ce03":
        return ServiceFlags(False, True, False)  # a new CE still being commissioned
    return ServiceFlags(True, True, label == "ce02" and index % 3 == 0)


def _demo_site_properties(site: DemoSite, rng: random.Random) -> list[tuple[str, str]]:
    props: list[tuple[str, str]] = []
    if site.kind in ("t1", "t2", "grid") and site.status is not _CLOSED:
        props.append(("batch_system", site.batch))
    if site.kind in ("t1", "t2"):
        props.append(("wlcg_tier", "1" if site.kind == "t1" else "2"))
        props.append(("hepspec06_total", str(rng.randrange(20, 400) * 1000)))
    if site.wlcg_name:
        props.append(("wlcg_name", site.wlcg_name))
    if site.kind == "cloud":
        props.append(("cloud_provider", "OpenStack"))
        props.append(("cloud_vcpus", str(rng.randrange(4, 80) * 64)))
    return props


def _demo_service_properties(
    site: DemoSite, type_name: str, rng: random.Random
) -> list[tuple[str, str]]:
    if type_name in CE_TYPES:
        return [
            ("batch_system", site.batch),
            ("hepspec06", str(rng.randrange(50, 900) * 100)),
        ]
    if type_name == SRM:
        return [("storage_implementation", site.storage), ("vo", site.vo)]
    if type_name in STORAGE_TYPES or type_name == VOMS:
        return [("vo", site.vo)]
    if type_name == NOVA:
        return [("gpu", "true" if rng.random() < 0.4 else "false")]
    return []


def seed_demo(session: Session) -> None:
    """Write a small, realistic EGI-like federation (deterministic) and flush it."""
    demo = demo_federation()
    rng = random.Random(20251123)
    project_id = ensure_project(session)
    scope_ids = ensure_scopes(session)
    types = ensure_service_types(session)
    codes = dict.fromkeys(site.country for _, site in demo.sites())
    countries = ensure_countries(session, [reference().country(c) for c in codes])

    ngi_ids: dict[str, int] = {}
    for ngi in demo.ngis:
        ngi_scopes = [EGI]
        if any(s.kind in ("t1", "t2") for s in ngi.sites):
            ngi_scopes.append(WLCG)
        if any(s.kind == "cloud" for s in ngi.sites):
            ngi_scopes.append(FEDCLOUD)
        ngi_ids[ngi.name] = ensure_ngi(
            session,
            name=ngi.name,
            description=ngi.description,
            domain=ngi.domain,
            project_id=project_id,
            scope_ids=[scope_ids[n] for n in ngi_scopes],
            primary_key=ngi.primary_key,
        )

    services_by_role: dict[str, list[int]] = {role: [] for role in _ROLES}
    for index, (ngi, site) in enumerate(demo.sites()):
        _seed_demo_site(
            session,
            rng,
            index,
            site,
            demo=demo,
            ngi_id=ngi_ids[ngi.name],
            country_id=countries[site.country],
            scope_ids=scope_ids,
            types=types,
            services_by_role=services_by_role,
        )

    for spec in demo.groups:
        group = writes.create_service_group(
            session,
            PLATFORM,
            name=spec.name,
            description=spec.description,
            monitored=True,
            email=f"{spec.name.lower().replace('_', '-')}@egi.eu",
            service_ids=services_by_role[spec.members],
            primary_key=spec.primary_key,
        )
        group_id = pk(group)
        writes.tag_scopes(
            session,
            PLATFORM,
            kind="service_group",
            owner_id=group_id,
            scope_ids=[scope_ids[s] for s in spec.scopes],
        )
        for key, value in spec.properties.items():
            writes.set_property(
                session, PLATFORM, kind="service_group", owner_id=group_id, key=key, value=value
            )
    session.flush()


def _seed_demo_site(
    session: Session,
    rng: random.Random,
    index: int,
    site: DemoSite,
    *,
    demo: Demo,
    ngi_id: int,
    country_id: int,
    scope_ids: dict[str, int],
    types: dict[str, ServiceType],
    services_by_role: dict[str, list[int]],
) -> None:
    ref = reference()
    country = ref.country(site.country)
    contact = f"grid-admin@{site.domain}"
    created = writes.create_site(
        session,
        PLATFORM,
        short_name=site.short_name,
        ngi_id=ngi_id,
        country_id=country_id,
        certification_status=site.status,
        production_infrastructure=site.infrastructure,
        official_name=site.official_name,
        description=f"{site.official_name}. {ref.site_kinds[site.kind]} in {country.name}.",
        timezone=country.timezone,
        latitude=site.latitude,
        longitude=site.longitude,
        domain=site.domain,
        home_url=f"https://www.{site.domain}/",
        email=contact,
        telephone=f"{country.dial} {1000 + index * 37} {200 + index * 11}",
        alarm_email=f"t1-alarm@{site.domain}" if site.kind == "t1" else None,
        csirt_email=f"security@{site.domain}",
        csirt_telephone=f"{country.dial} 555 {index:04d}",
        giis_url=f"ldap://site-bdii.{site.domain}:2170/mds-vo-name={site.short_name},o=grid",
        notify=site.status is CertificationStatus.CERTIFIED,
        primary_key=site.primary_key,
    )
    site_id = pk(created)
    scopes = site_scopes(site.kind, local_only=site.local_only)
    writes.tag_scopes(
        session,
        PLATFORM,
        kind="site",
        owner_id=site_id,
        scope_ids=[scope_ids[s] for s in scopes],
    )
    for key, value in _demo_site_properties(site, rng):
        writes.set_property(session, PLATFORM, kind="site", owner_id=site_id, key=key, value=value)

    keys = {(k.host, k.service_type): k.primary_key for k in demo.service_keys}
    endpoint_props = {(p.service_type, p.endpoint): p for p in demo.endpoint_properties}
    plan = profile(site.kind, site.ce_type, _demo_service_count(site, index)) + list(site.extras)
    for slot in plan:
        type_name, label = slot.service_type, slot.host
        host = f"{label}.{site.domain}"
        templates = ref.endpoints(type_name)
        flags = _demo_flags(site, index, label)
        service_type = types[type_name]
        created_service = writes.create_service(
            session,
            PLATFORM,
            site_id=site_id,
            service_type_id=pk(service_type),
            host_name=host,
            url=templates[0].url_for(host=host, site=site.short_name, vo=site.vo),
            production=flags.production,
            monitored=flags.monitored,
            beta=flags.beta,
            notify=flags.production,
            host_dn=f"/DC=org/DC=terena/DC=tcs/C={site.country}/O=EGI/CN={host}",
            operating_system="CentOS 7" if site.status is _CLOSED else "AlmaLinux 9",
            architecture="x86_64",
            email=contact,
            description=f"{service_type.description} at {site.short_name}",
            primary_key=keys.get((host, type_name)),
        )
        service_id = pk(created_service)
        local_only = site.local_only or label == "squid02"
        writes.tag_scopes(
            session,
            PLATFORM,
            kind="service",
            owner_id=service_id,
            scope_ids=[scope_ids[s] for s in service_scopes(scopes, type_name, local_only)],
        )
        for key, value in _demo_service_properties(site, type_name, rng):
            writes.set_property(
                session, PLATFORM, kind="service", owner_id=service_id, key=key, value=value
            )
        # Closed and test sites keep only their main endpoint.
        keep = 1 if site.status is _CLOSED or site.infrastructure is _TEST else len(templates)
        for template in templates[:keep]:
            endpoint = writes.add_endpoint(
                session,
                PLATFORM,
                service_id=service_id,
                name=template.name,
                url=template.url_for(host=host, site=site.short_name, vo=site.vo),
                interface_name=template.interface,
                description=f"{template.name} endpoint of {host}",
            )
            prop = endpoint_props.get((type_name, template.name))
            if prop is not None:
                writes.set_property(
                    session,
                    PLATFORM,
                    kind="endpoint",
                    owner_id=pk(endpoint),
                    key=prop.key,
                    value=prop.value,
                )
        if type_name in (VOMS, PERUN, ARGUS, APEL, STORAGE_ACCOUNTING) or (
            type_name == TOP_BDII and site.kind in ("t1", "core")
        ):
            services_by_role["core"].append(service_id)
        if type_name == SRM and site.kind == "t1":
            services_by_role["t1_srm"].append(service_id)
        if type_name in (NOVA, OCCI) and site.kind == "cloud":
            services_by_role["cloud"].append(service_id)
