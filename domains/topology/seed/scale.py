"""A synthetic infrastructure of N sites for benchmarks (`opsgraph seed --scale N`).

Reference data (project, NGIs, countries, scopes, service types, groups) goes through the
service layer; the bulk (sites, services, endpoints, scope tags, properties) is inserted
with SQLAlchemy Core, checked against the service layer's own rules. Deterministic per
seed; flushes, never commits."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import String, Table, cast, func, insert, select, update
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.common.time import utcnow
from domains.topology import rules
from domains.topology import service as svc
from domains.topology.models import CertificationStatus, ProductionInfrastructure, ServiceType
from domains.topology.seed.reference import (
    ARC,
    CE_TYPES,
    EGI,
    HTCONDOR,
    NOVA,
    STORAGE_TYPES,
    Country,
    ServiceFlags,
    ensure_countries,
    ensure_ngi,
    ensure_project,
    ensure_scopes,
    ensure_service_types,
    may_be_unmonitored,
    profile,
    reference,
    service_scopes,
    site_scopes,
)
from domains.topology.service import writes

_CERTIFIED = CertificationStatus.CERTIFIED
_CLOSED = CertificationStatus.CLOSED
_PROD = ProductionInfrastructure.PRODUCTION
_TEST = ProductionInfrastructure.TEST
_COUNTRIES = 30  # the first this many countries of reference.toml

_STATUS_WEIGHTS: tuple[tuple[CertificationStatus, int], ...] = (
    (_CERTIFIED, 70),
    (CertificationStatus.UNCERTIFIED, 8),
    (CertificationStatus.CANDIDATE, 7),
    (CertificationStatus.SUSPENDED, 5),
    (_CLOSED, 10),
)
_INSTITUTES = ("UNI", "HEP", "PHYS", "GRID", "CC", "LAB", "RC", "TECH", "NUCL", "ASTRO")
_BATCH_SYSTEMS = ("HTCondor", "Slurm", "PBS", "LSF")
_VOS = ("atlas", "cms", "lhcb", "alice", "biomed", "enmr.eu", "vo.access.egi.eu")


class _Owner(NamedTuple):
    """A freshly inserted site or service and what hangs off it."""

    owner_id: int
    scopes: Sequence[str]
    properties: Sequence[tuple[str, str]]  # (key, value)


@dataclass(slots=True)
class _Planned:
    """One synthetic site before insertion: its row and what hangs off it."""

    row: dict[str, Any]
    kind: str
    ce_type: str
    vo: str
    scopes: list[str]
    properties: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class _PlannedService:
    site: _Planned
    type_name: str
    row: dict[str, Any]


def _insert_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert (one executemany) and return the new ids in row order."""
    if not rows:
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [int(i) for i in session.execute(stmt, rows).scalars()]


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), rows)


def _fill_legacy_keys(session: Session, table: Table, ids: Sequence[int]) -> None:
    """Give freshly inserted rows GOCDB's `<id>G0` key, as the service layer does."""
    if ids:
        session.execute(
            update(table)
            .where(table.c.id.between(min(ids), max(ids)), table.c.primary_key.is_(None))
            .values(primary_key=cast(table.c.id, String) + "G0")
        )


def _countries() -> tuple[Country, ...]:
    return reference().countries[:_COUNTRIES]


def _scale_ngi_name(j: int) -> str:
    countries = _countries()
    base = countries[j % len(countries)].ngi
    return base if j < len(countries) else f"{base}_{j // len(countries) + 1}"


