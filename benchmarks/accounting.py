"""Accounting (issue 15): the loader's throughput, keeping summaries current, the pivot.

    python -m benchmarks.accounting [--database sqlite|postgresql|URL] [--quick]
        [--parts loader,day,pivot] [--records 1000000] [--base 10000000] [--day 30000]
        [--runs 3]

Three figures, each the median of `--runs` runs (one warm-up where it is cheap):

- loader: `--records` individual job records in messages of `--per-message` (1,000, APEL's
  client's most) through `load_message`, the function the ingestion worker calls, each
  message its own committed transaction, one site a message over three months; records/s,
  the median and p95 per message and the summary refresh's share (`refresh_loaded`, timed
  inside `load_message`). The job tables are emptied before each run. Then
  `--summary-messages` summary messages of `--per-message` rows the same way.
- day: a year of `--base` jobs over the demo federation's sites (12 months ending this one,
  four VOs a site, ten users a VO, two submit hosts, two processor counts; stored in runs of
  1,000 of a site and month, as messages leave them) bulk-loaded in SQL (INSERT ... SELECT
  over a generated series, a million rows a statement; the loader is not measured there),
  summaries built once by `rebuild` (timed: what a full recomputation costs, as APEL's
  nightly one), ANALYZE; then a day of `--day` jobs arrives through `load_message` in
  messages of `--per-message` (one site a message, ending today): the summaries are current
  when each message commits, so the figure is the summed `refresh_loaded` time of the day,
  beside the day's whole loading time; and `refresh_cells` of every cell the day touched, at
  once (rolled back), as a worker after the loads would do it.
- pivot: normalised CPU over the base year, site × VO and site × month (`pivot`, as GraphQL's
  `accounting` and the portal call it, anonymous caller).

`--quick` is a smoke run (10,000 records, a base of 100,000 jobs, a day of 3,000, one run).
`--database postgresql` uses postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_accounting,
dropped and created again; a URL names another database (a PostgreSQL one is recreated).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from domains.accounting.formats.keyvalue import RecordKind
from domains.accounting.service.loading import Sender, load_message
from domains.accounting.service.pivot import Dimension, Metric, Month, PivotQuery, pivot
from domains.accounting.service.summaries import rebuild, refresh_cells, refresh_loaded
from domains.common.db import make_engine
from domains.topology.seed import seed_demo
from gateway import migrate
from tests.databases import recreate_pg_database

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_accounting"
NOW = datetime.now(UTC)
SENDER = Sender("/CN=bench", None, "bench")
VOS = ("atlas", "cms", "lhcb", "alice", "biomed", "vo.ops", "enmr.eu", "lofar", "hone",
       "km3net.org", "vo.cta.in2p3.fr", "fusion")  # fmt: skip
# base jobs end within five days of their month's start (none later than now)
BASE_WINDOW = 5 * 86400
TABLES = ("accounting_job", "accounting_summary", "accounting_grid_summary")


def database_url(choice: str, directory: Path) -> str:
    url = {"sqlite": f"sqlite:///{directory / 'accounting.db'}", "postgresql": PG_URL}.get(
        choice, choice
    )
    if make_url(url).get_backend_name() == "postgresql":
        recreate_pg_database(url)
    return url


def month_index(back: int) -> tuple[int, int]:
    """(year, month) of `back` months before this one."""
    year, month0 = divmod(NOW.year * 12 + NOW.month - 1 - back, 12)
    return year, month0 + 1


def median_p95(samples: Sequence[float]) -> tuple[float, float]:
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
    return statistics.median(samples), p95


@contextmanager
def refresh_timed(spent: list[float]) -> Iterator[None]:
    """`load_message`'s summary refresh, timed: each call's seconds appended to `spent`."""

    def timed(session: Session, kind: RecordKind, rows: Sequence[Mapping[str, Any]]) -> None:
        started = time.perf_counter()
        refresh_loaded(session, kind, rows)
        spent.append(time.perf_counter() - started)

    with patch("domains.accounting.service.loading.refresh_loaded", new=timed):
        yield


@dataclass(frozen=True, slots=True)
class Loaded:
    """One run of messages through `load_message`."""

    records: int
    elapsed: float  # seconds, all of them
    cpu: float  # seconds of this process's CPU time (the client's side, whatever the load)
    per_message: list[float]
    refresh: list[float]  # seconds of each message's summary refresh


def load_all(session: Session, bodies: Sequence[bytes], records: int) -> Loaded:
    """Each body through `load_message` and committed, as the ingestion worker does."""
    refresh: list[float] = []
    per_message = []
    with refresh_timed(refresh):
        started, cpu = time.perf_counter(), time.process_time()
        for i, body in enumerate(bodies):
            began = time.perf_counter()
            outcome = load_message(session, body, SENDER, f"bench-{i}", NOW)
            assert outcome.reject_id is None, outcome.reason
            session.commit()
            per_message.append(time.perf_counter() - began)
        elapsed = time.perf_counter() - started
    return Loaded(records, elapsed, time.process_time() - cpu, per_message, refresh)


# --- messages -----------------------------------------------------------------------------


def job_message(site: str, run: str, records: int, ends: Callable[[int], datetime]) -> bytes:
    parts = []
    for i in range(records):
        end = int(ends(i).timestamp())
        parts.append(
            f"Site: {site}\nSubmitHost: ce{i % 2}.example.org\nLocalJobId: bench-{run}-{i}\n"
            f"GlobalUserName: /DC=org/DC=example/CN=user {i % 10}\n"
            f"FQAN: /atlas/Role=production/Capability=NULL\nVO: atlas\nWallDuration: 3600\n"
            f"CpuDuration: 3000\nProcessors: 8\nNodeCount: 1\nStartTime: {end - 3600}\n"
            f"EndTime: {end}\nInfrastructureType: grid\nServiceLevelType: HEPSPEC\n"
            "ServiceLevel: 10.5\n"
        )
    return ("APEL-individual-job-message: v0.3\n" + "%%\n".join(parts) + "%%\n").encode()


def three_months(run: int) -> Callable[[int], datetime]:
    """The i-th job of a message ends in one of the three months before this one."""

    def end(i: int) -> datetime:
        year, month = month_index(3 - i % 3)
        return datetime(year, month, 10, tzinfo=UTC) + timedelta(seconds=run * 1000 + i)

    return end


def summary_message(site: str, run: int, records: int) -> bytes:
    parts = []
    for i in range(records):  # a key each: month, VO and user (and the run's host)
        year, month = month_index(3 - i % 3)
        parts.append(
            f"Site: {site}\nMonth: {month}\nYear: {year}\n"
            f"GlobalUserName: /DC=org/DC=example/CN=user {i // 15}\nVO: vo{(i // 3) % 5}\n"
            f"SubmitHost: ce-{run}.example.org\nInfrastructureType: grid\n"
            "ServiceLevelType: HEPSPEC\nServiceLevel: 10\nNodeCount: 1\nProcessors: 1\n"
            "WallDuration: 234256\nCpuDuration: 2345\nNumberOfJobs: 100\n"
        )
    return ("APEL-summary-job-message: v0.2\n" + "%%\n".join(parts) + "%%\n").encode()


# --- loader -------------------------------------------------------------------------------


def empty(session: Session) -> None:
    for table in TABLES:  # every name is ours
        session.execute(text(f"DELETE FROM {table}"))
    session.commit()


def report(label: str, runs: list[Loaded]) -> None:
    rates = [r.records / r.elapsed for r in runs]
    per_message = [statistics.median(r.per_message) * 1000 for r in runs]
    refresh = [statistics.median(r.refresh) * 1000 for r in runs]
    share = [100 * sum(r.refresh) / r.elapsed for r in runs]
    p95 = [median_p95(r.per_message)[1] * 1000 for r in runs]
    print(
        f"  {label:<30} {statistics.median(rates):9,.0f} records/s (runs: "
        f"{', '.join(f'{r:,.0f}' for r in rates)}); per message median "
        f"{statistics.median(per_message):6.1f} ms, p95 {statistics.median(p95):6.1f} ms; "
        f"summary refresh median {statistics.median(refresh):5.1f} ms "
        f"({statistics.median(share):.0f}% of the time); client CPU "
        f"{statistics.median(1000 * r.cpu / (r.records / 1000) for r in runs):.1f} ms a 1,000"
    )


def loader(session: Session, sites: list[str], args: argparse.Namespace) -> None:
    size = args.per_message
    messages = args.records // size
    print(f"loader: {messages:,} job messages of {size:,} records over {len(sites)} sites")
    runs = []
    for run in range(args.runs):
        empty(session)
        bodies = [
            job_message(sites[i % len(sites)], f"{run}-{i}", size, three_months(i))
            for i in range(messages)
        ]
        runs.append(load_all(session, bodies, messages * size))
        del bodies
    report("job messages", runs)
    if args.summary_messages:
        runs = []
        for _ in range(args.runs):
            empty(session)
            bodies = [
                summary_message(sites[i % len(sites)], i, size)
                for i in range(args.summary_messages)
            ]
            runs.append(load_all(session, bodies, args.summary_messages * size))
        report(f"{args.summary_messages} summary messages", runs)
    empty(session)


# --- a year, then a day -------------------------------------------------------------------


def bulk_year(engine: Engine, sites: list[str], jobs: int) -> None:
    """`jobs` job records over the twelve months ending this one, in SQL, stored in runs of
    1,000 of one site and month as messages leave them: the i-th job is of run r = i / 1000,
    site r % S, month (r / S) % 12, one of its site's four VOs, one of ten users, two submit
    hosts, one or eight processors, and the site's HEPSPEC level."""
    pg = engine.dialect.name == "postgresql"
    months = []
    for n in range(12):
        year, month = month_index(11 - n)
        first = datetime(year, month, 1, tzinfo=UTC)
        months.append({"n": n, "start": first, "y": year, "m": month})
    with engine.begin() as conn:
        time_type = "timestamptz" if pg else "text"
        for ddl in (
            "CREATE TEMPORARY TABLE bench_site (n integer, name text)",
            f"CREATE TEMPORARY TABLE bench_month (n integer, start {time_type}, y int, m int)",
            "CREATE TEMPORARY TABLE bench_vo (n integer, name text)",
        ):
            conn.execute(text(ddl))
        conn.execute(
            text("INSERT INTO bench_site VALUES (:n, :name)"),
            [{"n": n, "name": name} for n, name in enumerate(sites)],
        )
        conn.execute(
            text("INSERT INTO bench_month VALUES (:n, :start, :y, :m)"),
            [
                m | {"start": m["start"] if pg else f"{m['start']:%Y-%m-%d %H:%M:%S}"}
                for m in months
            ],
        )
        conn.execute(
            text("INSERT INTO bench_vo VALUES (:n, :name)"),
            [{"n": n, "name": name} for n, name in enumerate(VOS)],
        )
    count = len(sites)
    offset = f"(g.i / 7 % {BASE_WINDOW})"
    if pg:
        end = f"mo.start + {offset} * interval '1 second'"
        start = f"{end} - interval '1 hour'"
        series = "generate_series(CAST(:low AS bigint), CAST(:high AS bigint) - 1) AS g(i)"
        prefix, loaded = "", "now()"
    else:
        shift = f"'+' || {offset} || ' seconds'"
        end = f"strftime('%Y-%m-%d %H:%M:%S.000000', mo.start, {shift})"
        start = f"strftime('%Y-%m-%d %H:%M:%S.000000', mo.start, {shift}, '-3600 seconds')"
        prefix = "WITH RECURSIVE g(i) AS (SELECT :low UNION ALL SELECT i + 1 FROM g "
        prefix += "WHERE i + 1 < :high) "
        series, loaded = "g", f"'{NOW:%Y-%m-%d %H:%M:%S}.000000'"
    statement = text(
        f"{prefix}INSERT INTO accounting_job (publisher, message_id, loaded_at, site, "
        "local_job_id, end_time, start_time, end_year, end_month, submit_host, machine_name, "
        "queue, local_user_id, global_user_name, fqan, vo, vo_group, vo_role, wall_duration, "
        "cpu_duration, processors, node_count, infrastructure_description, "
        "infrastructure_type, memory_real, memory_virtual, service_level_type, service_level) "
        f"SELECT 'bench', 'base', {loaded}, s.name, 'base-' || g.i, {end}, {start}, mo.y, mo.m, "
        "'ce' || ((g.i / 5) % 2) || '.' || lower(s.name) || '.example.org', '', '', '', "
        "'/DC=org/DC=example/CN=user ' || ((g.i / 29) % 10), '', v.name, '', '', 3600, "
        "3000 + g.i % 600, CASE WHEN (g.i / 3) % 2 = 0 THEN 1 ELSE 8 END, 1, "
        "'APEL-CREAM-PBS', 'grid', NULL, NULL, 'HEPSPEC', 8 + s.n % 5 "
        f"FROM {series} "
        f"JOIN bench_site s ON s.n = g.i / 1000 % {count} "
        f"JOIN bench_month mo ON mo.n = g.i / 1000 / {count} % 12 "
        "JOIN bench_vo v ON v.n = (s.n + 3 * ((g.i / 7) % 4)) % 12"
    )
    step = 1_000_000
    for low in range(0, jobs, step):
        with engine.begin() as conn:
            conn.execute(statement, {"low": low, "high": min(jobs, low + step)})


