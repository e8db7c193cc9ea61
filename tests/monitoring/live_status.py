"""Real `opsgraph serve` replicas on one PostgreSQL database, a monitoring host publishing
results to one and a `statusChanges` subscriber on another: what the live test and
benchmarks/monitoring.py share."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import PLATFORM
from domains.identity import service as identity
from domains.identity.service import tokens
from domains.monitoring.models.catalogue import Metric
from domains.monitoring.seed import seed_demo_catalogue
from domains.topology.models import Service, ServiceType
from domains.topology.seed import seed_demo
from tests.server import server_env

RECEIVE_SECONDS = 30.0
ADMIN = "status.live@example.org"
STREAM = """subscription($f: StatusChangeFilter, $after: Long) {
  statusChanges(filter: $f, after: $after) { id hostname serviceType metric status site ngi }
}"""
PUBLISH = """mutation($i: PublishMetricResultsInput!) {
  publishMetricResults(input: $i) { accepted rejected { field rule reason } }
}"""


def prepare(
    url: str, directory: Path, *, topology: Callable[[Session], None] = seed_demo
) -> tuple[dict[str, str], str, tuple[str, str, str]]:
    """Seed the (migrated) database at `url` with a topology (the demo's unless told) and
    the demo catalogue; the servers' environment, a platform administrator's API token (who
    may publish results), and an endpoint with a metric: (host name, service type,
    metric)."""
    engine = make_engine(url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            topology(session)
            seed_demo_catalogue(session)
            host, stype = session.execute(
                select(col(Service.host_name), col(ServiceType.name))
                .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
                .order_by(col(Service.id))
                .limit(1)
            ).one()
            metric = session.scalars(select(col(Metric.name)).order_by(col(Metric.id))).first()
            # what `opsgraph admin make-admin` and `admin issue-token` do, without starting
            # two more processes
            identity.make_admin(session, PLATFORM, subject=ADMIN)
            _, token = tokens.create_api_token(session, PLATFORM, name="live", user_subject=ADMIN)
    finally:
        engine.dispose()
    env = server_env(directory, OPSGRAPH_DATABASE_URL=url)
    return env, token, (str(host), str(stype), str(metric))


def publish(base: str, token: str, endpoint: tuple[str, str, str], status: str) -> None:
    """One result through `publishMetricResults`, timestamped now; asserts it was stored."""
    host, stype, metric = endpoint
    response = httpx.post(
        f"{base}/graphql",
        json={
            "query": PUBLISH,
            "variables": {
                "i": {
                    "results": [
                        {
                            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                            "service": stype,
                            "hostname": host,
                            "metric": metric,
                            "status": status,
                            "summary": f"{status}: live",
                        }
                    ]
                }
            },
        },
        headers={"x-api-key": token},
        timeout=RECEIVE_SECONDS,
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    assert body["data"]["publishMetricResults"]["accepted"] == 1, body


@contextmanager
def subscribe(base: str, variables: dict[str, Any]) -> Iterator[ClientConnection]:
    """An anonymous `statusChanges` stream on the server at `base`, subscribed (id "1")."""
    with connect(
        re.sub(r"^http", "ws", base) + "/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        open_timeout=RECEIVE_SECONDS,
        close_timeout=5,
    ) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(socket.recv(timeout=RECEIVE_SECONDS))
        assert ack["type"] == "connection_ack", ack
        payload = {"query": STREAM, "variables": variables}
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield socket


def change_of(message: str | bytes) -> dict[str, Any]:
    """The status change a `next` message carries."""
    parsed = json.loads(message)
    assert parsed["type"] == "next", parsed
    assert "errors" not in parsed["payload"], parsed
    change: dict[str, Any] = parsed["payload"]["data"]["statusChanges"]
    return change
