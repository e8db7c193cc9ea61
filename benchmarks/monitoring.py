"""Monitoring at scale on PostgreSQL: ingestion of ARGO metric_data messages and the
monthly availability/reliability of every endpoint, service, site and NGI.

    python -m benchmarks.monitoring [--endpoints 1000] [--days 30] [--every 20]
        [--publish 200000] [--bulk 100] [--batch 1000] [--processes 2] [--database URL]
        [--keep] [--skip-service]
    python -m benchmarks.monitoring --quick      # about a minute: README's smoke figures
    python -m benchmarks.monitoring --latency-only [--latency 40]   # the live-status step alone

A database of its own (postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_monitoring,
or `--database`) is created, migrated and dropped at the end (`--keep` keeps it). Then:

1. topology: `seed_scale` sites, of which the first `--endpoints` monitored services
   (host, service type) are the monitored endpoints; three catalogue metrics each;
2. the month's results, `--days` days of one result per metric every `--every` minutes
   (1,000 x 30 x 72 x 3 = 6.48 M by default; about 1 in 50 not OK), bulk-loaded with COPY:
   what the ingestion would have stored over the month (load time printed, not a target);
3. the publish path: `--publish` results encoded as ARGO's publishers send them (Avro,
   base64, attributes type/partition_date), published to the monitoring topic through the
   messaging service (`messaging.publish`, one transaction per request of `--bulk`
   messages, as argo-nagios-ams-publisher sends its bulks), in results/s;
4. the consumer side, from those messages already published: the worker's own loop
   (`workers.monitoring.ingest_topic`: cursor, Avro decode, every check of `ingest_results`,
   the live status upkeep, one transaction per `--batch` messages), in results/s;
5. the whole monthly A/R: for each day, that day's changes and the previous day's last
   status per series read as the availability service reads them (`day_results`: one
   windowed statement returning only change points; two days read ahead by threads while
   the engine computes) and the pure engine (`compute_day`: endpoints, services, service
   groups, sites, NGIs, with a few downtimes), then the monthly figures (`period_ar`,
   `supergroup_period`) for every endpoint, service, site and NGI; seconds, database reads
   included (target < 10 s);
6. the same days through the availability service the workers run
   (`availability.compute_report_day` for the demo catalogue's report "Critical", its
   profiles made of the benchmark's service types and metrics): each (report, day) read,
   computed and its daily rows stored in a transaction of its own, the days shared by
   `--processes` processes as worker processes share the per-day tasks; then the period's
   figures of every level from the stored days (`availability`, custom granularity)
   (`--skip-service` leaves it out);
7. live status across replicas: two `opsgraph serve` processes on the database, `--latency`
   results published one at a time through one (`publishMetricResults`, alternating OK and
   CRITICAL), each timed from the request's start to its `statusChanges` event on a
   subscription opened on the other (median, p95, max; target < 1 s).

Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import multiprocessing
import queue
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from websockets.exceptions import ConnectionClosed

from domains.common.db import make_engine, make_session_factory
from domains.common.identity import PLATFORM
from domains.common.time import utcnow
from domains.messaging import service as messaging
from domains.monitoring import avro
from domains.monitoring.engine.aggregation import AggregationSpec
from domains.monitoring.engine.integrate import DailyAR
from domains.monitoring.engine.operations import OperationsTable
from domains.monitoring.engine.periods import SupergroupAR, period_ar, supergroup_period
from domains.monitoring.engine.pipeline import (
    DayInputs,
    Endpoint,
    MetricKey,
    Period,
    Result,
    Topology,
    compute_day,
)
from domains.monitoring.models import ArLevel
from domains.monitoring.models.catalogue import Metric
from domains.monitoring.profiles import REPORT, ProfileKind
from domains.monitoring.seed import load_json
from domains.monitoring.service import change_points, changes
from domains.monitoring.service.availability import compute_report_day, day_results
from domains.monitoring.service.availability_periods import availability
from domains.monitoring.service.catalogue import create_profile
from domains.monitoring.service.partitions import ensure_day_partitions
from domains.monitoring.service.results import IngestPolicy
from domains.monitoring.streams import POLL_SECONDS
from domains.topology.seed import seed_scale
from domains.topology.seed.reference import CE_TYPES, STORAGE_TYPES
from domains.topology.service import T_NGI, T_SERVICE, T_SERVICE_TYPE, T_SITE
from gateway import migrate
from tests.databases import recreate_pg_database
from tests.monitoring import live_status
from tests.monitoring.argo_profiles import aggregation_doc, operations_doc
from tests.monitoring.live_status import RECEIVE_SECONDS, change_of, subscribe
from tests.server import cli_output, server_env, serving
from workers.monitoring import IngestConfig, ingest_topic

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_monitoring"
METRICS = ("bench.tcp.connect", "bench.http.get", "bench.certificate.validity")
STATUSES = ["OK"] * 49 + ["CRITICAL", "WARNING", "UNKNOWN"]
PROJECT, TOPIC = "monitoring", "metric_data"
MONITORING_HOST = "mon.bench.example"
AHEAD = 2  # days read ahead of the one computed
LATENCY_ADMIN = "latency.bench@example.org"


def drop_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def topology(session: Session, endpoints: int) -> tuple[list[Endpoint], dict[str, str]]:
    """Seed enough sites for `endpoints` monitored services; the first ones, and site ->
    NGI."""
    seed_scale(session, max(2, endpoints // 5))
    rows = session.execute(
        select(T_SERVICE.c.host_name, T_SERVICE_TYPE.c.name, T_SITE.c.short_name, T_NGI.c.name)
        .join(T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id)
        .join(T_SITE, T_SITE.c.id == T_SERVICE.c.site_id)
        .join(T_NGI, T_NGI.c.id == T_SITE.c.ngi_id)
        .where(T_SERVICE.c.monitored.is_(True))
        .order_by(T_SERVICE.c.id)
    ).all()
    seen: set[tuple[str, str]] = set()
    chosen: list[Endpoint] = []
    ngis: dict[str, str] = {}
    for host, stype, site, ngi in rows:
        if (host, stype) in seen:
            continue
        seen.add((host, stype))
        chosen.append(Endpoint(str(host), str(stype), str(site)))
        ngis[str(site)] = str(ngi)
        if len(chosen) == endpoints:
            break
    for name in METRICS:
        session.add(
            Metric(
                uuid=str(uuid.uuid4()),
                date=dt.date(2020, 1, 1),
                name=name,
                probe_name=name.split(".")[1],
                probe_version="1.0",
            )
        )
    session.commit()
    return chosen, {s: n for s, n in ngis.items() if any(e.site == s for e in chosen)}


def aggregation(types: set[str]) -> dict[str, Any]:
    """ARGO's critical aggregation, its groups made of the service types present."""
    doc = aggregation_doc()
    groups = {
        "compute": sorted(types & CE_TYPES),
        "storage": sorted(types & STORAGE_TYPES),
        "other": sorted(types - CE_TYPES - STORAGE_TYPES),
    }
    doc["groups"] = [
        {"name": g, "operation": "OR", "services": [{"name": t, "operation": "OR"} for t in ts]}
        for g, ts in groups.items()
        if ts
    ]
    return doc


