"""Downtime reads at scale: the timeline of a month, and monitoring's batch lookup.

    python -m benchmarks.downtimes [--scale 500] [--downtimes 50000]
        [--database sqlite|postgresql|URL] [--runs 7] [--endpoints 10000] [--profile]

Seeds `--scale` synthetic sites (`seed_scale`) and `--downtimes` downtimes over them
(`seed_scale_downtimes`, starts spread over a year either side of now), then prints, with
median and p95 over `--runs` runs and rows/s:

1. the timeline of one month (the calendar month of now, overlap semantics), every page of
   100 followed with `after`:
   a. through GraphQL over HTTP against a real `opsgraph serve` on loopback
      (`downtimes(filter: {windowStart, windowEnd}, first: 100, after)` with the site and
      the services of each downtime);
   b. through the service function `list_downtimes` in-process (the same pages and
      totalCount), and that plus the nested data of each page fetched with the service
      functions the loaders use (`service_links`, `sites_by_id`, `services_by_id`);
2. `endpoint_downtime_intervals` for `--endpoints` endpoints over the last 30 days
   (in-process: it is a function other domains call).

`--database postgresql` uses postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_dt,
dropped and created again; a URL names another database (a PostgreSQL one is recreated).
After seeding, PostgreSQL gets ANALYZE, as autovacuum would do soon after a bulk load.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import make_engine, make_session_factory
from domains.common.identity import ANONYMOUS
from domains.common.pagination import PageRequest
from domains.common.scopes import ScopeDefaults
from domains.common.time import utcnow
from domains.downtimes import service as downtimes
from domains.downtimes.seed import seed_scale_downtimes
from domains.topology import service as topology
from domains.topology.seed import seed_scale
from gateway import migrate
from tests.databases import recreate_pg_database
from tests.server import OPSGRAPH, opsgraph_env, serving

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_dt"
PAGE = 100

TIMELINE_QUERY = """query($start: DateTime!, $end: DateTime!, $first: Int!, $after: String) {
  downtimes(filter: {windowStart: $start, windowEnd: $end}, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id primaryKey severity classification startsAt endsAt
      site { shortName }
      services { hostName }
    } }
  }
}"""


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def timed(fn: Callable[[], int], runs: int) -> tuple[list[float], int]:
    """(milliseconds of each run after one warm-up run, the rows of the last run)."""
    rows = fn()
    gc.collect()
    gc.freeze()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, rows


def report(label: str, samples: list[float], rows: int, unit: str = "rows") -> None:
    median = statistics.median(samples)
    print(
        f"  {label:<46} median {median:8.1f} ms   p95 {p95(samples):8.1f} ms   "
        f"{rows:>6} {unit}   {rows / (median / 1000):>9,.0f} {unit}/s"
    )


def month_of(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime


# ---------------------------------------------------------------------------------------
# In-process: the service functions


def timeline_service(factory: sessionmaker[Session], window: Window, *, nested: bool) -> int:
    """Every page of the month through `list_downtimes` (with totalCount), optionally with
    what the GraphQL query nests: the sites and the host names of the services."""
    flt = downtimes.DowntimeFilter(window_start=window.start, window_end=window.end)
    rows = 0
    after: int | None = None
    with factory() as session:
        while True:
            page = downtimes.list_downtimes(
                session,
                ANONYMOUS,
                filter=flt,
                page=PageRequest(first=PAGE, after=after),
                scope_defaults=ScopeDefaults(),
            )
            if after is None:
                assert page.total_count >= 0
            ids = [int(r.id) for r in page.items]
            if nested and ids:
                links = downtimes.service_links(session, ANONYMOUS, ids)
                sites = topology.sites_by_id(
                    session, ANONYMOUS, sorted({r.site_id for r in page.items})
                )
                service_ids = sorted(
                    {link.service_id for group in links.values() for link in group}
                )
                services = topology.services_by_id(session, ANONYMOUS, service_ids)
                for r in page.items:
                    assert sites[r.site_id].short_name
                    assert all(services[link.service_id].host_name for link in links[r.id])
            rows += len(ids)
            if not page.has_next_page:
                return rows
            after = ids[-1]


def lookup(factory: sessionmaker[Session], endpoint_ids: list[int], window: Window) -> int:
    with factory() as session:
        found = downtimes.endpoint_downtime_intervals(
            session, ANONYMOUS, endpoint_ids=endpoint_ids, start=window.start, end=window.end
        )
    return sum(len(v) for v in found.values())


# ---------------------------------------------------------------------------------------
# Over HTTP: a real server


@contextmanager
def server(database_url: str, opsgraph: str) -> Iterator[str]:
    env = opsgraph_env(database_url, OPSGRAPH_LOG_LEVEL="WARNING")
    with serving(env, opsgraph=opsgraph) as base:
        yield base


class SchemaMissing(Exception):
    pass


def timeline_http(http: httpx2.Client, window: Window, pages: list[float]) -> int:
    """Every page of the month over HTTP; appends each page's milliseconds to `pages`."""
    variables: dict[str, Any] = {
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "first": PAGE,
        "after": None,
    }
    rows = 0
    while True:
        started = time.perf_counter()
        response = http.post("/graphql", json={"query": TIMELINE_QUERY, "variables": variables})
        pages.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.text[:500]}")
        body = response.json()
        if body.get("errors"):
            message = body["errors"][0].get("message", "")
            if "downtimes" in message and "Cannot query field" in message:
                raise SchemaMissing(message)
            raise SystemExit(f"GraphQL errors: {body['errors'][:2]}")
        connection = body["data"]["downtimes"]
        rows += len(connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return rows
        variables["after"] = connection["pageInfo"]["endCursor"]


# ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=500, help="synthetic sites")
    parser.add_argument("--downtimes", type=int, default=50_000)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgresql or a URL")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--endpoints", type=int, default=10_000)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--opsgraph",
        default=OPSGRAPH,
        help="the console script to serve with (default: this venv's)",
    )
    parser.add_argument("--profile", action="store_true", help="pyinstrument profiles")
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
        now = utcnow()
        with factory() as session:
            started = time.perf_counter()
            seed_scale(session, args.scale)
            topo_s = time.perf_counter() - started
            started = time.perf_counter()
            seed_scale_downtimes(session, args.downtimes, now=now)
            dt_s = time.perf_counter() - started
            session.commit()
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        with factory() as session:
            counts = {
                t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("site", "service", "endpoint", "downtime", "downtime_service")
            }
            all_endpoints = list(
                session.execute(
                    select(topology.T_ENDPOINT.c.id).order_by(topology.T_ENDPOINT.c.id)
                ).scalars()
            )
        print(
            f"database: {engine.dialect.name}; seed_scale({args.scale}) {topo_s:.1f} s, "
            f"seed_scale_downtimes({args.downtimes}) {dt_s:.1f} s "
            f"({args.downtimes / dt_s:,.0f} downtimes/s)"
        )
        print(f"rows: {counts}")

        month = Window(*month_of(now))
        last_30 = Window(now - timedelta(days=30), now)
        print(f"timeline window {month.start:%Y-%m-%d} .. {month.end:%Y-%m-%d}, pages of {PAGE}:")
        http_ms: list[float] = []
        page_ms: list[float] = []
        http_rows = 0
        if not args.skip_http:
            try:
                with (
                    server(url, args.opsgraph) as base,
                    httpx2.Client(base_url=base, timeout=120) as http,
                ):
                    pages: list[float] = []
                    http_ms, http_rows = timed(lambda: timeline_http(http, month, pages), args.runs)
                    page_ms = pages[len(pages) // (args.runs + 1) :]  # not the warm-up
                report("GraphQL over HTTP, the whole month", http_ms, http_rows)
                report("GraphQL over HTTP, one page", page_ms, PAGE)
            except SchemaMissing as exc:
                print(f"  GraphQL over HTTP: skipped, the server's schema has no downtimes ({exc})")
        svc_ms, svc_rows = timed(lambda: timeline_service(factory, month, nested=False), args.runs)
        report("list_downtimes, the whole month", svc_ms, svc_rows)
        nested_ms, nested_rows = timed(
            lambda: timeline_service(factory, month, nested=True), args.runs
        )
        report("list_downtimes + sites + services, the month", nested_ms, nested_rows)
        if http_ms:
            assert http_rows == svc_rows, (http_rows, svc_rows)

        chosen = all_endpoints[: args.endpoints]
        note = "" if len(chosen) == args.endpoints else f" (all there are; asked {args.endpoints})"
        print(f"endpoint_downtime_intervals: {len(chosen)} endpoints{note}, the last 30 days:")
        lookup_ms, intervals = timed(lambda: lookup(factory, chosen, last_30), args.runs)
        report("intervals found", lookup_ms, intervals, unit="intervals")
        report("endpoints asked", lookup_ms, len(chosen), unit="endpoints")

        if args.profile:
            from pyinstrument import Profiler

            profiled: tuple[tuple[str, Callable[[], int]], ...] = (
                (
                    "list_downtimes, the month",
                    lambda: timeline_service(factory, month, nested=False),
                ),
                ("endpoint_downtime_intervals", lambda: lookup(factory, chosen, last_30)),
            )
            for label, fn in profiled:
                profiler = Profiler(interval=0.0005)
                profiler.start()
                for _ in range(3):
                    fn()
                profiler.stop()
                print(f"--- profile: {label}")
                print(profiler.output_text(unicode=False, color=False, show_all=False))
        engine.dispose()


if __name__ == "__main__":
    main()
