"""The accounting portal's whole-dataset export (EGI's `/csv` and `/json`): one row per month,
site, VO, CE (submit host or cloud compute service), benchmark and infrastructure (`Grid`,
`Grid-Local`, `Cloud`), read with a server-side cursor in batches so that no size of the
summary tables is held in memory. Public: aggregates only, no user identity.

Columns as EGI's export names them; `federation` and `tier` are the site's WLCG federation
and its tier (service/reportdata.py; None for a site in none). Times are hours:
`raw_cpu_time` CPU time, `raw_wc_time` wall-clock time × processors (a VM's vCPUs; 0
counted as 1), `raw_cpu_work` and `raw_wc_work` the same normalised (HS06 hours; for cloud
rows × the records' benchmark, None when none was sent), `raw_cpu_eff` = raw_cpu_time /
raw_wc_time in percent (None without wall-clock time)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import CloudUsageSummary, GridSummary
from domains.accounting.service.pivot import joined
from domains.accounting.service.reportdata import federation_of_sites
from domains.topology.models import Country, Ngi

COLUMNS = (
    "time",
    "benchmark",
    "ce",
    "country",
    "federation",
    "infrastructure",
    "site",
    "tier",
    "vo",
    "ngi",
    "number_of_jobs",
    "raw_cpu_eff",
    "raw_cpu_time",
    "raw_cpu_work",
    "raw_wc_time",
    "raw_wc_work",
)
BATCH = 1000  # rows fetched at a time
HOUR = 3600.0

Row = tuple[Any, ...]


def _float(value: Any) -> float:
    return float(value or 0) if not isinstance(value, Decimal) else float(value)


def _text(value: Any) -> str | None:
    return str(value) if value else None


Wlcg = dict[str, tuple[str, int]]  # a site's federation and tier


def _row(wlcg: Wlcg, keys: Row, jobs: Any, cpu: Any, wc: Any, cpu_work: Any, wc_work: Any) -> Row:
    year, month, benchmark, ce, country, infrastructure, site, vo, ngi = keys
    cpu_h, wc_h = _float(cpu) / HOUR, _float(wc) / HOUR
    federation, tier = wlcg.get(site, (None, None))
    return (
        f"{year:04d}-{month:02d}-01T00:00:00Z",
        _text(benchmark),
        _text(ce),
        _text(country),
        federation,
        infrastructure,
        site,
        tier,
        vo,
        _text(ngi),
        int(jobs or 0),
        100.0 * cpu_h / wc_h if wc_h else None,
        cpu_h,
        None if cpu_work is None else _float(cpu_work) / HOUR,
        wc_h,
        None if wc_work is None else _float(wc_work) / HOUR,
    )


def _keys(table: Any, benchmark: Any, ce: Any, infrastructure: Any) -> list[Any]:
    """The grouping columns in the order of `_row`'s keys; `infrastructure` a string is
    no column (PostgreSQL refuses a constant in GROUP BY): it is put in afterwards."""
    keys = [col(table.year), col(table.month), benchmark, ce, col(Country.name)]
    if not isinstance(infrastructure, str):
        keys.append(infrastructure)
    return [*keys, col(table.site), col(table.vo), col(Ngi.name)]


def export_rows(session: Session) -> Iterator[Row]:
    """Every row of the export (COLUMNS), grid rows then cloud rows, each by time."""
    wlcg = federation_of_sites(session)  # a few hundred sites at most: read once
    g = GridSummary
    processors = case((col(g.processors) > 0, col(g.processors)), else_=1)
    local = func.lower(col(g.infrastructure)) == "local"
    keys = _keys(
        g, col(g.service_level_type), col(g.submit_host), case((local, "Grid-Local"), else_="Grid")
    )
    grid = (
        joined(
            select(
                *keys,
                func.sum(col(g.number_of_jobs)),
                func.sum(col(g.cpu_duration)),
                func.sum(col(g.wall_duration) * processors),
                func.sum(col(g.normalised_cpu_duration)),
                func.sum(col(g.normalised_wall_duration) * processors),
            ),
            g,
        )
        .group_by(*keys)
        .order_by(*keys)
        .execution_options(yield_per=BATCH)
    )
    for found in session.execute(grid):
        yield _row(wlcg, tuple(found[:9]), *found[9:])

    c = CloudUsageSummary
    vcpus = case((col(c.cpu_count) > 0, col(c.cpu_count)), else_=1.0)
    keys = _keys(c, col(c.benchmark_type), col(c.cloud_compute_service), "Cloud")
    cloud = (
        joined(
            select(
                *keys,
                func.sum(col(c.number_of_vms)),
                func.sum(col(c.cpu_duration)),
                func.sum(col(c.wall_duration) * vcpus),
                func.sum(col(c.cpu_duration) * col(c.benchmark)),
                func.sum(col(c.wall_duration) * vcpus * col(c.benchmark)),
                func.max(col(c.benchmark)),
            ),
            c,
        )
        .group_by(*keys)
        .order_by(*keys)
        .execution_options(yield_per=BATCH)
    )
    for found in session.execute(cloud):
        benchmarked = _float(found[13]) > 0
        works = found[11:13] if benchmarked else (None, None)
        keys_found = (*found[:5], "Cloud", *found[5:8])
        yield _row(wlcg, keys_found, found[8], found[9], found[10], *works)