def bulk_load(
    engine: Engine, endpoints: Sequence[Endpoint], first: dt.date, days: int, every: int
) -> int:
    """COPY the month's results into their day partitions (created first, as the retention
    job does for live days, so that no row lands in the default partition), and the
    partitions up to tomorrow, which the publish step's results fall in; how many."""
    last = utcnow().date() + dt.timedelta(days=1)
    with Session(engine) as session:
        ensure_day_partitions(
            session, (first + dt.timedelta(days=d) for d in range((last - first).days + 1))
        )
        session.commit()
    rng = random.Random(14)  # noqa: S311 (made-up results, not secrets)
    start = dt.datetime(first.year, first.month, first.day, tzinfo=dt.UTC)
    slots = days * 24 * 60 // every
    stamps = [
        (start + dt.timedelta(minutes=k * every)).strftime("%Y-%m-%d %H:%M:%S+00")
        for k in range(slots)
    ]
    columns = (
        "timestamp, hostname, service_type, metric, status, summary, monitoring_host, tags, "
        "source, ingested_at"
    )
    raw = engine.raw_connection()
    written = 0
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY monitoring_metric_result ({columns}) FROM STDIN") as copy:
            for ep in endpoints:
                for metric in METRICS:
                    buffer = io.StringIO()
                    prefix = f"\t{ep.hostname}\t{ep.service}\t{metric}\t"
                    for stamp, status in zip(stamps, rng.choices(STATUSES, k=slots), strict=True):
                        buffer.write(
                            f"{stamp}{prefix}{status}\t{status} - benchmark\t{MONITORING_HOST}"
                            f"\t{{}}\topsgraph-probes\t{stamp}\n"
                        )
                    copy.write(buffer.getvalue())
                    written += slots
        raw.commit()
    finally:
        raw.close()
    return written


