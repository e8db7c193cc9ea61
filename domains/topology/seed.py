"""Seed data: a realistic demo federation and a synthetic infrastructure for benchmarks.

`seed_demo` writes a small EGI-like federation through the service layer, so every row obeys
the same rules as any other write. `seed_scale` writes N synthetic sites: reference data
(project, NGIs, countries, scopes, service types, groups) goes through the service layer, the
bulk (sites, services, endpoints, scope tags, properties) is inserted with SQLAlchemy Core,
checked against the service layer's own rules. Neither function commits: the caller does.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, cast, func, insert, select, update
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.common.time import utcnow
from domains.topology import rules, writes
from domains.topology import service as svc
from domains.topology.models import CertificationStatus, ProductionInfrastructure, ServiceType

# ---------------------------------------------------------------------------------------
# Reference data shared by both seeds

_CANDIDATE = CertificationStatus.CANDIDATE
_UNCERTIFIED = CertificationStatus.UNCERTIFIED
_CERTIFIED = CertificationStatus.CERTIFIED
_SUSPENDED = CertificationStatus.SUSPENDED
_CLOSED = CertificationStatus.CLOSED
_PROD = ProductionInfrastructure.PRODUCTION
_TEST = ProductionInfrastructure.TEST

_PROJECT = "EGI"
_EGI, _LOCAL, _FEDCLOUD = "EGI", "Local", "FedCloud"
_WLCG, _TIER1, _TIER2 = "wlcg", "tier1", "tier2"
_NON_RESERVED = frozenset({_EGI, _LOCAL})

# (name, description, reserved)
_SCOPES: tuple[tuple[str, str, bool], ...] = (
    (_EGI, "Visible to the central EGI operations tools", False),
    (_LOCAL, "Local use only, hidden from the central EGI tools", False),
    (_FEDCLOUD, "Resources of the EGI Federated Cloud", True),
    (_WLCG, "Resources pledged to the Worldwide LHC Computing Grid", True),
    (_TIER1, "WLCG Tier-1 centres", True),
    (_TIER2, "WLCG Tier-2 centres", True),
)

_ARC = "ARC-CE"
_HTCONDOR = "org.opensciencegrid.htcondorce"
_SRM = "SRM"
_WEBDAV = "webdav"
_XROOTD = "XRootD"
_NOVA = "org.openstack.nova"
_SWIFT = "org.openstack.swift"
_OCCI = "eu.egi.cloud.vm-management.occi"
_CLOUD_ACCOUNTING = "eu.egi.cloud.accounting"
_TOP_BDII = "Top-BDII"
_SITE_BDII = "Site-BDII"
_GLITE_APEL = "gLite-APEL"
_APEL = "APEL"
_VOMS = "VOMS"
_SQUID = "org.squid-cache.Squid"
_STORAGE_ACCOUNTING = "eu.egi.storage.accounting"
_PERUN = "egi.Perun"
_ARGUS = "emi.ARGUS"

# (name, description, monitoring exception)
_SERVICE_TYPES: tuple[tuple[str, str, bool], ...] = (
    (_ARC, "ARC compute element (Advanced Resource Connector)", False),
    (_HTCONDOR, "HTCondor-CE compute element", False),
    (_SRM, "Storage Resource Manager interface of a storage element", False),
    (_WEBDAV, "WebDAV and HTTPS data access to a storage element", False),
    (_XROOTD, "XRootD data access to a storage element", False),
    (_NOVA, "OpenStack Nova compute service behind Keystone", False),
    (_SWIFT, "OpenStack Swift object storage", False),
    (_OCCI, "OCCI interface for virtual machine management", False),
    (_CLOUD_ACCOUNTING, "Cloud accounting record publisher (cASO)", False),
    (_TOP_BDII, "Top level BDII aggregating the site information systems", False),
    (_SITE_BDII, "Site level BDII publishing GLUE information", False),
    (_GLITE_APEL, "APEL client publishing the accounting records of a site", False),
    (_APEL, "APEL central accounting repository", False),
    (_VOMS, "Virtual Organisation Membership Service", True),
    (_SQUID, "Squid HTTP proxy for CVMFS and Frontier", True),
    (_STORAGE_ACCOUNTING, "Storage accounting record publisher", False),
    (_PERUN, "Perun identity and VO membership management", False),
    (_ARGUS, "ARGUS authorisation service", False),
)

_CE_TYPES = frozenset({_ARC, _HTCONDOR})
_STORAGE_TYPES = frozenset({_SRM, _WEBDAV, _XROOTD})
_WLCG_TYPES = _CE_TYPES | _STORAGE_TYPES | {_SQUID, _SITE_BDII}
_CLOUD_TYPES = frozenset({_NOVA, _SWIFT, _OCCI, _CLOUD_ACCOUNTING})

# Endpoint templates per service type: (name, URL template, interface or None for the type).
_Endpoint = tuple[str, str, str | None]
_ENDPOINTS: dict[str, tuple[_Endpoint, ...]] = {
    _ARC: (
        ("main", "https://{host}:443/arex", "org.nordugrid.arcrest"),
        ("gridftp", "gsiftp://{host}:2811/jobs", "org.nordugrid.gridftpjob"),
        ("emies", "https://{host}:443/arex/emies", "org.ogf.emies"),
    ),
    _HTCONDOR: (
        ("main", "https://{host}:9619", None),
        ("collector", "condor://{host}:9619", None),
    ),
    _SRM: (
        ("main", "httpg://{host}:8446/srm/managerv2?SFN=/{vo}", None),
        ("gridftp", "gsiftp://{host}:2811/", "gsiftp"),
        ("https", "https://{host}:443/{vo}", "webdav"),
    ),
    _WEBDAV: (
        ("main", "https://{host}:443/{vo}", None),
        ("davs", "davs://{host}:443/{vo}", None),
    ),
    _XROOTD: (
        ("main", "root://{host}:1094//{vo}", None),
        ("https", "https://{host}:1094//{vo}", "webdav"),
    ),
    _NOVA: (
        ("main", "https://{host}:5000/v3", None),
        ("compute", "https://{host}:8774/v2.1", "org.openstack.compute"),
    ),
    _SWIFT: (("main", "https://{host}:8080/v1", None),),
    _OCCI: (
        ("main", "https://{host}:11443/", None),
        ("legacy", "https://{host}:8787/occi1.1", None),
    ),
    _CLOUD_ACCOUNTING: (("main", "https://{host}/caso", None),),
    _TOP_BDII: (
        ("main", "ldap://{host}:2170/mds-vo-name=local,o=grid", None),
        ("glue2", "ldap://{host}:2170/o=glue", None),
    ),
    _SITE_BDII: (
        ("main", "ldap://{host}:2170/mds-vo-name={site},o=grid", None),
        ("glue2", "ldap://{host}:2170/GLUE2DomainID={site},o=glue", None),
    ),
    _GLITE_APEL: (("main", "https://{host}/apel", None),),
    _APEL: (
        ("main", "https://{host}/apel", None),
        ("messaging", "amqps://{host}:5671", None),
    ),
    _VOMS: (
        ("main", "https://{host}:8443/voms/{vo}", None),
        ("voms", "voms://{host}:15000", None),
    ),
    _SQUID: (
        ("main", "http://{host}:3128", None),
        ("monitoring", "snmp://{host}:3401", None),
    ),
    _STORAGE_ACCOUNTING: (("main", "https://{host}/star", None),),
    _PERUN: (
        ("main", "https://{host}/", None),
        ("ldap", "ldaps://{host}:636", None),
    ),
    _ARGUS: (
        ("main", "https://{host}:8154/authz", None),
        ("pap", "https://{host}:8150/pap", None),
    ),
}


@dataclass(frozen=True, slots=True)
class _Country:
    code: str
    name: str
    ngi: str
    tld: str
    timezone: str
    latitude: float
    longitude: float
    dial: str


_COUNTRIES: tuple[_Country, ...] = (
    _Country("DE", "Germany", "NGI_DE", "de", "Europe/Berlin", 51.16, 10.45, "+49"),
    _Country("IT", "Italy", "NGI_IT", "it", "Europe/Rome", 42.50, 12.50, "+39"),
    _Country("FR", "France", "NGI_FRANCE", "fr", "Europe/Paris", 46.60, 2.40, "+33"),
    _Country("GB", "United Kingdom", "NGI_UK", "ac.uk", "Europe/London", 52.50, -1.50, "+44"),
    _Country("ES", "Spain", "NGI_IBERGRID", "es", "Europe/Madrid", 40.40, -3.70, "+34"),
    _Country("NL", "Netherlands", "NGI_NL", "nl", "Europe/Amsterdam", 52.20, 5.30, "+31"),
    _Country("PL", "Poland", "NGI_PL", "pl", "Europe/Warsaw", 52.00, 19.40, "+48"),
    _Country("CZ", "Czechia", "NGI_CZ", "cz", "Europe/Prague", 49.80, 15.50, "+420"),
    _Country("GR", "Greece", "NGI_GRNET", "gr", "Europe/Athens", 39.10, 22.00, "+30"),
    _Country("CH", "Switzerland", "NGI_CH", "ch", "Europe/Zurich", 46.80, 8.20, "+41"),
    _Country("SK", "Slovakia", "NGI_SK", "sk", "Europe/Bratislava", 48.70, 19.70, "+421"),
    _Country("SI", "Slovenia", "NGI_SI", "si", "Europe/Ljubljana", 46.10, 14.80, "+386"),
    _Country("HR", "Croatia", "NGI_HR", "hr", "Europe/Zagreb", 45.10, 15.20, "+385"),
    _Country("HU", "Hungary", "NGI_HU", "hu", "Europe/Budapest", 47.20, 19.50, "+36"),
    _Country("RO", "Romania", "NGI_RO", "ro", "Europe/Bucharest", 45.90, 25.00, "+40"),
    _Country("BG", "Bulgaria", "NGI_BG", "bg", "Europe/Sofia", 42.70, 25.50, "+359"),
    _Country("TR", "Turkey", "NGI_TR", "edu.tr", "Europe/Istanbul", 39.00, 35.20, "+90"),
    _Country("IL", "Israel", "NGI_IL", "ac.il", "Asia/Jerusalem", 31.50, 34.90, "+972"),
    _Country("FI", "Finland", "NGI_FI", "fi", "Europe/Helsinki", 61.90, 25.70, "+358"),
    _Country("SE", "Sweden", "NGI_NDGF", "se", "Europe/Stockholm", 60.10, 18.60, "+46"),
    _Country("IE", "Ireland", "NGI_IE", "ie", "Europe/Dublin", 53.40, -8.20, "+353"),
    _Country("RS", "Serbia", "NGI_AEGIS", "rs", "Europe/Belgrade", 44.00, 20.90, "+381"),
    _Country("MK", "North Macedonia", "NGI_MARGI", "mk", "Europe/Skopje", 41.60, 21.70, "+389"),
    _Country("CY", "Cyprus", "NGI_CYGRID", "ac.cy", "Asia/Nicosia", 35.10, 33.40, "+357"),
    _Country("AM", "Armenia", "NGI_ARMGRID", "am", "Asia/Yerevan", 40.10, 45.00, "+374"),
    _Country("GE", "Georgia", "NGI_GE", "ge", "Asia/Tbilisi", 42.30, 43.40, "+995"),
    _Country("MD", "Moldova", "NGI_MD", "md", "Europe/Chisinau", 47.40, 28.40, "+373"),
    _Country("UA", "Ukraine", "NGI_UA", "ua", "Europe/Kyiv", 49.00, 31.20, "+380"),
    _Country("BE", "Belgium", "NGI_BE", "be", "Europe/Brussels", 50.50, 4.50, "+32"),
    _Country("LT", "Lithuania", "NGI_LT", "lt", "Europe/Vilnius", 55.20, 23.90, "+370"),
    # Portugal belongs to IBERGRID; only the demo uses it.
    _Country("PT", "Portugal", "NGI_IBERGRID", "pt", "Europe/Lisbon", 39.40, -8.20, "+351"),
)
_COUNTRY_BY_CODE = {c.code: c for c in _COUNTRIES}
_SCALE_COUNTRIES = _COUNTRIES[:30]

# Site profiles: ordered (service type, host label) lists; a site of n services takes the
# first n entries. `_CE` stands for the site's compute element type.
_CE = "CE"
_GRID_PROFILE: tuple[tuple[str, str], ...] = (
    (_CE, "ce01"),
    (_SITE_BDII, "site-bdii"),
    (_SRM, "se01"),
    (_GLITE_APEL, "apel"),
    (_SQUID, "squid01"),
    (_WEBDAV, "se01"),
    (_XROOTD, "se01"),
    (_CE, "ce02"),
    (_SQUID, "squid02"),
    (_STORAGE_ACCOUNTING, "star"),
    (_TOP_BDII, "top-bdii"),
    (_CE, "ce03"),
)
_CLOUD_PROFILE: tuple[tuple[str, str], ...] = (
    (_NOVA, "keystone"),
    (_OCCI, "occi"),
    (_SITE_BDII, "site-bdii"),
    (_CLOUD_ACCOUNTING, "caso"),
    (_SWIFT, "swift"),
    (_SQUID, "squid01"),
)
_CORE_PROFILE: tuple[tuple[str, str], ...] = (
    (_VOMS, "voms1"),
    (_VOMS, "voms2"),
    (_PERUN, "perun"),
    (_TOP_BDII, "top-bdii"),
    (_ARGUS, "argus"),
    (_SITE_BDII, "site-bdii"),
)


def _profile(kind: str, ce_type: str, count: int) -> list[tuple[str, str]]:
    """The first `count` services of a site of this kind, extended with more CEs or nodes."""
    if kind == "core":
        base = _CORE_PROFILE
    elif kind == "cloud":
        base = _CLOUD_PROFILE
    else:
        base = _GRID_PROFILE
    out = [(ce_type if t == _CE else t, label) for t, label in base[:count]]
    extra = 0
    while len(out) < count:
        extra += 1
        if kind == "cloud":
            out.append((_NOVA, f"cloud{extra:02d}"))
        elif extra % 2:
            out.append((ce_type, f"ce{3 + (extra + 1) // 2:02d}"))
        else:
            out.append((_XROOTD, f"se{1 + extra // 2:02d}"))
    return out


# ---------------------------------------------------------------------------------------
# Get-or-create helpers (all writes through the service layer)


def _ensure_project(session: Session) -> int:
    found = session.execute(
        select(svc.T_PROJECT.c.id).where(svc.T_PROJECT.c.name == _PROJECT)
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    project = writes.create_project(
        session,
        PLATFORM,
        name=_PROJECT,
        description="European Grid Infrastructure, federating national and domain resources",
    )
    return pk(project)


def _ensure_scopes(session: Session) -> dict[str, int]:
    existing = {
        row.name: int(row.id)
        for row in session.execute(select(svc.T_SCOPE.c.id, svc.T_SCOPE.c.name))
    }
    for name, description, reserved in _SCOPES:
        if name not in existing:
            scope = writes.create_scope(
                session, PLATFORM, name=name, description=description, reserved=reserved
            )
            existing[name] = pk(scope)
    return existing


def _ensure_service_types(session: Session) -> dict[str, ServiceType]:
    types: dict[str, ServiceType] = {
        t.name: t for t in session.execute(select(ServiceType)).scalars()
    }
    for name, description, exception in _SERVICE_TYPES:
        if name not in types:
            types[name] = writes.create_service_type(
                session,
                PLATFORM,
                name=name,
                description=description,
                monitoring_exception=exception,
            )
    return types


def _ensure_countries(session: Session, countries: Sequence[_Country]) -> dict[str, int]:
    existing = {
        row.code: int(row.id)
        for row in session.execute(select(svc.T_COUNTRY.c.id, svc.T_COUNTRY.c.code))
    }
    for country in countries:
        if country.code not in existing:
            created = writes.create_country(session, PLATFORM, code=country.code, name=country.name)
            existing[country.code] = pk(created)
    return existing


def _ensure_ngi(
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


def _may_be_unmonitored(service_type: ServiceType) -> bool:
    return (
        service_type.monitoring_exception or service_type.name in rules.LEGACY_MONITORING_EXCEPTIONS
    )


# ---------------------------------------------------------------------------------------
# Demo federation


@dataclass(frozen=True, slots=True)
class _DemoNgi:
    name: str
    description: str
    domain: str
    primary_key: str | None = None


_DEMO_NGIS: tuple[_DemoNgi, ...] = (
    _DemoNgi("NGI_DE", "German National Grid Initiative", "gridka.de", "27001G0"),
    _DemoNgi("NGI_IT", "Italian National Grid Initiative run by INFN", "infn.it", "27002G0"),
    _DemoNgi(
        "NGI_FRANCE", "France Grilles, the French National Grid Initiative", "france-grilles.fr"
    ),
    _DemoNgi("NGI_UK", "GridPP and the UK National Grid Initiative", "gridpp.ac.uk"),
    _DemoNgi("NGI_IBERGRID", "Iberian grid infrastructure of Spain and Portugal", "ibergrid.eu"),
    _DemoNgi("NGI_NL", "Dutch National e-Infrastructure coordinated by SURF", "surf.nl"),
    _DemoNgi("NGI_PL", "PLGrid, the Polish National Grid Initiative", "plgrid.pl"),
    _DemoNgi("NGI_CZ", "Czech National Grid Initiative operated by CESNET", "metacentrum.cz"),
    _DemoNgi("NGI_GRNET", "Greek National Grid Initiative operated by GRNET", "grnet.gr"),
    _DemoNgi("NGI_CH", "Swiss National Grid Initiative", "switch.ch"),
    _DemoNgi("NGI_SK", "Slovak National Grid Initiative", "ui.savba.sk"),
    _DemoNgi("NGI_SI", "Slovenian National Grid Initiative", "arnes.si"),
    _DemoNgi("NGI_RO", "Romanian National Grid Initiative", "nipne.ro"),
    _DemoNgi("NGI_TR", "Turkish National Grid Initiative", "ulakbim.gov.tr"),
    _DemoNgi("NGI_IL", "Israeli National Grid Initiative", "iucc.ac.il"),
    _DemoNgi("NGI_HU", "Hungarian National Grid Initiative", "wigner.hu"),
    _DemoNgi("NGI_NDGF", "Nordic DataGrid Facility of the Nordic countries", "neic.no"),
    _DemoNgi("NGI_BG", "Bulgarian National Grid Initiative", "grid.bas.bg"),
)


@dataclass(frozen=True, slots=True)
class _DemoSite:
    short_name: str
    official_name: str
    ngi: str
    country: str
    status: CertificationStatus
    infra: ProductionInfrastructure
    kind: str  # t1, t2, grid, cloud, core, test
    domain: str
    latitude: float
    longitude: float
    ce_type: str = _ARC
    batch: str = "HTCondor"
    storage: str = "dCache"
    vo: str = "atlas"
    primary_key: str | None = None
    wlcg_name: str | None = None
    local_only: bool = False
    extras: tuple[tuple[str, str], ...] = ()


_H = _HTCONDOR
_DEMO_SITES: tuple[_DemoSite, ...] = (
    # NGI_DE
    _DemoSite(
        "FZK-LCG2",
        "Karlsruhe Institute of Technology GridKa",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "t1",
        "gridka.de",
        49.0963,
        8.4297,
        primary_key="25001G0",
        wlcg_name="DE-KIT",
    ),
    _DemoSite(
        "DESY-HH",
        "Deutsches Elektronen-Synchrotron Hamburg",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "t2",
        "desy.de",
        53.5766,
        9.8796,
        ce_type=_H,
        vo="cms",
    ),
    _DemoSite(
        "DESY-ZN",
        "Deutsches Elektronen-Synchrotron Zeuthen",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "t2",
        "ifh.de",
        52.3456,
        13.6270,
        ce_type=_H,
    ),
    _DemoSite(
        "GoeGrid",
        "Georg-August-Universitaet Goettingen",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "t2",
        "goegrid.gwdg.de",
        51.5413,
        9.9158,
        batch="Slurm",
    ),
    _DemoSite(
        "RWTH-Aachen",
        "RWTH Aachen University Physics Institutes",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "t2",
        "physik.rwth-aachen.de",
        50.7780,
        6.0486,
        ce_type=_H,
        vo="cms",
    ),
    _DemoSite(
        "UNI-FREIBURG",
        "Albert-Ludwigs-Universitaet Freiburg",
        "NGI_DE",
        "DE",
        _SUSPENDED,
        _PROD,
        "t2",
        "physik.uni-freiburg.de",
        48.0123,
        7.8351,
        batch="Slurm",
    ),
    _DemoSite(
        "wuppertalprod",
        "Bergische Universitaet Wuppertal",
        "NGI_DE",
        "DE",
        _CLOSED,
        _PROD,
        "grid",
        "grid.uni-wuppertal.de",
        51.2459,
        7.1497,
        batch="PBS",
        storage="DPM",
    ),
    _DemoSite(
        "GRIDKA-PPS",
        "GridKa pre-production testbed",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _TEST,
        "test",
        "pps.gridka.de",
        49.0963,
        8.4297,
        local_only=True,
    ),
    _DemoSite(
        "LRZ-LMU",
        "Leibniz Rechenzentrum and LMU Munich",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "t2",
        "lrz.de",
        48.2625,
        11.6680,
        batch="Slurm",
    ),
    _DemoSite(
        "MPPMU",
        "Max Planck Institute for Physics Munich",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "t2",
        "mpp.mpg.de",
        48.2620,
        11.6710,
        batch="Slurm",
    ),
    _DemoSite(
        "UNI-BONN",
        "Rheinische Friedrich-Wilhelms-Universitaet Bonn",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "grid",
        "physik.uni-bonn.de",
        50.7270,
        7.0870,
    ),
    _DemoSite(
        "GSI-LCG2",
        "GSI Helmholtzzentrum fuer Schwerionenforschung",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "t2",
        "gsi.de",
        49.9310,
        8.6790,
        batch="Slurm",
        storage="XRootD",
        vo="alice",
    ),
    _DemoSite(
        "SCAI",
        "Fraunhofer SCAI cloud",
        "NGI_DE",
        "DE",
        _CERTIFIED,
        _PROD,
        "cloud",
        "scai.fraunhofer.de",
        50.7490,
        7.2040,
        vo="vo.access.egi.eu",
    ),
    # NGI_IT
    _DemoSite(
        "INFN-T1",
        "INFN CNAF Tier-1 Bologna",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t1",
        "cr.cnaf.infn.it",
        44.4949,
        11.3426,
        ce_type=_H,
        storage="StoRM",
        primary_key="25002G0",
        wlcg_name="IT-INFN-CNAF",
    ),
    _DemoSite(
        "INFN-BARI",
        "INFN Sezione di Bari",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t2",
        "ba.infn.it",
        41.1087,
        16.8803,
        ce_type=_H,
        storage="StoRM",
        vo="cms",
    ),
    _DemoSite(
        "INFN-NAPOLI-ATLAS",
        "INFN Napoli ATLAS Tier-2",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t2",
        "na.infn.it",
        40.8380,
        14.1849,
        ce_type=_H,
        storage="DPM",
    ),
    _DemoSite(
        "INFN-PADOVA",
        "INFN Sezione di Padova and Laboratori di Legnaro",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t2",
        "pd.infn.it",
        45.4064,
        11.8768,
        ce_type=_H,
        storage="dCache",
        vo="alice",
    ),
    _DemoSite(
        "INFN-ROMA1",
        "INFN Sezione di Roma",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t2",
        "roma1.infn.it",
        41.9029,
        12.5146,
        ce_type=_H,
        storage="DPM",
        vo="cms",
    ),
    _DemoSite(
        "INFN-CATANIA",
        "INFN Sezione di Catania",
        "NGI_IT",
        "IT",
        _UNCERTIFIED,
        _PROD,
        "grid",
        "ct.infn.it",
        37.5256,
        15.0732,
        ce_type=_H,
        storage="StoRM",
        vo="biomed",
    ),
    _DemoSite(
        "RECAS-BARI",
        "ReCaS Bari data centre cloud",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "cloud",
        "recas.ba.infn.it",
        41.1100,
        16.8800,
        vo="vo.access.egi.eu",
    ),
    _DemoSite(
        "INFN-CNAF-TESTBED",
        "INFN CNAF middleware testbed",
        "NGI_IT",
        "IT",
        _UNCERTIFIED,
        _TEST,
        "test",
        "testbed.cnaf.infn.it",
        44.4949,
        11.3426,
        ce_type=_H,
        local_only=True,
    ),
    _DemoSite(
        "INFN-MILANO-ATLASC",
        "INFN Sezione di Milano ATLAS centre",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t2",
        "mi.infn.it",
        45.4760,
        9.2310,
        ce_type=_H,
        storage="DPM",
    ),
    _DemoSite(
        "INFN-LNL-2",
        "INFN Laboratori Nazionali di Legnaro",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t2",
        "lnl.infn.it",
        45.3530,
        11.9480,
        ce_type=_H,
        vo="cms",
    ),
    _DemoSite(
        "INFN-PISA",
        "INFN Sezione di Pisa",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t2",
        "pi.infn.it",
        43.7200,
        10.4080,
        ce_type=_H,
        storage="StoRM",
        vo="cms",
    ),
    _DemoSite(
        "INFN-TORINO",
        "INFN Sezione di Torino",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t2",
        "to.infn.it",
        45.0520,
        7.6820,
        ce_type=_H,
        storage="EOS",
        vo="alice",
    ),
    _DemoSite(
        "INFN-FRASCATI",
        "INFN Laboratori Nazionali di Frascati",
        "NGI_IT",
        "IT",
        _CERTIFIED,
        _PROD,
        "t2",
        "lnf.infn.it",
        41.8220,
        12.6720,
        ce_type=_H,
        storage="DPM",
    ),
    _DemoSite(
        "INFN-FERRARA",
        "INFN Sezione di Ferrara",
        "NGI_IT",
        "IT",
        _CLOSED,
        _PROD,
        "grid",
        "fe.infn.it",
        44.8330,
        11.5980,
        batch="LSF",
        storage="StoRM",
        vo="lhcb",
    ),
    # NGI_FRANCE
    _DemoSite(
        "IN2P3-CC",
        "IN2P3 Computing Centre Lyon",
        "NGI_FRANCE",
        "FR",
        _CERTIFIED,
        _PROD,
        "t1",
        "cc.in2p3.fr",
        45.7830,
        4.8650,
        ce_type=_H,
        primary_key="25003G0",
        wlcg_name="FR-CCIN2P3",
    ),
    _DemoSite(
        "GRIF",
        "Grille au service de la Recherche en Ile de France",
        "NGI_FRANCE",
        "FR",
        _CERTIFIED,
        _PROD,
        "t2",
        "grif.fr",
        48.7107,
        2.1714,
        ce_type=_H,
        storage="DPM",
    ),
    _DemoSite(
        "IN2P3-CPPM",
        "Centre de Physique des Particules de Marseille",
        "NGI_FRANCE",
        "FR",
        _CERTIFIED,
        _PROD,
        "t2",
        "cppm.in2p3.fr",
        43.2300,
        5.4370,
        storage="DPM",
        vo="lhcb",
    ),
    _DemoSite(
        "IN2P3-LAPP",
        "Laboratoire Annecy de Physique des Particules",
        "NGI_FRANCE",
        "FR",
        _CERTIFIED,
        _PROD,
        "t2",
        "lapp.in2p3.fr",
        45.9170,
        6.1430,
        storage="EOS",
    ),
    _DemoSite(
        "IN2P3-SUBATECH",
        "SUBATECH Nantes",
        "NGI_FRANCE",
        "FR",
        _CANDIDATE,
        _PROD,
        "grid",
        "subatech.in2p3.fr",
        47.2822,
        -1.5200,
        ce_type=_H,
        storage="EOS",
        vo="alice",
    ),
    _DemoSite(
        "IN2P3-IRES",
        "IPHC Strasbourg cloud",
        "NGI_FRANCE",
        "FR",
        _CERTIFIED,
        _PROD,
        "cloud",
        "iphc.cnrs.fr",
        48.6061,
        7.7100,
        vo="vo.access.egi.eu",
    ),
    _DemoSite(
        "IN2P3-LPC",
        "Laboratoire de Physique de Clermont",
        "NGI_FRANCE",
        "FR",
        _CERTIFIED,
        _PROD,
        "t2",
        "clermont.in2p3.fr",
        45.7610,
        3.1100,
        storage="DPM",
    ),
    _DemoSite(
        "IN2P3-LPSC",
        "Laboratoire de Physique Subatomique et de Cosmologie Grenoble",
        "NGI_FRANCE",
        "FR",
        _CERTIFIED,
        _PROD,
        "t2",
        "lpsc.in2p3.fr",
        45.1880,
        5.7090,
        storage="DPM",
    ),
    _DemoSite(
        "IN2P3-IPNL",
        "Institut de Physique des 2 Infinis de Lyon",
        "NGI_FRANCE",
        "FR",
        _CERTIFIED,
        _PROD,
        "grid",
        "ipnl.in2p3.fr",
        45.7790,
        4.8680,
        storage="DPM",
        vo="biomed",
    ),
    _DemoSite(
        "AUVERGRID",
        "Auvergne regional grid",
        "NGI_FRANCE",
        "FR",
        _SUSPENDED,
        _PROD,
        "grid",
        "auvergrid.fr",
        45.7770,
        3.0870,
        batch="PBS",
        storage="DPM",
        vo="biomed",
    ),
    _DemoSite(
        "M3PEC",
        "Mesocentre de calcul intensif aquitain Bordeaux",
        "NGI_FRANCE",
        "FR",
        _CERTIFIED,
        _PROD,
        "grid",
        "mcia.univ-bordeaux.fr",
        44.8080,
        -0.5960,
        batch="Slurm",
        storage="DPM",
        vo="enmr.eu",
    ),
    # NGI_UK
    _DemoSite(
        "RAL-LCG2",
        "STFC Rutherford Appleton Laboratory",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t1",
        "gridpp.rl.ac.uk",
        51.5724,
        -1.3150,
        storage="EOS",
        primary_key="25004G0",
        wlcg_name="UK-T1-RAL",
        extras=((_APEL, "apel-repository"),),
    ),
    _DemoSite(
        "UKI-LT2-QMUL",
        "Queen Mary University of London",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "esc.qmul.ac.uk",
        51.5246,
        -0.0403,
        batch="Slurm",
        storage="StoRM",
    ),
    _DemoSite(
        "UKI-NORTHGRID-MAN-HEP",
        "University of Manchester HEP",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "tier2.hep.manchester.ac.uk",
        53.4668,
        -2.2339,
        storage="DPM",
    ),
    _DemoSite(
        "UKI-SCOTGRID-GLASGOW",
        "University of Glasgow ScotGrid",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "gla.scotgrid.ac.uk",
        55.8721,
        -4.2882,
        storage="DPM",
    ),
    _DemoSite(
        "UKI-SOUTHGRID-OX-HEP",
        "University of Oxford Particle Physics",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "physics.ox.ac.uk",
        51.7596,
        -1.2577,
        storage="DPM",
        vo="lhcb",
    ),
    _DemoSite(
        "UKI-LT2-UCL-HEP",
        "University College London HEP",
        "NGI_UK",
        "GB",
        _CLOSED,
        _PROD,
        "grid",
        "hep.ucl.ac.uk",
        51.5246,
        -0.1340,
        batch="PBS",
        storage="DPM",
    ),
    _DemoSite(
        "UKI-NORTHGRID-LANCS-HEP",
        "Lancaster University HEP",
        "NGI_UK",
        "GB",
        _SUSPENDED,
        _PROD,
        "t2",
        "hec.lancs.ac.uk",
        54.0104,
        -2.7877,
        batch="Slurm",
        storage="DPM",
    ),
    _DemoSite(
        "UKI-LT2-IC-HEP",
        "Imperial College London HEP",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "grid.hep.ph.ic.ac.uk",
        51.4990,
        -0.1750,
        vo="cms",
    ),
    _DemoSite(
        "UKI-LT2-RHUL",
        "Royal Holloway University of London",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "pp.rhul.ac.uk",
        51.4250,
        -0.5630,
        storage="DPM",
    ),
    _DemoSite(
        "UKI-LT2-Brunel",
        "Brunel University London",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "brunel.ac.uk",
        51.5330,
        -0.4730,
        storage="DPM",
        vo="cms",
    ),
    _DemoSite(
        "UKI-NORTHGRID-LIV-HEP",
        "University of Liverpool HEP",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "ph.liv.ac.uk",
        53.4060,
        -2.9660,
        storage="DPM",
    ),
    _DemoSite(
        "UKI-NORTHGRID-SHEF-HEP",
        "University of Sheffield HEP",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "hep.shef.ac.uk",
        53.3810,
        -1.4870,
        storage="DPM",
    ),
    _DemoSite(
        "UKI-SCOTGRID-ECDF",
        "University of Edinburgh ECDF",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "ecdf.ed.ac.uk",
        55.9210,
        -3.1740,
        batch="Slurm",
        storage="DPM",
    ),
    _DemoSite(
        "UKI-SOUTHGRID-BHAM-HEP",
        "University of Birmingham Particle Physics",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "ph.bham.ac.uk",
        52.4500,
        -1.9300,
        vo="alice",
    ),
    _DemoSite(
        "UKI-SOUTHGRID-BRIS-HEP",
        "University of Bristol Particle Physics",
        "NGI_UK",
        "GB",
        _CERTIFIED,
        _PROD,
        "t2",
        "phy.bris.ac.uk",
        51.4580,
        -2.6020,
        storage="XRootD",
        vo="cms",
    ),
    # NGI_IBERGRID
    _DemoSite(
        "pic",
        "Port d Informacio Cientifica",
        "NGI_IBERGRID",
        "ES",
        _CERTIFIED,
        _PROD,
        "t1",
        "pic.es",
        41.5008,
        2.1110,
        ce_type=_H,
        primary_key="25005G0",
        wlcg_name="ES-PIC",
    ),
    _DemoSite(
        "IFCA-LCG2",
        "Instituto de Fisica de Cantabria",
        "NGI_IBERGRID",
        "ES",
        _CERTIFIED,
        _PROD,
        "t2",
        "ifca.es",
        43.4712,
        -3.8022,
        batch="Slurm",
        storage="StoRM",
        vo="cms",
    ),
    _DemoSite(
        "IFIC-LCG2",
        "Instituto de Fisica Corpuscular Valencia",
        "NGI_IBERGRID",
        "ES",
        _CERTIFIED,
        _PROD,
        "t2",
        "ific.uv.es",
        39.5117,
        -0.4226,
        ce_type=_H,
        storage="StoRM",
    ),
    _DemoSite(
        "CESGA",
        "Centro de Supercomputacion de Galicia",
        "NGI_IBERGRID",
        "ES",
        _CERTIFIED,
        _PROD,
        "cloud",
        "cesga.es",
        42.8752,
        -8.5535,
        vo="vo.access.egi.eu",
    ),
    _DemoSite(
        "UPV-GRyCAP",
        "Universitat Politecnica de Valencia GRyCAP",
        "NGI_IBERGRID",
        "ES",
        _UNCERTIFIED,
        _PROD,
        "cloud",
        "i3m.upv.es",
        39.4817,
        -0.3414,
        vo="vo.access.egi.eu",
    ),
    _DemoSite(
        "NCG-INGRID-PT",
        "INCD National Distributed Computing Infrastructure",
        "NGI_IBERGRID",
        "PT",
        _CERTIFIED,
        _PROD,
        "t2",
        "ncg.ingrid.pt",
        38.7578,
        -9.1547,
        batch="Slurm",
        storage="StoRM",
    ),
    _DemoSite(
        "LIP-Lisbon",
        "Laboratorio de Instrumentacao e Fisica de Particulas",
        "NGI_IBERGRID",
        "PT",
        _CERTIFIED,
        _PROD,
        "grid",
        "lip.pt",
        38.7370,
        -9.1390,
        batch="Slurm",
        storage="StoRM",
        vo="enmr.eu",
    ),
    _DemoSite(
        "CIEMAT-LCG2",
        "Centro de Investigaciones Energeticas Medioambientales y Tecnologicas",
        "NGI_IBERGRID",
        "ES",
        _CERTIFIED,
        _PROD,
        "t2",
        "ciemat.es",
        40.4550,
        -3.7260,
        ce_type=_H,
        vo="cms",
    ),
    _DemoSite(
        "UAM-LCG2",
        "Universidad Autonoma de Madrid",
        "NGI_IBERGRID",
        "ES",
        _CERTIFIED,
        _PROD,
        "t2",
        "ft.uam.es",
        40.5440,
        -3.6960,
        storage="DPM",
    ),
    _DemoSite(
        "USC-LCG2",
        "Universidade de Santiago de Compostela",
        "NGI_IBERGRID",
        "ES",
        _CERTIFIED,
        _PROD,
        "grid",
        "usc.es",
        42.8760,
        -8.5600,
        storage="DPM",
        vo="lhcb",
    ),
    _DemoSite(
        "BIFI",
        "Instituto de Biocomputacion y Fisica de Sistemas Complejos",
        "NGI_IBERGRID",
        "ES",
        _CERTIFIED,
        _PROD,
        "cloud",
        "bifi.unizar.es",
        41.6830,
        -0.8880,
        vo="vo.access.egi.eu",
    ),
    _DemoSite(
        "LIP-Coimbra",
        "LIP Coimbra",
        "NGI_IBERGRID",
        "PT",
        _CERTIFIED,
        _PROD,
        "grid",
        "coimbra.lip.pt",
        40.2070,
        -8.4260,
        batch="Slurm",
        storage="StoRM",
        vo="enmr.eu",
    ),
    # NGI_NL
    _DemoSite(
        "SARA-MATRIX",
        "SURF Amsterdam grid cluster",
        "NGI_NL",
        "NL",
        _CERTIFIED,
        _PROD,
        "t1",
        "grid.sara.nl",
        52.3561,
        4.9533,
        batch="PBS",
        primary_key="25006G0",
        wlcg_name="NL-T1",
    ),
    _DemoSite(
        "NIKHEF-ELPROD",
        "Nikhef Amsterdam production cluster",
        "NGI_NL",
        "NL",
        _CERTIFIED,
        _PROD,
        "t1",
        "nikhef.nl",
        52.3561,
        4.9514,
        batch="PBS",
        storage="DPM",
        wlcg_name="NL-T1",
    ),
    _DemoSite(
        "RUG-CIT",
        "University of Groningen Center for Information Technology",
        "NGI_NL",
        "NL",
        _CANDIDATE,
        _PROD,
        "grid",
        "rug.nl",
        53.2407,
        6.5354,
        batch="Slurm",
        storage="DPM",
        vo="lofar",
        local_only=True,
    ),
    # NGI_PL
    _DemoSite(
        "CYFRONET-LCG2",
        "ACC Cyfronet AGH Krakow",
        "NGI_PL",
        "PL",
        _CERTIFIED,
        _PROD,
        "t2",
        "cyf-kr.edu.pl",
        50.0681,
        19.9123,
        batch="Slurm",
        storage="DPM",
    ),
    _DemoSite(
        "CYFRONET-CLOUD",
        "ACC Cyfronet AGH OpenStack cloud",
        "NGI_PL",
        "PL",
        _CERTIFIED,
        _PROD,
        "cloud",
        "cloud.cyfronet.pl",
        50.0681,
        19.9123,
        vo="vo.access.egi.eu",
    ),
    _DemoSite(
        "PSNC",
        "Poznan Supercomputing and Networking Center",
        "NGI_PL",
        "PL",
        _CERTIFIED,
        _PROD,
        "grid",
        "reef.man.poznan.pl",
        52.4110,
        16.9180,
        batch="Slurm",
        storage="DPM",
        vo="biomed",
    ),
    _DemoSite(
        "WCSS64",
        "Wroclaw Centre for Networking and Supercomputing",
        "NGI_PL",
        "PL",
        _CERTIFIED,
        _PROD,
        "grid",
        "wcss.pl",
        51.1100,
        17.0590,
        batch="PBS",
        storage="DPM",
        vo="biomed",
    ),
    _DemoSite(
        "ICM",
        "Interdisciplinary Centre for Mathematical and Computational Modelling",
        "NGI_PL",
        "PL",
        _CANDIDATE,
        _PROD,
        "grid",
        "icm.edu.pl",
        52.2140,
        20.9830,
        batch="Slurm",
        storage="DPM",
        vo="biomed",
    ),
    # NGI_CZ
    _DemoSite(
        "praguelcg2",
        "FZU Institute of Physics Prague",
        "NGI_CZ",
        "CZ",
        _CERTIFIED,
        _PROD,
        "t2",
        "farm.particle.cz",
        50.1256,
        14.4705,
        storage="DPM",
    ),
    _DemoSite(
        "CESNET-MCC",
        "CESNET MetaCentrum Cloud",
        "NGI_CZ",
        "CZ",
        _CERTIFIED,
        _PROD,
        "cloud",
        "cloud.metacentrum.cz",
        49.2264,
        16.5953,
        vo="vo.access.egi.eu",
    ),
    _DemoSite(
        "prague_cesnet_lcg2",
        "CESNET central grid services",
        "NGI_CZ",
        "CZ",
        _CERTIFIED,
        _PROD,
        "core",
        "grid.cesnet.cz",
        50.1022,
        14.3922,
        vo="biomed",
        extras=((_STORAGE_ACCOUNTING, "star"),),
    ),
    # NGI_GRNET
    _DemoSite(
        "HG-03-AUTH",
        "Aristotle University of Thessaloniki",
        "NGI_GRNET",
        "GR",
        _CERTIFIED,
        _PROD,
        "grid",
        "grid.auth.gr",
        40.6306,
        22.9585,
        storage="DPM",
        vo="see",
    ),
    _DemoSite(
        "GR-07-UOI-HEPLAB",
        "University of Ioannina HEP laboratory",
        "NGI_GRNET",
        "GR",
        _SUSPENDED,
        _PROD,
        "grid",
        "physics.uoi.gr",
        39.6165,
        20.8391,
        batch="PBS",
        storage="DPM",
        vo="see",
    ),
    _DemoSite(
        "HG-09-Okeanos-Cloud",
        "GRNET Okeanos cloud",
        "NGI_GRNET",
        "GR",
        _CERTIFIED,
        _PROD,
        "cloud",
        "okeanos.grnet.gr",
        37.9780,
        23.7830,
        vo="vo.access.egi.eu",
    ),
    _DemoSite(
        "GRNET-PPS",
        "GRNET pre-production testbed",
        "NGI_GRNET",
        "GR",
        _CANDIDATE,
        _TEST,
        "test",
        "pps.grnet.gr",
        37.9780,
        23.7830,
        local_only=True,
    ),
    _DemoSite(
        "HG-06-EKT",
        "National Documentation Centre Athens",
        "NGI_GRNET",
        "GR",
        _UNCERTIFIED,
        _PROD,
        "grid",
        "ekt.gr",
        37.9920,
        23.7370,
        storage="DPM",
        vo="see",
    ),
    _DemoSite(
        "GR-12-TEIKAV",
        "Technological Educational Institute of Kavala",
        "NGI_GRNET",
        "GR",
        _CLOSED,
        _PROD,
        "grid",
        "teikav.edu.gr",
        40.9130,
        24.3820,
        batch="PBS",
        storage="DPM",
        vo="see",
    ),
    # NGI_CH
    _DemoSite(
        "CSCS-LCG2",
        "Swiss National Supercomputing Centre",
        "NGI_CH",
        "CH",
        _CERTIFIED,
        _PROD,
        "t2",
        "cscs.ch",
        46.0250,
        8.9600,
        batch="Slurm",
    ),
    _DemoSite(
        "UNIBE-LHEP",
        "University of Bern LHEP",
        "NGI_CH",
        "CH",
        _CERTIFIED,
        _PROD,
        "t2",
        "lhep.unibe.ch",
        46.9510,
        7.4380,
        batch="Slurm",
        storage="DPM",
    ),
    _DemoSite(
        "UNIGE-DPNC",
        "Universite de Geneve DPNC",
        "NGI_CH",
        "CH",
        _UNCERTIFIED,
        _PROD,
        "grid",
        "dpnc.unige.ch",
        46.2010,
        6.1460,
        batch="Slurm",
        storage="DPM",
    ),
    # NGI_SK
    _DemoSite(
        "IEPSAS-Kosice",
        "Institute of Experimental Physics SAS Kosice",
        "NGI_SK",
        "SK",
        _CERTIFIED,
        _PROD,
        "t2",
        "saske.sk",
        48.7160,
        21.2610,
        storage="DPM",
        vo="alice",
    ),
    _DemoSite(
        "FMPhI-UNIBA",
        "Comenius University Bratislava",
        "NGI_SK",
        "SK",
        _CERTIFIED,
        _PROD,
        "t2",
        "dnp.fmph.uniba.sk",
        48.1510,
        17.0700,
        storage="DPM",
    ),
    _DemoSite(
        "IISAS-FedCloud",
        "Institute of Informatics SAS cloud",
        "NGI_SK",
        "SK",
        _CERTIFIED,
        _PROD,
        "cloud",
        "cloud.ui.savba.sk",
        48.1700,
        17.0710,
        vo="vo.access.egi.eu",
    ),
    # NGI_SI
    _DemoSite(
        "SiGNET",
        "Jozef Stefan Institute SiGNET",
        "NGI_SI",
        "SI",
        _CERTIFIED,
        _PROD,
        "t2",
        "ijs.si",
        46.0430,
        14.4880,
        batch="Slurm",
    ),
    # NGI_RO
    _DemoSite(
        "RO-07-NIPNE",
        "Horia Hulubei National Institute for Physics and Nuclear Engineering",
        "NGI_RO",
        "RO",
        _CERTIFIED,
        _PROD,
        "t2",
        "nipne.ro",
        44.3480,
        26.0300,
        storage="DPM",
        vo="alice",
    ),
    _DemoSite(
        "RO-16-UAIC",
        "Alexandru Ioan Cuza University of Iasi",
        "NGI_RO",
        "RO",
        _CERTIFIED,
        _PROD,
        "t2",
        "uaic.ro",
        47.1740,
        27.5720,
        storage="DPM",
    ),
    _DemoSite(
        "RO-13-ISS",
        "Institute of Space Science Bucharest",
        "NGI_RO",
        "RO",
        _CLOSED,
        _PROD,
        "grid",
        "spacescience.ro",
        44.3480,
        26.0290,
        batch="PBS",
        storage="DPM",
        vo="alice",
    ),
    # NGI_TR
    _DemoSite(
        "TR-10-ULAKBIM",
        "TUBITAK ULAKBIM Ankara",
        "NGI_TR",
        "TR",
        _CERTIFIED,
        _PROD,
        "t2",
        "ulakbim.gov.tr",
        39.8920,
        32.7800,
        storage="DPM",
    ),
    _DemoSite(
        "TR-03-METU",
        "Middle East Technical University",
        "NGI_TR",
        "TR",
        _SUSPENDED,
        _PROD,
        "grid",
        "metu.edu.tr",
        39.8910,
        32.7830,
        batch="PBS",
        storage="DPM",
        vo="cms",
    ),
    # NGI_IL
    _DemoSite(
        "IL-TAU-HEP",
        "Tel Aviv University HEP",
        "NGI_IL",
        "IL",
        _CERTIFIED,
        _PROD,
        "t2",
        "tau.ac.il",
        32.1130,
        34.8040,
        storage="DPM",
    ),
    _DemoSite(
        "WEIZMANN-LCG2",
        "Weizmann Institute of Science",
        "NGI_IL",
        "IL",
        _CERTIFIED,
        _PROD,
        "t2",
        "weizmann.ac.il",
        31.9070,
        34.8100,
        storage="DPM",
    ),
    _DemoSite(
        "TECHNION-HEP",
        "Technion Israel Institute of Technology",
        "NGI_IL",
        "IL",
        _CERTIFIED,
        _PROD,
        "t2",
        "technion.ac.il",
        32.7770,
        35.0210,
        storage="DPM",
    ),
    # NGI_HU
    _DemoSite(
        "BUDAPEST",
        "Wigner Research Centre for Physics",
        "NGI_HU",
        "HU",
        _CERTIFIED,
        _PROD,
        "t2",
        "wigner.hu",
        47.4870,
        18.9540,
        storage="EOS",
        vo="alice",
    ),
    # NGI_NDGF
    _DemoSite(
        "NDGF-T1",
        "Nordic Data Grid Facility Tier-1",
        "NGI_NDGF",
        "SE",
        _CERTIFIED,
        _PROD,
        "t1",
        "ndgf.org",
        59.3490,
        18.0700,
        batch="Slurm",
        primary_key="25007G0",
        wlcg_name="NDGF-T1",
    ),
    # NGI_BG
    _DemoSite(
        "BG05-SUGrid",
        "Sofia University St. Kliment Ohridski",
        "NGI_BG",
        "BG",
        _CERTIFIED,
        _PROD,
        "grid",
        "phys.uni-sofia.bg",
        42.6940,
        23.3330,
        storage="DPM",
        vo="biomed",
    ),
)

# Explicit legacy keys, as imported from an older registry; far above generated ids.
_DEMO_SERVICE_KEYS: dict[tuple[str, str], str] = {
    ("voms1.grid.cesnet.cz", _VOMS): "30001G0",
    ("voms2.grid.cesnet.cz", _VOMS): "30002G0",
    ("se01.gridka.de", _SRM): "30003G0",
}

_KIND_TEXT = {
    "t1": "WLCG Tier-1 centre with compute, disk and tape storage",
    "t2": "WLCG Tier-2 centre providing compute and disk storage",
    "grid": "Grid resource centre serving EGI virtual organisations",
    "cloud": "OpenStack cloud site of the EGI Federated Cloud",
    "core": "Host of central EGI operations services",
    "test": "Testbed for middleware validation and staged rollout",
}


def _demo_service_count(site: _DemoSite, index: int) -> int:
    if site.kind == "t1":
        return 12
    if site.kind == "t2":
        return 7 + index % 2
    if site.kind == "cloud":
        return 5 + index % 2
    if site.kind == "core":
        return len(_CORE_PROFILE)
    if site.kind == "test":
        return 4
    return 4 if site.status is _CLOSED else 5


def _demo_site_scopes(site: _DemoSite) -> list[str]:
    names = [_LOCAL if site.local_only else _EGI]
    if site.kind in ("t1", "t2"):
        names += [_WLCG, _TIER1 if site.kind == "t1" else _TIER2]
    if site.kind == "cloud":
        names.append(_FEDCLOUD)
    return names


def _demo_flags(site: _DemoSite, index: int, label: str) -> tuple[bool, bool, bool]:
    """(production, monitored, beta) for one demo service."""
    if site.infra is _TEST:
        return False, label.startswith(("ce", "site-bdii")), False
    if site.status is _CLOSED:
        return False, False, False
    if site.status in (_CANDIDATE, _UNCERTIFIED):
        return False, True, False
    if label in ("squid02", "voms2"):
        return True, False, False  # the type has a monitoring exception
    if label == "ce03":
        return False, True, False  # a new CE still being commissioned
    return True, True, label == "ce02" and index % 3 == 0


def _demo_site_properties(site: _DemoSite, rng: random.Random) -> list[tuple[str, str]]:
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
    site: _DemoSite, type_name: str, rng: random.Random
) -> list[tuple[str, str]]:
    if type_name in _CE_TYPES:
        return [
            ("batch_system", site.batch),
            ("hepspec06", str(rng.randrange(50, 900) * 100)),
        ]
    if type_name == _SRM:
        return [("storage_implementation", site.storage), ("vo", site.vo)]
    if type_name in _STORAGE_TYPES or type_name == _VOMS:
        return [("vo", site.vo)]
    if type_name == _NOVA:
        return [("gpu", "true" if rng.random() < 0.4 else "false")]
    return []


_DEMO_ENDPOINT_PROPERTIES: dict[tuple[str, str], tuple[str, str]] = {
    (_NOVA, "main"): ("keystone_version", "v3"),
    (_OCCI, "main"): ("occi_version", "1.2"),
    (_SRM, "gridftp"): ("max_streams", "10"),
    (_ARC, "main"): ("arc_version", "6.20"),
    (_VOMS, "main"): ("voms_admin", "true"),
}


def _service_scopes(site_scopes: Sequence[str], type_name: str, local_only: bool) -> list[str]:
    base = [_LOCAL] if local_only else [s for s in site_scopes if s in _NON_RESERVED]
    if _WLCG in site_scopes and type_name in _WLCG_TYPES:
        base.append(_WLCG)
    if _FEDCLOUD in site_scopes and type_name in _CLOUD_TYPES:
        base.append(_FEDCLOUD)
    return base


def _url(template: str, *, host: str, site: str, vo: str) -> str:
    return template.format(host=host, site=site, vo=vo)


def seed_demo(session: Session) -> None:
    """Write a small, realistic EGI-like federation (deterministic) and flush it."""
    rng = random.Random(20251123)
    project_id = _ensure_project(session)
    scope_ids = _ensure_scopes(session)
    types = _ensure_service_types(session)
    countries = _ensure_countries(
        session, [_COUNTRY_BY_CODE[c] for c in dict.fromkeys(s.country for s in _DEMO_SITES)]
    )

    ngi_ids: dict[str, int] = {}
    for ngi in _DEMO_NGIS:
        sites_of = [s for s in _DEMO_SITES if s.ngi == ngi.name]
        ngi_scopes = [_EGI]
        if any(s.kind in ("t1", "t2") for s in sites_of):
            ngi_scopes.append(_WLCG)
        if any(s.kind == "cloud" for s in sites_of):
            ngi_scopes.append(_FEDCLOUD)
        ngi_ids[ngi.name] = _ensure_ngi(
            session,
            name=ngi.name,
            description=ngi.description,
            domain=ngi.domain,
            project_id=project_id,
            scope_ids=[scope_ids[n] for n in ngi_scopes],
            primary_key=ngi.primary_key,
        )

    services_by_role: dict[str, list[int]] = {"core": [], "t1_srm": [], "cloud": []}
    for index, site in enumerate(_DEMO_SITES):
        _seed_demo_site(
            session,
            rng,
            index,
            site,
            ngi_id=ngi_ids[site.ngi],
            country_id=countries[site.country],
            scope_ids=scope_ids,
            types=types,
            services_by_role=services_by_role,
        )

    groups = (
        (
            "EGI_Core_Services",
            "Central services operated for the whole EGI federation",
            services_by_role["core"],
            [_EGI],
            "26001G0",
            [("sla", "EGI-Core"), ("owner", "EGI-Foundation")],
        ),
        (
            "WLCG_Tier1_SRM",
            "SRM endpoints of the WLCG Tier-1 centres in EGI",
            services_by_role["t1_srm"],
            [_EGI, _WLCG],
            None,
            [("experiments", "alice,atlas,cms,lhcb")],
        ),
        (
            "FedCloud_Compute",
            "Compute endpoints of the EGI Federated Cloud",
            services_by_role["cloud"],
            [_EGI, _FEDCLOUD],
            None,
            [("federation", "EGI-FedCloud"), ("sla", "FedCloud-OLA")],
        ),
    )
    for name, description, members, scopes, primary_key, props in groups:
        group = writes.create_service_group(
            session,
            PLATFORM,
            name=name,
            description=description,
            monitored=True,
            email=f"{name.lower().replace('_', '-')}@egi.eu",
            service_ids=members,
            primary_key=primary_key,
        )
        group_id = pk(group)
        writes.tag_scopes(
            session,
            PLATFORM,
            kind="service_group",
            owner_id=group_id,
            scope_ids=[scope_ids[s] for s in scopes],
        )
        for key, value in props:
            writes.set_property(
                session, PLATFORM, kind="service_group", owner_id=group_id, key=key, value=value
            )
    session.flush()


def _seed_demo_site(
    session: Session,
    rng: random.Random,
    index: int,
    site: _DemoSite,
    *,
    ngi_id: int,
    country_id: int,
    scope_ids: dict[str, int],
    types: dict[str, ServiceType],
    services_by_role: dict[str, list[int]],
) -> None:
    country = _COUNTRY_BY_CODE[site.country]
    contact = f"grid-admin@{site.domain}"
    created = writes.create_site(
        session,
        PLATFORM,
        short_name=site.short_name,
        ngi_id=ngi_id,
        country_id=country_id,
        certification_status=site.status,
        production_infrastructure=site.infra,
        official_name=site.official_name,
        description=f"{site.official_name}. {_KIND_TEXT[site.kind]} in {country.name}.",
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
        notify=site.status is _CERTIFIED,
        primary_key=site.primary_key,
    )
    site_id = pk(created)
    site_scopes = _demo_site_scopes(site)
    writes.tag_scopes(
        session,
        PLATFORM,
        kind="site",
        owner_id=site_id,
        scope_ids=[scope_ids[s] for s in site_scopes],
    )
    for key, value in _demo_site_properties(site, rng):
        writes.set_property(session, PLATFORM, kind="site", owner_id=site_id, key=key, value=value)

    plan = _profile(site.kind, site.ce_type, _demo_service_count(site, index)) + list(site.extras)
    for type_name, label in plan:
        host = f"{label}.{site.domain}"
        templates = _ENDPOINTS[type_name]
        production, monitored, beta = _demo_flags(site, index, label)
        service_type = types[type_name]
        created_service = writes.create_service(
            session,
            PLATFORM,
            site_id=site_id,
            service_type_id=pk(service_type),
            host_name=host,
            url=_url(templates[0][1], host=host, site=site.short_name, vo=site.vo),
            production=production,
            monitored=monitored,
            beta=beta,
            notify=production,
            host_dn=f"/DC=org/DC=terena/DC=tcs/C={site.country}/O=EGI/CN={host}",
            operating_system="CentOS 7" if site.status is _CLOSED else "AlmaLinux 9",
            architecture="x86_64",
            email=contact,
            description=f"{service_type.description} at {site.short_name}",
            primary_key=_DEMO_SERVICE_KEYS.get((host, type_name)),
        )
        service_id = pk(created_service)
        local_only = site.local_only or label == "squid02"
        writes.tag_scopes(
            session,
            PLATFORM,
            kind="service",
            owner_id=service_id,
            scope_ids=[scope_ids[s] for s in _service_scopes(site_scopes, type_name, local_only)],
        )
        for key, value in _demo_service_properties(site, type_name, rng):
            writes.set_property(
                session, PLATFORM, kind="service", owner_id=service_id, key=key, value=value
            )
        # Closed and test sites keep only their main endpoint.
        keep = 1 if site.status is _CLOSED or site.infra is _TEST else len(templates)
        for name, template, interface in templates[:keep]:
            endpoint = writes.add_endpoint(
                session,
                PLATFORM,
                service_id=service_id,
                name=name,
                url=_url(template, host=host, site=site.short_name, vo=site.vo),
                interface_name=interface,
                description=f"{name} endpoint of {host}",
            )
            prop = _DEMO_ENDPOINT_PROPERTIES.get((type_name, name))
            if prop is not None:
                writes.set_property(
                    session,
                    PLATFORM,
                    kind="endpoint",
                    owner_id=pk(endpoint),
                    key=prop[0],
                    value=prop[1],
                )
        if type_name in (_VOMS, _PERUN, _ARGUS, _APEL, _STORAGE_ACCOUNTING) or (
            type_name == _TOP_BDII and site.kind in ("t1", "core")
        ):
            services_by_role["core"].append(service_id)
        if type_name == _SRM and site.kind == "t1":
            services_by_role["t1_srm"].append(service_id)
        if type_name in (_NOVA, _OCCI) and site.kind == "cloud":
            services_by_role["cloud"].append(service_id)


# ---------------------------------------------------------------------------------------
# Synthetic infrastructure for benchmarks

_STATUS_WEIGHTS: tuple[tuple[CertificationStatus, int], ...] = (
    (_CERTIFIED, 70),
    (_UNCERTIFIED, 8),
    (_CANDIDATE, 7),
    (_SUSPENDED, 5),
    (_CLOSED, 10),
)
_INSTITUTES = ("UNI", "HEP", "PHYS", "GRID", "CC", "LAB", "RC", "TECH", "NUCL", "ASTRO")
_BATCH_SYSTEMS = ("HTCondor", "Slurm", "PBS", "LSF")
_VOS = ("atlas", "cms", "lhcb", "alice", "biomed", "enmr.eu", "vo.access.egi.eu")


@dataclass(slots=True)
class _Planned:
    """One synthetic site before insertion: its row and what hangs off it."""

    row: dict[str, Any]
    kind: str
    ce_type: str
    vo: str
    scopes: list[str]
    properties: list[tuple[str, str]] = field(default_factory=list)


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


def _scale_ngi_name(j: int) -> str:
    base = _SCALE_COUNTRIES[j % len(_SCALE_COUNTRIES)].ngi
    return base if j < len(_SCALE_COUNTRIES) else f"{base}_{j // len(_SCALE_COUNTRIES) + 1}"


def _scale_ngi_index(i: int, n_ngis: int) -> int:
    """NGIs own the countries they are named after; big runs split a country over NGIs."""
    n_countries = len(_SCALE_COUNTRIES)
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
    country = _SCALE_COUNTRIES[i % len(_SCALE_COUNTRIES)]
    roll = rng.random()
    kind = "cloud" if roll < 0.12 else "t1" if roll < 0.14 else "t2" if roll < 0.44 else "grid"
    institute = "CLOUD" if kind == "cloud" else rng.choice(_INSTITUTES)
    short_name = f"{country.code}-{institute}-{number:04d}"
    domain = f"{institute.lower()}{number:04d}.{country.tld}"
    status = rng.choices([s for s, _ in _STATUS_WEIGHTS], weights=[w for _, w in _STATUS_WEIGHTS])[
        0
    ]
    infra = _PROD if rng.random() < 0.9 else _TEST
    ce_type = _ARC if rng.random() < 0.55 else _HTCONDOR
    vo = rng.choice(_VOS[:4]) if kind in ("t1", "t2") else rng.choice(_VOS)
    assert rules.SHORT_NAME_RE.match(short_name)

    local = rng.random() < (0.5 if infra is _TEST else 0.08)
    scopes = [_LOCAL if local else _EGI]
    if kind in ("t1", "t2"):
        scopes += [_WLCG, _TIER1 if kind == "t1" else _TIER2]
    if kind == "cloud":
        scopes.append(_FEDCLOUD)

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
        "description": f"Synthetic {_KIND_TEXT[kind]} in {country.name}.",
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


def _scale_flags(
    rng: random.Random, site: _Planned, service_type: ServiceType
) -> tuple[bool, bool, bool]:
    """(production, monitored, beta), obeying production-implies-monitored."""
    status = site.row["certification_status"]
    if site.row["production_infrastructure"] is _TEST or status is _CLOSED:
        production = False
    elif status in (_CANDIDATE, _UNCERTIFIED):
        production = rng.random() < 0.2
    else:
        production = rng.random() >= 0.04
    if production:
        monitored = not (_may_be_unmonitored(service_type) and rng.random() < 0.25)
    else:
        monitored = status is not _CLOSED and rng.random() < 0.6
    writes.check_production_monitored(service_type, production=production, monitored=monitored)
    return production, monitored, production and rng.random() < 0.03


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
    project_id = _ensure_project(session)
    scope_ids = _ensure_scopes(session)
    types = _ensure_service_types(session)
    country_ids = _ensure_countries(session, _SCALE_COUNTRIES)
    n_ngis = max(1, round(sites / 12))
    ngi_ids = [
        _ensure_ngi(
            session,
            name=_scale_ngi_name(j),
            domain=f"ngi.{_SCALE_COUNTRIES[j % len(_SCALE_COUNTRIES)].tld}",
            description=f"Operations centre {_scale_ngi_name(j)}",
            project_id=project_id,
            scope_ids=[scope_ids[_EGI]],
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
            country_id=country_ids[_SCALE_COUNTRIES[i % len(_SCALE_COUNTRIES)].code],
        )
        for i in range(sites)
    ]
    site_ids = _insert_ids(session, svc.T_SITE, [p.row for p in planned])
    _fill_legacy_keys(session, svc.T_SITE, site_ids)
    _insert_links_and_properties(
        session,
        "site",
        scope_ids,
        [(sid, p.scopes, p.properties) for sid, p in zip(site_ids, planned, strict=True)],
    )

    # Services
    service_rows: list[dict[str, Any]] = []
    service_meta: list[tuple[_Planned, str, str]] = []  # site, type name, host
    for site_id, site in zip(site_ids, planned, strict=True):
        count = round(rng.triangular(4, 12, 5))
        domain = site.row["domain"]
        for type_name, label in _profile(site.kind, site.ce_type, count):
            host = f"{label}.{domain}"
            assert rules.HOST_NAME_RE.match(host)
            service_type = types[type_name]
            production, monitored, beta = _scale_flags(rng, site, service_type)
            main = _ENDPOINTS[type_name][0][1]
            service_rows.append(
                {
                    "primary_key": None,
                    "site_id": site_id,
                    "service_type_id": pk(service_type),
                    "host_name": host,
                    "url": _url(main, host=host, site=site.row["short_name"], vo=site.vo),
                    "production": production,
                    "monitored": monitored,
                    "beta": beta,
                    "notify": production,
                    "host_dn": f"/DC=org/DC=terena/DC=tcs/O=EGI/CN={host}",
                    "ipv4_address": None,
                    "ipv6_address": None,
                    "operating_system": "AlmaLinux 9",
                    "architecture": "x86_64",
                    "email": site.row["email"],
                    "description": f"{type_name} at {site.row['short_name']}",
                    "created_at": now,
                }
            )
            service_meta.append((site, type_name, host))
    service_ids = _insert_ids(session, svc.T_SERVICE, service_rows)
    _fill_legacy_keys(session, svc.T_SERVICE, service_ids)

    service_extras: list[tuple[int, list[str], list[tuple[str, str]]]] = []
    endpoint_rows: list[dict[str, Any]] = []
    endpoint_props: list[tuple[int, tuple[str, str]]] = []  # endpoint row index, property
    for service_id, row, (site, type_name, host) in zip(
        service_ids, service_rows, service_meta, strict=True
    ):
        local_only = _EGI in site.scopes and rng.random() < 0.05
        props: list[tuple[str, str]] = []
        if type_name in _CE_TYPES and rng.random() < 0.6:
            props.append(("hepspec06", str(rng.randrange(50, 900) * 100)))
        elif type_name in _STORAGE_TYPES and rng.random() < 0.5:
            props.append(("vo", site.vo))
        elif type_name == _NOVA and rng.random() < 0.3:
            props.append(("gpu", "true"))
        service_extras.append(
            (service_id, _service_scopes(site.scopes, type_name, local_only), props)
        )
        templates = _ENDPOINTS[type_name]
        keep = 2 if len(templates) > 1 and rng.random() < 0.45 else 1
        for name, template, interface in templates[:keep]:
            if rng.random() < 0.05:
                endpoint_props.append((len(endpoint_rows), ("interface_version", "2")))
            endpoint_rows.append(
                {
                    "service_id": service_id,
                    "name": name,
                    "url": _url(template, host=host, site=site.row["short_name"], vo=site.vo),
                    "interface_name": interface or type_name,
                    "monitored": row["monitored"],
                    "description": f"{name} endpoint of {host}",
                    "email": None,
                }
            )
    _insert_links_and_properties(session, "service", scope_ids, service_extras)
    endpoint_ids = _insert_ids(session, svc.T_ENDPOINT, endpoint_rows)
    prop_table, fk = svc.PROPERTY_TABLES["endpoint"]
    _insert(
        session,
        prop_table,
        [{fk: endpoint_ids[i], "key": k, "value": v} for i, (k, v) in endpoint_props],
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
                scope_ids=[scope_ids[_EGI]],
            )
            writes.set_property(
                session, PLATFORM, kind="service_group", owner_id=pk(group), key="vo", value=vo
            )
    session.flush()


def _insert_links_and_properties(
    session: Session,
    kind: str,
    scope_ids: dict[str, int],
    owners: Sequence[tuple[int, Sequence[str], Sequence[tuple[str, str]]]],
) -> None:
    """Scope tags and extension properties of freshly inserted owners, in two executemanys."""
    link, link_fk = svc.SCOPE_LINKS[kind]
    props, prop_fk = svc.PROPERTY_TABLES[kind]
    _insert(
        session,
        link,
        [{link_fk: oid, "scope_id": scope_ids[s]} for oid, scopes, _ in owners for s in scopes],
    )
    _insert(
        session,
        props,
        [{prop_fk: oid, "key": k, "value": v} for oid, _, pairs in owners for k, v in pairs],
    )
