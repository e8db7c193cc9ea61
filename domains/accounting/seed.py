"""Demo accounting (`seed_demo_accounting`): a year of grid usage for the demo federation's
certified sites, so the accounting views (GraphQL `accounting`, the portal routes, the web
app's Accounting page) show figures on first start.

- Summaries: per certified site, the VOs it supports (a few of a dozen, `ops` always), and
  each month of the twelve ending with the current one, one summary row per VO for grid and
  one for local jobs, with deterministic figures (a fixed random seed): jobs, CPU and wall
  time, normalised with the site's HS06 factor. Written straight into the summaries table
  (what `refresh_grid` derives from job records) in one bulk insert, as no job record stands
  behind them.
- Job records: the current month of the first JOB_SITES certified sites with a gLite-APEL
  host is individual jobs instead (JOBS_PER_SITE each: pilot and user DNs with their FQANs,
  multi-core production jobs, a few local ones, HEPSPEC or a v0.4 benchmark dictionary with
  HEPscore23), sent as that host would send them: APEL messages of at most MESSAGE_RECORDS
  records through `load_message`, the ingestion path's function, so that those cells'
  summaries are the loader's own.
- Report data (`seed_demo_report_data`): WLCG federations of the demo's sites (a Tier-1 and
  a few Tier-2s per country), their CPU pledges for this year and the last, and a small
  discipline tree with the demo VOs, so that the portal's reports answer on first start.

Flushes, never commits."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import (
    Discipline,
    GridSummary,
    VoDiscipline,
    WlcgFederation,
    WlcgFederationSite,
    WlcgPledge,
)
from domains.accounting.service.loading import Sender, load_message
from domains.accounting.service.summaries import month_start
from domains.common.models import pk
from domains.common.time import utcnow
from domains.topology.models import CertificationStatus, Country, Service, ServiceType, Site

SOURCE = "demo"
MONTHS = 12
VOS = (
    "atlas", "cms", "lhcb", "alice", "biomed", "ops", "dteam", "enmr.eu",
    "vo.access.egi.eu", "km3net.org", "belle", "auger",
)  # fmt: skip
MULTICORE = frozenset({"atlas", "cms"})  # their production jobs take 8 cores
SUBMIT_HOST = "ce.{site}.demo"
JOB_SITES = 4
JOBS_PER_SITE = 500
MESSAGE_RECORDS = 1000  # APEL's client sends at most 1,000 records a message
APEL_HOST_TYPE = "gLite-APEL"
# who submits: pilot robots (the VO's production role) and a few users, per VO
_DN = "/DC=eu/DC=opsgraph-demo/O={vo}/CN={name}"
_SUBMITTERS = {
    "atlas": (("Robot: ATLAS Pilot1", "/atlas/Role=production"), ("Ana Demo", "/atlas/Role=NULL")),
    "cms": (("Robot: CMS Pilot", "/cms/Role=pilot"), ("Bo Demo", "/cms/escms/Role=NULL")),
    "lhcb": (("Robot: LHCb Pilot", "/lhcb/Role=pilot"),),
    "alice": (("Robot: ALICE Pilot", "/alice/Role=lcgadmin"),),
    "biomed": (("Chiara Demo", "/biomed/Role=NULL"), ("Dev Demo", "/biomed/Role=NULL")),
    "ops": (("Robot: ARGO Probe", "/ops/Role=NULL"),),
}
_WEIGHTS = {"atlas": 40, "cms": 25, "lhcb": 12, "alice": 10, "biomed": 8, "ops": 5}


# (name, country code, tier, member sites, HS06 pledged this year); last year's is 10 % less
FEDERATIONS = (
    ("DE-KIT", "DE", 1, ("FZK-LCG2",), 9000.0),
    ("IT-INFN-CNAF", "IT", 1, ("INFN-T1",), 8000.0),
    ("FR-CCIN2P3", "FR", 1, ("IN2P3-CC",), 8500.0),
    ("UK-T1-RAL", "GB", 1, ("RAL-LCG2",), 9500.0),
    ("DE-DESY-T2", "DE", 2, ("DESY-HH", "DESY-ZN"), 5000.0),
    ("DE-MCAT", "DE", 2, ("LRZ-LMU", "MPPMU"), 4000.0),
    ("IT-INFN-T2", "IT", 2, ("INFN-BARI", "INFN-NAPOLI-ATLAS", "INFN-ROMA1"), 7000.0),
    ("FR-GRIF", "FR", 2, ("GRIF",), 3000.0),
    ("UK-London-Tier2", "GB", 2, ("UKI-LT2-QMUL", "UKI-LT2-IC-HEP", "UKI-LT2-RHUL"), 6500.0),
)
# (discipline, parent, VOs)
DISCIPLINES = (
    ("Natural Sciences", None, ()),
    ("Physical Sciences", "Natural Sciences", ()),
    ("High Energy Physics", "Physical Sciences", ("alice", "atlas", "belle", "cms", "lhcb")),
    ("Astroparticle Physics", "Physical Sciences", ("auger", "km3net.org")),
    ("Biological Sciences", "Natural Sciences", ("enmr.eu",)),
    ("Medical and Health Sciences", None, ("biomed",)),
    ("Infrastructure Operations", None, ("dteam", "ops", "vo.access.egi.eu")),
)


def seed_demo_report_data(session: Session) -> int:
    """The demo's WLCG federations, pledges and disciplines, written as rows in a few
    flushes (the setters' checks and audit cost ~300 statements; every demo start pays for
    the seed); how many federations."""
    year = utcnow().year
    countries = dict(session.execute(select(col(Country.code), col(Country.name))).all())
    known = set(session.scalars(select(col(Site.short_name))).all())
    feds = {
        name: WlcgFederation(name=name, country=countries[code], tier=tier)
        for name, code, tier, _, _ in FEDERATIONS
    }
    session.add_all(feds.values())
    session.flush()
    for name, _, _, sites, pledge in FEDERATIONS:
        fid = pk(feds[name])
        session.add_all(WlcgFederationSite(federation_id=fid, site=s) for s in sites if s in known)
        session.add_all(
            WlcgPledge(federation_id=fid, year=when, cpu_hs06=cpu)
            for when, cpu in ((year - 1, pledge * 0.9), (year, pledge))
        )
    made: dict[str, Discipline] = {}
    for name, parent, _ in DISCIPLINES:  # parents first
        made[name] = Discipline(name=name, parent_id=None if parent is None else pk(made[parent]))
        session.add(made[name])
        session.flush()
    session.add_all(
        VoDiscipline(vo=vo, discipline_id=pk(made[name]))
        for name, _, vos in DISCIPLINES
        for vo in vos
    )
    session.flush()
    return len(FEDERATIONS)


class Seeded(NamedTuple):
    summaries: int  # rows inserted straight into the summaries table
    jobs: int  # job records loaded


def _months(count: int) -> list[tuple[int, int]]:
    now = utcnow()
    year, month = now.year, now.month
    out: list[tuple[int, int]] = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def _apel_hosts(session: Session, sites: list[str]) -> dict[str, str]:
    """Each certified site's gLite-APEL host DN (the sender), where it has one."""
    found = session.execute(
        select(col(Site.short_name), col(Service.host_dn))
        .join(Service, col(Service.site_id) == col(Site.id))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .where(col(ServiceType.name) == APEL_HOST_TYPE, col(Site.short_name).in_(sites))
        .order_by(col(Site.short_name), col(Service.host_dn))
    )
    hosts: dict[str, str] = {}
    for site, dn in found:
        if dn:
            hosts.setdefault(str(site), str(dn))
    return hosts


