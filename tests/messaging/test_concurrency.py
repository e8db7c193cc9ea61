"""Concurrent publishers on a fresh database (real commits, one connection per thread):
offsets are unique and gap-free, and each committed batch is contiguous.

On SQLite the writers' transactions begin IMMEDIATE, as `opsgraph serve`'s do: with a
deferred BEGIN, a transaction that read first and then writes after another writer
committed fails at once with "database is locked" (WAL's SQLITE_BUSY_SNAPSHOT; the busy
timeout does not apply)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import PLATFORM
from domains.messaging import service as msg
from tests.databases import private_database
from tests.messaging.conftest import b64

THREADS, BATCHES, BATCH = 4, 10, 5


@pytest.fixture
def fresh_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    # as `opsgraph serve` opens it: writers' transactions take the write lock when they begin
    with private_database(database_url, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_concurrent_publishes_get_unique_contiguous_offsets(fresh_engine: Engine) -> None:
    factory = make_session_factory(fresh_engine)
    with unit_of_work(factory) as session:
        msg.create_project(session, PLATFORM, name="P")
        msg.create_topic(session, PLATFORM, project="P", topic="T")
        msg.create_subscription(
            session, PLATFORM, project="P", subscription="S", topic="projects/P/topics/T"
        )

    batches: list[list[int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def publisher(n: int) -> None:
        try:
            for b in range(BATCHES):
                with unit_of_work(factory) as session:
                    offsets = msg.publish(
                        session,
                        PLATFORM,
                        project="P",
                        topic="T",
                        messages=[{"data": b64(f"{n}-{b}-{i}")} for i in range(BATCH)],
                    )
                with lock:
                    batches.append(offsets)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=publisher, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = THREADS * BATCHES * BATCH
    assert sorted(o for batch in batches for o in batch) == list(range(total))
    assert all(batch == list(range(batch[0], batch[0] + BATCH)) for batch in batches)

    with unit_of_work(factory) as session:
        got = msg.pull(session, PLATFORM, project="P", subscription="S", max_messages=total)
        assert [m.offset for m in got] == list(range(total))
        metrics = msg.topic_metrics(session, PLATFORM, project="P", topic="T")
        assert metrics.messages == total
