"""Fixtures for the async backbone: every test runs against RabbitMQ, Redis and the embedded
mode, on real brokers on loopback, with a queue/namespace of its own and a fresh, committed
database (SQLite file or a PostgreSQL database made for the test and dropped after it).

The brokers must be running (CI starts them): a missing broker fails the tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import pika
import pytest
import redis
from sqlalchemy import Engine, func, select
from sqlmodel import col

from domains.common.audit import AuditEntry
from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.outbox import OutboxEvent, ProcessedEvent, emit
from gateway.config import Settings
from tests.databases import private_database
from tests.workers import handlers

RABBITMQ_URL = os.environ.get("OPSGRAPH_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_URL = os.environ.get("OPSGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MODES = ["rabbitmq", "redis", "embedded"]
BROKER_MODES = ["rabbitmq", "redis"]
REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "opsgraph"
OPSGRAPH = str(_SCRIPT) if _SCRIPT.exists() else (shutil.which("opsgraph") or "opsgraph")
WAIT = 60.0  # seconds any one wait may take before the test fails


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of the session's kind that only this test uses."""
    with private_database(database_url, tmp_path) as url:
        yield url


def _forget_namespace(namespace: str) -> None:
    """Delete what the test left on the brokers: its queues and its Redis keys."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        for queue in (namespace, f"{namespace}.DQ", f"{namespace}.XQ"):
            channel.queue_delete(queue=queue)
    finally:
        connection.close()
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@dataclass
class Rig:
    """One test's world: mode, database, namespace, and a gate directory for handlers."""

    mode: str
    database_url: str
    namespace: str
    tmp: Path
    engine: Engine
    processes: list[subprocess.Popen[str]] = field(default_factory=list)
    logs: list[TextIO] = field(default_factory=list)

    @property
    def gate(self) -> Path:
        path = self.tmp / "gate"
        path.mkdir(exist_ok=True)
        return path

    def broker_url(self, via: str | None = None) -> str | None:
        """The broker's URL, or that of a proxy in front of it (`via` = host:port)."""
        if self.mode == "embedded":
            return None
        url = RABBITMQ_URL if self.mode == "rabbitmq" else REDIS_URL
        if via is None:
            return url
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{via}" if userinfo else via))

    @property
    def broker_port(self) -> int:
        url = RABBITMQ_URL if self.mode == "rabbitmq" else REDIS_URL
        return urlsplit(url).port or (5672 if self.mode == "rabbitmq" else 6379)

    def env(self, broker_url: str | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPSGRAPH_")}
        env.update(
            {
                "OPSGRAPH_DATABASE_URL": self.database_url,
                "OPSGRAPH_BROKER_NAMESPACE": self.namespace,
                "OPSGRAPH_WORKER_IMPORTS": "tests.workers.handlers",
                "OPSGRAPH_WORKER_THREADS": "2",
                "OPSGRAPH_RELAY_INTERVAL": "0.05",
                "OPSGRAPH_WORKER_MIN_BACKOFF_MS": "50",
                "OPSGRAPH_WORKER_MAX_BACKOFF_MS": "500",
                "OPSGRAPH_REDIS_HEARTBEAT_TIMEOUT_MS": "1500",
                "OPSGRAPH_REDIS_MAINTENANCE_CHANCE": "1000000",
                "OPSGRAPH_LOG_FORMAT": "text",
                "PYTHONPATH": str(REPO),
            }
        )
        url = broker_url if broker_url is not None else self.broker_url()
        if url:
            env["OPSGRAPH_BROKER_URL"] = url
        env.update(extra)
        return env

    def settings(self, broker_url: str | None = None, **extra: str) -> Settings:
        return Settings.from_env(self.env(broker_url, **extra))

    # --- data -----------------------------------------------------------------------------

    def emit(self, count: int, **payload: Any) -> list[int]:
        """`count` events for the test handlers, committed."""
        ids: list[int] = []
        with unit_of_work(make_session_factory(self.engine)) as session:
            for _ in range(count):
                event = emit(session, handlers.KIND, payload)
                assert event.id is not None
                ids.append(event.id)
        return ids

    def effects(self) -> Counter[tuple[str, int]]:
        """How many effect rows each (handler, event) has."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(col(AuditEntry.entity_name), col(AuditEntry.entity_id)).where(
                    col(AuditEntry.entity_type) == handlers.EFFECT
                )
            ).all()
        return Counter((name, entity_id) for name, entity_id in rows)

    def processed(self) -> set[tuple[str, int]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(col(ProcessedEvent.handler), col(ProcessedEvent.event_id))
            ).all()
        return {(h, e) for h, e in rows}

    def unsent(self) -> list[OutboxEvent]:
        with make_session_factory(self.engine)() as session:
            return list(
                session.scalars(
                    select(OutboxEvent)
                    .where(col(OutboxEvent.sent_at).is_(None))
                    .order_by(col(OutboxEvent.id))
                )
            )

    def count_events(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(OutboxEvent)).scalar_one())

    def wait_all_handled(self, ids: list[int]) -> None:
        expected = {(h, i) for i in ids for h in handlers.HANDLERS}
        wait_until(lambda: expected <= self.processed(), f"events {ids} to be handled")

    def assert_exactly_once(self, ids: list[int]) -> None:
        expected = {(h, i) for i in ids for h in handlers.HANDLERS}
        assert expected <= self.processed()
        effects = self.effects()
        assert {key: effects[key] for key in expected} == dict.fromkeys(expected, 1)

    # --- processes ------------------------------------------------------------------------

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        log = (self.tmp / f"process-{len(self.processes)}.log").open("w")
        self.logs.append(log)
        proc = subprocess.Popen(
            [OPSGRAPH, *args],
            env=env or self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
        )
        self.processes.append(proc)
        return proc

    def output(self) -> str:
        logs = sorted(self.tmp.glob("process-*.log"))
        return "\n".join(f"--- {path.name}\n{path.read_text()}" for path in logs)

    def close(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        for log in self.logs:
            log.close()
        self.engine.dispose()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def rig(mode: str, fresh_database: str, tmp_path: Path) -> Iterator[Rig]:
    namespace = f"opsgraph-test-{uuid.uuid4().hex[:12]}"
    the_rig = Rig(mode, fresh_database, namespace, tmp_path, make_engine(fresh_database))
    try:
        yield the_rig
    finally:
        the_rig.close()
        if mode != "embedded":
            _forget_namespace(namespace)
