"""opsgraph against PostGraphile 4 on the same PostgreSQL data, side by side (issue 16).

    python -m benchmarks.peer [--scale 500] [--runs 40] [--rounds 8] [--database-url URL]
        [--reuse] [--shapes reference,filtered,deep] [--skip-floor] [--profile FILE]
        [--server-pythonpath DIR] [--processes N]

1. Seeds `--scale` synthetic sites (`seed_scale`) into a PostgreSQL database (default
   postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_peer, dropped and created
   again; `--reuse` keeps one a previous run seeded), then copies the `ngi`, `site`,
   `service_type`, `service`, `endpoint`, `endpoint_property`, `scope` and `site_scope`
   tables into the schema `peer` with the same keys, indexes and foreign keys, but without
   the `primary_key` column (it clashes with PostGraphile's `PRIMARY_KEY_ASC` ordering).
2. Installs `postgraphile@4` and `postgraphile-plugin-connection-filter@2` with npm into a
   temporary directory and serves `peer` with them (library mode, default options plus the
   filter plugin with relation filters, for the filtered shape, and the query log off), and
   starts a real `opsgraph serve` on the same database (`--processes N`: `serve --processes
   N`; PostGraphile stays one Node.js process).
3. For each shape (SHAPES: the reference read query, a filtered list, a deep query) it
   first checks that both servers return the same data (the same objects, in the same
   order, compared after mapping PostGraphile's names onto opsgraph's), then times them
   over HTTP keep-alive:
   - 1 client: `--runs` requests per server, interleaved request by request (the order
     swapped every run);
   - 4 clients: `--rounds` rounds per server, interleaved round by round, each round 4
     concurrent clients (threads with a keep-alive connection each) sending
     `--per-client` requests apiece; throughput is requests / the rounds' wall time.
   It prints median and p95 latency, the latency ratio (opsgraph / PostGraphile, medians;
   below 1 is faster) and the throughput ratio (opsgraph / PostGraphile; above 1 is
   better), with the machine's load average before and after each figure.
4. In-process (no HTTP): the reference query's execution against the hand-written SQL +
   json.dumps floor of `benchmarks.graphql_read`, on the same database.

`--profile FILE` writes a cProfile of the reference query executed in-process (the same
path `serve` takes below the HTTP layer) and prints its top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from benchmarks.graphql_read import floor_once_with, in_process, p95, timed
from domains.common.db import make_engine, make_session_factory
from domains.topology.seed import seed_scale
from gateway import migrate
from gateway.config import Settings
from tests.databases import recreate_pg_database
from tests.server import free_port, opsgraph_env, serving

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_peer"
PEER_SCHEMA = "peer"
# What PostGraphile serves: the tables the shapes read, in an order their foreign keys allow.
COPIED = (
    "ngi",
    "service_type",
    "scope",
    "site",
    "site_scope",
    "service",
    "endpoint",
    "endpoint_property",
)
NPM_PACKAGES = ("postgraphile@4", "postgraphile-plugin-connection-filter@2")

# The PostGraphile server: our own few lines around its documented library entry point.
SERVER_JS = """
const http = require("http");
const { postgraphile } = require("postgraphile");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");
const [databaseUrl, schema, port] = process.argv.slice(2);
const handler = postgraphile(databaseUrl, schema, {
  appendPlugins: [ConnectionFilterPlugin],
  graphileBuildOptions: { connectionFilterRelations: true },
  disableQueryLog: true,
});
http.createServer(handler).listen(Number(port), "127.0.0.1", () => console.log("listening"));
"""

Json = dict[str, Any]

# --- the shapes ------------------------------------------------------------------------

# The first NGIs by id (the filtered shape's `ngi` list and the deep shape's page).
FILTER_NGIS = 10
DEEP_NGIS = 10

OPSGRAPH_REFERENCE = """query($first: Int!) {
  sites(first: $first) { edges { node {
    shortName ngi { name }
    services { hostName serviceType url endpoints { name url } }
  } } }
}"""

PEER_REFERENCE = """query($first: Int!) {
  allSites(first: $first, orderBy: ID_ASC) { edges { node {
    shortName ngiByNgiId { name }
    servicesBySiteId(orderBy: ID_ASC) { nodes {
      hostName serviceTypeByServiceTypeId { name } url
      endpointsByServiceId(orderBy: ID_ASC) { nodes { name url } }
    } }
  } } }
}"""

OPSGRAPH_FILTERED = """query($first: Int!, $ngis: [String!]!) {
  sites(first: $first,
        filter: {ngi: $ngis, certificationStatus: [CERTIFIED], scopes: ["EGI"]}) {
    totalCount
    edges { node {
      shortName certificationStatus ngi { name }
      services { hostName serviceType url }
    } }
  }
}"""

PEER_FILTERED = """query($first: Int!, $ngis: [String!]!) {
  allSites(first: $first, orderBy: ID_ASC, filter: {
    ngiByNgiId: {name: {in: $ngis}},
    certificationStatus: {in: ["Certified"]},
    siteScopesBySiteId: {some: {scopeByScopeId: {name: {in: ["EGI"]}}}}
  }) {
    totalCount
    edges { node {
      shortName certificationStatus ngiByNgiId { name }
      servicesBySiteId(orderBy: ID_ASC) { nodes {
        hostName serviceTypeByServiceTypeId { name } url
      } }
    } }
  }
}"""

OPSGRAPH_DEEP = """query($first: Int!) {
  ngis(first: $first) { edges { node {
    name
    sites { shortName services { hostName serviceType
      endpoints { name url properties { key value } } } }
  } } }
}"""

PEER_DEEP = """query($first: Int!) {
  allNgis(first: $first, orderBy: ID_ASC) { edges { node {
    name
    sitesByNgiId(orderBy: ID_ASC) { nodes { shortName
      servicesBySiteId(orderBy: ID_ASC) { nodes { hostName serviceTypeByServiceTypeId { name }
        endpointsByServiceId(orderBy: ID_ASC) { nodes { name url
          endpointPropertiesByEndpointId(orderBy: KEY_ASC) { nodes { key value } } } }
      } }
    } }
  } } }
}"""


def _nodes(connection: Json) -> list[Json]:
    return [edge["node"] for edge in connection["edges"]]


def _peer_services(site: Json, *, endpoints: bool) -> list[Json]:
    out = []
    for v in site["servicesBySiteId"]["nodes"]:
        service = {
            "hostName": v["hostName"],
            "serviceType": v["serviceTypeByServiceTypeId"]["name"],
            "url": v["url"],
        }
        if endpoints:
            service["endpoints"] = v["endpointsByServiceId"]["nodes"]
        out.append(service)
    return out


def reference_peer(data: Json) -> Json:
    """PostGraphile's answer in opsgraph's names and shape."""
    return {
        "sites": {
            "edges": [
                {
                    "node": {
                        "shortName": s["shortName"],
                        "ngi": s["ngiByNgiId"],
                        "services": _peer_services(s, endpoints=True),
                    }
                }
                for s in _nodes(data["allSites"])
            ]
        }
    }


def filtered_peer(data: Json) -> Json:
    connection = data["allSites"]
    return {
        "sites": {
            "totalCount": connection["totalCount"],
            "edges": [
                {
                    "node": {
                        "shortName": s["shortName"],
                        # opsgraph's enum names the stored value in upper case
                        "certificationStatus": s["certificationStatus"].upper(),
                        "ngi": s["ngiByNgiId"],
                        "services": _peer_services(s, endpoints=False),
                    }
                }
                for s in _nodes(connection)
            ],
        }
    }


def deep_peer(data: Json) -> Json:
    def endpoint(e: Json) -> Json:
        props = e["endpointPropertiesByEndpointId"]["nodes"]
        return {"name": e["name"], "url": e["url"], "properties": props}

    def service(v: Json) -> Json:
        return {
            "hostName": v["hostName"],
            "serviceType": v["serviceTypeByServiceTypeId"]["name"],
            "endpoints": [endpoint(e) for e in v["endpointsByServiceId"]["nodes"]],
        }

    return {
        "ngis": {
            "edges": [
                {
                    "node": {
                        "name": n["name"],
                        "sites": [
                            {
                                "shortName": s["shortName"],
                                "services": [service(v) for v in s["servicesBySiteId"]["nodes"]],
                            }
                            for s in n["sitesByNgiId"]["nodes"]
                        ],
                    }
                }
                for n in _nodes(data["allNgis"])
            ]
        }
    }


@dataclass(frozen=True)
class Shape:
    """One query shape: opsgraph's document, PostGraphile's equivalent, and the mapping of
    PostGraphile's answer onto opsgraph's (for the same-data check)."""

    name: str
    opsgraph: str
    peer: str
    to_opsgraph: Callable[[Json], Json]
    variables: Callable[[list[str]], Json]  # from the NGI names in id order


SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape(
            "reference",
            OPSGRAPH_REFERENCE,
            PEER_REFERENCE,
            reference_peer,
            lambda _ngis: {"first": 100},
        ),
        Shape(
            "filtered",
            OPSGRAPH_FILTERED,
            PEER_FILTERED,
            filtered_peer,
            lambda ngis: {"first": 100, "ngis": ngis[:FILTER_NGIS]},
        ),
        Shape("deep", OPSGRAPH_DEEP, PEER_DEEP, deep_peer, lambda _ngis: {"first": DEEP_NGIS}),
    )
}


def count_objects(data: Json) -> int:
    """Objects in an answer (`data`) in opsgraph's shape: the entities and the objects they
    nest, not the connections and their edges (the issue's 1,783 for the reference query
    left out the NGI objects, too: 100 fewer)."""

    def count(value: Any) -> int:
        if isinstance(value, list):
            return sum(count(v) for v in value)
        if not isinstance(value, dict):
            return 0
        if "edges" in value:
            return sum(count(edge["node"]) for edge in value["edges"])
        return 1 + sum(count(v) for v in value.values())

    return sum(count(v) for v in data.values())


# --- the database ------------------------------------------------------------------------

_FK = re.compile(r"FOREIGN KEY \((\w+)\) REFERENCES (?:public\.)?(\w+)\((\w+)\)(.*)")


def copy_tables(engine: Engine) -> None:
    """The `peer` schema: copies of COPIED with their indexes (LIKE ... INCLUDING ALL), the
    foreign keys among them, no `primary_key` column; analysed."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PEER_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PEER_SCHEMA}"))
        for table in COPIED:
            conn.execute(
                text(f"CREATE TABLE {PEER_SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)")
            )
            conn.execute(text(f"INSERT INTO {PEER_SCHEMA}.{table} SELECT * FROM public.{table}"))
            conn.execute(
                text(f"ALTER TABLE {PEER_SCHEMA}.{table} DROP COLUMN IF EXISTS primary_key")
            )
        foreign_keys = conn.execute(
            text(
                "SELECT c.conname, t.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE c.contype = 'f' AND n.nspname = 'public' AND t.relname = ANY(:tables)"
            ),
            {"tables": list(COPIED)},
        ).all()
        for name, table, definition in foreign_keys:
            match = _FK.fullmatch(definition)
            assert match, definition
            column, target, target_column, rest = match.groups()
            if target not in COPIED:
                continue
            conn.execute(
                text(
                    f'ALTER TABLE {PEER_SCHEMA}.{table} ADD CONSTRAINT "{name}" '
                    f"FOREIGN KEY ({column}) REFERENCES {PEER_SCHEMA}.{target}({target_column})"
                    f"{rest}"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def prepare_database(url: str, scale: int, reuse: bool) -> list[str]:
    """Seed (unless reusing), copy for PostGraphile; the NGI names in id order."""
    engine = make_engine(url)
    try:
        seeded = False
        if reuse:
            with engine.connect() as conn:
                seeded = bool(
                    conn.execute(text("SELECT to_regclass('peer.site') IS NOT NULL")).scalar_one()
                )
        if not seeded:
            engine.dispose()
            recreate_pg_database(url)
            engine = make_engine(url)
            migrate.upgrade(engine)
            started = time.perf_counter()
            factory = make_session_factory(engine)
            with factory() as session:
                seed_scale(session, scale)
                session.commit()
            print(f"seeded --scale {scale} in {time.perf_counter() - started:.1f} s")
            copy_tables(engine)
        with engine.connect() as conn:
            counts = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("ngi", "site", "service", "endpoint", "endpoint_property")
            }
            ngis = list(conn.execute(text("SELECT name FROM ngi ORDER BY id")).scalars())
        print(f"rows: {counts}")
        return ngis
    finally:
        engine.dispose()


# --- the servers ------------------------------------------------------------------------


@contextmanager
def postgraphile(url: str) -> Iterator[str]:
    """PostGraphile 4 from npm in a temporary directory, serving PEER_SCHEMA; yields its
    GraphQL URL once it answers."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise SystemExit("npm and node (Node.js 20) are needed for PostGraphile")
    database = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory(prefix="peer-postgraphile-") as directory:
        work = Path(directory)
        (work / "package.json").write_text('{"name": "peer-bench", "private": true}\n')
        # npm and node as found on PATH, with arguments of our own
        subprocess.run(  # noqa: S603
            [npm, "install", "--no-audit", "--no-fund", "--silent", *NPM_PACKAGES],
            cwd=work,
            check=True,
            timeout=600,
        )
        version = json.loads((work / "node_modules" / "postgraphile" / "package.json").read_text())[
            "version"
        ]
        (work / "server.js").write_text(SERVER_JS)
        port = free_port()
        with (work / "server.log").open("w") as log:
            proc = subprocess.Popen(  # noqa: S603
                [node, "server.js", database, PEER_SCHEMA, str(port)],
                cwd=work,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}/graphql"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"PostGraphile exited: {(work / 'server.log').read_text()}")
                try:
                    answer = httpx2.post(base, json={"query": "{ __typename }"}, timeout=5)
                    if answer.status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("PostGraphile did not answer within 60 s")
                time.sleep(0.2)
            print(f"PostGraphile {version} on {base}")
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


# --- measuring ---------------------------------------------------------------------------


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


@dataclass
class Target:
    name: str
    url: str
    body: Json


def post(client: httpx2.Client, target: Target) -> float:
    """Milliseconds for one request, its body read; a failure stops the benchmark."""
    started = time.perf_counter()
    response = client.post(target.url, json=target.body)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or b'"errors"' in response.content[:200]:
        raise SystemExit(f"{target.name}: HTTP {response.status_code}: {response.text[:500]}")
    return elapsed


def fetch(client: httpx2.Client, target: Target) -> Json:
    response = client.post(target.url, json=target.body)
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"{target.name}: HTTP {response.status_code}: {response.text[:1000]}")
    data = body["data"]
    assert isinstance(data, dict)
    return data


def one_client(pair: tuple[Target, Target], runs: int) -> dict[str, list[float]]:
    """Request by request, the order swapped every run."""
    samples: dict[str, list[float]] = {t.name: [] for t in pair}
    with httpx2.Client(timeout=120) as client:
        for target in pair:
            for _ in range(5):
                post(client, target)
        for run in range(runs):
            for target in pair if run % 2 == 0 else pair[::-1]:
                samples[target.name].append(post(client, target))
    return samples


def concurrent_clients(
    pair: tuple[Target, Target], clients: int, rounds: int, per_client: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Round by round, each round `clients` threads sending `per_client` requests apiece;
    the latencies and the requests per second of each target."""
    samples: dict[str, list[float]] = {t.name: [] for t in pair}
    wall: dict[str, float] = {t.name: 0.0 for t in pair}
    sessions = [httpx2.Client(timeout=120) for _ in range(clients)]

    def burst(target: Target, client: httpx2.Client) -> list[float]:
        return [post(client, target) for _ in range(per_client)]

    try:
        with ThreadPoolExecutor(clients) as pool:
            for target in pair:  # warm every connection
                list(pool.map(partial(burst, target), sessions))
            for round_ in range(rounds):
                for target in pair if round_ % 2 == 0 else pair[::-1]:
                    started = time.perf_counter()
                    for latencies in pool.map(partial(burst, target), sessions):
                        samples[target.name].extend(latencies)
                    wall[target.name] += time.perf_counter() - started
    finally:
        for session in sessions:
            session.close()
    throughput = {name: len(samples[name]) / wall[name] for name in wall}
    return samples, throughput


def check_same_data(shape: Shape, pair: tuple[Target, Target]) -> int:
    """The objects both servers return for this shape (the same, or the benchmark stops)."""
    with httpx2.Client(timeout=120) as client:
        ours = fetch(client, pair[0])
        theirs = shape.to_opsgraph(fetch(client, pair[1]))
    if ours != theirs:
        raise SystemExit(
            f"{shape.name}: the servers differ: opsgraph {count_objects(ours)} objects, "
            f"PostGraphile {count_objects(theirs)}"
        )
    return count_objects(ours)


def line(label: str, samples: list[float]) -> str:
    return f"{label:<12} median {statistics.median(samples):7.1f} ms  p95 {p95(samples):7.1f} ms"


def compare(
    shapes: list[Shape], ours: str, theirs: str, ngis: list[str], args: argparse.Namespace
) -> None:
    for shape in shapes:
        variables = shape.variables(ngis)
        pair = (
            Target("opsgraph", ours, {"query": shape.opsgraph, "variables": variables}),
            Target("PostGraphile", theirs, {"query": shape.peer, "variables": variables}),
        )
        objects = check_same_data(shape, pair)
        print(f"\n{shape.name}: {objects} objects from each server (the same data)")
        before = load()
        single = one_client(pair, args.runs)
        ratio = statistics.median(single["opsgraph"]) / statistics.median(single["PostGraphile"])
        print(f"  1 client, {args.runs} requests each, load {before} -> {load()}")
        for name, samples in single.items():
            print(f"    {line(name, samples)}")
        print(f"    latency ratio opsgraph / PostGraphile: {ratio:.2f}x")
        before = load()
        many, rps = concurrent_clients(pair, 4, args.rounds, args.per_client)
        print(
            f"  4 clients, {args.rounds} rounds x 4 x {args.per_client} requests each, "
            f"load {before} -> {load()}"
        )
        for name, samples in many.items():
            print(f"    {line(name, samples)}  {rps[name]:6.1f} requests/s")
        latency = statistics.median(many["opsgraph"]) / statistics.median(many["PostGraphile"])
        print(
            f"    latency ratio {latency:.2f}x, throughput ratio opsgraph / PostGraphile: "
            f"{rps['opsgraph'] / rps['PostGraphile']:.2f}x"
        )


def floor_ratio(url: str, runs: int, profile: str | None) -> None:
    """The reference query in-process against the hand-written floor, on this database."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    settings = Settings(database_url=url, log_level="WARNING")
    graphql_once = partial(in_process(settings, factory), 100)
    floor_once = partial(floor_once_with, factory, 100)
    assert json.loads(graphql_once()) == json.loads(floor_once()), "floor and GraphQL differ"
    before = load()
    gql_ms = timed(graphql_once, runs)
    floor_ms = timed(floor_once, runs)
    ratio = statistics.median(gql_ms) / statistics.median(floor_ms)
    print(f"\nin-process, reference query, {runs} runs each, load {before} -> {load()}")
    print(f"    {line('opsgraph', gql_ms)}")
    print(f"    {line('floor', floor_ms)}")
    print(f"    ratio in-process / floor (medians): {ratio:.2f}x")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(30):
            graphql_once()
        profiler.disable()
        profiler.dump_stats(profile)
        print(f"\ncProfile of 30 in-process reference queries (written to {profile}):")
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--runs", type=int, default=40, help="1 client: requests per server")
    parser.add_argument("--rounds", type=int, default=8, help="4 clients: rounds per server")
    parser.add_argument("--per-client", type=int, default=5, help="requests per client a round")
    parser.add_argument("--database-url", default=PG_URL, help="a PostgreSQL database, recreated")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before")
    parser.add_argument(
        "--shapes", default=",".join(SHAPES), help="comma-separated; empty: the floor only"
    )
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument(
        "--server-pythonpath", help="serve another checkout's code (before/after comparisons)"
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the in-process reference")
    parser.add_argument("--processes", type=int, default=1, help="opsgraph serve --processes N")
    args = parser.parse_args()
    if make_url(args.database_url).get_backend_name() != "postgresql":
        raise SystemExit("PostGraphile needs PostgreSQL: --database-url postgresql+psycopg://...")
    shapes = [SHAPES[name] for name in args.shapes.split(",") if name]

    print(f"load average (1/5 min) at start: {load()}")
    ngis = prepare_database(args.database_url, args.scale, args.reuse)
    # the response cache off: every request repeats one document, which would make each a
    # cache hit, and PostGraphile keeps no answers (graphql_read.py measures the hits)
    env = opsgraph_env(
        args.database_url, OPSGRAPH_LOG_LEVEL="WARNING", OPSGRAPH_RESPONSE_CACHE_MAX="0"
    )
    if args.server_pythonpath:
        env["PYTHONPATH"] = args.server_pythonpath
    if shapes:
        served = serving(env, "--processes", str(args.processes))
        with postgraphile(args.database_url) as theirs, served as base:
            compare(shapes, f"{base}/graphql", theirs, ngis, args)
    if not args.skip_floor:
        floor_ratio(args.database_url, args.runs, args.profile)


if __name__ == "__main__":
    main()
