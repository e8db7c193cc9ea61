"""SQLite under concurrency, against a real `opsgraph serve` (issue 10, point 8).

Before: every transaction of the server began with BEGIN IMMEDIATE, reads included, and
gave up after 5 s; the CLI's transactions began deferred. Under 16 writers mixed with
readers, requests failed with "database is locked" (HTTP 500 / INTERNAL) once the machine
was busy, and so did the CLI writing meanwhile (its snapshot made stale by the server's
commits); a read failed after 5 s behind another process holding the write lock, and so
did the CLI behind a lock held longer.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.server import OPSGRAPH, run_cli, server_env, serving

PROJECT = "P"
PUBLISH = "mutation($input: PublishInput!) { publish(input: $input) { messageIds } }"
SITES = "{ sites(first: 5) { edges { node { shortName } } } }"
TOPIC = '{ topic(project: "P", name: "t") { name } }'
WRITERS, READERS, SECONDS = 16, 8, 10.0


@dataclass
class Server:
    base: str
    env: dict[str, str]
    database: Path
    writer: str  # API tokens
    reader: str


def _cli(tmp_path: Path, env: dict[str, str], *args: str) -> str:
    done = run_cli(tmp_path, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _token(tmp_path: Path, env: dict[str, str], subject: str, role: str) -> str:
    return _cli(
        tmp_path,
        env,
        *("messaging", "issue-token", "--subject", subject, "--project", PROJECT),
        *("--roles", role),
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    # no access log: nobody reads the server's output pipe until it ends, and a full pipe
    # would block the server's logging threads
    env = server_env(tmp_path, OPSGRAPH_LOG_LEVEL="WARNING")
    database = tmp_path / "cli.db"
    _cli(tmp_path, env, "messaging", "create-project", PROJECT)
    writer = _token(tmp_path, env, "writer@egi.eu", "project_admin")
    reader = _token(tmp_path, env, "reader@egi.eu", "publisher")
    with serving(env) as base:
        with httpx.Client(base_url=f"{base}/v1/projects/{PROJECT}", timeout=60) as http:
            key = {"x-api-key": writer}
            assert http.put("/topics/t", headers=key).status_code == 200
            sub = json.dumps({"topic": f"projects/{PROJECT}/topics/t"})
            assert http.put("/subscriptions/s", content=sub, headers=key).status_code == 200
            acl = json.dumps({"authorized_users": ["writer@egi.eu", "reader@egi.eu"]})
            assert http.post("/topics/t:modifyAcl", content=acl, headers=key).status_code == 200
        yield Server(base, env, database, writer, reader)


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)
    writes: int = 0
    reads: int = 0


def _failure(response: httpx.Response, graphql: bool) -> str | None:
    if response.status_code != 200:
        return f"{response.request.url.path}: HTTP {response.status_code} {response.text[:300]}"
    if graphql and response.json().get("errors"):
        return f"{response.request.url.path}: {response.json()['errors']}"
    return None


def _publish(http: httpx.Client, n: int, tag: str) -> tuple[httpx.Response, list[str]]:
    data = base64.b64encode(f"{tag}-{n}".encode()).decode()
    if n % 2:
        variables = {"input": {"project": PROJECT, "topic": "t", "messages": [{"data": data}]}}
        response = http.post("/graphql", json={"query": PUBLISH, "variables": variables})
        failed = _failure(response, graphql=True)
        return response, [] if failed else response.json()["data"]["publish"]["messageIds"]
    response = http.post(
        f"/v1/projects/{PROJECT}/topics/t:publish",
        content=json.dumps({"messages": [{"data": data}]}),
    )
    return response, [] if _failure(response, graphql=False) else response.json()["messageIds"]


def _write_loop(server: Server, tag: str, stop: threading.Event, tally: Tally) -> None:
    with httpx.Client(base_url=server.base, headers={"x-api-key": server.writer}, timeout=120) as h:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                response, ids = _publish(h, n, tag)
                failed = _failure(response, graphql=n % 2 == 1)
            except httpx.HTTPError as exc:
                ids, failed = [], f"{type(exc).__name__}: {exc}"
            with tally.lock:
                if failed:
                    tally.errors.append(failed)
                else:
                    tally.writes += 1
                    tally.accepted.update(ids)


def _read_once(http: httpx.Client, kind: int) -> str | None:
    if kind == 0:
        return _failure(http.post("/graphql", json={"query": SITES}), graphql=True)
    if kind == 1:
        return _failure(http.post("/graphql", json={"query": TOPIC}), graphql=True)
    if kind == 2:
        return _failure(http.get("/feeds/downtimes.rss"), graphql=False)
    return _failure(http.get(f"/v1/projects/{PROJECT}/topics/t"), graphql=False)


def _read_loop(server: Server, kind: int, stop: threading.Event, tally: Tally) -> None:
    # kinds 1 and 3 carry the reader's token (GraphQL, AMS); 0 and 2 are anonymous
    headers = {"x-api-key": server.reader} if kind in (1, 3) else {}
    with httpx.Client(base_url=server.base, headers=headers, timeout=120) as http:
        while not stop.is_set():
            try:
                failed = _read_once(http, kind)
            except httpx.HTTPError as exc:
                failed = f"{type(exc).__name__}: {exc}"
            with tally.lock:
                if failed:
                    tally.errors.append(failed)
                else:
                    tally.reads += 1


@contextmanager
def _load(server: Server, tally: Tally, *, readers: int) -> Iterator[None]:
    """WRITERS writers and `readers` readers, each sending its next request when its last
    was answered, for as long as the block runs."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=_write_loop, args=(server, f"w{i}", stop, tally))
        for i in range(WRITERS)
    ]
    threads += [
        threading.Thread(target=_read_loop, args=(server, i % 4, stop, tally))
        for i in range(readers)
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a client thread hung"


def _stored(server: Server) -> set[str]:
    """Every message id in the subscription (pulled and acknowledged)."""
    found: set[str] = set()
    pull = json.dumps({"maxMessages": "1000", "returnImmediately": "true"})
    with httpx.Client(
        base_url=f"{server.base}/v1/projects/{PROJECT}",
        headers={"x-api-key": server.writer},
        timeout=120,
    ) as http:
        while True:
            got: list[dict[str, Any]] = http.post("/subscriptions/s:pull", content=pull).json()[
                "receivedMessages"
            ]
            if not got:
                return found
            found.update(m["message"]["messageId"] for m in got)
            ack = json.dumps({"ackIds": [got[-1]["ackId"]]})
            assert http.post("/subscriptions/s:acknowledge", content=ack).status_code == 200


def test_concurrent_writers_readers_and_the_cli_get_no_error(
    server: Server, tmp_path: Path
) -> None:
    tally = Tally()
    started = time.monotonic()
    with _load(server, tally, readers=READERS):
        for i in range(3):  # the CLI writes meanwhile, from another process
            assert _token(tmp_path, server.env, f"cli{i}@egi.eu", "consumer")
        time.sleep(max(0.0, SECONDS - (time.monotonic() - started)))
    assert tally.errors == [], f"{len(tally.errors)} errors, first: {tally.errors[:3]}"
    assert tally.writes
    assert tally.reads
    assert tally.accepted <= _stored(server)  # every accepted publish is there


def _hold_write_lock(database: Path) -> sqlite3.Connection:
    """Another process's writer, as the CLI would be: SQLite's write lock, held."""
    connection = sqlite3.connect(database, timeout=60, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    return connection


def test_reads_answer_while_another_process_holds_the_write_lock(server: Server) -> None:
    with httpx.Client(base_url=server.base, headers={"x-api-key": server.reader}) as http:
        assert _read_once(http, 1) is None  # the token's first use is recorded now
    holder = _hold_write_lock(server.database)
    result: list[str | None] = []
    try:
        for kind in range(4):
            headers = {"x-api-key": server.reader} if kind in (1, 3) else {}
            with httpx.Client(base_url=server.base, headers=headers, timeout=120) as http:
                assert _read_once(http, kind) is None
        # a write meanwhile waits for the lock (it does not fail) and is done once it is free
        writer = threading.Thread(target=lambda: result.append(_one_publish(server)))
        writer.start()
        time.sleep(1)
    finally:
        holder.rollback()
        holder.close()
    writer.join(timeout=120)
    assert result == [None]


def _one_publish(server: Server) -> str | None:
    with httpx.Client(base_url=server.base, headers={"x-api-key": server.writer}, timeout=120) as h:
        response, _ids = _publish(h, 0, "one")
        return _failure(response, graphql=False)


def test_the_cli_waits_for_the_write_lock_among_the_servers_writers(server: Server) -> None:
    tally = Tally()
    with _load(server, tally, readers=0):
        # the write lock held longer than the old 5 s busy timeout: the CLI waits it out
        holder = _hold_write_lock(server.database)
        try:
            cli = subprocess.Popen(
                [OPSGRAPH, "admin", "make-admin", "--subject", "late@egi.eu"],
                env=server.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(10)
        finally:
            holder.rollback()
            holder.close()
        _out, err = cli.communicate(timeout=300)
        assert cli.returncode == 0, err
    assert tally.errors == [], f"{len(tally.errors)} errors, first: {tally.errors[:3]}"
    assert tally.writes
