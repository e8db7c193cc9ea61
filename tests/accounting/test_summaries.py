"""Summaries on both databases, kept current per (site, month) cell by every loaded message:
grid (APEL's HybridSuperSummaries, with its replacement order), cloud (monthly differences,
no stale rows), storage (the month's latest snapshot) and the sync comparison."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from domains.accounting import seed
from domains.accounting.models import (
    CloudUsageSummary,
    GridSummary,
    JobRecord,
    RejectedMessage,
    StorageSummary,
)
from domains.accounting.service.loading import load_message
from domains.accounting.service.summaries import SyncLine, rebuild, sync_comparison
from domains.common.time import utcnow
from tests.accounting.test_formats import CLOUD, END, JOB, STAR_DOC, job_message
from tests.accounting.test_loading import NOW, a_site, sender
from tests.conftest import StatementCounter

SUMMARY_TABLES = (GridSummary, CloudUsageSummary, StorageSummary)


def job(site: str, job_id: str, **fields: Any) -> str:
    """The test job of `site` with some fields replaced (None: the line left out)."""
    lines = dict(line.split(": ", 1) for line in JOB.strip().splitlines())
    lines |= {"Site": site, "LocalJobId": job_id}
    lines |= {k: str(v) for k, v in fields.items() if v is not None}
    return "".join(
        f"{k}: {v}\n" for k, v in lines.items() if k not in fields or fields[k] is not None
    )


def load(session: Session, site: str, body: str, message_id: str = "m") -> None:
    outcome = load_message(session, body.encode(), sender(site), message_id, NOW)
    assert outcome.reject_id is None, outcome.reason


def summary_message(site: str, level: float, wall: int, version: str = "0.2") -> str:
    """A site summary with the test job's key (service level `level`)."""
    dims = (
        f"Site: {site}\nMonth: 11\nYear: 2026\n"
        "GlobalUserName: /C=UK/O=eScience/OU=Oxford/L=OeSC/CN=some user\n"
        "VO: atlas\nVOGroup: /atlas\nVORole: Role=production\n"
        "SubmitHost: t2ce06.physics.ox.ac.uk:8443/cream-pbs-gridpp\n"
        "NodeCount: 1\nProcessors: 8\n"
        f"EarliestEndTime: {END}\nLatestEndTime: {END}\n"
        f"WallDuration: {wall}\nCpuDuration: 100\nNumberOfJobs: 5\n"
    )
    if version == "0.2":
        level_lines = f"ServiceLevelType: HEPSPEC\nServiceLevel: {level}\n"
        return f"APEL-summary-job-message: v0.2\n{dims}InfrastructureType: grid\n{level_lines}"
    normalised = "NormalisedWallDuration: {HEPSPEC: 999}\nNormalisedCpuDuration: {HEPSPEC: 99}\n"
    return f"APEL-normalised-summary-message: v0.4\n{dims}Infrastructure: grid\n{normalised}"


def grid(session: Session) -> list[GridSummary]:
    order = (col(GridSummary.site), col(GridSummary.month), col(GridSummary.service_level))
    return list(session.execute(select(GridSummary).order_by(*order)).scalars())


def values(session: Session, model: type[SQLModel]) -> list[tuple[Any, ...]]:
    """A table's rows without their id and update time, sorted."""
    table = model.__table__  # type: ignore[attr-defined]
    columns = [c for c in table.c if c.name not in ("id", "updated_at")]
    return sorted(tuple(r) for r in session.execute(select(*columns)))


