"""Query cost against a real `opsgraph serve --demo` (issue 10, point 1).

Before gateway/cost.py, strawberry's depth and alias limiters expanded every fragment
spread: the fragment bomb below pinned a server thread for good (each test here timed out
on it), and the expensive query answered anonymously with megabytes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.server import run_cli, server_env, serving

# Depth 11 (as OPSGRAPH_MAX_QUERY_DEPTH counts), within every limit but the cost limit:
# anonymously on the demo data it answered 12.5 MB in 8.4 s (2026-12-02, this machine).
# Its cost is 947,102 (README, "Query cost").
EXPENSIVE = """{ sites(first: 100) { nodes { services { endpoints { service { site {
  services { endpoints { service { site { services { hostName serviceType } } } } } }
} } } } } }"""

# The same with 20 sites: cost 189,422, over the anonymous budget (100,000), within the
# authenticated one (500,000); about 2.5 MB of answer.
MIDDLING = EXPENSIVE.replace("first: 100", "first: 20")

# A hang detector, not a speed figure (benchmarks/fragment_bombs.py prints those).
TIMEOUT = 60.0


def fragment_bomb(levels: int = 40) -> str:
    """1.5 KB: fragment i spreads fragment i-1 twice, 2^39 fields once expanded."""
    fragments = ["fragment F0 on Query { __typename }"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)
    ]
    return f"query {{ ...F{levels - 1} }}\n" + "\n".join(fragments)


@dataclass
class Server:
    base: str
    token: str

    def graphql(self, query: str, *, token: str | None = None) -> dict[str, Any]:
        headers = {"x-api-key": token} if token else {}
        response = httpx.post(
            f"{self.base}/graphql", json={"query": query}, headers=headers, timeout=TIMEOUT
        )
        assert response.status_code == 200, response.text[:500]
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp_path: Path = tmp_path_factory.mktemp("cost")
    env = server_env(tmp_path)
    with serving(env, "--demo") as base:
        done = run_cli(tmp_path, "messaging", "create-project", "COST", env=env)
        assert done.returncode == 0, done.stderr
        done = run_cli(
            tmp_path,
            "messaging",
            "issue-token",
            "--subject",
            "cost@egi.eu",
            "--project",
            "COST",
            "--roles",
            "consumer",
            env=env,
        )
        assert done.returncode == 0, done.stderr
        yield Server(base, done.stdout.strip())


def _refused(body: dict[str, Any], limit: str) -> dict[str, Any]:
    assert body["data"] is None, str(body)[:300]
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["limit"] == limit
    return error  # type: ignore[no-any-return]


def test_a_fragment_bomb_is_refused(server: Server) -> None:
    error = _refused(server.graphql(fragment_bomb()), "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS")
    assert error["message"].startswith("query cost 549,755,813,888 exceeds the limit of 100,000")


def test_the_expensive_anonymous_query_is_refused_up_front(server: Server) -> None:
    error = _refused(server.graphql(EXPENSIVE), "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS")
    assert error["message"].startswith(
        "query cost 947,102 exceeds the limit of 100,000 for anonymous callers"
    )
    assert error["extensions"]["value"] == 947_102
    # and so it is for an authenticated caller: over their budget too
    body = server.graphql(EXPENSIVE, token=server.token)
    _refused(body, "OPSGRAPH_MAX_QUERY_COST")


def test_an_authenticated_caller_has_the_larger_budget(server: Server) -> None:
    _refused(server.graphql(MIDDLING), "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS")
    body = server.graphql(MIDDLING, token=server.token)
    assert "errors" not in body, str(body)[:300]
    assert len(body["data"]["sites"]["nodes"]) == 20


def test_forty_bombs_at_once_leave_healthz_answering(server: Server) -> None:
    """40 fragment bombs in parallel are refused, while /healthz, probed all along with a
    2 s client timeout, answers 200 every time."""
    bomb = fragment_bomb()
    probes: list[int | str] = []
    bombs_done = threading.Event()

    def probe() -> None:
        with httpx.Client(timeout=2.0) as client:
            while not bombs_done.is_set() or not probes:
                try:
                    probes.append(client.get(f"{server.base}/healthz").status_code)
                except httpx.TransportError as failed:  # timeouts included
                    probes.append(type(failed).__name__)
                bombs_done.wait(0.05)

    def send(_: int) -> dict[str, Any]:
        return server.graphql(bomb)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        with ThreadPoolExecutor(max_workers=40) as pool:
            answers = list(pool.map(send, range(40)))
    finally:
        bombs_done.set()
        prober.join(timeout=TIMEOUT)
    for body in answers:
        _refused(body, "OPSGRAPH_MAX_QUERY_COST_ANONYMOUS")
    assert probes
    assert all(status == 200 for status in probes), probes
    # and the server still answers ordinary queries
    assert "errors" not in server.graphql("{ sites(first: 1) { totalCount } }")
