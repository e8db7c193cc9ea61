"""A bounded soak of a real `opsgraph serve`: mixed reads, mutations, publishes, pulls and
live subscriptions from several client processes at once.

    python -m benchmarks.soak [--seconds 600] [--clients 4] [--backend postgresql|sqlite]
        [--pg-url URL] [--serve-arg ARG ...] [--sample 30] [--kinds read,publish,...]

The server runs on a fresh database (PostgreSQL `--pg-url`, dropped and created again, or a
SQLite file) seeded with the demo federation, with a messaging project, topic and
subscription and a platform administrator's API token made with the CLI. Each of
`--clients` processes runs five threads, each on its own connection sending its next
request when the last is answered:

- reader: anonymous GraphQL (sites with their NGI and services), the RSS downtime feed and
  GOCDB's `get_site` in turn;
- mutator: declares a downtime on a service of its own site, then deletes it;
- publisher: AMS `:publish` of one message;
- puller: AMS `:pull` (immediate) and `:acknowledge` on the process's own subscription of
  the topic (AMS's acknowledgements are cumulative offsets: two consumers of one
  subscription would acknowledge each other's messages, and AMS answers "no ack pending");
- subscriber: a `downtimeEvents` subscription over a WebSocket (graphql-transport-ws) for
  every client's site from the start of the log, counting the soak's own events (two a
  mutator's round: declared, cancelled), which must all arrive, once.

Prints requests/s by kind, the error count (a non-2xx answer, a GraphQL error, a transport
error, a socket that closed) with the first errors, the publishes accepted against those
pulled from every subscription (nothing accepted may be lost), the events each subscriber
saw against the events the mutations made, and the resident memory (VmRSS) of each server
process sampled every `--sample` seconds from the start to the end. Target (issue 16): no
errors, flat memory.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import multiprocessing
import os
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx2
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from benchmarks.concurrency import answer
from tests.databases import recreate_pg_database
from tests.server import OPSGRAPH, cli_output, opsgraph_env, serving

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench_soak"
PROJECT = "SOAK"
ADMIN = "soak.admin@example.org"
SITES = "{ sites(first: 20) { edges { node { shortName ngi { name } services { id } } } } }"
DECLARE = "mutation($i: DeclareDowntimeInput!) { declareDowntime(input: $i) { downtime { id } } }"
DELETE = "mutation($i: DeleteDowntimeInput!) { deleteDowntime(input: $i) { id } }"
KINDS = frozenset({"read", "mutation", "publish", "pull", "subscription"})
EVENTS = """subscription($f: DowntimeEventFilter) {
  downtimeEvents(filter: $f, after: 0) { sequence kind description }
}"""


@dataclass
class Tally:
    """What one client process counted; summed over the processes at the end."""

    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    published: set[str] = field(default_factory=set)
    pulled: set[tuple[int, str]] = field(default_factory=set)  # (subscription, message id)
    declared: int = 0  # downtimes declared (and deleted): two events each
    events: list[int] = field(default_factory=list)  # events each subscriber saw
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.samples) < 5:
                self.samples.append(f"{kind}: {what[:300]}")

    def done(self, kind: str) -> None:
        with self.lock:
            self.requests[kind] += 1


def _reader(http: httpx2.Client, tally: Tally, until: float, site: str) -> None:
    n = 0
    while time.monotonic() < until:
        n += 1
        try:
            if n % 3 == 0:
                _data, error = answer(http.post("/graphql", json={"query": SITES}), "graphql")
            elif n % 3 == 1:
                _data, error = answer(http.get("/feeds/downtimes.rss"), "raw")
            else:
                response = http.get(f"/gocdbpi/public/?method=get_site&sitename={site}")
                _data, error = answer(response, "raw")
        except httpx2.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        tally.done("read") if error is None else tally.error("read", error)


def _mutator(http: httpx2.Client, tally: Tally, until: float, service: str, index: int) -> None:
    n = 0
    while time.monotonic() < until:
        n += 1
        start = dt.datetime.now(dt.UTC) + dt.timedelta(days=10 + index, minutes=n)
        variables = {
            "i": {
                "serviceIds": [service],
                "severity": "WARNING",
                "startsAt": start.isoformat(),
                "endsAt": (start + dt.timedelta(minutes=30)).isoformat(),
                "description": f"soak {index}-{n}",
            }
        }
        try:
            declared = http.post("/graphql", json={"query": DECLARE, "variables": variables})
            data, error = answer(declared, "graphql")
            if error is None:
                with tally.lock:
                    tally.declared += 1
                tally.done("mutation")
                downtime = data["declareDowntime"]["downtime"]["id"]
                deleted = {"query": DELETE, "variables": {"i": {"id": downtime}}}
                _data, error = answer(http.post("/graphql", json=deleted), "graphql")
        except httpx2.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        tally.done("mutation") if error is None else tally.error("mutation", error)


def _publisher(http: httpx2.Client, tally: Tally, until: float, index: int) -> None:
    n = 0
    while time.monotonic() < until:
        n += 1
        data = base64.b64encode(f"soak {index}-{n}".encode()).decode()
        try:
            response = http.post(
                f"/v1/projects/{PROJECT}/topics/soak:publish",
                content=json.dumps({"messages": [{"data": data}]}),
            )
            if response.status_code == 200:
                with tally.lock:
                    tally.published.update(response.json()["messageIds"])
                tally.done("publish")
                continue
            error = f"HTTP {response.status_code} {response.text}"
        except httpx2.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        tally.error("publish", error)


def _pull_once(http: httpx2.Client, tally: Tally, index: int) -> int:
    """Pulls up to 100 messages of subscription `soak<index>` immediately and acknowledges
    them; how many came."""
    path = f"/v1/projects/{PROJECT}/subscriptions/soak{index}"
    pull = json.dumps({"maxMessages": "100", "returnImmediately": "true"})
    response = http.post(f"{path}:pull", content=pull)
    response.raise_for_status()
    got = response.json()["receivedMessages"]
    if got:
        ack = json.dumps({"ackIds": [m["ackId"] for m in got]})
        http.post(f"{path}:acknowledge", content=ack).raise_for_status()
        with tally.lock:
            tally.pulled.update((index, m["message"]["messageId"]) for m in got)
    return len(got)


def _puller(http: httpx2.Client, tally: Tally, until: float, index: int) -> None:
    while time.monotonic() < until:
        try:
            if _pull_once(http, tally, index) == 0:
                time.sleep(0.05)
            tally.done("pull")
        except httpx2.HTTPError as exc:
            tally.error("pull", f"{type(exc).__name__}: {exc}")


def _subscriber(ws_url: str, token: str, sites: list[str], tally: Tally, until: float) -> None:
    seen: Counter[int] = Counter()
    try:
        with connect(
            ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=60
        ) as socket:
            socket.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": token}}))
            ack = json.loads(socket.recv(timeout=60))
            if ack.get("type") != "connection_ack":
                tally.error("subscription", json.dumps(ack))
                return
            payload = {"query": EVENTS, "variables": {"f": {"site": sites}}}
            socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            while True:
                left = until - time.monotonic()
                if left <= 0:
                    break
                try:
                    message = json.loads(socket.recv(timeout=left))
                except TimeoutError:
                    break
                if message.get("type") == "next" and "errors" not in message["payload"]:
                    event = message["payload"]["data"]["downtimeEvents"]
                    if (event["description"] or "").startswith("soak "):
                        seen[event["sequence"]] += 1
                elif message.get("type") != "ping":
                    tally.error("subscription", json.dumps(message))
                    return
    except Exception as exc:  # any socket failure is counted, never raised
        tally.error("subscription", f"{type(exc).__name__}: {exc}")
    if any(n > 1 for n in seen.values()):
        tally.error("subscription", "an event arrived twice")
    with tally.lock:
        tally.events.append(sum(seen.values()))


def client(
    base: str,
    token: str,
    sites: list[str],
    service: str,
    index: int,
    until: float,
    kinds: frozenset[str] = KINDS,
) -> Tally:
    """One client process: its threads (five, or those of `kinds`) until the wall-clock
    `until` (time.time)."""
    tally = Tally()
    left = until - time.time()
    stop = time.monotonic() + left
    ws_url = base.replace("http", "ws", 1) + "/graphql"
    auth = {"x-api-key": token}
    clients = [httpx2.Client(base_url=base, headers=h, timeout=120) for h in ({}, auth, auth, auth)]
    every = {
        "read": threading.Thread(target=_reader, args=(clients[0], tally, stop, sites[index])),
        "mutation": threading.Thread(
            target=_mutator, args=(clients[1], tally, stop, service, index)
        ),
        "publish": threading.Thread(target=_publisher, args=(clients[2], tally, stop, index)),
        "pull": threading.Thread(target=_puller, args=(clients[3], tally, stop, index)),
        # the stream stays open a little past the mutations, so their last events arrive
        "subscription": threading.Thread(
            target=_subscriber, args=(ws_url, token, sites, tally, stop + 5)
        ),
    }
    threads = [thread for kind, thread in every.items() if kind in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for http in clients:
        http.close()
    tally.lock = None  # type: ignore[assignment]  # not picklable; the parent makes its own
    return tally


def server_processes(port: int) -> list[int]:
    """The pids of the `opsgraph serve --port PORT` process and its descendants."""
    parents: dict[int, int] = {}
    roots: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        if b"serve" in argv and str(port).encode() in argv:
            roots.append(pid)
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    return sorted(found)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _setup(base: str, token: str, clients: int) -> list[tuple[str, str]]:
    """The topic and a subscription per client; (site short name, a service id) per demo
    site."""
    with httpx2.Client(base_url=base, headers={"x-api-key": token}, timeout=120) as http:
        http.put(f"/v1/projects/{PROJECT}/topics/soak").raise_for_status()
        for index in range(clients):
            http.put(
                f"/v1/projects/{PROJECT}/subscriptions/soak{index}",
                content=json.dumps({"topic": f"projects/{PROJECT}/topics/soak"}),
            ).raise_for_status()
        data, error = answer(http.post("/graphql", json={"query": SITES}), "graphql")
        if error is not None:
            raise SystemExit(f"could not read the demo sites: {error}")
    return [
        (e["node"]["shortName"], e["node"]["services"][0]["id"])
        for e in data["sites"]["edges"]
        if e["node"]["services"]
    ]


def run(args: argparse.Namespace, database_url: str, log: Path) -> None:
    env = opsgraph_env(database_url, OPSGRAPH_LOG_LEVEL="ERROR")
    cli_output(env, "seed", "--demo")
    cli_output(env, "admin", "make-admin", "--subject", ADMIN)
    cli_output(env, "messaging", "create-project", PROJECT)
    token = cli_output(
        env,
        *("messaging", "issue-token", "--subject", ADMIN, "--project", PROJECT),
        *("--roles", "publisher,consumer,project_admin"),
    )
    with serving(env, *args.serve_arg, output=log, opsgraph=args.opsgraph) as base:
        sites = _setup(base, token, args.clients)
        if len(sites) < args.clients:
            raise SystemExit(f"the demo has {len(sites)} sites with services: too few clients")
        port = urlparse(base).port or 0
        pids = server_processes(port)
        memory: list[tuple[float, list[float | None]]] = []
        until = time.time() + args.seconds
        started = time.monotonic()
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.clients) as pool:
            pending = pool.starmap_async(
                client,
                [
                    (
                        base,
                        token,
                        [s for s, _ in sites[: args.clients]],
                        sites[i][1],
                        i,
                        until,
                        args.kinds,
                    )
                    for i in range(args.clients)
                ],
            )
            while not pending.ready():
                memory.append((time.monotonic() - started, [rss_mib(p) for p in pids]))
                pending.wait(args.sample)
            tallies: list[Tally] = pending.get()
        elapsed = time.monotonic() - started
        memory.append((elapsed, [rss_mib(p) for p in pids]))
        total = Tally()
        for tally in tallies:
            total.requests.update(tally.requests)
            total.errors.update(tally.errors)
            total.samples.extend(tally.samples)
            total.published |= tally.published
            total.pulled |= tally.pulled
            total.declared += tally.declared
            total.events.extend(tally.events)
        with httpx2.Client(base_url=base, headers={"x-api-key": token}, timeout=120) as http:
            for index in range(args.clients):
                while _pull_once(http, total, index):
                    pass
    report(args, total, elapsed, pids, memory)


def report(
    args: argparse.Namespace,
    total: Tally,
    elapsed: float,
    pids: list[int],
    memory: list[tuple[float, list[float | None]]],
) -> None:
    load = os.getloadavg()
    print(f"  {elapsed:.0f} s, {args.clients} client processes, load {load[0]:.1f}")
    all_requests = sum(total.requests.values())
    rates = ", ".join(f"{k} {v / elapsed:,.1f}/s" for k, v in sorted(total.requests.items()))
    print(f"  {all_requests / elapsed:,.1f} requests/s ({rates})")
    print(f"  errors: {sum(total.errors.values())} {dict(total.errors)}")
    for sample in total.samples[:5]:
        print(f"    {sample}")
    lost = sum(
        len(total.published - {m for s, m in total.pulled if s == index})
        for index in range(args.clients)
    )
    print(
        f"  publishes accepted {len(total.published):,}, pulled {len(total.pulled):,} from "
        f"{args.clients} subscriptions, lost {lost}"
    )
    print(
        f"  downtime events: {2 * total.declared:,} made by the mutations; each subscriber "
        f"saw {sorted(total.events)}"
    )
    for position, pid in enumerate(pids):
        series = [m[position] for _, m in memory]
        shown = ", ".join("gone" if v is None else f"{v:.0f}" for v in series)
        print(f"  server pid {pid} RSS MiB every {args.sample:.0f} s: {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--sample", type=float, default=30, help="seconds between RSS samples")
    parser.add_argument(
        "--kinds",
        type=lambda v: frozenset(k.strip() for k in v.split(",") if k.strip()),
        default=KINDS,
        help=f"which threads each client runs (default all: {','.join(sorted(KINDS))})",
    )
    parser.add_argument("--opsgraph", default=OPSGRAPH, help="the console script to run")
    parser.add_argument("--log", type=Path, help="keep the server's output in this file")
    parser.add_argument(
        "--serve-arg", action="append", default=[], help="an argument for `opsgraph serve`"
    )
    args = parser.parse_args()
    if not args.opsgraph:
        raise SystemExit("the opsgraph console script is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "postgresql":
            url = args.pg_url
            recreate_pg_database(url)
        else:
            url = f"sqlite:///{tmp}/soak.db"
        print(f"{args.backend}:")
        run(args, url, args.log or Path(tmp) / "serve.log")


if __name__ == "__main__":
    main()
