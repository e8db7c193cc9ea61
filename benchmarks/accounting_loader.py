"""Accounting loader throughput: APEL messages through `load_message`, as the worker loads them.

    python -m benchmarks.accounting_loader [--messages 40] [--records 1000]
        [--database sqlite|postgresql|URL]

Seeds the demo federation, then loads `--messages` individual job messages of `--records`
jobs each (APEL's client sends at most 1,000 a message), then as many summary messages of
`--records` summary rows, each message in its own transaction, committed, for one site and
spread over three months (so each refreshes three cells of `accounting_grid_summary`). Prints
records/s and messages/s of each kind, the median and p95 per message, and how much of it is
the summary refresh (`refresh_loaded`, timed inside `load_message`).

`--database postgresql` uses postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_usage,
dropped and created again; a URL (`--database-url`) names another database (a PostgreSQL one
is recreated).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from domains.accounting.formats.keyvalue import RecordKind
from domains.accounting.service.loading import Sender, load_message
from domains.accounting.service.summaries import refresh_loaded
from domains.common.db import make_engine
from domains.topology.seed import seed_demo
from gateway import migrate
from tests.databases import recreate_pg_database

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_usage"
NOW = datetime.now(UTC)


def database_url(choice: str, directory: Path) -> str:
    url = {"sqlite": f"sqlite:///{directory / 'loader.db'}", "postgresql": PG_URL}.get(
        choice, choice
    )
    if make_url(url).get_backend_name() == "postgresql":
        recreate_pg_database(url)
    return url


def months() -> list[tuple[int, int]]:
    """The three months before this one."""
    index = NOW.year * 12 + NOW.month - 1
    return [divmod(index - back, 12) for back in (3, 2, 1)]


def job_message(site: str, run: int, records: int) -> bytes:
    parts = []
    for i in range(records):
        year, month = months()[i % 3]
        end = int(datetime(year, month + 1, 10, tzinfo=UTC).timestamp()) + i
        parts.append(
            f"Site: {site}\nSubmitHost: ce{i % 2}.example.org\nLocalJobId: bench-{run}-{i}\n"
            f"GlobalUserName: /DC=org/DC=example/CN=user {i % 10}\n"
            f"FQAN: /atlas/Role=production/Capability=NULL\nVO: atlas\nWallDuration: 3600\n"
            f"CpuDuration: 3000\nProcessors: 8\nNodeCount: 1\nStartTime: {end - 3600}\n"
            f"EndTime: {end}\nInfrastructureType: grid\nServiceLevelType: HEPSPEC\n"
            "ServiceLevel: 10.5\n"
        )
    return ("APEL-individual-job-message: v0.3\n" + "%%\n".join(parts) + "%%\n").encode()


def summary_message(site: str, run: int, records: int) -> bytes:
    parts = []
    for i in range(records):  # a key each: month, VO and user (and the run's host)
        year, month = months()[i % 3]
        parts.append(
            f"Site: {site}\nMonth: {month + 1}\nYear: {year}\n"
            f"GlobalUserName: /DC=org/DC=example/CN=user {i // 15}\nVO: vo{(i // 3) % 5}\n"
            f"SubmitHost: ce-{run}.example.org\nInfrastructureType: grid\n"
            "ServiceLevelType: HEPSPEC\nServiceLevel: 10\nNodeCount: 1\nProcessors: 1\n"
            "WallDuration: 234256\nCpuDuration: 2345\nNumberOfJobs: 100\n"
        )
    return ("APEL-summary-job-message: v0.2\n" + "%%\n".join(parts) + "%%\n").encode()


@contextmanager
def refresh_timed(spent: list[float]) -> Iterator[None]:
    """`load_message`'s summary refresh, timed: each call's seconds appended to `spent`."""

    def timed(session: Session, kind: RecordKind, rows: Sequence[Mapping[str, Any]]) -> None:
        started = time.perf_counter()
        refresh_loaded(session, kind, rows)
        spent.append(time.perf_counter() - started)

    with patch("domains.accounting.service.loading.refresh_loaded", new=timed):
        yield


def run(
    session: Session,
    label: str,
    build: Callable[[str, int, int], bytes],
    sites: list[str],
    messages: int,
    records: int,
) -> None:
    bodies = [build(sites[i % len(sites)], i, records) for i in range(messages)]
    refresh: list[float] = []
    per_message = []
    with refresh_timed(refresh):
        started = time.perf_counter()
        for i, body in enumerate(bodies):
            began = time.perf_counter()
            site = sites[i % len(sites)]
            outcome = load_message(
                session, body, Sender("/CN=bench", frozenset({site}), "bench"), "b", NOW
            )
            assert outcome.reject_id is None, outcome.reason
            session.commit()
            per_message.append(time.perf_counter() - began)
        elapsed = time.perf_counter() - started
    p95 = statistics.quantiles(per_message, n=20)[-1] if messages > 1 else per_message[0]
    print(
        f"  {label:<22} {messages * records / elapsed:9,.0f} records/s  "
        f"{messages / elapsed:6.2f} messages/s  per message median "
        f"{statistics.median(per_message) * 1000:7.1f} ms, p95 {p95 * 1000:7.1f} ms; "
        f"summary refresh median {statistics.median(refresh) * 1000:6.1f} ms "
        f"({100 * sum(refresh) / elapsed:.0f}% of the time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40, help="messages of each kind")
    parser.add_argument("--records", type=int, default=1000, help="records a message")
    parser.add_argument(
        "--database", "--database-url", default="sqlite", help="sqlite, postgresql or a URL"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url(args.database, Path(tmp)))
        migrate.upgrade(engine)
        with Session(engine) as session:
            seed_demo(session)
            session.commit()
            sites = list(session.execute(text("SELECT short_name FROM site ORDER BY id")).scalars())
            print(
                f"{engine.dialect.name}: {args.messages} messages of each kind, "
                f"{args.records} records each, over {len(sites)} sites"
            )
            run(session, "job messages", job_message, sites, args.messages, args.records)
            run(session, "summary messages", summary_message, sites, args.messages, args.records)
            rows = session.execute(text("SELECT count(*) FROM accounting_grid_summary"))
            print(f"  {rows.scalar_one()} grid summary rows")
        engine.dispose()


if __name__ == "__main__":
    main()