def _scale_ngi_index(i: int, n_ngis: int) -> int:
    """NGIs own the countries they are named after; big runs split a country over NGIs."""
    n_countries = len(_countries())
    c = i % n_countries
    if n_ngis < n_countries:
        return c % n_ngis
    homed = range(c, n_ngis, n_countries)
    return homed[(i // n_countries) % len(homed)]


def _plan_scale_site(
    rng: random.Random,
    i: int,
    number: int,
    now: datetime,
    *,
    ngi_id: int,
    country_id: int,
) -> _Planned:
    countries = _countries()
    country = countries[i % len(countries)]
    roll = rng.random()
    kind = "cloud" if roll < 0.12 else "t1" if roll < 0.14 else "t2" if roll < 0.44 else "grid"
    institute = "CLOUD" if kind == "cloud" else rng.choice(_INSTITUTES)
    short_name = f"{country.code}-{institute}-{number:04d}"
    domain = f"{institute.lower()}{number:04d}.{country.tld}"
    status = rng.choices([s for s, _ in _STATUS_WEIGHTS], weights=[w for _, w in _STATUS_WEIGHTS])[
        0
    ]
    infra = _PROD if rng.random() < 0.9 else _TEST
    ce_type = ARC if rng.random() < 0.55 else HTCONDOR
    vo = rng.choice(_VOS[:4]) if kind in ("t1", "t2") else rng.choice(_VOS)
    assert rules.SHORT_NAME_RE.match(short_name)

    local = rng.random() < (0.5 if infra is _TEST else 0.08)
    scopes = site_scopes(kind, local_only=local)

    properties: list[tuple[str, str]] = []
    if kind == "cloud":
        properties.append(("cloud_provider", "OpenStack"))
        properties.append(("cloud_vcpus", str(rng.randrange(4, 80) * 64)))
    else:
        properties.append(("batch_system", rng.choice(_BATCH_SYSTEMS)))
        properties.append(("hepspec06_total", str(rng.randrange(5, 400) * 1000)))
    if kind in ("t1", "t2"):
        properties.append(("wlcg_tier", "1" if kind == "t1" else "2"))

    row: dict[str, Any] = {
        "primary_key": None,
        "short_name": short_name,
        "official_name": f"{institute} resource centre {number} {country.name}",
        "description": f"Synthetic {reference().site_kinds[kind]} in {country.name}.",
        "certification_status": status,
        "certification_status_changed_at": None,
        "production_infrastructure": infra,
        "ngi_id": ngi_id,
        "country_id": country_id,
        "timezone": country.timezone,
        "latitude": round(max(-90.0, min(90.0, country.latitude + rng.uniform(-1.5, 1.5))), 4),
        "longitude": round(max(-180.0, min(180.0, country.longitude + rng.uniform(-1.5, 1.5))), 4),
        "domain": domain,
        "home_url": f"https://www.{domain}/",
        "email": f"grid-admin@{domain}",
        "telephone": f"{country.dial} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
        "alarm_email": f"t1-alarm@{domain}" if kind == "t1" else None,
        "csirt_email": f"security@{domain}",
        "csirt_telephone": f"{country.dial} 555 {number % 10000:04d}",
        "giis_url": f"ldap://site-bdii.{domain}:2170/mds-vo-name={short_name},o=grid",
        "notify": status is _CERTIFIED,
        "created_at": now,
    }
    return _Planned(row, kind, ce_type, vo, scopes, properties)


def _scale_flags(rng: random.Random, site: _Planned, service_type: ServiceType) -> ServiceFlags:
    """Obeying production-implies-monitored."""
    status = site.row["certification_status"]
    if site.row["production_infrastructure"] is _TEST or status is _CLOSED:
        production = False
    elif status in (CertificationStatus.CANDIDATE, CertificationStatus.UNCERTIFIED):
        production = rng.random() < 0.2
    else:
        production = rng.random() >= 0.04
    if production:
        monitored = not (may_be_unmonitored(service_type) and rng.random() < 0.25)
    else:
        monitored = status is not _CLOSED and rng.random() < 0.6
    writes.check_production_monitored(service_type, production=production, monitored=monitored)
    return ServiceFlags(production, monitored, production and rng.random() < 0.03)


def seed_scale(session: Session, sites: int, *, seed: int = 1) -> None:
    """Write `sites` synthetic sites with realistic proportions (deterministic per seed).

    About one NGI per 12 sites over 30 countries; ~70% Certified, 8% Uncertified,
    7% Candidate, 5% Suspended, 10% Closed; 90% Production; 4-12 services per site
    (about 7 on average) with 1-2 endpoints each. Flushes, never commits.
    """
    if sites < 0:
        raise ValueError("sites must not be negative")
    rng = random.Random(seed)
    now = utcnow()
    countries = _countries()
    project_id = ensure_project(session)
    scope_ids = ensure_scopes(session)
    types = ensure_service_types(session)
    country_ids = ensure_countries(session, countries)
    n_ngis = max(1, round(sites / 12))
    ngi_ids = [
        ensure_ngi(
            session,
            name=_scale_ngi_name(j),
            domain=f"ngi.{countries[j % len(countries)].tld}",
            description=f"Operations centre {_scale_ngi_name(j)}",
            project_id=project_id,
            scope_ids=[scope_ids[EGI]],
        )
        for j in range(n_ngis)
    ]
    session.flush()
    offset = int(session.execute(select(func.count()).select_from(svc.T_SITE)).scalar_one())

    planned = [
        _plan_scale_site(
            rng,
            i,
            offset + i + 1,
            now,
            ngi_id=ngi_ids[_scale_ngi_index(i, n_ngis)],
            country_id=country_ids[countries[i % len(countries)].code],
        )
        for i in range(sites)
    ]
    site_ids = _insert_ids(session, svc.T_SITE, [p.row for p in planned])
    _fill_legacy_keys(session, svc.T_SITE, site_ids)
    _insert_links_and_properties(
        session,
        "site",
        scope_ids,
        [_Owner(sid, p.scopes, p.properties) for sid, p in zip(site_ids, planned, strict=True)],
    )

    # Services
    services: list[_PlannedService] = []
    for site_id, site in zip(site_ids, planned, strict=True):
        count = round(rng.triangular(4, 12, 5))
        domain = site.row["domain"]
        for slot in profile(site.kind, site.ce_type, count):
            type_name, host = slot.service_type, f"{slot.host}.{domain}"
            assert rules.HOST_NAME_RE.match(host)
            service_type = types[type_name]
            flags = _scale_flags(rng, site, service_type)
            main = reference().endpoints(type_name)[0]
            row = {
                "primary_key": None,
                "site_id": site_id,
                "service_type_id": pk(service_type),
                "host_name": host,
                "url": main.url_for(host=host, site=site.row["short_name"], vo=site.vo),
                "production": flags.production,
                "monitored": flags.monitored,
                "beta": flags.beta,
                "notify": flags.production,
                "host_dn": f"/DC=org/DC=terena/DC=tcs/O=EGI/CN={host}",
                "ipv4_address": None,
                "ipv6_address": None,
                "operating_system": "AlmaLinux 9",
                "architecture": "x86_64",
                "email": site.row["email"],
                "description": f"{type_name} at {site.row['short_name']}",
                "created_at": now,
            }
            services.append(_PlannedService(site, type_name, row))
    service_ids = _insert_ids(session, svc.T_SERVICE, [p.row for p in services])
    _fill_legacy_keys(session, svc.T_SERVICE, service_ids)

    service_extras: list[_Owner] = []
    endpoint_rows: list[dict[str, Any]] = []
    versioned: list[int] = []  # the endpoint rows with an interface_version property
    for service_id, service in zip(service_ids, services, strict=True):
        site, type_name, host = service.site, service.type_name, service.row["host_name"]
        local_only = EGI in site.scopes and rng.random() < 0.05
        props: list[tuple[str, str]] = []
        if type_name in CE_TYPES and rng.random() < 0.6:
            props.append(("hepspec06", str(rng.randrange(50, 900) * 100)))
        elif type_name in STORAGE_TYPES and rng.random() < 0.5:
            props.append(("vo", site.vo))
        elif type_name == NOVA and rng.random() < 0.3:
            props.append(("gpu", "true"))
        scopes = service_scopes(site.scopes, type_name, local_only)
        service_extras.append(_Owner(service_id, scopes, props))
        templates = reference().endpoints(type_name)
        keep = 2 if len(templates) > 1 and rng.random() < 0.45 else 1
        for template in templates[:keep]:
            if rng.random() < 0.05:
                versioned.append(len(endpoint_rows))
            endpoint_rows.append(
                {
                    "service_id": service_id,
                    "name": template.name,
                    "url": template.url_for(host=host, site=site.row["short_name"], vo=site.vo),
                    "interface_name": template.interface or type_name,
                    "monitored": service.row["monitored"],
                    "description": f"{template.name} endpoint of {host}",
                    "email": None,
                }
            )
    _insert_links_and_properties(session, "service", scope_ids, service_extras)
    endpoint_ids = _insert_ids(session, svc.T_ENDPOINT, endpoint_rows)
    prop_table, fk = svc.PROPERTY_TABLES["endpoint"]
    _insert(
        session,
        prop_table,
        [{fk: endpoint_ids[i], "key": "interface_version", "value": "2"} for i in versioned],
    )

    # A few service groups, through the service layer.
    if service_ids:
        existing_groups = int(
            session.execute(select(func.count()).select_from(svc.T_GROUP)).scalar_one()
        )
        for g in range(max(1, sites // 100)):
            vo = _VOS[g % len(_VOS)]
            members = sorted(rng.sample(service_ids, min(10, len(service_ids))))
            name = f"VO_{vo}_Services_{existing_groups + g + 1:04d}"
            group = writes.create_service_group(
                session,
                PLATFORM,
                name=name,
                description=f"Services supporting the {vo} VO",
                monitored=True,
                email=f"{vo}-support@egi.eu",
                service_ids=members,
            )
            writes.tag_scopes(
                session,
                PLATFORM,
                kind="service_group",
                owner_id=pk(group),
                scope_ids=[scope_ids[EGI]],
            )
            writes.set_property(
                session, PLATFORM, kind="service_group", owner_id=pk(group), key="vo", value=vo
            )
    session.flush()


def _insert_links_and_properties(
    session: Session,
    kind: str,
    scope_ids: dict[str, int],
    owners: Sequence[_Owner],
) -> None:
    """Scope tags and extension properties of freshly inserted owners, in two executemanys."""
    link, link_fk = svc.SCOPE_LINKS[kind]
    props, prop_fk = svc.PROPERTY_TABLES[kind]
    _insert(
        session,
        link,
        [{link_fk: o.owner_id, "scope_id": scope_ids[s]} for o in owners for s in o.scopes],
    )
    _insert(
        session,
        props,
        [{prop_fk: o.owner_id, "key": k, "value": v} for o in owners for k, v in o.properties],
    )
