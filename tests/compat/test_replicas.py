"""Two `opsgraph serve` replicas on one PostgreSQL database: a pull waiting on one replica
is woken by a publish made through the other (LISTEN/NOTIFY), not by its own timeout; a
write through one drops the other's cached answers (gateway/cache.py); with
OPSGRAPH_CACHE_URL, they share the answers in Redis, and a write through one is never
answered past by the other."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.conftest import _ensure_pg_database, pg_test_url
from tests.databases import private_database
from tests.server import run_cli, server_env, serving

WAIT_MS = 30_000
METRICS_TOKEN = "replicas-metrics"


@pytest.fixture(scope="module")
def database(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, str], dict[str, str]]]:
    """A directory, the replicas' environment on a private PostgreSQL database, and the API
    key of an admin of project OPS."""
    tmp_path = tmp_path_factory.mktemp("replicas")
    base_url = pg_test_url()
    _ensure_pg_database(base_url)
    with private_database(base_url, tmp_path) as url:
        env = server_env(
            tmp_path,
            OPSGRAPH_DATABASE_URL=url,
            OPSGRAPH_PULL_WAIT_MS=str(WAIT_MS),
            OPSGRAPH_METRICS_TOKEN=METRICS_TOKEN,
        )
        assert run_cli(tmp_path, "messaging", "create-project", "OPS", env=env).returncode == 0
        issued = run_cli(
            tmp_path,
            "messaging",
            "issue-token",
            "--subject",
            "a@egi.eu",
            "--project",
            "OPS",
            "--roles",
            "project_admin",
            env=env,
        )
        assert issued.returncode == 0, issued.stderr
        yield tmp_path, env, {"x-api-key": issued.stdout.strip()}


@pytest.fixture(scope="module")
def replicas(
    database: tuple[Path, dict[str, str], dict[str, str]],
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Replica one's and two's base URLs, and the API key of an admin of project OPS."""
    _, env, headers = database
    with serving(env) as one, serving(env) as two:
        yield one, two, headers


def test_a_publish_on_one_replica_wakes_a_pull_waiting_on_another(
    replicas: tuple[str, str, dict[str, str]],
) -> None:
    one, two, headers = replicas
    p = "/v1/projects/OPS"
    assert httpx.put(f"{one}{p}/topics/t", headers=headers).status_code == 200
    sub = {"topic": "projects/OPS/topics/t"}
    assert (
        httpx.put(f"{one}{p}/subscriptions/s", content=json.dumps(sub), headers=headers)
    ).status_code == 200
    results: list[Any] = []

    def pull() -> None:
        body = json.dumps({"returnImmediately": "false"})
        results.append(
            httpx.post(f"{one}{p}/subscriptions/s:pull", content=body, headers=headers, timeout=60)
        )

    started = time.monotonic()
    puller = threading.Thread(target=pull)
    puller.start()
    time.sleep(1.0)  # replica one has found nothing and waits
    data = base64.b64encode(b"from two").decode()
    published = httpx.post(
        f"{two}{p}/topics/t:publish",
        content=json.dumps({"messages": [{"data": data}]}),
        headers=headers,
    )
    assert published.status_code == 200
    puller.join(timeout=WAIT_MS / 1000 + 10)
    waited = time.monotonic() - started
    received = results[0].json()["receivedMessages"]
    assert [base64.b64decode(m["message"]["data"]) for m in received] == [b"from two"]
    assert waited < WAIT_MS / 1000 / 2  # woken by the other replica, not timed out


TOPICS = '{ messagingProject(name: "OPS") { topics { edges { node { name } } } } }'
HITS = 'opsgraph_response_cache_total{result="hit"}'


def test_a_write_through_one_replica_drops_the_other_replicas_cached_answer(
    replicas: tuple[str, str, dict[str, str]],
) -> None:
    one, two, headers = replicas

    def topics(base: str) -> list[str]:
        body = httpx.post(f"{base}/graphql", json={"query": TOPICS}, headers=headers).json()
        return sorted(
            edge["node"]["name"] for edge in body["data"]["messagingProject"]["topics"]["edges"]
        )

    def hits() -> float:
        metrics = httpx.get(f"{two}/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
        return float(next(x for x in metrics.text.splitlines() if x.startswith(HITS)).split()[-1])

    before = topics(two)
    assert "cached" not in before
    counted = hits()
    # answered from two's cache (once its LISTEN connection is up: connecting drops what
    # was kept before, so the first answers may be computed again)
    for _ in range(100):
        assert topics(two) == before
        if hits() > counted:
            break
        time.sleep(0.1)
    assert hits() > counted
    put = httpx.put(f"{one}/v1/projects/OPS/topics/cached", headers=headers)
    assert put.status_code == 200
    # two hears of one's commit through NOTIFY, shortly after it (a bounded wait)
    deadline = time.monotonic() + 30
    while "cached" not in topics(two) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert topics(two) == sorted([*before, "cached"])


# a database number of its own: the replicas keep entries under the default namespace
SHARED_REDIS = "redis://127.0.0.1:6379/12"


def test_replicas_share_answers_in_redis_and_a_write_through_one_is_seen_at_once_by_the_other(
    database: tuple[Path, dict[str, str], dict[str, str]],
) -> None:
    _, env, headers = database
    # no LISTEN: only Redis tells one replica of the other's writes
    shared = {**env, "OPSGRAPH_CACHE_URL": SHARED_REDIS, "OPSGRAPH_PG_LISTEN": "false"}
    # an alias of this run's own: runs sharing the test Redis never share an entry
    alias = "p" + uuid.uuid4().hex
    query = TOPICS.replace("messagingProject", f"{alias}: messagingProject", 1)
    create = "mutation($i: CreateTopicInput!) { createTopic(input: $i) { topic { name } } }"

    def topics(base: str) -> list[str]:
        body = httpx.post(f"{base}/graphql", json={"query": query}, headers=headers).json()
        return sorted(edge["node"]["name"] for edge in body["data"][alias]["topics"]["edges"])

    def hits(base: str) -> float:
        metrics = httpx.get(f"{base}/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
        return float(next(x for x in metrics.text.splitlines() if x.startswith(HITS)).split()[-1])

    with serving(shared) as one, serving(shared) as two:
        before = topics(one)  # computed by one, kept in Redis
        assert hits(two) == 0
        assert topics(two) == before
        assert hits(two) == 1  # one's answer
        for name in ("shared1", "shared2"):
            made = httpx.post(
                f"{two}/graphql",
                json={"query": create, "variables": {"i": {"project": "OPS", "name": name}}},
                headers=headers,
            )
            assert made.json() == {"data": {"createTopic": {"topic": {"name": name}}}}
            before = sorted([*before, name])
            assert topics(one) == before  # at once: no broadcast to wait for
            assert topics(two) == before