def seed_demo_accounting(session: Session) -> Seeded:
    """The demo's summaries and job records; how many of each."""
    rng = random.Random(15)  # noqa: S311 (demo figures, not secrets)
    sites = list(
        session.scalars(
            select(col(Site.short_name))
            .where(col(Site.certification_status) == CertificationStatus.CERTIFIED)
            .order_by(col(Site.short_name))
        ).all()
    )
    hosts = _apel_hosts(session, sites)
    with_jobs = [s for s in sites if s in hosts][:JOB_SITES]
    now = utcnow()
    this_month = (now.year, now.month)
    rows: list[dict[str, object]] = []
    factors: dict[str, float] = {}
    supported: dict[str, list[str]] = {}
    for site in sites:
        factor = factors[site] = rng.choice((8.0, 10.0, 12.0))  # HS06 per core
        size = rng.uniform(0.5, 3.0)
        vos = supported[site] = ["ops", *rng.sample(VOS[:5] + VOS[6:], k=rng.randint(2, 6))]
        for year, month in _months(MONTHS):
            if site in with_jobs and (year, month) == this_month:
                continue  # the loader derives it from the job records
            for vo in vos:
                for infrastructure, share in (("grid", 1.0), ("local", 0.1)):
                    jobs = max(1, int(rng.uniform(200, 2000) * size * share))
                    wall = jobs * rng.randint(3600, 8 * 3600)
                    processors = 8 if vo in MULTICORE else 1
                    cpu = int(wall * processors * rng.uniform(0.6, 0.95))
                    rows.append(
                        {
                            "source": SOURCE,
                            "updated_at": now,
                            "site": site,
                            "year": year,
                            "month": month,
                            "global_user_name": "",
                            "vo": vo,
                            "vo_group": f"/{vo}",
                            "vo_role": "",
                            "submit_host": SUBMIT_HOST.format(site=site.lower()),
                            "infrastructure": infrastructure,
                            "infrastructure_description": "",
                            "service_level_type": "HEPSPEC",
                            "service_level": factor,
                            "node_count": 1,
                            "processors": processors,
                            "wall_duration": wall,
                            "cpu_duration": cpu,
                            "normalised_wall_duration": int(wall * factor),
                            "normalised_cpu_duration": int(cpu * factor),
                            "number_of_jobs": jobs,
                        }
                    )
    if rows:
        session.execute(insert(GridSummary.__table__), rows)  # type: ignore[attr-defined]
    loaded = 0
    for number, site in enumerate(with_jobs):
        records = _job_records(rng, site, factors[site], supported[site], now, v04=number % 2 == 1)
        sender = Sender(hosts[site], frozenset({site}), SOURCE)
        header = f"APEL-individual-job-message: v{'0.4' if number % 2 else '0.3'}\n"
        for start in range(0, len(records), MESSAGE_RECORDS):
            body = header + "%%\n".join(records[start : start + MESSAGE_RECORDS]) + "%%\n"
            message_id = f"demo-{site}-{start // MESSAGE_RECORDS}"
            outcome = load_message(session, body.encode(), sender, message_id, now)
            if outcome.reject_id is not None:  # pragma: no cover - the demo's own records
                raise RuntimeError(f"demo job records refused: {outcome.reason}")
            loaded += outcome.records
    seed_demo_report_data(session)
    session.flush()
    return Seeded(len(rows), loaded)


