"""Losing a replica: two `opsgraph serve` processes on one PostgreSQL database behind a real
HAProxy (Debian's package) that routes by `/readyz`. Under a bounded mixed load (reads,
metric results, downtime declarations, a `downtimeEvents` subscription) one replica is
killed with SIGKILL, and the test counts what a client saw:

- a failed request is one that was in flight on the killed replica (HAProxy names the
  replica that answered in `X-Replica`, its own 502 included), and its retry succeeds;
  HAProxy retries only connections that never reached a replica (`retry-on conn-failure`),
  so nothing is sent twice behind a client's back;
- the subscription, open on the killed replica, reconnects through HAProxy and resumes with
  `after` = the last sequence it saw: the events it receives are exactly the site's events
  in the database, each once, in order;
- every downtime's outbox event is relayed by the survivor if the killed replica had not,
  and its effect (one message on the AMS topic a downtime subscription publishes to) is
  there exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import PLATFORM
from domains.common.outbox import OutboxEvent
from domains.downtimes.events import EventKind
from domains.messaging import service as msg
from domains.topology.models import Service, Site
from domains.topology.seed.scale import seed_scale
from tests.conftest import _ensure_pg_database, pg_test_url
from tests.databases import private_database
from tests.monitoring.live_status import ADMIN, prepare
from tests.server import free_port, serving_process

HAPROXY = shutil.which("haproxy") or ""
LOAD_SECONDS = 3.0  # of load after the kill (and as much before it)
SETTLE_SECONDS = 60.0  # the longest the survivor may take to relay and stream the rest
PROJECT, TOPIC, READER = "FAILOVER", "downtimes", "reader"

READ = "{ sites(first: 5) { edges { node { shortName services { hostName } } } } }"
PUBLISH = """mutation($i: PublishMetricResultsInput!) {
  publishMetricResults(input: $i) { accepted }
}"""
DECLARE = """mutation($i: DeclareDowntimeInput!) {
  declareDowntime(input: $i) { downtime { id } }
}"""
DECLARED = """query($site: [String!]) {
  downtimes(filter: {site: $site}, first: 100) { edges { node { description } } }
}"""
SUBSCRIBE = """mutation($i: SubscribeToDowntimesInput!) {
  subscribeToDowntimes(input: $i) { subscription { name } }
}"""
EVENTS = """subscription($f: DowntimeEventFilter, $after: Long) {
  downtimeEvents(filter: $f, after: $after) { sequence kind description }
}"""

HAPROXY_CONFIG = """global
  maxconn 256
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  timeout check 2s
  retries 3
  retry-on conn-failure
  option redispatch
  option http-server-close
