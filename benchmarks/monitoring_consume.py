"""The monitoring topic's consumer alone, again and again on a database kept by
`benchmarks.monitoring --keep` (issue 14: ingestion in results/s from messages already
published, target >= 10,000/s on PostgreSQL).

    .venv/bin/python -m benchmarks.monitoring --endpoints 1000 --days 1 --publish 50000 \\
        --latency 0 --skip-service --keep --database URL
    .venv/bin/python -m benchmarks.monitoring_consume --database URL --runs 3
    .venv/bin/python -m benchmarks.monitoring_consume --database URL --profile out.prof

Before each run what the consumer wrote is removed (the results it stored, their change
points, the live status and its history, the days marked for recomputation, the rejection
counts), its cursor goes back to 0 and the tables are VACUUM ANALYZEd; then
`workers.monitoring.ingest_topic` reads every published message in batches of `--batch`,
one transaction each, as the worker does. Run from another checkout's tree (PYTHONPATH) it
measures that tree's consumer on the same messages, for paired before/after figures. Beside
the wall time it prints the CPU seconds of this process and, when PostgreSQL runs on this
machine (/proc readable), of the database's server processes: on a shared machine the wall
time follows the others' load, the CPU time much less.
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import make_engine, make_session_factory
from domains.monitoring.service.results import IngestPolicy
from workers.monitoring import IngestConfig, ingest_topic

PROJECT, TOPIC = "monitoring", "metric_data"
RESET = (
    # the bulk-loaded results and their points end before the first published one
    "DELETE FROM monitoring_change_point WHERE timestamp >= "
    "(SELECT min(timestamp) FROM monitoring_metric_result WHERE source LIKE 'topic:%')",
    "DELETE FROM monitoring_metric_result WHERE source LIKE 'topic:%'",
    "DELETE FROM monitoring_metric_status",
    "DELETE FROM monitoring_status_change",
    "DELETE FROM monitoring_recompute_day",
    "DELETE FROM monitoring_result_rejection",
    "DELETE FROM monitoring_topic_cursor",
)
VACUUMED = (
    "monitoring_metric_result",
    "monitoring_change_point",
    "monitoring_metric_status",
    "monitoring_status_change",
    "monitoring_topic_cursor",
    "msg_message",
)


def server_cpu(factory: sessionmaker[Session]) -> float | None:
    """CPU seconds (user + system) of this database's server processes so far; None when
    they are not on this machine."""
    with factory() as session:
        pids = session.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True, help="a database kept by the benchmark")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1000, help="messages per ingest batch")
    parser.add_argument("--profile", help="write a cProfile of the (last) run here")
    args = parser.parse_args()
    engine = make_engine(args.database)
    factory = make_session_factory(engine)
    config = IngestConfig(
        project=PROJECT,
        topic=TOPIC,
        batch=args.batch,
        policy=IngestPolicy(late_age=dt.timedelta(hours=72)),
    )
    try:
        for _ in range(args.runs):
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for statement in RESET:
                    conn.execute(text(statement))
                conn.execute(text(f"VACUUM ANALYZE {', '.join(VACUUMED)}"))
            profile = cProfile.Profile() if args.profile else None
            server_before = server_cpu(factory)
            cpu = time.process_time()
            began = time.perf_counter()
            if profile is not None:
                profile.enable()
            read = ingest_topic(factory, config, max_batches=10**9)
            if profile is not None:
                profile.disable()
                profile.dump_stats(args.profile)
            spent = time.perf_counter() - began
            cpu = time.process_time() - cpu
            server_after = server_cpu(factory)
            server = (
                f", PostgreSQL {server_after - server_before:.2f} s"
                if server_before is not None and server_after is not None
                else ""
            )
            with factory() as session:
                stored = session.execute(
                    text(
                        "SELECT count(*) FROM monitoring_metric_result WHERE source LIKE 'topic:%'"
                    )
                ).scalar_one()
            print(
                f"consume: {read:,} messages read, {stored:,} results stored in batches of "
                f"{args.batch}: {spent:.2f} s ({stored / spent:,.0f} results/s); CPU: consumer "
                f"{cpu:.2f} s{server}",
                flush=True,
            )
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