def _job_records(
    rng: random.Random,
    site: str,
    factor: float,
    supported: list[str],
    now: datetime,
    *,
    v04: bool,
) -> list[str]:
    """JOBS_PER_SITE job records of `site` ending this month (before `now`), of the VOs it
    supports, as APEL's client writes them (v0.3 with HEPSPEC, or v0.4 with a benchmark
    dictionary)."""
    begin = month_start(now.year, now.month)
    span = max(int((now - begin).total_seconds()) - 60, 1)
    host = site.lower()
    benchmark = (
        f"ServiceLevel: {{HEPSPEC: {factor}, HEPscore23: {round(factor * 1.1, 2)}}}\n"
        if v04
        else f"ServiceLevelType: HEPSPEC\nServiceLevel: {factor}\n"
    )
    vos = [vo for vo in _SUBMITTERS if vo in supported]  # ops at least
    weights = [_WEIGHTS[vo] for vo in vos]
    out: list[str] = []
    for number in range(JOBS_PER_SITE):
        vo = rng.choices(vos, weights)[0]
        name, fqan = rng.choice(_SUBMITTERS[vo])
        production = name.startswith("Robot") and vo in MULTICORE
        processors = 8 if production else 1
        wall = 60 if vo == "ops" else int(rng.triangular(600, 48 * 3600, 6 * 3600))
        cpu = int(wall * processors * rng.uniform(0.55, 0.97))
        end = begin + timedelta(seconds=rng.randrange(span))
        start = end - timedelta(seconds=wall)
        local = rng.random() < 0.03
        out.append(
            f"Site: {site}\nSubmitHost: {SUBMIT_HOST.format(site=host)}:9619/{host}-condor\n"
            f"MachineName: wn{rng.randrange(1, 200):03d}.{host}.demo\nQueue: {vo}\n"
            f"LocalJobId: {number + 1}.0\nLocalUserId: {vo}{rng.randrange(1, 9):03d}\n"
            f"GlobalUserName: {_DN.format(vo=vo, name=name)}\n"
            f"FQAN: {fqan}/Capability=NULL\nWallDuration: {wall}\nCpuDuration: {cpu}\n"
            f"Processors: {processors}\nNodeCount: 1\n"
            f"StartTime: {int(start.timestamp())}\nEndTime: {int(end.timestamp())}\n"
            f"InfrastructureDescription: APEL-HTCONDORCE-HTCONDOR\n"
            f"InfrastructureType: {'local' if local else 'grid'}\n"
            f"MemoryReal: {processors * rng.randrange(1_500_000, 2_500_000)}\n"
            f"MemoryVirtual: {processors * rng.randrange(2_500_000, 4_000_000)}\n"
            f"{benchmark}"
        )
    return out