def day_message(site: str, day: int, records: int) -> bytes:
    today = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    return job_message(
        site, f"day{day}-{site}", records, lambda i: today + timedelta(seconds=day * 1000 + i)
    )


def year_and_day(engine: Engine, sites: list[str], args: argparse.Namespace) -> None:
    started = time.perf_counter()
    bulk_year(engine, sites, args.base)
    loaded = time.perf_counter() - started
    with Session(engine) as session:
        started = time.perf_counter()
        rebuild(session)
        session.commit()
        rebuilt = time.perf_counter() - started
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    with Session(engine) as session:
        rows = session.execute(text("SELECT count(*) FROM accounting_grid_summary")).scalar_one()
        print(
            f"a year of {args.base:,} jobs over {len(sites)} sites: bulk-loaded in {loaded:.1f} s, "
            f"summaries rebuilt whole in {rebuilt:.1f} s ({rows:,} grid summary rows)"
        )
        size = args.per_message
        messages = args.day // size
        days, refresh = [], []
        for run in range(args.runs):
            bodies = [day_message(sites[i % len(sites)], run, size) for i in range(messages)]
            day = load_all(session, bodies, messages * size)
            days.append(day)
            cells = {(sites[i % len(sites)], NOW.year, NOW.month) for i in range(messages)}
            began = time.perf_counter()
            refresh_cells(session, cells)
            refresh.append(time.perf_counter() - began)
            session.rollback()
        summed = [sum(d.refresh) for d in days]
        whole = [d.elapsed for d in days]
        print(
            f"  a day of {messages * size:,} jobs ({messages} messages): summaries brought current "
            f"in {statistics.median(summed) * 1000:,.0f} ms summed over the messages "
            f"(runs: {', '.join(f'{s * 1000:,.0f}' for s in summed)}); the day's loading "
            f"{statistics.median(whole):.2f} s all told "
            f"({statistics.median(d.records / d.elapsed for d in days):,.0f} records/s); "
            f"the {len(cells)} cells it touched refreshed at once "
            f"{statistics.median(refresh) * 1000:,.0f} ms"
        )