frontend api
  bind 127.0.0.1:{port}
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  http-after-response set-header X-Replica %s
{servers}
"""


@dataclass
class Attempt:
    """One request a load thread made: when, to which replica, and whether it failed."""

    query: str
    started: float
    replica: str
    failed: str | None  # why, or None
    retry_of: Attempt | None = None


@dataclass
class Load:
    """What the load threads did, shared with the test."""

    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    attempts: list[Attempt] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)  # descriptions, each declared once
    errors: list[BaseException] = field(default_factory=list)
    clients: list[httpx.Client] = field(default_factory=list)

    def record(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)


@contextmanager
def replicas(
    env: dict[str, str], directory: Path, names: tuple[str, ...]
) -> Iterator[dict[str, tuple[str, subprocess.Popen[str]]]]:
    """`opsgraph serve` processes started side by side (each start takes seconds): name ->
    (base URL, process)."""
    with ExitStack() as stack:
        managers = {n: serving_process(env, output=directory / f"{n}.log") for n in names}
        with ThreadPoolExecutor(len(names)) as pool:
            entering = {n: pool.submit(m.__enter__) for n, m in managers.items()}
        started, failed = {}, None
        for name, future in entering.items():
            try:
                started[name] = future.result()
            except AssertionError as exc:  # did not come up: the others still stop
                failed = exc
                continue
            stack.push(managers[name].__exit__)
        if failed is not None:
            raise failed
        yield started


@contextmanager
def haproxy(directory: Path, replicas: dict[str, str]) -> Iterator[str]:
    """HAProxy in front of `replicas` (name -> base URL), checking `/readyz` every 200 ms;
    yields its base URL once it routes to each of them."""
    assert HAPROXY, "haproxy is not installed (apt-get install haproxy): the failover test runs it"
    port = free_port()
    servers = "\n".join(
        f"  server {name} {base.removeprefix('http://')} check inter 200ms fall 2 rise 1"
        for name, base in replicas.items()
    )
    config = directory / "haproxy.cfg"
    config.write_text(HAPROXY_CONFIG.replace("{port}", str(port)).replace("{servers}", servers))
    log = directory / "haproxy.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(config)], stdout=sink, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        seen: set[str] = set()
        deadline = time.monotonic() + 60
        while seen != set(replicas):
            assert proc.poll() is None, f"haproxy exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"haproxy routed only to {seen}: {log.read_text()}"
            try:
                response = httpx.get(f"{base}/readyz", timeout=5)
                if response.status_code == 200:
                    seen.add(response.headers["x-replica"])
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def graphql(
    client: httpx.Client, base: str, token: str, query: str, variables: dict[str, Any]
) -> tuple[str, str | None, dict[str, Any]]:
    """(replica, why it failed or None, data) of one POST through the balancer."""
    try:
        response = client.post(
            f"{base}/graphql",
            json={"query": query, "variables": variables},
            headers={"x-api-key": token},
        )
    except httpx.TransportError as exc:
        return "", f"{type(exc).__name__}: {exc}", {}
    replica = response.headers.get("x-replica", "")
    if response.status_code != 200:
        return replica, f"HTTP {response.status_code}", {}
    body = response.json()
    if body.get("errors"):
        return replica, json.dumps(body["errors"])[:500], {}
    data: dict[str, Any] = body["data"]
    return replica, None, data


def looping(load: Load, step: Callable[[int], None]) -> Callable[[], None]:
    """A load thread's body: `step(i)` for i = 0, 1, ... until the load stops."""

    def run() -> None:
        try:
            i = 0
            while not load.stop.is_set():
                step(i)
                i += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            load.errors.append(exc)

    return run


def attempt(
    load: Load,
    client: httpx.Client,
    base: str,
    token: str,
    query: str,
    variables: dict[str, Any],
    *,
    retry: Callable[[], bool] = lambda: True,
) -> dict[str, Any]:
    """One request, retried (at most twice) after a failure if `retry()` says the write did
    not happen: what an idempotent client does."""
    previous: Attempt | None = None
    for _ in range(3):
        started = time.monotonic()
        replica, failed, data = graphql(client, base, token, query, variables)
        made = Attempt(query, started, replica, failed, previous)
        load.record(made)
        if failed is None:
            return data
        previous = made
        if not retry():
            return {}
    raise AssertionError(f"{query!r} failed three times: {failed}")


