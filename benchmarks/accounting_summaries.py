"""Accounting summaries: what keeping them current costs a loaded message, against a rebuild.

    python -m benchmarks.accounting_summaries [--jobs 200000] [--database sqlite|postgresql|URL]
        [--runs 7]

Seeds the demo federation and `--jobs` job records spread over its sites and 24 months (ten
users, two benchmarks), builds the summaries with `rebuild`, runs ANALYZE, then prints
median and p95 over `--runs` runs of: `load_message` of a 1,000-job message into one cell
(new jobs each run, rolled back), `refresh_cells` of that cell alone, and `rebuild` of
every table. The first two should not grow with `--jobs`; the rebuild does.

`--database postgresql` uses postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_acctsum,
dropped and created again; a URL names another database (a PostgreSQL one is recreated).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from domains.accounting.models import JobRecord
from domains.accounting.service.loading import Sender, load_message
from domains.accounting.service.summaries import rebuild, refresh_cells
from domains.common.db import make_engine
from domains.topology.seed import seed_demo
from gateway import migrate
from tests.databases import recreate_pg_database

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_acctsum"
MONTHS = 24
FIRST = datetime(2024, 12, 1, tzinfo=UTC)


def database_url(choice: str, directory: Path) -> str:
    url = {"sqlite": f"sqlite:///{directory / 'acct.db'}", "postgresql": PG_URL}.get(choice, choice)
    if make_url(url).get_backend_name() == "postgresql":
        recreate_pg_database(url)
    return url


def month_end(index: int) -> datetime:
    """A time inside the index-th month after FIRST."""
    year, month = divmod(FIRST.month - 1 + index, 12)
    return datetime(FIRST.year + year, month + 1, 10, tzinfo=UTC)


def seed(session: Session, jobs: int) -> list[str]:
    seed_demo(session)
    sites = list(session.execute(text("SELECT short_name FROM site ORDER BY id")).scalars())
    table = JobRecord.__table__  # type: ignore[attr-defined]
    for start in range(0, jobs, 10_000):
        rows = []
        for i in range(start, min(jobs, start + 10_000)):
            end = month_end(i % MONTHS) + timedelta(seconds=i)
            rows.append(
                {
                    "site": sites[(i // MONTHS) % len(sites)],
                    "local_job_id": str(i),
                    "end_time": end,
                    "start_time": end - timedelta(hours=1),
                    "end_year": end.year,
                    "end_month": end.month,
                    "global_user_name": f"/CN=user {i % 10}",
                    "vo": "atlas",
                    "infrastructure_type": "grid",
                    "service_level_type": "HEPSPEC" if i % 2 else "HEPscore23",
                    "service_level": 10.5 if i % 2 else 12.0,
                    "wall_duration": 3600,
                    "cpu_duration": 3000,
                    "processors": 8,
                    "node_count": 1,
                }
            )
        session.execute(insert(table), rows)
    return sites


def message(site: str, run: int) -> bytes:
    end = int(month_end(MONTHS - 1).timestamp())
    record = (
        f"Site: {site}\nLocalJobId: bench-{run}-{{i}}\nGlobalUserName: /CN=user {{u}}\n"
        f"VO: atlas\nWallDuration: 3600\nCpuDuration: 3000\nStartTime: {end - 3600}\n"
        f"EndTime: {end}\nInfrastructureType: grid\nServiceLevelType: HEPSPEC\n"
        "ServiceLevel: 10.5\nProcessors: 8\nNodeCount: 1\n"
    )
    records = "%%\n".join(record.format(i=i, u=i % 10) for i in range(1000))
    return f"APEL-individual-job-message: v0.3\n{records}%%\n".encode()


def timed(fn: Callable[[int], None], runs: int) -> list[float]:
    fn(-1)
    samples = []
    for run in range(runs):
        started = time.perf_counter()
        fn(run)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url(args.database, Path(tmp)))
        migrate.upgrade(engine)
        with Session(engine) as session:
            sites = seed(session, args.jobs)
            rebuild(session)
            session.commit()
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        site = sites[0]
        last = month_end(MONTHS - 1)
        cell = (site, last.year, last.month)
        sender = Sender("/CN=bench", None, "bench")
        with Session(engine) as session:
            summaries = session.execute(
                text("SELECT count(*) FROM accounting_grid_summary")
            ).scalar_one()
            print(f"{engine.dialect.name}: {args.jobs} jobs, {summaries} grid summary rows")

            def load(run: int) -> None:
                outcome = load_message(session, message(site, run), sender, "bench", last)
                assert outcome.reject_id is None, outcome.reason
                session.rollback()

            def refresh(_run: int) -> None:
                refresh_cells(session, [cell])
                session.rollback()

            def whole(_run: int) -> None:
                rebuild(session)
                session.rollback()

            for label, fn in (
                ("load_message, 1,000 jobs, one cell", load),
                ("refresh_cells, one cell", refresh),
                ("rebuild, every table", whole),
            ):
                samples = timed(fn, args.runs)
                p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
                print(
                    f"  {label:<38} median {statistics.median(samples):8.1f} ms  p95 {p95:8.1f} ms"
                )
        engine.dispose()


if __name__ == "__main__":
    main()
