"""Concurrent writers mixed with readers against a real `opsgraph serve` on loopback.

    python -m benchmarks.concurrency [--seconds 60] [--writers 16] [--readers 16]
        [--backends sqlite,postgresql] [--pg-url URL] [--opsgraph PATH]

For each backend: a fresh database (a SQLite file; PostgreSQL `--pg-url`, default
`opsgraph_bench_sqlite`, dropped and created again), a messaging project, topic and
subscription and two API tokens bootstrapped with the CLI, then `opsgraph serve --demo`
(embedded workers). For `--seconds`, WRITERS threads publish one message per request with
an API token, alternately through the GraphQL `publish` mutation and AMS's `:publish`,
while READERS threads read: anonymous GraphQL (sites with their NGI), GraphQL with a token
(the topic), the RSS downtime feed, and AMS's topic GET with a token. Each thread keeps its
own HTTP connection and sends its next request when the previous one is answered.

Prints requests/s (writes, reads, all), the slowest request, the error count (a non-200
answer, a GraphQL error, or a transport error) with the first errors seen, how many errors
said "database is locked", and whether every accepted publish is in the subscription
afterwards. `--opsgraph` runs another installation's console script (e.g. an older
checkout's, to compare).
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx2

from tests.databases import recreate_pg_database
from tests.server import OPSGRAPH, cli_output, opsgraph_env, serving

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_sqlite"
PROJECT = "BENCH"
LOCKED = "database is locked"

PUBLISH = """mutation($input: PublishInput!) { publish(input: $input) { messageIds } }"""
SITES = "{ sites(first: 20) { edges { node { shortName ngi { name } } } } }"
TOPIC = 'query { topic(project: "BENCH", name: "bench") { name } }'


def _token(opsgraph: str, env: dict[str, str], subject: str, role: str) -> str:
    return cli_output(
        env,
        *("messaging", "issue-token", "--subject", subject, "--project", PROJECT),
        *("--roles", role),
        opsgraph=opsgraph,
    )


class Server(NamedTuple):
    base: str  # URL
    writer: str  # the writer's API token
    reader: str  # the reader's API token


@contextmanager
def server(opsgraph: str, database_url: str, log: Path) -> Iterator[Server]:
    """A bootstrapped `serve --demo` logging to `log`."""
    env = opsgraph_env(database_url, OPSGRAPH_LOG_LEVEL="ERROR")
    cli_output(env, "messaging", "create-project", PROJECT, opsgraph=opsgraph)
    writer = _token(opsgraph, env, "writer@bench", "project_admin")
    reader = _token(opsgraph, env, "reader@bench", "publisher")
    with serving(env, "--demo", output=log, opsgraph=opsgraph) as base:
        yield Server(base, writer, reader)


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    writes: int = 0
    reads: int = 0
    errors: int = 0
    locked: int = 0
    slowest: float = 0.0
    slowest_what: str = ""
    samples: list[str] = field(default_factory=list)
    published: set[str] = field(default_factory=set)

    def record(self, what: str, seconds: float, error: str | None, *, write: bool) -> None:
        with self.lock:
            if seconds > self.slowest:
                self.slowest, self.slowest_what = seconds, what
            if error is None:
                if write:
                    self.writes += 1
                else:
                    self.reads += 1
                return
            self.errors += 1
            self.locked += LOCKED in error
            if len(self.samples) < 5:
                self.samples.append(f"{what}: {error[:300]}")


def answer(response: httpx2.Response, kind: str) -> tuple[Any, str | None]:
    """(data, error) of an answer of `kind` graphql, json or raw"""
    if response.status_code != 200:
        return None, f"HTTP {response.status_code} {response.text}"
    if kind == "raw":
        return None, None
    try:
        body = response.json()
    except ValueError:
        return None, f"not JSON: {response.text}"
    if kind == "json":
        return body, None
    if body.get("errors"):
        return None, json.dumps(body["errors"])
    return body["data"], None


class Sent(NamedTuple):
    response: httpx2.Response
    kind: str  # how to read the answer: graphql, json or raw
    accepted: Callable[[Any], list[str]]  # the message ids the answer's data accepted


class Request(NamedTuple):
    what: str
    send: Callable[[httpx2.Client, int], Sent]  # sends the n-th


def _writer(index: int) -> Request:
    def gql(http: httpx2.Client, n: int) -> Sent:
        data = base64.b64encode(f"w{index}-{n}".encode()).decode()
        variables = {"input": {"project": PROJECT, "topic": "bench", "messages": [{"data": data}]}}
        response = http.post("/graphql", json={"query": PUBLISH, "variables": variables})
        return Sent(response, "graphql", lambda d: list(d["publish"]["messageIds"]))

    def ams(http: httpx2.Client, n: int) -> Sent:
        data = base64.b64encode(f"w{index}-{n}".encode()).decode()
        response = http.post(
            f"/v1/projects/{PROJECT}/topics/bench:publish",
            content=json.dumps({"messages": [{"data": data}]}),
        )
        return Sent(response, "json", lambda d: list(d["messageIds"]))

    return Request("GraphQL publish", gql) if index % 2 == 0 else Request("AMS publish", ams)


def _reader(index: int) -> tuple[Request, bool]:
    """(request, whether it carries the reader's token)"""

    def anonymous(http: httpx2.Client, _n: int) -> Sent:
        return Sent(http.post("/graphql", json={"query": SITES}), "graphql", _none)

    def topic(http: httpx2.Client, _n: int) -> Sent:
        return Sent(http.post("/graphql", json={"query": TOPIC}), "graphql", _none)

    def feed(http: httpx2.Client, _n: int) -> Sent:
        return Sent(http.get("/feeds/downtimes.rss"), "raw", _none)

    def ams(http: httpx2.Client, _n: int) -> Sent:
        response = http.get(f"/v1/projects/{PROJECT}/topics/bench")
        return Sent(response, "json", _none)

    choices: list[tuple[Request, bool]] = [
        (Request("GraphQL sites (anonymous)", anonymous), False),
        (Request("GraphQL topic (token)", topic), True),
        (Request("RSS feed (anonymous)", feed), False),
        (Request("AMS topic GET (token)", ams), True),
    ]
    return choices[index % len(choices)]


def _none(_data: Any) -> list[str]:
    return []


def _loop(
    base: str, headers: dict[str, str], request: Request, *, write: bool, until: float, tally: Tally
) -> None:
    with httpx2.Client(base_url=base, headers=headers, timeout=300) as http:
        n = 0
        while time.monotonic() < until:
            n += 1
            start = time.perf_counter()
            what, send = request
            try:
                response, kind, ids = send(http, n)
                data, error = answer(response, kind)
            except httpx2.HTTPError as exc:
                data, error = None, f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - start
            tally.record(what, elapsed, error, write=write)
            if error is None and write:
                accepted = ids(data)
                with tally.lock:
                    tally.published.update(accepted)


def _stored(http: httpx2.Client) -> set[str]:
    """Every message id the subscription holds (pulled and acknowledged)."""
    found: set[str] = set()
    pull = json.dumps({"maxMessages": "1000", "returnImmediately": "true"})
    while True:
        response = http.post(f"/v1/projects/{PROJECT}/subscriptions/bench:pull", content=pull)
        response.raise_for_status()
        got = response.json()["receivedMessages"]
        if not got:
            return found
        found.update(m["message"]["messageId"] for m in got)
        http.post(
            f"/v1/projects/{PROJECT}/subscriptions/bench:acknowledge",
            content=json.dumps({"ackIds": [got[-1]["ackId"]]}),
        ).raise_for_status()


def run(
    opsgraph: str, database_url: str, seconds: float, writers: int, readers: int, log: Path
) -> Tally:
    tally = Tally()
    with server(opsgraph, database_url, log) as (base, writer, reader):
        with httpx2.Client(base_url=base, headers={"x-api-key": writer}, timeout=120) as http:
            http.put(f"/v1/projects/{PROJECT}/topics/bench").raise_for_status()
            http.put(
                f"/v1/projects/{PROJECT}/subscriptions/bench",
                content=json.dumps({"topic": f"projects/{PROJECT}/topics/bench"}),
            ).raise_for_status()
            http.post(
                f"/v1/projects/{PROJECT}/topics/bench:modifyAcl",
                content=json.dumps({"authorized_users": ["writer@bench", "reader@bench"]}),
            ).raise_for_status()
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(
                target=_loop,
                args=(base, {"x-api-key": writer}, _writer(i)),
                kwargs={"write": True, "until": until, "tally": tally},
            )
            for i in range(writers)
        ]
        for i in range(readers):
            request, with_token = _reader(i)
            headers = {"x-api-key": reader} if with_token else {}
            threads.append(
                threading.Thread(
                    target=_loop,
                    args=(base, headers, request),
                    kwargs={"write": False, "until": until, "tally": tally},
                )
            )
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        with httpx2.Client(base_url=base, headers={"x-api-key": writer}, timeout=300) as http:
            stored = _stored(http)
    missing = tally.published - stored
    total = tally.writes + tally.reads
    print(
        f"  {elapsed:.0f} s, {writers} writers + {readers} readers: "
        f"{total / elapsed:,.0f} requests/s ({tally.writes / elapsed:,.0f} writes/s, "
        f"{tally.reads / elapsed:,.0f} reads/s)"
    )
    print(f"  slowest request: {tally.slowest:.2f} s ({tally.slowest_what})")
    # errors are masked in answers (INTERNAL, 500): the server's log says what they were
    logged = log.read_text(errors="replace").count(LOCKED)
    print(
        f'  errors: {tally.errors} ("{LOCKED}" in {tally.locked} answers and '
        f"{logged} times in the server's log)"
    )
    for sample in tally.samples:
        print(f"    {sample}")
    print(
        f"  accepted publishes: {len(tally.published):,}, in the subscription afterwards: "
        f"{len(tally.published) - len(missing):,} (missing: {len(missing)})"
    )
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--opsgraph", default=OPSGRAPH, help="the console script to run")
    args = parser.parse_args()
    if not args.opsgraph:
        raise SystemExit("the opsgraph console script is not installed")
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.db"
            elif backend == "postgresql":
                url = args.pg_url
                recreate_pg_database(url)
            else:
                raise SystemExit(f"unknown backend {backend!r}")
            print(f"{backend}:", flush=True)
            log = Path(tmp) / "server.log"
            run(args.opsgraph, url, args.seconds, args.writers, args.readers, log)


if __name__ == "__main__":
    main()
