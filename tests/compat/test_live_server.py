"""GraphQL subscriptions over a real socket: a real `opsgraph serve --demo` process on
loopback, over ws:// and over wss:// (HTTPS with a throw-away CA), bootstrapped with the CLI
as an operator would, and a real WebSocket client speaking graphql-transport-ws.

`downtimeEvents` and `subscriptionMessages` each get an event caused over HTTP with an API
token made by the CLI. On an install without a WebSocket implementation for uvicorn the
handshake is refused and these tests fail."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import re
import shutil
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.compat.tls import make_certificate
from tests.server import run_cli, server_env, serving

PROJECT = "LIVE"
ADMIN = "live.admin@example.org"
RECEIVE_SECONDS = 30.0  # a stream that never sends fails its test instead of hanging the run

DOWNTIME_EVENTS = """subscription($f: DowntimeEventFilter, $after: Long) {
  downtimeEvents(filter: $f, after: $after) { sequence kind site description downtimeId }
}"""
MESSAGES = """subscription($p: String!, $s: String!) {
  subscriptionMessages(project: $p, subscription: $s, maxMessages: 10, autoAck: true) {
    messageId data attributes { key value }
  }
}"""


@dataclass
class Live:
    base: str  # http(s)://127.0.0.1:port
    verify: ssl.SSLContext | bool
    token: str  # a platform administrator's API token, also a member of PROJECT

    @property
    def ws_url(self) -> str:
        return re.sub(r"^http", "ws", self.base) + "/graphql"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"x-api-key": self.token},
            verify=self.verify,
            timeout=30,
        )
        body: dict[str, Any] = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def socket(self) -> ClientConnection:
        return connect(
            self.ws_url,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            ssl=self.verify if isinstance(self.verify, ssl.SSLContext) else None,
            open_timeout=RECEIVE_SECONDS,
            close_timeout=5,
        )


def _cli(env: dict[str, str], tmp_path: Path, *args: str) -> str:
    done: subprocess.CompletedProcess[str] = run_cli(tmp_path, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo database bootstrapped by the CLI as an operator would (seeded here, within the
    CLI's generous time limit: on a busy machine seeding can take longer than `serving`
    waits for /healthz), and the token; each server below starts on a copy of it."""
    tmp_path = tmp_path_factory.mktemp("live-seed")
    env = server_env(tmp_path)
    _cli(env, tmp_path, "seed", "--demo")
    _cli(env, tmp_path, "admin", "make-admin", "--subject", ADMIN)
    _cli(env, tmp_path, "messaging", "create-project", PROJECT)
    token = _cli(
        env,
        tmp_path,
        *("messaging", "issue-token", "--subject", ADMIN, "--project", PROJECT),
        *("--roles", "publisher,consumer,project_admin"),
    )
    return tmp_path / "cli.db", token


@pytest.fixture(scope="module", params=["http", "https"])
def live(
    request: pytest.FixtureRequest,
    bootstrapped: tuple[Path, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Live]:
    scheme: str = request.param
    database, token = bootstrapped
    tmp_path = tmp_path_factory.mktemp(f"live-{scheme}")
    shutil.copyfile(database, tmp_path / "cli.db")
    env = server_env(tmp_path)
    verify: ssl.SSLContext | bool = True
    extra: tuple[str, ...] = ()
    if scheme == "https":
        cert = make_certificate(tmp_path / "tls")
        verify = ssl.create_default_context(cafile=str(cert.ca_file))
        extra = ("--ssl-certfile", str(cert.cert_file), "--ssl-keyfile", str(cert.key_file))
    with serving(env, "--demo", scheme=scheme, verify=verify, extra=extra) as base:
        yield Live(base=base, verify=verify, token=token)


def _receive(socket: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(socket.recv(timeout=RECEIVE_SECONDS))
    return message


def _start(socket: ClientConnection, token: str, query: str, variables: dict[str, Any]) -> None:
    """connection_init with the token (as GraphiQL sends the headers editor's), subscribe."""
    socket.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": token}}))
    ack = _receive(socket)
    assert ack["type"] == "connection_ack", ack
    payload = {"query": query, "variables": variables}
    socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


def _next(socket: ClientConnection) -> dict[str, Any]:
    message = _receive(socket)
    assert message["type"] == "next", message
    assert message["id"] == "1", message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"]
    return data


def test_a_plain_install_brings_a_websocket_implementation() -> None:
    """The distribution itself (not the test extra) requires one, and uvicorn finds it."""
    from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

    plain = [r for r in importlib.metadata.requires("opsgraph") or [] if "extra ==" not in r]
    names = {re.split(r"[^A-Za-z0-9_.-]", r, maxsplit=1)[0].lower() for r in plain}
    assert names & {"websockets", "wsproto"}, plain
    assert AutoWebSocketsProtocol is not None


def test_downtime_events_arrive_over_a_real_socket(live: Live) -> None:
    site = live.graphql("{ sites(first: 1) { edges { node { shortName services { id } } } } }")
    node = site["sites"]["edges"][0]["node"]
    description = f"Live over a real socket {uuid.uuid4().hex}"
    with live.socket() as socket:
        # from the start of the log: no race between the stream's start and the declaration
        _start(
            socket, live.token, DOWNTIME_EVENTS, {"f": {"site": [node["shortName"]]}, "after": 0}
        )
        now = dt.datetime.now(dt.UTC)
        declared = live.graphql(
            "mutation($i: DeclareDowntimeInput!) {"
            " declareDowntime(input: $i) { downtime { id } } }",
            {
                "i": {
                    "serviceIds": [node["services"][0]["id"]],
                    "severity": "OUTAGE",
                    "startsAt": (now + dt.timedelta(hours=1)).isoformat(),
                    "endsAt": (now + dt.timedelta(hours=2)).isoformat(),
                    "description": description,
                }
            },
        )["declareDowntime"]["downtime"]
        for _ in range(500):  # the site's earlier events (the demo's) come first
            event = _next(socket)["downtimeEvents"]
            assert event["site"] == node["shortName"], event
            if event["description"] == description:
                break
        else:
            pytest.fail("the declared downtime's event never arrived")
        assert event["kind"] == "DECLARED"
        assert event["downtimeId"] == declared["id"]
        socket.send(json.dumps({"id": "1", "type": "complete"}))


def test_subscription_messages_arrive_over_a_real_socket(live: Live) -> None:
    topic, sub = f"t{uuid.uuid4().hex[:12]}", f"s{uuid.uuid4().hex[:12]}"
    live.graphql(
        "mutation($i: CreateTopicInput!) { createTopic(input: $i) { topic { name } } }",
        {"i": {"project": PROJECT, "name": topic}},
    )
    live.graphql(
        "mutation($i: CreateSubscriptionInput!) "
        "{ createSubscription(input: $i) { subscription { name } } }",
        {"i": {"project": PROJECT, "name": sub, "topic": topic}},
    )
    with live.socket() as socket:
        _start(socket, live.token, MESSAGES, {"p": PROJECT, "s": sub})
        published = live.graphql(
            "mutation($i: PublishInput!) { publish(input: $i) { messageIds } }",
            {
                "i": {
                    "project": PROJECT,
                    "topic": topic,
                    "messages": [{"data": "aGVsbG8=", "attributes": [{"key": "k", "value": "v"}]}],
                }
            },
        )["publish"]["messageIds"]
        received = _next(socket)["subscriptionMessages"]
        assert [m["messageId"] for m in received] == published
        assert received[0]["data"] == "aGVsbG8="
        assert received[0]["attributes"] == [{"key": "k", "value": "v"}]
        socket.send(json.dumps({"id": "1", "type": "complete"}))