def test_normalisation_of_si2k_hepspec_hepscore23_and_custom(session: Session) -> None:
    site = a_site(session)
    benchmarks = {"si2k": 2500, "HEPSPEC": 10.5, "HEPscore23": 12}
    records = [job(site, t, ServiceLevelType=t, ServiceLevel=v) for t, v in benchmarks.items()]
    records.append(job(site, "custom", ServiceLevelType=None, ServiceLevel=None))
    load(session, site, job_message(*records))
    found = {
        r.service_level_type: (r.normalised_wall_duration, r.normalised_cpu_duration)
        for r in grid(session)
    }
    # wall 3600 s and CPU 3400 s × the factor: si2k / 250, HEPSPEC and HEPscore23 1:1, custom 1
    assert found == {
        "si2k": (36000, 34000),
        "HEPSPEC": (37800, 35700),
        "HEPscore23": (43200, 40800),
        "custom": (3600, 3400),
    }
    [row] = [r for r in grid(session) if r.service_level_type == "HEPSPEC"]
    assert (row.site, row.year, row.month, row.infrastructure, row.number_of_jobs) == (
        site,
        2026,
        11,
        "grid",
        1,
    )
    assert row.earliest_end_time == row.latest_end_time == datetime.fromtimestamp(END, UTC)
    assert (row.source, row.wall_duration, row.cpu_duration) == ("jobs", 3600, 3400)


def test_jobs_of_one_key_are_summed_and_a_negative_duration_counts_as_zero(
    session: Session,
) -> None:
    site = a_site(session)
    load(session, site, job_message(job(site, "1"), job(site, "2", CpuDuration=-50)))
    [row] = grid(session)
    assert (row.number_of_jobs, row.wall_duration, row.cpu_duration) == (2, 7200, 3350)
    assert row.normalised_cpu_duration == round(3400 * 10.5)  # max(-50, 0) adds nothing


def test_site_summaries_replace_job_rows_of_an_identical_key_and_normalised_ones_both(
    session: Session,
) -> None:
    site = a_site(session)
    load(session, site, job_message(job(site, "1"), job(site, "2", ServiceLevel=0)))
    assert [(r.service_level, r.source) for r in grid(session)] == [(0.0, "jobs"), (10.5, "jobs")]
    load(session, site, summary_message(site, 10.5, wall=1000))
    rows = grid(session)
    assert [(r.service_level, r.source) for r in rows] == [
        (0.0, "jobs"),
        (10.5, "site summary"),
    ]
    # normalised row by row: 1000 s × 10.5
    assert (rows[1].wall_duration, rows[1].normalised_wall_duration, rows[1].number_of_jobs) == (
        1000,
        10500,
        5,
    )
    # a normalised summary comes in with service level 0 (as APEL copies it): it replaces the
    # row of that key, whether derived from jobs or sent as a summary
    load(session, site, summary_message(site, 0, wall=2000))
    assert [(r.service_level, r.source) for r in grid(session)] == [
        (0.0, "site summary"),
        (10.5, "site summary"),
    ]
    load(session, site, summary_message(site, 0, wall=3000, version="0.4"))
    rows = grid(session)
    assert [(r.service_level, r.source) for r in rows] == [
        (0.0, "site normalised summary"),
        (10.5, "site summary"),
    ]
    assert (rows[0].wall_duration, rows[0].normalised_wall_duration) == (3000, 999)