# --- pivot --------------------------------------------------------------------------------


def pivots(engine: Engine, args: argparse.Namespace) -> None:
    start, end = Month(*month_index(11)), Month(*month_index(0))
    with Session(engine) as session:
        for columns in (Dimension.VO, Dimension.MONTH):
            query = PivotQuery(Metric.NORMCPU, Dimension.SITE, columns, start, end)
            table = pivot(session, query)  # warm-up
            samples = []
            for _ in range(max(args.runs, 5)):
                began = time.perf_counter()
                pivot(session, query)
                samples.append((time.perf_counter() - began) * 1000)
            median, p95 = median_p95(samples)
            print(
                f"  pivot normcpu, site × {columns.value}, {start}..{end}: median {median:.1f} ms, "
                f"p95 {p95:.1f} ms ({len(table.row_keys)} × {len(table.column_keys)}, "
                f"{len(table.cells):,} cells)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", "--database-url", default="sqlite", help="sqlite, postgresql or a URL"
    )
    parser.add_argument("--parts", default="loader,day,pivot", help="which figures")
    parser.add_argument("--records", type=int, default=1_000_000, help="loader: job records")
    parser.add_argument("--per-message", type=int, default=1000, help="records a message")
    parser.add_argument("--summary-messages", type=int, default=40, help="loader: 0 for none")
    parser.add_argument("--base", type=int, default=10_000_000, help="day: the year's jobs")
    parser.add_argument("--day", type=int, default=30_000, help="day: the day's jobs")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.records, args.base, args.day, args.runs = 10_000, 100_000, 3_000, 1
        args.summary_messages = min(args.summary_messages, 5)
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url(args.database, Path(tmp)))
        migrate.upgrade(engine)
        with Session(engine) as session:
            seed_demo(session)
            session.commit()
            sites = list(session.execute(text("SELECT short_name FROM site ORDER BY id")).scalars())
        print(f"{engine.dialect.name}, {args.runs} runs a figure (medians)")
        if "loader" in parts:
            with Session(engine) as session:
                loader(session, sites, args)
        if parts & {"day", "pivot"}:
            year_and_day(engine, sites, args)
        if "pivot" in parts:
            pivots(engine, args)
        engine.dispose()


if __name__ == "__main__":
    main()
