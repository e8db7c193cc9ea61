"""Demo accounting (`seed_demo_accounting`): a year of grid usage summaries for the demo
federation's certified sites, so the accounting views (GraphQL `accounting`, the portal routes,
the web app's Accounting page) show figures on first start.

Per certified site, month (the twelve ending with the current one) and VO, one summary row
with deterministic figures (a fixed random seed): jobs, CPU and wall time, normalised with a
site's HS06 factor, and a few local jobs. Written straight into the summaries table (what
`refresh_grid` derives from job records), as no job record stands behind them. Flushes,
never commits.
"""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import GridSummary
from domains.common.time import utcnow
from domains.topology.models import CertificationStatus, Site

SOURCE = "demo"
MONTHS = 12
VOS = ("atlas", "cms", "lhcb", "alice", "biomed", "ops")
SUBMIT_HOST = "ce.{site}.demo"


def _months(count: int) -> list[tuple[int, int]]:
    now = utcnow()
    year, month = now.year, now.month
    out: list[tuple[int, int]] = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def seed_demo_accounting(session: Session) -> int:
    """Summary rows for the certified demo sites; how many were written."""
    rng = random.Random(15)  # noqa: S311 (demo figures, not secrets)
    sites = session.scalars(
        select(col(Site.short_name))
        .where(col(Site.certification_status) == CertificationStatus.CERTIFIED)
        .order_by(col(Site.short_name))
    ).all()
    rows: list[GridSummary] = []
    for site in sites:
        factor = rng.choice((8.0, 10.0, 12.0))  # HS06 per core
        size = rng.uniform(0.5, 3.0)
        for year, month in _months(MONTHS):
            for vo in rng.sample(VOS, k=rng.randint(2, len(VOS))):
                for infrastructure, share in (("grid", 1.0), ("local", 0.1)):
                    jobs = max(1, int(rng.uniform(200, 2000) * size * share))
                    wall = jobs * rng.randint(3600, 8 * 3600)
                    processors = 8 if vo == "atlas" else 1
                    cpu = int(wall * processors * rng.uniform(0.6, 0.95))
                    rows.append(
                        GridSummary(
                            source=SOURCE,
                            site=site,
                            year=year,
                            month=month,
                            vo=vo,
                            vo_group=f"/{vo}",
                            submit_host=SUBMIT_HOST.format(site=site.lower()),
                            infrastructure=infrastructure,
                            service_level_type="HEPSPEC",
                            service_level=factor,
                            node_count=1,
                            processors=processors,
                            wall_duration=wall,
                            cpu_duration=cpu,
                            normalised_wall_duration=int(wall * factor),
                            normalised_cpu_duration=int(cpu * factor),
                            number_of_jobs=jobs,
                        )
                    )
    session.add_all(rows)
    session.flush()
    return len(rows)