def test_a_message_refreshes_only_its_cells_and_sending_it_again_changes_nothing(
    session: Session, statements: StatementCounter
) -> None:
    mine, other = a_site(session, 0), a_site(session, 1)
    october = int(datetime(2026, 10, 20, tzinfo=UTC).timestamp())
    load(
        session,
        mine,
        job_message(job(mine, "1"), job(mine, "2", StartTime=october - 60, EndTime=october)),
    )
    load(session, other, job_message(job(other, "1")))
    before = {(r.site, r.month): (r.id, r.updated_at, r.number_of_jobs) for r in grid(session)}
    assert len(before) == 3
    statements.reset()
    load(session, mine, job_message(job(mine, "3")), "again")
    summary_statements = [s for s in statements.statements if "accounting_grid_summary" in s]
    assert summary_statements
    assert all("WHERE" in s for s in summary_statements)  # of the cell, never the whole table
    after = {(r.site, r.month): (r.id, r.updated_at, r.number_of_jobs) for r in grid(session)}
    # the other site's cell and this site's October were neither read nor written
    assert after[(other, 11)] == before[(other, 11)]
    assert after[(mine, 10)] == before[(mine, 10)]
    assert after[(mine, 11)][0] == before[(mine, 11)][0]  # the same row, updated
    assert after[(mine, 11)][2] == 2
    assert after[(mine, 11)][1] > before[(mine, 11)][1]
    # the same message again: nothing in the summaries is written (PostgreSQL refreshes in
    # one INSERT ... ON CONFLICT statement: no row of it gets a new version, a new ctid)
    versions = row_versions(session)
    statements.reset()
    load(session, mine, job_message(job(mine, "3")), "again")
    writes = [
        s
        for s in statements.statements
        if "accounting_grid_summary" in s
        and s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    if versions is None:
        assert writes == []
    else:
        assert row_versions(session) == versions
    assert {(r.site, r.month): (r.id, r.updated_at, r.number_of_jobs) for r in grid(session)} == (
        after
    )


def row_versions(session: Session) -> list[tuple[Any, ...]] | None:
    """PostgreSQL: each grid summary row's id and physical version (ctid; an UPDATE writes a
    new version even of equal values); None elsewhere."""
    if session.connection().dialect.name != "postgresql":
        return None
    query = text("SELECT id, CAST(ctid AS text) FROM accounting_grid_summary ORDER BY id")
    return [tuple(r) for r in session.execute(query)]


def cloud(site: str, uuid: str, status: str, at: datetime, wall: int, **more: Any) -> str:
    """A VM record measured at `at` (RecordCreateTime; EndTime when completed)."""
    record = (
        CLOUD.replace("SiteName: CESGA", f"SiteName: {site}")
        .replace("VMUUID: 2a1b-33", f"VMUUID: {uuid}")
        .replace("Status: started", f"Status: {status}")
        .replace("WallDuration: 7200", f"WallDuration: {wall}")
        .replace("CpuDuration: 7000", f"CpuDuration: {wall * 2}")
        .replace("NetworkInbound: 1", f"NetworkInbound: {wall // 10}")
    )
    stamp = int(at.timestamp())
    if status == "completed":
        record = record.replace("EndTime: NULL", f"EndTime: {stamp}")
    else:
        record += f"RecordCreateTime: {stamp}\n"
    for key, value in more.items():
        record += f"{key}: {value}\n"
    return f"APEL-cloud-message: v0.4\n{record}"


def cloud_rows(session: Session) -> list[tuple[Any, ...]]:
    t = CloudUsageSummary
    query = select(
        col(t.month),
        col(t.status),
        col(t.wall_duration),
        col(t.cpu_duration),
        col(t.network_inbound),
        col(t.memory),
        col(t.number_of_vms),
        col(t.source),
    ).order_by(col(t.year), col(t.month), col(t.status))
    return [tuple(r) for r in session.execute(query)]


NOV_20 = datetime(2026, 11, 20, tzinfo=UTC)
DEC_3 = datetime(2026, 12, 3, tzinfo=UTC)


def test_each_month_of_a_vm_gets_the_usage_accrued_in_it_whatever_the_order_loaded(
    session: Session,
) -> None:
    site = a_site(session)
    # December first: alone, it holds all of the VM's use so far
    load(session, site, cloud(site, "vm-1", "started", DEC_3, wall=1750))
    assert cloud_rows(session) == [(12, "started", 1750, 3500, 175, 4096, 1, "cloud records")]
    # November's measurement arrives: December is recomputed as the difference
    load(session, site, cloud(site, "vm-1", "started", NOV_20, wall=1000))
    assert cloud_rows(session) == [
        (11, "started", 1000, 2000, 100, 4096, 1, "cloud records"),
        (12, "started", 750, 1500, 75, 4096, 1, "cloud records"),
    ]


def test_a_vm_gone_from_started_to_completed_leaves_no_stale_started_row(
    session: Session,
) -> None:
    site = a_site(session)
    # APEL #217's shape: 100 while running, then completed at 750 in the same month
    load(session, site, cloud(site, "vm-2", "started", NOV_20, wall=100))
    load(session, site, cloud(site, "vm-3", "completed", NOV_20, wall=50))
    load(session, site, cloud(site, "vm-2", "completed", datetime(2026, 11, 25, tzinfo=UTC), 750))
    rows = cloud_rows(session)
    assert rows == [(11, "completed", 800, 1600, 80, 8192, 2, "cloud records")]
    assert sum(r[2] for r in rows) == 800  # not 900: the stale `started` 100 is gone


def test_a_site_cloud_summary_replaces_the_derived_row_of_its_key(session: Session) -> None:
    site = a_site(session)
    load(session, site, cloud(site, "vm-1", "started", NOV_20, wall=1000))
    sent = (
        f"APEL-cloud-summary-message: v0.4\nSiteName: {site}\n"
        "CloudComputeService: cloud.cesga.es\nMonth: 11\nYear: 2026\n"
        "GlobalUserName: /DC=org/CN=user\nVO: fedcloud.egi.eu\nVOGroup: /fedcloud.egi.eu\n"
        "VORole: Role=NULL\nStatus: started\nImageId: img-7\nCpuCount: 2.5\n"
        "BenchmarkType: HEPSPEC06\nBenchmark: 0\nWallDuration: 5\nNumberOfVMs: 3\n"
    )
    load(session, site, sent)
    assert cloud_rows(session) == [(11, "started", 5, None, None, None, 3, "site cloud summary")]


def star(site: str, record_id: str, end: str, used: int, user: str = "u1") -> str:
    return (
        STAR_DOC.replace("EXAMPLE-SITE", site)
        .replace("host.example.org/sr/87912469269276", record_id)
        .replace("<sr:EndTime>2026-12-01T00:00:00Z", f"<sr:EndTime>{end}")
        .replace("14728", str(used))
        .replace("<sr:Group>", f"<sr:UserIdentity>{user}</sr:UserIdentity><sr:Group>")
    )


def test_storage_summaries_hold_the_months_latest_snapshot(session: Session) -> None:
    site = a_site(session)
    load(session, site, star(site, "r1", "2026-11-10T00:00:00Z", 100))
    load(session, site, star(site, "r2", "2026-11-20T00:00:00Z", 200))
    load(session, site, star(site, "r3", "2026-11-20T00:00:00Z", 30, user="u2"))
    load(session, site, star(site, "r4", "2026-12-01T00:00:00Z", 500))
    query = select(StorageSummary).order_by(col(StorageSummary.month))
    rows = list(session.execute(query).scalars())
    assert [
        (r.month, r.records, r.resource_capacity_used, r.logical_capacity_used) for r in rows
    ] == [
        (11, 2, 230, 2 * 13617),
        (12, 1, 500, 13617),
    ]
    assert (rows[0].end_time, rows[0].file_count, rows[0].group_name) == (
        datetime(2026, 11, 20, tzinfo=UTC),
        84,
        "atlas",
    )
    # an older record arriving late changes nothing
    before = values(session, StorageSummary)
    load(session, site, star(site, "r0", "2026-11-01T00:00:00Z", 1))
    assert values(session, StorageSummary) == before


def test_sync_comparison_per_submit_host(session: Session) -> None:
    site = a_site(session)
    load(session, site, job_message(job(site, "1"), job(site, "2"), job(site, "3", SubmitHost="z")))
    host = "t2ce06.physics.ox.ac.uk:8443/cream-pbs-gridpp"
    sync = (
        f"APEL-sync-message: v0.1\nSite: {site}\nSubmitHost: {host}\nNumberOfJobs: 3\n"
        f"Month: 11\nYear: 2026\n%%\nSite: {site}\nSubmitHost: y\nNumberOfJobs: 1\n"
        "Month: 11\nYear: 2026\n"
    )
    load(session, site, sync)
    lines = sync_comparison(session, site, 2026, 11)
    assert lines == [SyncLine(host, 3, 2), SyncLine("y", 1, 0), SyncLine("z", None, 1)]
    assert [line.in_sync for line in lines] == [False, False, False]
    assert sync_comparison(session, site, 2026, 10) == []


def test_rebuild_gives_the_tables_the_incremental_refreshes_built(session: Session) -> None:
    mine, other = a_site(session, 0), a_site(session, 1)
    october = int(datetime(2026, 10, 20, tzinfo=UTC).timestamp())
    load(
        session,
        mine,
        job_message(job(mine, "1"), job(mine, "2", StartTime=october - 60, EndTime=october)),
    )
    load(session, other, job_message(job(other, "1", ServiceLevelType="si2k", ServiceLevel=2000)))
    load(session, mine, summary_message(mine, 10.5, wall=1000))
    load(session, mine, summary_message(mine, 0, wall=3000, version="0.4"))
    load(session, mine, cloud(mine, "vm-1", "started", DEC_3, wall=1750))
    load(session, mine, cloud(mine, "vm-1", "started", NOV_20, wall=1000))
    load(session, mine, cloud(mine, "vm-2", "started", NOV_20, wall=100))
    load(session, mine, cloud(mine, "vm-2", "completed", datetime(2026, 11, 25, tzinfo=UTC), 750))
    load(session, mine, star(mine, "r1", "2026-11-10T00:00:00Z", 100))
    load(session, other, star(other, "r2", "2026-12-01T00:00:00Z", 500))
    incremental = {model: values(session, model) for model in SUMMARY_TABLES}
    assert all(incremental.values())
    for model in SUMMARY_TABLES:
        session.execute(delete(model))
    rebuild(session)
    assert {model: values(session, model) for model in SUMMARY_TABLES} == incremental
    # a rebuild of current tables writes nothing: ids and update times stay
    ids = stamps(session)
    rebuild(session)
    assert stamps(session) == ids


def stamps(session: Session) -> list[list[tuple[Any, ...]]]:
    """Every summary row's id and update time."""
    return [
        sorted(tuple(r) for r in session.execute(select(table.c.id, table.c.updated_at)))
        for table in (model.__table__ for model in SUMMARY_TABLES)  # type: ignore[union-attr]
    ]


def test_the_demo_loads_this_months_jobs_of_a_few_sites_through_the_loader(
    session: Session,
) -> None:
    seeded = seed.seed_demo_accounting(session)
    now = utcnow()
    assert seeded.jobs == seed.JOB_SITES * seed.JOBS_PER_SITE
    assert session.execute(select(func.count()).select_from(RejectedMessage)).scalar() == 0
    per_site = dict(
        session.execute(
            select(col(JobRecord.site), func.count()).group_by(col(JobRecord.site))
        ).all()
    )
    assert len(per_site) == seed.JOB_SITES
    # those sites' month is the loader's summaries of their jobs, the rest the demo's own
    g = GridSummary.__table__.c  # type: ignore[attr-defined]
    this_month = (g.year == now.year) & (g.month == now.month) & g.site.in_(per_site)
    derived = session.execute(
        select(g.source, func.sum(g.number_of_jobs)).where(this_month).group_by(g.source)
    ).all()
    assert derived == [("jobs", seeded.jobs)]
    demo = session.execute(select(func.count()).where(g.source == seed.SOURCE)).scalar()
    assert demo == seeded.summaries
    vos = session.execute(select(func.count(func.distinct(g.vo)))).scalar()
    assert vos == len(seed.VOS)
