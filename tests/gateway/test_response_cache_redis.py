"""The response cache in Redis (OPSGRAPH_CACHE_URL, gateway/cache.py's SharedEntries): a
hit runs no SQL, a committed write drops it, entries expire at their horizon, and an
unreachable Redis costs caching, never an answer (two real servers sharing one Redis:
tests/compat/test_replicas.py)."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from sqlalchemy.orm import Session

from domains.common.time import utcnow
from gateway import cache
from tests.conftest import AppFactory, StatementCounter
from tests.gateway.response_cache import a_site, add_downtime, sql
from tests.gateway.test_response_cache import read

REDIS_URL = os.environ.get("OPSGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLOSED = "redis://127.0.0.1:1/0"  # nothing listens there
TOKEN = "redis-cache-metrics"


@pytest.fixture
def store() -> Iterator[redis.Redis]:
    """A namespace of this test's own in the test Redis (parallel runs share it), emptied
    after the test."""
    namespace = f"opsgraph:test:{uuid.uuid4().hex}:"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache, "NAMESPACE", namespace)
        client = redis.Redis.from_url(REDIS_URL)
        yield client
        for key in client.scan_iter(namespace + "*"):
            client.delete(key)
        client.close()


def entries(store: redis.Redis) -> list[bytes]:
    return [k for k in store.scan_iter(cache.NAMESPACE + "*") if not k.endswith(b"gen")]


def test_a_hit_in_redis_runs_no_sql_and_a_committed_write_drops_it(
    make_client: AppFactory, store: redis.Redis, session: Session, statements: StatementCounter
) -> None:
    # no LISTEN (make_client's default): on PostgreSQL only Redis can tell of other writers
    client = make_client(response_cache_max=100, cache_url=REDIS_URL)
    site = a_site(session)[0]
    first = read(client, site)
    (key,) = entries(store)
    statements.reset()
    assert read(client, site) == first
    assert statements.count == 0
    assert 0 < store.pttl(key) <= cache.MAX_AGE.total_seconds() * 1000
    sql(session, "UPDATE site SET description = 'in redis' WHERE short_name = :s", s=site)
    statements.reset()
    assert read(client, site)["description"] == "in redis"
    assert statements.count > 0


def test_an_entry_in_redis_expires_at_its_horizon(
    make_client: AppFactory, store: redis.Redis, session: Session, statements: StatementCounter
) -> None:
    site = a_site(session)[0]
    starts = utcnow().replace(microsecond=0) + timedelta(seconds=30)
    add_downtime(session, site, starts, starts + timedelta(hours=6))
    moment = [starts - timedelta(seconds=1)]
    client = make_client(response_cache_max=100, cache_url=REDIS_URL, clock=lambda: moment[0])
    query = "query($s: String!) { site(shortName: $s) { downtimes { startsAt ongoing } } }"

    def ongoing() -> bool:
        found = client.data(query, {"s": site})["site"]["downtimes"]
        (mine,) = [d for d in found if d["startsAt"] == starts.isoformat()]
        return bool(mine["ongoing"])

    assert ongoing() is False
    (key,) = entries(store)
    assert 0 < store.pttl(key) <= 30_000  # Redis drops it at the downtime's start
    statements.reset()
    assert ongoing() is False
    assert statements.count == 0
    moment[0] = starts
    assert ongoing() is True


def test_an_unreachable_redis_costs_caching_not_answers(
    make_client: AppFactory,
    session: Session,
    statements: StatementCounter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(response_cache_max=100, cache_url=CLOSED, metrics_token=TOKEN)
    site = a_site(session)[0]
    logger = logging.getLogger("opsgraph.cache")  # the app's logging does not propagate it
    logger.addHandler(caplog.handler)
    try:
        first = read(client, site)
        statements.reset()
        assert read(client, site) == first
        assert statements.count > 0  # computed again: nothing kept
        sql(session, "UPDATE site SET description = 'redis down' WHERE short_name = :s", s=site)
        assert read(client, site)["description"] == "redis down"
    finally:
        logger.removeHandler(caplog.handler)
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
    metrics = client.client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"}).text
    assert 'opsgraph_response_cache_total{result="unavailable"} 3.0' in metrics