def test_a_killed_replica_loses_no_request_event_or_subscription(tmp_path: Path) -> None:
    base_url = pg_test_url()
    _ensure_pg_database(base_url)
    with private_database(base_url, tmp_path) as url:
        env, token, endpoint = prepare(url, tmp_path, topology=_small_federation)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with unit_of_work(factory) as session:
            site, service_id = session.execute(
                select(col(Site.short_name), col(Service.id))
                .join(Service, col(Service.site_id) == col(Site.id))
                .where(col(Service.host_name) == endpoint[0])
                .limit(1)
            ).one()
            msg.create_project(session, PLATFORM, name=PROJECT)
            msg.create_topic(session, PLATFORM, project=PROJECT, topic=TOPIC)
            msg.create_subscription(
                session,
                PLATFORM,
                project=PROJECT,
                subscription=READER,
                topic=f"projects/{PROJECT}/topics/{TOPIC}",
            )
            msg.add_member(
                session, PLATFORM, project=PROJECT, subject=ADMIN, roles=["project_admin"]
            )
            start = int(
                session.scalar(select(col(OutboxEvent.id)).order_by(col(OutboxEvent.id).desc()))
                or 0
            )
        with (
            replicas(env, tmp_path, ("one", "two")) as started,
            haproxy(tmp_path, {name: base for name, (base, _) in started.items()}) as front,
        ):
            one = started["one"][0]
            with httpx.Client(timeout=30) as client:
                _, failed, data = graphql(
                    client,
                    one,
                    token,
                    "query($s: String!) { site(shortName: $s) { services { id } } }",
                    {"s": site},
                )
                assert failed is None, failed
                service_gid: str = data["site"]["services"][0]["id"]
                _, failed, _ = graphql(
                    client,
                    front,
                    token,
                    SUBSCRIBE,
                    {
                        "i": {
                            "name": "failover",
                            "events": ["DECLARED"],
                            "site": site,
                            "topic": {"project": PROJECT, "topic": TOPIC},
                        }
                    },
                )
                assert failed is None, failed
            processes = {name: proc for name, (_, proc) in started.items()}
            load = Load()
            stream = Stream(front, {"f": {"site": [site]}, "after": start})
            threads = [
                threading.Thread(target=stream.run, args=(load,), daemon=True),
                *(
                    threading.Thread(target=looping(load, step), daemon=True)
                    for step in _steps(load, front, token, site, service_gid, endpoint)
                ),
            ]
            for thread in threads:
                thread.start()
            try:
                victim = stream.first_replica.get(timeout=30)
                time.sleep(LOAD_SECONDS)
                processes[victim].send_signal(signal.SIGKILL)
                processes[victim].wait(timeout=20)
                # a request made before this may have reached the replica before it died
                killed_at = time.monotonic()
                time.sleep(LOAD_SECONDS)
            finally:
                load.stop.set()
                for thread in threads[1:]:  # the stream goes on until it has seen all
                    thread.join(timeout=60)
                for client in load.clients:
                    client.close()
            try:
                assert not load.errors, load.errors
                expected = _settled(factory, start, site, len(load.declared))
                stream.finish(expected[-1] if expected else start)
                stream.thread_join()
                assert not load.errors, load.errors
                messages = _topic_messages(factory)
            finally:
                stream.done.set()  # a failed test leaves no thread reconnecting
        engine.dispose()

    failures = [a for a in load.attempts if a.failed is not None]
    survivor = {"one", "two"} - {victim}
    # each failure was in flight on the killed replica (HAProxy closes the client's
    # connection without an answer, "", or answers 502 naming the replica): at most one per
    # load thread, each made before the replica was gone; each was retried, but a
    # declaration the operator found made
    assert len(failures) <= len(threads) - 1, failures
    for failure in failures:
        assert failure.started < killed_at, (failure, killed_at)
        assert failure.replica in ("", victim), failure
        retries = [a for a in load.attempts if a.retry_of is failure]
        assert len(retries) in ((0, 1) if failure.query == DECLARE else (1,)), retries
        assert all(a.failed is None for a in retries), retries
    assert all(a.replica in survivor for a in load.attempts if a.started > killed_at)
    # the subscription was cut by the kill and resumed on the survivor, gap- and duplicate-free
    assert stream.reconnects >= 1
    assert stream.sequences == expected
    # one downtime per declaration, one event each, one topic message each (the outbox's effect)
    assert sorted(load.declared) == sorted(set(load.declared))
    assert len(expected) == len(load.declared) > 0
    assert sorted(messages) == sorted(load.declared)


def _small_federation(session: Session) -> None:
    """Three synthetic sites: the demo's federation takes a loaded machine 20 s to write."""
    seed_scale(session, 3)


def _steps(
    load: Load,
    front: str,
    token: str,
    site: str,
    service_gid: str,
    endpoint: tuple[str, str, str],
) -> list[Callable[[int], None]]:
    """The load: two readers, a monitoring host publishing results (idempotent: a result
    sent twice is stored once), and an operator declaring downtimes (who, after a failure,
    looks whether the declaration was made before declaring again)."""
    clients = [httpx.Client(timeout=30) for _ in range(4)]
    load.clients.extend(clients)
    host, stype, metric = endpoint
    origin = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def read(client: httpx.Client) -> Callable[[int], None]:
        def step(_i: int) -> None:
            attempt(load, client, front, token, READ, {})

        return step

    def publish(i: int) -> None:
        result = {
            "timestamp": (origin + dt.timedelta(seconds=i)).isoformat(),
            "service": stype,
            "hostname": host,
            "metric": metric,
            "status": "OK" if i % 2 else "CRITICAL",
            "summary": f"failover {i}",
        }
        attempt(load, clients[2], front, token, PUBLISH, {"i": {"results": [result]}})

    def declare(i: int) -> None:
        if i >= 60:  # enough for the stream and the topic: the last pull reads 100 at most
            load.stop.wait(0.1)
            return
        description = f"Failover {i} {uuid.uuid4().hex[:8]}"
        starts = origin + dt.timedelta(days=1, hours=i)
        declaration = {
            "serviceIds": [service_gid],
            "severity": "OUTAGE",
            "startsAt": starts.isoformat(),
            "endsAt": (starts + dt.timedelta(minutes=30)).isoformat(),
            "description": description,
        }

        def not_declared() -> bool:
            data = attempt(load, clients[3], front, token, DECLARED, {"site": [site]})
            edges = data["downtimes"]["edges"]
            return description not in {e["node"]["description"] for e in edges}

        attempt(load, clients[3], front, token, DECLARE, {"i": declaration}, retry=not_declared)
        load.declared.append(description)

    return [read(clients[0]), read(clients[1]), publish, declare]


