"""Pub/sub throughput through the AMS v1 routes of a real `opsgraph serve` on loopback.

    python -m benchmarks.pubsub [--messages 100000] [--batch 100] [--size 1024]
        [--backends sqlite,postgresql] [--pg-url URL] [--push-messages 2000] [--push-subs 10]

Phase 1, for each backend: publish MESSAGES messages of SIZE bytes in batches of BATCH over
HTTP, then pull them in batches of BATCH and acknowledge each batch; prints messages/s for
publishing, for pulling+acknowledging, and end to end.

Phase 2 (push fan-out): one topic, PUSH_SUBS push subscriptions to a local HTTP receiver,
PUSH_MESSAGES messages published; prints the messages/s the receiver got until every
subscription had every message. The server runs the embedded workers (no broker).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2

from tests.databases import recreate_pg_database
from tests.server import cli_output, opsgraph_env, serving

PROJECT = "BENCH"


@contextmanager
def server(database_url: str, **extra: str) -> Iterator[tuple[str, str]]:
    """A migrated, bootstrapped server; yields (base URL, API token of a project admin)."""
    env = opsgraph_env(database_url, OPSGRAPH_LOG_LEVEL="WARNING", **extra)
    cli_output(env, "messaging", "create-project", PROJECT)
    token = cli_output(
        env,
        *("messaging", "issue-token", "--subject", "bench@egi.eu", "--project", PROJECT),
        *("--roles", "project_admin"),
    )
    with serving(env) as base:
        yield base, token


def _check(response: httpx2.Response) -> Any:
    if response.status_code != 200:
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json() if response.content else None


def throughput(database_url: str, messages: int, batch: int, size: int) -> dict[str, float]:
    payload = base64.b64encode(os.urandom(size)).decode()
    body = json.dumps({"messages": [{"data": payload, "attributes": {"n": "x"}}] * batch})
    with (
        server(database_url) as (base, token),
        httpx2.Client(
            base_url=f"{base}/v1/projects/{PROJECT}", headers={"x-api-key": token}, timeout=60
        ) as http,
    ):
        _check(http.put("/topics/bench"))
        _check(
            http.put(
                "/subscriptions/bench",
                content=json.dumps(
                    {"topic": f"projects/{PROJECT}/topics/bench", "ackDeadlineSeconds": 600}
                ),
            )
        )
        start = time.perf_counter()
        for _ in range(messages // batch):
            _check(http.post("/topics/bench:publish", content=body))
        published = time.perf_counter()
        received = 0
        pull = json.dumps({"maxMessages": str(batch), "returnImmediately": "true"})
        while received < messages:
            got = _check(http.post("/subscriptions/bench:pull", content=pull))["receivedMessages"]
            if not got:
                raise SystemExit(f"pulled {received} of {messages}")
            received += len(got)
            _check(
                http.post(
                    "/subscriptions/bench:acknowledge",
                    content=json.dumps({"ackIds": [got[-1]["ackId"]]}),
                )
            )
        done = time.perf_counter()
    return {
        "publish": messages / (published - start),
        "pull+ack": messages / (done - published),
        "end-to-end": messages / (done - start),
    }


class _Receiver(BaseHTTPRequestHandler):
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def do_GET(self) -> None:  # the verification hash is served by the test harness below
        hash_value = self.server.verification.get(self.path, "")  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        self.wfile.write(hash_value.encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        items = body.get("messages", [body])
        with self.lock:
            for item in items:
                sub = item["subscription"]
                self.counts[sub] = self.counts.get(sub, 0) + 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def fan_out(database_url: str, messages: int, subs: int, size: int, batch: int) -> float:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    receiver.verification = {}  # type: ignore[attr-defined]
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    _Receiver.counts = {}
    payload = base64.b64encode(os.urandom(size)).decode()
    body = json.dumps({"messages": [{"data": payload}] * batch})
    extra = {"OPSGRAPH_ALLOW_INSECURE_PUSH": "true"}
    with (
        server(database_url, **extra) as (base, token),
        httpx2.Client(
            base_url=f"{base}/v1/projects/{PROJECT}", headers={"x-api-key": token}, timeout=60
        ) as http,
    ):
        _check(http.put("/topics/fan"))
        for i in range(subs):
            sub = _check(
                http.put(
                    f"/subscriptions/fan{i}",
                    content=json.dumps(
                        {
                            "topic": f"projects/{PROJECT}/topics/fan",
                            "pushConfig": {
                                "type": "http_endpoint",
                                "pushEndpoint": f"{endpoint}/push/{i}",
                                "maxMessages": batch,
                                "retryPolicy": {"type": "linear", "period": 50},
                            },
                        }
                    ),
                )
            )
            receiver.verification["/ams_verification_hash"] = sub["pushConfig"]["verificationHash"]  # type: ignore[attr-defined]
            _check(http.post(f"/subscriptions/fan{i}:verifyPushEndpoint"))
        start = time.perf_counter()
        for _ in range(messages // batch):
            _check(http.post("/topics/fan:publish", content=body))
        wanted = (messages // batch) * batch
        deadline = time.monotonic() + 600
        while True:
            with _Receiver.lock:
                delivered = sum(_Receiver.counts.values())
                complete = len(_Receiver.counts) == subs and all(
                    c >= wanted for c in _Receiver.counts.values()
                )
            if complete:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"only {delivered} of {wanted * subs} delivered")
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    receiver.shutdown()
    return delivered / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/opsgraph_bench"
    )
    parser.add_argument("--push-messages", type=int, default=2000)
    parser.add_argument("--push-subs", type=int, default=10)
    parser.add_argument("--skip-push", action="store_true")
    args = parser.parse_args()
    if min(args.messages, args.push_messages) < args.batch:
        parser.error("--messages and --push-messages are at least one --batch")
    print(f"{args.messages} messages of {args.size} B, batches of {args.batch}, over HTTP")
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.db"
            else:
                url = args.pg_url
                recreate_pg_database(url)
            rates = throughput(url, args.messages, args.batch, args.size)
            print(
                f"{backend:10} publish {rates['publish']:9,.0f} msg/s   "
                f"pull+ack {rates['pull+ack']:9,.0f} msg/s   "
                f"end-to-end {rates['end-to-end']:9,.0f} msg/s"
            )
            if args.skip_push:
                continue
            if backend == "postgresql":
                recreate_pg_database(url)
            else:
                url = f"sqlite:///{tmp}/push.db"
            rate = fan_out(url, args.push_messages, args.push_subs, args.size, args.batch)
            print(
                f"{backend:10} push fan-out: {args.push_messages} messages x {args.push_subs} "
                f"subscriptions, {rate:9,.0f} msg/s delivered"
            )


if __name__ == "__main__":
    main()
