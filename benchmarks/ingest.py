"""Metric results in: results/s through `ingest_results`, and through the monitoring topic.

    python -m benchmarks.ingest [--database sqlite|postgresql|URL] [--scale 150]
        [--metrics 3] [--hours 48] [--every 20] [--batch 1000] [--publish-batch 100]

Seeds `--scale` synthetic sites (`seed_scale`, ~7 services each: the endpoints) and
`--metrics` catalogue metrics, then makes a result every `--every` minutes over the last
`--hours` hours for each endpoint and metric (about 1 in 20 not OK, so the live status
changes), oldest first, and prints:

1. `ingest_results` in batches of `--batch`, one transaction each (validation against the
   catalogue and topology, the insert, the live status and its history, late-day marks):
   results/s;
2. the topic path, as ARGO's publishers use it: the same number of results encoded as
   Avro `metric_data` messages and published (`messaging.publish`, `--publish-batch`
   messages a call, as argo-nagios-ams-publisher's bulk), then the consumer side alone
   (`workers.monitoring.ingest_topic`, `--batch` messages a transaction, from messages
   already published): messages/s of each.

`--database postgresql` uses postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_ingest,
dropped and created again; a URL names another database (a PostgreSQL one is recreated).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
import uuid

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import PLATFORM
from domains.common.time import utcnow
from domains.messaging import service as messaging
from domains.monitoring import avro
from domains.monitoring.avro import MetricResultIn
from domains.monitoring.models.catalogue import Metric
from domains.monitoring.models.results import MetricResult
from domains.monitoring.service import results
from domains.topology.models import Service, ServiceType
from domains.topology.seed import seed_scale
from gateway import migrate
from tests.databases import recreate_pg_database
from workers import monitoring as worker

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_ingest"
STATUSES = ("WARNING", "CRITICAL", "UNKNOWN")


def make_results(
    endpoints: list[tuple[str, str]], metrics: list[str], *, hours: int, every: int
) -> list[MetricResultIn]:
    rng = random.Random(7)  # noqa: S311  (made-up statuses)
    now = utcnow().replace(second=0, microsecond=0)
    start = now - dt.timedelta(hours=hours)
    made: list[MetricResultIn] = []
    moment = start
    while moment < now:
        for host, stype in endpoints:
            for metric in metrics:
                status = "OK" if rng.random() > 0.05 else rng.choice(STATUSES)
                made.append(
                    MetricResultIn(
                        timestamp=moment,
                        service=stype,
                        hostname=host,
                        metric=metric,
                        status=status,
                        monitoring_host="mon.example.org",
                        actual_data="time=0.120s;1;5;0",
                        summary=f"{status} - check done",
                        message=None,
                        tags={"vofqan": "ops"},
                    )
                )
        moment += dt.timedelta(minutes=every)
    return made


def ingest_direct(
    factory: sessionmaker[Session],
    records: list[MetricResultIn],
    batch: int,
    policy: results.IngestPolicy,
) -> tuple[float, int]:
    accepted = 0
    started = time.perf_counter()
    for first in range(0, len(records), batch):
        with unit_of_work(factory) as session:
            outcome = results.ingest_results(
                session, "benchmark", records[first : first + batch], policy=policy
            )
        accepted += outcome.accepted
    return time.perf_counter() - started, accepted


def publish(factory: sessionmaker[Session], records: list[MetricResultIn], batch: int) -> float:
    with unit_of_work(factory) as session:
        messaging.create_project(session, PLATFORM, name="monitoring", description="bench")
        messaging.create_topic(session, PLATFORM, project="monitoring", topic="metric_data")
    started = time.perf_counter()
    for first in range(0, len(records), batch):
        messages = [avro.to_message(r) for r in records[first : first + batch]]
        with unit_of_work(factory) as session:
            messaging.publish(
                session, PLATFORM, project="monitoring", topic="metric_data", messages=messages
            )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="sqlite", help="sqlite, postgresql or a URL")
    parser.add_argument("--scale", type=int, default=150, help="synthetic sites")
    parser.add_argument("--metrics", type=int, default=3)
    parser.add_argument("--hours", type=int, default=48)
    parser.add_argument("--every", type=int, default=20, help="minutes between results")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--publish-batch", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.database == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            url = PG_URL if args.database == "postgresql" else args.database
            if make_url(url).get_backend_name() == "postgresql":
                recreate_pg_database(url)
        engine = make_engine(url)
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        metrics = [f"org.bench.metric-{i}" for i in range(args.metrics)]
        with factory() as session:
            seed_scale(session, args.scale)
            for name in metrics:
                session.add(
                    Metric(
                        uuid=str(uuid.uuid4()),
                        date=dt.date(2026, 1, 1),
                        name=name,
                        probe_name="tcp",
                        probe_version="1",
                    )
                )
            session.commit()
            endpoints = [
                (str(h), str(t))
                for h, t in session.execute(
                    select(col(Service.host_name), col(ServiceType.name))
                    .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
                    .distinct()
                )
            ]
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        records = make_results(endpoints, metrics, hours=args.hours, every=args.every)
        policy = results.IngestPolicy(late_age=dt.timedelta(hours=args.hours + 1))
        print(
            f"database: {engine.dialect.name}; {len(endpoints)} endpoints x {len(metrics)} "
            f"metrics, every {args.every} min over {args.hours} h: {len(records):,} results"
        )

        seconds, accepted = ingest_direct(factory, records, args.batch, policy)
        assert accepted == len(records), (accepted, len(records))
        print(
            f"ingest_results, batches of {args.batch}: {seconds:.1f} s, "
            f"{len(records) / seconds:,.0f} results/s"
        )

        seconds = publish(factory, records, args.publish_batch)
        print(
            f"publish (Avro metric_data, {args.publish_batch} a call): {seconds:.1f} s, "
            f"{len(records) / seconds:,.0f} messages/s"
        )
        config = worker.IngestConfig(batch=args.batch, policy=policy)
        started = time.perf_counter()
        read = worker.ingest_topic(factory, config, max_batches=10**9)
        seconds = time.perf_counter() - started
        with factory() as session:
            stored = session.execute(
                select(func.count())
                .select_from(MetricResult)
                .where(col(MetricResult.source) == "topic:monitoring/metric_data")
            ).scalar_one()
        assert read == len(records), read
        assert stored == len(records), stored
        print(
            f"topic consumer (ingest_topic, {args.batch} a transaction): {seconds:.1f} s, "
            f"{read / seconds:,.0f} messages/s"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
