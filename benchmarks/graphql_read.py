"""Reference read query against a synthetic federation, with a hand-written floor.

    python -m benchmarks.graphql_read [--scale 500] [--runs 60] [--database-url URL] [--profile]

Prints, for the query in REFERENCE_QUERY: median and p95 latency of in-process execution
(parse, validate, execute, JSON encoding), the SQL statements per request at page sizes 1
and 100, the same through the full HTTP stack (Starlette + strawberry's view), and the
floor: the same data fetched with hand-written SQL and encoded with json.dumps.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from domains.common.context import Limits, RequestContext
from domains.common.db import make_engine, make_session_factory
from domains.topology.seed import seed_scale
from gateway import migrate
from gateway.app import create_app
from gateway.config import Settings
from gateway.schema import build_schema

REFERENCE_QUERY = """query($first: Int!) {
  sites(first: $first) { edges { node {
    shortName ngi { name }
    services { hostName serviceType url endpoints { name url } }
  } } }
}"""


def floor_payload(session: Session, first: int) -> str:
    """The reference data with three hand-written statements and json.dumps."""
    sites = session.execute(
        text(
            "SELECT s.id, s.short_name, n.name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "ORDER BY s.id LIMIT :first"
        ),
        {"first": first},
    ).all()
    site_ids = [row[0] for row in sites]
    services = session.execute(
        text(
            "SELECT v.id, v.site_id, v.host_name, t.name, v.url FROM service v "
            "JOIN service_type t ON t.id = v.service_type_id "
            "WHERE v.site_id IN (SELECT id FROM site ORDER BY id LIMIT :first) ORDER BY v.id"
        ),
        {"first": first},
    ).all()
    endpoints = session.execute(
        text(
            "SELECT e.service_id, e.name, e.url FROM endpoint e WHERE e.service_id IN "
            "(SELECT v.id FROM service v WHERE v.site_id IN "
            "(SELECT id FROM site ORDER BY id LIMIT :first)) ORDER BY e.id"
        ),
        {"first": first},
    ).all()
    eps: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for service_id, name, url in endpoints:
        eps[service_id].append({"name": name, "url": url})
    svcs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for sid, site_id, host, stype, url in services:
        svcs[site_id].append(
            {"hostName": host, "serviceType": stype, "url": url, "endpoints": eps[sid]}
        )
    assert len(site_ids) == len(sites)
    edges = [
        {"node": {"shortName": short, "ngi": {"name": ngi}, "services": svcs[sid]}}
        for sid, short, ngi in sites
    ]
    return json.dumps({"data": {"sites": {"edges": edges}}})


def in_process(settings: Settings, factory: Callable[[], Session]) -> Callable[..., str]:
    """The reference query executed in-process (parse, validate, execute, json.dumps), as
    a function of `first`; the schema is built once."""
    schema = build_schema(settings)

    def graphql_once(first: int) -> str:
        with factory() as session:
            ctx = RequestContext(
                session=session,
                limits=Limits(default_page_size=20, max_page_size=settings.max_page_size),
            )
            result = schema.execute_sync(
                REFERENCE_QUERY, variable_values={"first": first}, context_value=ctx
            )
            assert not result.errors, result.errors
            return json.dumps({"data": result.data})

    return graphql_once


def floor_once_with(factory: Callable[[], Session], first: int) -> str:
    with factory() as session:
        return floor_payload(session, first)


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    for _ in range(max(3, runs // 10)):
        fn()
    # as `opsgraph serve` does after start-up: long-lived objects out of the collector's way
    gc.collect()
    gc.freeze()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def count_statements(engine: Engine, fn: Callable[[], object]) -> int:
    seen: list[str] = []

    def record(*args: Any) -> None:
        # transaction control (SQLite's explicit BEGIN) is not a query
        if not args[2].lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--first", type=int, default=100)
    parser.add_argument(
        "--database-url", help="an EMPTY database (default: a temporary SQLite file)"
    )
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        started = time.perf_counter()
        with factory() as session:
            seed_scale(session, args.scale)
            session.commit()
        print(
            f"database: {engine.dialect.name}; seeded --scale {args.scale} "
            f"in {time.perf_counter() - started:.1f} s"
        )
        with factory() as session:
            counts = {
                t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("site", "service", "endpoint")
            }
        print(f"rows: {counts}")

        settings = Settings(
            database_url=url, max_page_size=max(100, args.first), log_level="WARNING"
        )
        run_query = in_process(settings, factory)
        graphql_once = partial(run_query, args.first)
        floor_once = partial(floor_once_with, factory, args.first)

        # Same data both ways, or the comparison means nothing.
        assert json.loads(graphql_once()) == json.loads(floor_once()), "floor and GraphQL differ"

        statements = {n: count_statements(engine, partial(run_query, n)) for n in (1, 100)}
        gql_ms = timed(graphql_once, args.runs)
        floor_ms = timed(floor_once, args.runs)

        body = {"query": REFERENCE_QUERY, "variables": {"first": args.first}}
        http_ms: dict[bool, list[float]] = {}
        for cached in (False, True):  # the response cache off, then on (every request a hit)
            app = create_app(
                replace(settings, response_cache_max=1000 if cached else 0), engine=engine
            )
            with TestClient(app) as client:

                def http_once() -> None:
                    response = client.post("/graphql", json=body)
                    assert response.status_code == 200
                    assert "errors" not in response.json()

                http_ms[cached] = timed(http_once, args.runs)

        payload_kib = len(floor_once()) / 1024
        print(f"reference query: sites(first: {args.first}), {payload_kib:.0f} KiB of JSON")
        print(
            "  SQL statements per request: "
            f"first=1 -> {statements[1]}, first=100 -> {statements[100]}"
        )
        rows = [
            ("GraphQL in-process", gql_ms),
            ("GraphQL over HTTP (TestClient)", http_ms[False]),
            ("  the same, a response-cache hit", http_ms[True]),
            ("floor: hand-written SQL + json.dumps", floor_ms),
        ]
        for label, samples in rows:
            median = statistics.median(samples)
            print(f"  {label:<40} median {median:7.2f} ms   p95 {p95(samples):7.2f} ms")
        ratio = statistics.median(gql_ms) / statistics.median(floor_ms)
        print(f"  ratio in-process / floor (medians): {ratio:.2f}x")
        hit = statistics.median(http_ms[True]) / statistics.median(floor_ms)
        print(f"  ratio cache hit over HTTP / floor (medians): {hit:.2f}x")

        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            for _ in range(20):
                graphql_once()
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        engine.dispose()


if __name__ == "__main__":
    main()