def publish(
    factory: sessionmaker[Session], endpoints: Sequence[Endpoint], count: int, bulk: int
) -> tuple[float, float]:
    """Encode and publish `count` results; (encode s, publish s)."""
    with factory() as session:
        messaging.create_project(session, PLATFORM, name=PROJECT, description="results")
        messaging.create_topic(session, PLATFORM, project=PROJECT, topic=TOPIC)
        session.commit()
    rng = random.Random(15)  # noqa: S311
    now = utcnow().replace(microsecond=0)
    series = [(ep, m) for ep in endpoints for m in METRICS]
    began = time.perf_counter()
    messages = []
    for i in range(count):
        ep, metric = series[i % len(series)]
        status = rng.choice(STATUSES)
        at = now - dt.timedelta(hours=24) + dt.timedelta(seconds=i * 86_000 // max(count, 1))
        messages.append(
            avro.to_message(
                avro.MetricResultIn(
                    timestamp=at,
                    service=ep.service,
                    hostname=ep.hostname,
                    metric=metric,
                    status=status,
                    monitoring_host=MONITORING_HOST,
                    actual_data="time=0.021s;1;5;0",
                    summary=f"{status} - benchmark",
                    message=None,
                    tags={"vofqan": "ops"},
                )
            )
        )
    encoded = time.perf_counter() - began
    began = time.perf_counter()
    for first in range(0, count, bulk):
        with factory() as session:
            messaging.publish(
                session,
                PLATFORM,
                project=PROJECT,
                topic=TOPIC,
                messages=messages[first : first + bulk],
            )
            session.commit()
    return encoded, time.perf_counter() - began


def read_day(
    factory: sessionmaker[Session], service_types: Sequence[str], day: dt.date
) -> tuple[dict[MetricKey, list[Result]], dict[MetricKey, str]]:
    """One day's results per series and the previous day's last status per series, read as
    the availability service reads them (`day_results`: change points only)."""
    with factory() as session:
        return day_results(session, service_types, day)


def month_ar(
    factory: sessionmaker[Session],
    endpoints: Sequence[Endpoint],
    ngis: dict[str, str],
    first: dt.date,
    days: int,
) -> tuple[float, float, int, dict[str, int]]:
    """The monthly A/R; (read s, total s, results read, items per level)."""
    ops = OperationsTable.from_argo(operations_doc())
    types = {ep.service for ep in endpoints}
    agg = AggregationSpec.from_argo(aggregation(types))
    profile = dict.fromkeys(types, METRICS)
    topo = Topology(tuple(endpoints), ngis)
    downtimes_of = list(endpoints[::97])
    stypes = sorted(types)
    read_s = 0.0
    n_read = 0
    endpoint_days: dict[tuple[str, str, str], list[DailyAR]] = defaultdict(list)
    service_days: dict[tuple[str, str], list[DailyAR]] = defaultdict(list)
    site_days: dict[str, list[DailyAR]] = defaultdict(list)
    ngi_days: dict[str, list[SupergroupAR]] = defaultdict(list)
    began = time.perf_counter()
    days_list = [first + dt.timedelta(days=d) for d in range(days)]
    with ThreadPoolExecutor(max_workers=AHEAD) as pool:
        # the next days are read (by PostgreSQL, and decoded) while the engine computes one
        pending: deque[Future[tuple[dict[MetricKey, list[Result]], dict[MetricKey, str]]]] = deque(
            pool.submit(read_day, factory, stypes, day) for day in days_list[:AHEAD]
        )
        for d, day in enumerate(days_list):
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            t0 = time.perf_counter()
            results, previous = pending.popleft().result()
            if d + AHEAD < days:
                pending.append(pool.submit(read_day, factory, stypes, days_list[d + AHEAD]))
            read_s += time.perf_counter() - t0
            n_read += sum(len(r) for r in results.values())
            downtimes = {
                (ep.hostname, ep.service): [
                    Period(start + dt.timedelta(hours=8), start + dt.timedelta(hours=10))
                ]
                for ep in downtimes_of
            }
            out = compute_day(
                DayInputs(day, ops, agg, profile, topo, results, previous, downtimes=downtimes)
            )
            for key, item in out.endpoints.items():
                endpoint_days[key].append(item.ar)
            for skey, item in out.services.items():
                service_days[skey].append(item.ar)
            for site, item in out.sites.items():
                site_days[site].append(item.ar)
            for ngi, value in out.supergroups.items():
                ngi_days[ngi].append(value)
    endpoints_month = [period_ar(v) for v in endpoint_days.values()]
    services_month = [period_ar(v) for v in service_days.values()]
    sites_month = [period_ar(v) for v in site_days.values()]
    ngis_month = [supergroup_period(v) for v in ngi_days.values()]
    total = time.perf_counter() - began
    counts = {
        "endpoints": len(endpoints_month),
        "services": len(services_month),
        "sites": len(sites_month),
        "NGIs": len(ngis_month),
    }
    return read_s, total, n_read, counts


def catalogue_report(session: Session, types: set[str]) -> str:
    """The demo catalogue's report "Critical" (egi_ops, its aggregation and metric profile
    as the seed loads them), its metric profile and aggregation groups made of the
    benchmark's service types and metrics; the report's name."""
    ops = load_json("egi_ops.json")
    metric_doc = load_json("argo_mon_critical.json")
    metric_doc["services"] = [{"service": t, "metrics": list(METRICS)} for t in sorted(types)]
    agg_doc = load_json("critical_aggregation.json")
    agg_doc["groups"] = aggregation(types)["groups"]
    report = load_json("critical_report.json")
    for kind, doc in (
        (ProfileKind.OPERATIONS, ops),
        (ProfileKind.METRIC, metric_doc),
        (ProfileKind.AGGREGATION, agg_doc),
        (REPORT, report),
    ):
        create_profile(session, PLATFORM, kind, doc)
    session.commit()
    return str(report["info"]["name"])


_worker_factory: sessionmaker[Session] | None = None


def _worker_init(url: str) -> None:
    """A process of its own, as a worker host is: its own engine and connections."""
    global _worker_factory
    _worker_factory = make_session_factory(make_engine(url))


def _ready(pause: float) -> None:
    """A warm-up task: the process has imported everything and its engine exists."""
    time.sleep(pause)


def _compute(report: str, day: dt.date) -> int:
    """One (report, day) task in a transaction of its own, as the outbox handler runs it."""
    assert _worker_factory is not None
    with _worker_factory() as session:
        rows = compute_report_day(session, report, day)
        session.commit()
    return rows


def service_month(
    url: str, report: str, first: dt.date, days: int, processes: int
) -> tuple[float, int]:
    """The month through the availability service, as the workers compute it: each
    (report, day) read, computed and stored in a transaction of its own, the days shared by
    `processes` processes (worker processes taking the per-day tasks); (seconds, rows)."""
    day_list = [first + dt.timedelta(days=d) for d in range(days)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, context, _worker_init, (url,)) as pool:
        # started and connected before the clock runs, as a worker's processes are
        list(pool.map(_ready, [0.2] * processes))
        began = time.perf_counter()
        rows = sum(pool.map(_compute, [report] * days, day_list))
        took = time.perf_counter() - began
    return took, rows


def stream_latency(url: str, endpoint: Endpoint, samples: int) -> list[float]:
    """Seconds from a result's publish (`publishMetricResults` on one real `opsgraph serve`)
    to its `statusChanges` event on a subscriber of another replica on the same database,
    for `samples` results alternating OK and CRITICAL (each one a change)."""
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-") as directory:
        env = server_env(Path(directory), OPSGRAPH_DATABASE_URL=url)
        cli_output(env, "admin", "make-admin", "--subject", LATENCY_ADMIN)
        token = cli_output(env, "admin", "issue-token", "--subject", LATENCY_ADMIN)
        series = (endpoint.hostname, endpoint.service, METRICS[0])
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            after = changes.last_change_id(session, PLATFORM)
        engine.dispose()
        arrivals: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        variables = {"f": {"hostname": [series[0]], "metric": [series[2]]}, "after": after}
        with serving(env) as one, serving(env) as two, subscribe(two, variables) as socket:

            def receive() -> None:
                with contextlib.suppress(ConnectionClosed):
                    for message in socket:
                        arrivals.put((time.perf_counter(), change_of(message)))

            threading.Thread(target=receive, daemon=True).start()
            # the series' status now is whatever the month left: make it CRITICAL first
            for status in ("OK", "CRITICAL"):
                live_status.publish(one, token, series, status)
            while arrivals.get(timeout=RECEIVE_SECONDS)[1]["status"] != "CRITICAL":
                pass
            rng = random.Random(14)  # noqa: S311
            latencies = []
            for i in range(samples):
                status = ("OK", "CRITICAL")[i % 2]
                time.sleep(rng.uniform(0, 2 * POLL_SECONDS))  # out of step with the polls
                began = time.perf_counter()
                live_status.publish(one, token, series, status)
                arrived, change = arrivals.get(timeout=RECEIVE_SECONDS)
                assert change["status"] == status, change
                latencies.append(arrived - began)
    return latencies


def latency(url: str, endpoint: Endpoint, samples: int) -> None:
    took = sorted(stream_latency(url, endpoint, samples))
    p95 = took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]
    print(
        f"statusChanges: {samples} results published through one serve process, each "
        f"received on another's subscription (poll {POLL_SECONDS} s): median "
        f"{statistics.median(took) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {took[-1] * 1000:.0f} ms (target < 1 s)"
    )


