"""`opsgraph serve --processes 2` as a real server on SQLite: connections land on both
processes, the background work runs in one of them only (one heartbeat; events committed
by the other process are relayed at once although the relay polls hourly), a waiting pull
wakes for a publish the other process took, and the parent leaves no child behind whether
it is stopped with SIGTERM or killed; /metrics counts the requests of both processes, and
both export their spans, each naming its own pid."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx2 as httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway.test_tracing import _Receiver
from tests.server import OPSGRAPH, cli_output, free_port, server_env

PROJECT = "PROCS"
TOKEN = "procs-metrics-token"
REQUESTS = 16


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)


def _established(pid: int, port: int) -> int:
    """How many established TCP connections to `port` process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        count += local_port == port and state == "01" and inode in inodes
    return count


@contextmanager
def _server(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str, int]]:
    port = free_port()
    # the server's temporary files (its metrics' directory), gone with the test's even when
    # the test kills the server
    run = tempfile.TemporaryDirectory(prefix="opsgraph-procs-")
    proc = subprocess.Popen(
        [OPSGRAPH, "serve", "--port", str(port), "--processes", "2"],
        env={"TMPDIR": run.name, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            assert proc.poll() is None, "the server exited"
            try:
                return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        _wait(healthy, "the server", 180)
        _wait(lambda: len(_children(proc.pid)) == 2, "two server processes")
        yield proc, base, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        run.cleanup()


def test_two_processes_share_the_port_and_one_runs_the_background_work(tmp_path: Path) -> None:
    env = server_env(tmp_path, OPSGRAPH_RELAY_INTERVAL="3600", OPSGRAPH_PULL_WAIT_MS="120000")
    cli_output(env, "messaging", "create-project", PROJECT)
    token = cli_output(
        env, "messaging", "issue-token", "--subject", "ops@example.org", "--project", PROJECT,
        "--roles", "project_admin",
    )  # fmt: skip
    key = {"x-api-key": token}
    base_path = f"/v1/projects/{PROJECT}"
    with _server(env) as (proc, base, port):
        children = _children(proc.pid)
        with httpx.Client(base_url=base, headers=key, timeout=60) as setup:
            assert setup.put(f"{base_path}/topics/t").status_code == 200
            subscription = {"topic": f"projects/{PROJECT}/topics/t"}
            assert setup.put(f"{base_path}/subscriptions/s", json=subscription).status_code == 200
        clients = [httpx.Client(base_url=base, headers=key, timeout=150) for _ in range(16)]
        try:
            for client in clients:  # one kept-alive connection each
                answer = client.post("/graphql", json={"query": "{ __typename }"})
                assert answer.json() == {"data": {"__typename": "Query"}}
            held = {pid: _established(pid, port) for pid in children}
            assert sum(held.values()) == 16, held
            assert all(held.values()), held  # both processes took connections
            database = tmp_path / "cli.db"

            def read(query: str) -> list[tuple[object, ...]]:
                with closing(sqlite3.connect(database)) as db:
                    return db.execute(query).fetchall()

            # the background work beats from one process only: it is the one relaying
            _wait(lambda: read("SELECT worker FROM monitoring_worker_heartbeat"), "a heartbeat")
            (relaying,) = [
                int(str(worker).rsplit(":", 1)[1])
                for (worker,) in read("SELECT worker FROM monitoring_worker_heartbeat")
            ]
            (other,) = set(children) - {relaying}

            # a publish through the other process: its event is relayed (the relay, in the
            # first process, polls hourly: only the wake-up through the pipe brings it)
            def publish(process: int, text: str) -> None:
                with httpx.Client(base_url=base, headers=key, timeout=150) as client:
                    while True:  # a new connection lands on either process
                        client.get("/v1/status")
                        if _established(process, port):
                            break
                        client.close()
                    payload = {"messages": [{"data": "aGk=", "attributes": {"n": text}}]}
                    sent = client.post(f"{base_path}/topics/t:publish", json=payload)
                    assert sent.status_code == 200, sent.text

            def unsent() -> int:
                return int(
                    str(read("SELECT count(*) FROM outbox_event WHERE sent_at IS NULL")[0][0])
                )

            _wait(lambda: unsent() == 0, "the first relay pass")
            publish(other, "1")
            _wait(lambda: unsent() == 0, "the other process's event relayed")

            # a pull waiting in one process wakes for the other's publish (not after 120 s)
            with httpx.Client(base_url=base, headers=key, timeout=60) as setup:
                created = setup.put(f"{base_path}/subscriptions/w", json=subscription)
                assert created.status_code == 200
            pulled: list[httpx.Response] = []

            def pull() -> None:
                with httpx.Client(base_url=base, headers=key, timeout=150) as client:
                    while True:
                        client.get("/v1/status")
                        if _established(relaying, port):
                            break
                        client.close()
                    pulled.append(
                        client.post(
                            f"{base_path}/subscriptions/w:pull",
                            json={"maxMessages": "10", "returnImmediately": "false"},
                        )
                    )

            waiter = threading.Thread(target=pull)
            waiter.start()
            time.sleep(1)  # the pull is waiting by then (if not, it finds the message at once)
            publish(other, "2")
            waiter.join(timeout=100)
            assert not waiter.is_alive(), "the waiting pull was not woken"
            received = pulled[0].json()["receivedMessages"]
            assert [m["message"]["attributes"]["n"] for m in received] == ["2"]

            workers = httpx.get(f"{base}/healthz/workers", timeout=30).json()
            assert workers["workers"] == {"embedded": 1}, workers
        finally:
            for client in clients:
                client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert all(_gone(pid) for pid in children)


def test_killing_the_parent_leaves_no_child(tmp_path: Path) -> None:
    with _server(server_env(tmp_path)) as (proc, _base, _port):
        children = _children(proc.pid)
        proc.kill()
        proc.wait(timeout=30)
        _wait(lambda: all(_gone(pid) for pid in children), "the children to exit")


def _on_both(base: str, port: int, children: list[int]) -> list[httpx.Client]:
    """REQUESTS clients that each sent one query, keeping their connections open: held by
    both processes (asserted), so both served some of the queries."""
    clients = [httpx.Client(base_url=base, timeout=60) for _ in range(REQUESTS)]
    for client in clients:
        answer = client.post("/graphql", json={"query": "{ __typename }"})
        assert answer.json()["data"] == {"__typename": "Query"}
    held = {pid: _established(pid, port) for pid in children}
    assert all(held.values()), held
    return clients


def test_metrics_sum_the_requests_of_every_process(tmp_path: Path) -> None:
    run = tmp_path / "run"  # the server's temporary files: the metrics' directory
    run.mkdir()
    env = server_env(tmp_path, OPSGRAPH_METRICS_TOKEN=TOKEN, TMPDIR=str(run))
    with _server(env) as (proc, base, port):
        clients = _on_both(base, port, _children(proc.pid))
        for client in clients:
            client.close()

        def graphql_requests() -> float:
            # a new connection each time: any process may answer, each must give the sum
            scraped = httpx.get(
                f"{base}/metrics", headers={"authorization": f"Bearer {TOKEN}"}, timeout=30
            )
            assert scraped.status_code == 200, scraped.text
            return sum(
                sample.value
                for family in text_string_to_metric_families(scraped.text)
                for sample in family.samples
                if sample.name == "opsgraph_http_requests_total"
                and sample.labels["route"] == "graphql"
            )

        _wait(lambda: graphql_requests() == REQUESTS, f"{REQUESTS} requests counted", 10)
        assert [graphql_requests() for _ in range(4)] == [REQUESTS] * 4
        assert list(run.iterdir())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    assert not list(run.iterdir())  # removed at exit


def test_every_process_exports_its_spans(tmp_path: Path) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    receiver.received = []  # type: ignore[attr-defined]
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    env = server_env(
        tmp_path,
        OPSGRAPH_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.server_address[1]}",
        OTEL_BSP_SCHEDULE_DELAY="100",  # the SDK's batch delay (ms): exported soon
    )

    def pids() -> set[int]:
        """The process.pid of the resources whose spans include a query's server span."""
        found = set()
        for request in list(receiver.received):  # type: ignore[attr-defined]
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value for a in resource_spans.resource.attributes}
                if any(
                    span.name == "POST /graphql"
                    for scope_spans in resource_spans.scope_spans
                    for span in scope_spans.spans
                ):
                    found.add(attributes["process.pid"].int_value)
        return found

    try:
        with _server(env) as (proc, base, port):
            children = _children(proc.pid)
            for client in _on_both(base, port, children):
                client.close()
            _wait(lambda: pids() == set(children), "spans from both processes", 30)
    finally:
        receiver.shutdown()
        receiver.server_close()