class Stream:
    """The `downtimeEvents` subscriber: through the balancer, reconnecting after a drop with
    `after` = the last sequence it saw."""

    def __init__(self, front: str, variables: dict[str, Any]) -> None:
        import queue

        self.url = re.sub(r"^http", "ws", front) + "/graphql"
        self.variables = variables
        self.after = int(variables["after"])
        self.sequences: list[int] = []
        self.reconnects = 0
        self.first_replica: queue.Queue[str] = queue.Queue()
        self.until: int | None = None  # stop once this sequence arrived
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def run(self, load: Load) -> None:
        self.thread = threading.current_thread()
        try:
            while not self.done.is_set():
                try:
                    self._receive()
                except (ConnectionClosed, OSError):
                    self.reconnects += 1
                    time.sleep(0.2)
        except BaseException as exc:
            load.errors.append(exc)
            self.first_replica.put("")

    def _receive(self) -> None:
        with connect(
            self.url,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            open_timeout=30,
            close_timeout=2,
        ) as socket:
            if self.first_replica.empty() and not self.sequences and not self.reconnects:
                assert socket.response is not None
                self.first_replica.put(socket.response.headers["x-replica"])
            socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            ack = json.loads(socket.recv(timeout=30))
            assert ack["type"] == "connection_ack", ack
            variables = {**self.variables, "after": self.after}
            payload = {"query": EVENTS, "variables": variables}
            socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            while not self.done.is_set():
                try:
                    message = json.loads(socket.recv(timeout=0.5))
                except TimeoutError:
                    continue
                assert message["type"] == "next", message
                event = message["payload"]["data"]["downtimeEvents"]
                assert event["kind"] == "DECLARED", event
                self.after = int(event["sequence"])
                self.sequences.append(self.after)
                if self.until is not None and self.after >= self.until:
                    self.done.set()

    def finish(self, last: int) -> None:
        """Stop once `last` has arrived (at once if it has)."""
        self.until = last
        if self.after >= last:
            self.done.set()

    def thread_join(self) -> None:
        assert self.done.wait(SETTLE_SECONDS), (
            f"the stream stopped at {self.after}, short of {self.until}"
        )
        if self.thread is not None:
            self.thread.join(timeout=30)


def _settled(factory: sessionmaker[Session], start: int, site: str, declared: int) -> list[int]:
    """Once every outbox event after `start` was relayed: the sequences of the site's
    DECLARED downtime events (those the stream must see)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        with unit_of_work(factory, write=False) as session:
            rows = session.execute(
                select(col(OutboxEvent.id), col(OutboxEvent.kind), col(OutboxEvent.sent_at))
                .where(col(OutboxEvent.id) > start)
                .order_by(col(OutboxEvent.id))
            ).all()
        if all(sent is not None for _, _, sent in rows):
            break
        assert time.monotonic() < deadline, [r for r in rows if r[2] is None]
        time.sleep(0.2)
    ids = [i for i, kind, _ in rows if kind == EventKind.DECLARED.value and i is not None]
    assert len(ids) == declared, (ids, declared)
    return ids


def _topic_messages(factory: sessionmaker[Session]) -> list[str]:
    """The descriptions of the downtimes the topic's messages announce."""
    with unit_of_work(factory) as session:
        pulled = msg.pull(session, PLATFORM, project=PROJECT, subscription=READER, max_messages=100)
    return [json.loads(m.data)["downtime"]["description"] for m in pulled]