def monthly_figures(
    factory: sessionmaker[Session], report: str, first: dt.date, days: int
) -> float:
    """The month's figures of every level from the stored days (`availability`, monthly
    granularity, as the GraphQL query and ARGO's web API answer them); seconds."""
    began = time.perf_counter()
    with factory() as session:
        for level in ArLevel:
            availability(
                session,
                PLATFORM,
                report=report,
                level=level,
                name=None,
                start=first,
                end=first + dt.timedelta(days=days - 1),
                granularity="custom",
            )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--every", type=int, default=20, help="minutes between results")
    parser.add_argument("--publish", type=int, default=200_000, help="results published")
    parser.add_argument("--bulk", type=int, default=100, help="messages per publish request")
    parser.add_argument("--batch", type=int, default=1000, help="messages per ingest batch")
    parser.add_argument("--database", default=PG_URL, help="a PostgreSQL URL (recreated)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--skip-service", action="store_true", help="no A/R through the availability service"
    )
    parser.add_argument(
        "--processes", type=int, default=2, help="processes sharing the service's days"
    )
    parser.add_argument("--quick", action="store_true", help="200 endpoints x 7 days, 20,000")
    parser.add_argument(
        "--latency", type=int, default=40, help="results timed to their statusChanges event"
    )
    parser.add_argument(
        "--latency-only",
        action="store_true",
        help="only the statusChanges latency, on a small topology (about a minute)",
    )
    args = parser.parse_args()
    if args.quick:
        args.endpoints, args.days, args.publish = 200, 7, 20_000
    if args.latency_only:
        args.endpoints = 20
    if make_url(args.database).get_backend_name() != "postgresql":
        parser.error("--database: a PostgreSQL URL")
    recreate_pg_database(args.database)
    engine = make_engine(args.database)
    try:
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        with factory() as session:
            began = time.perf_counter()
            endpoints, ngis = topology(session, args.endpoints)
            print(
                f"topology: {len(endpoints)} endpoints ({len({e.service for e in endpoints})} "
                f"service types), {len(ngis)} sites, {len(set(ngis.values()))} NGIs, "
                f"{len(METRICS)} metrics each ({time.perf_counter() - began:.1f} s)"
            )
        if args.latency_only:
            latency(args.database, endpoints[0], args.latency)
            return
        first = utcnow().date() - dt.timedelta(days=args.days + 1)
        began = time.perf_counter()
        loaded = bulk_load(engine, endpoints, first, args.days, args.every)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        load_s = time.perf_counter() - began
        print(
            f"results: {loaded:,} over {args.days} days from {first} (every {args.every} min), "
            f"COPY + ANALYZE {load_s:.1f} s ({loaded / load_s:,.0f} rows/s)"
        )
        began = time.perf_counter()
        with factory() as session:
            # what ingestion keeps beside the results, computed from the loaded ones (as the
            # migration does for results stored before it)
            points = change_points.rebuild(session, since=first)
            session.commit()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE monitoring_change_point"))
        print(
            f"change points: {points:,} from the loaded results by change_points.rebuild "
            f"{time.perf_counter() - began:.1f} s (not a target)"
        )
        encode_s, publish_s = publish(factory, endpoints, args.publish, args.bulk)
        print(
            f"publish: {args.publish:,} results, Avro+base64 encoding {encode_s:.1f} s "
            f"({args.publish / encode_s:,.0f}/s), messaging.publish in requests of {args.bulk} "
            f"{publish_s:.1f} s ({args.publish / publish_s:,.0f} results/s)"
        )
        config = IngestConfig(
            project=PROJECT,
            topic=TOPIC,
            batch=args.batch,
            policy=IngestPolicy(late_age=dt.timedelta(hours=72)),
        )
        began = time.perf_counter()
        read = ingest_topic(factory, config, max_batches=10**9)
        ingest_s = time.perf_counter() - began
        with factory() as session:
            stored = session.execute(
                text("SELECT count(*) FROM monitoring_metric_result WHERE source LIKE 'topic:%'")
            ).scalar_one()
        print(
            f"consume: {read:,} messages read, {stored:,} results stored by the worker's "
            f"ingest_topic in batches of {args.batch}: {ingest_s:.1f} s "
            f"({stored / ingest_s:,.0f} results/s)"
        )
        read_s, total_s, n_read, counts = month_ar(factory, endpoints, ngis, first, args.days)
        print(
            f"A/R over the {args.days} days (daily, then the period) of "
            f"{', '.join(f'{n} {k}' for k, n in counts.items())} from "
            f"{loaded:,} results ({n_read:,} change points read): {total_s:.1f} s "
            f"(waiting for reads {read_s:.1f} s, engine {total_s - read_s:.1f} s)"
        )
        if not args.skip_service:
            with factory() as session:
                report = catalogue_report(session, {e.service for e in endpoints})
            service_s, rows = service_month(args.database, report, first, args.days, args.processes)
            period_s = monthly_figures(factory, report, first, args.days)
            print(
                f"the same {args.days} days through availability.compute_report_day in "
                f"{args.processes} processes (report {report!r}, {rows:,} daily rows stored): "
                f"{service_s:.1f} s; then the period's figures of every level from the "
                f"stored days: {period_s:.1f} s; total {service_s + period_s:.1f} s"
            )
        if args.latency:
            latency(args.database, endpoints[0], args.latency)
    finally:
        engine.dispose()
        if not args.keep:
            drop_pg_database(args.database)


if __name__ == "__main__":
    main()
