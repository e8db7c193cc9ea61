"""`subscriptionMessages` over graphql-transport-ws (connection_init, subscribe, next,
complete), against an app on a database of its own: each step of the stream is a real,
committed transaction of its own (`context.transact`), which the test's savepoint
connection could not share safely with the HTTP requests running beside it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient, WebSocketTestSession

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import PLATFORM
from domains.identity.service import tokens
from domains.messaging import service as msg
from gateway.app import create_app
from gateway.config import Settings
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.databases import private_database
from tests.messaging.conftest import b64
from tests.websocket import receive_json

PROTOCOL = ["graphql-transport-ws"]
STREAM = """subscription($p: String!, $s: String!, $n: Int!, $auto: Boolean!) {
  subscriptionMessages(project: $p, subscription: $s, maxMessages: $n, autoAck: $auto) {
    ackId messageId data attributes { key value } publishTime
  }
}"""
PUBLISH = "mutation($i: PublishInput!) { publish(input: $i) { messageIds } }"


@pytest.fixture(scope="module")
def ws_engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database of the parametrized kind, for these tests only, opened as
    `opsgraph serve` opens it."""
    with private_database(database_url, tmp_path_factory.mktemp("ws")) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@dataclass
class Live:
    client: TestClient
    factory: sessionmaker[Session]
    issuer: OIDCIssuer
    project: str  # a project of this test's own; users are named after it too

    def user(self, role: str) -> str:
        return f"{role}.{self.project}@egi.eu"

    def bearer(self, role: str) -> str:
        subject = self.user(role)
        return "Bearer " + self.issuer.issue_access_token({"sub": subject, "voperson_id": subject})

    def api_key(self, role: str) -> str:
        with unit_of_work(self.factory) as session:
            _, secret = tokens.create_api_token(
                session, PLATFORM, name="stream", user_subject=self.user(role)
            )
        return secret

    def publish(self, *texts: str) -> list[str]:
        response = self.client.post(
            "/graphql",
            json={
                "query": PUBLISH,
                "variables": {
                    "i": {
                        "project": self.project,
                        "topic": "T",
                        "messages": [{"data": b64(t)} for t in texts],
                    }
                },
            },
            headers={"authorization": self.bearer("publisher")},
        )
        body = response.json()
        assert "errors" not in body, body
        ids: list[str] = body["data"]["publish"]["messageIds"]
        return ids

    def offset(self) -> int:
        with unit_of_work(self.factory) as session:
            return msg.get_subscription(
                session, PLATFORM, project=self.project, subscription="S"
            ).offset

    def subscribe(
        self, socket: WebSocketTestSession, *, auto_ack: bool = True, max_messages: int = 10
    ) -> None:
        socket.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": STREAM,
                    "variables": {
                        "p": self.project,
                        "s": "S",
                        "n": max_messages,
                        "auto": auto_ack,
                    },
                },
            }
        )


@pytest.fixture
def live(
    ws_engine: Engine, oidc_issuer: OIDCIssuer, database_url: str, fast_executor: bool
) -> Iterator[Live]:
    with open_live(ws_engine, oidc_issuer, database_url, fast_executor=fast_executor) as live:
        yield live


@contextmanager
def open_live(
    ws_engine: Engine, oidc_issuer: OIDCIssuer, database_url: str, **overrides: Any
) -> Iterator[Live]:
    """A project of its own (publisher, consumer in S's ACL, outsider), and the app;
    `overrides` replace the app's Settings."""
    factory = make_session_factory(ws_engine)
    project = f"P{uuid.uuid4().hex[:10]}"
    live = Live(None, factory, oidc_issuer, project)  # type: ignore[arg-type]
    with unit_of_work(factory) as session:
        msg.create_project(session, PLATFORM, name=project)
        for role, roles in (
            ("publisher", ["publisher"]),
            ("consumer", ["consumer"]),
            ("outsider", ["consumer"]),
        ):
            msg.add_member(session, PLATFORM, project=project, subject=live.user(role), roles=roles)
        msg.create_topic(session, PLATFORM, project=project, topic="T")
        msg.modify_topic_acl(
            session, PLATFORM, project=project, topic="T", users=[live.user("publisher")]
        )
        msg.create_subscription(
            session,
            PLATFORM,
            project=project,
            subscription="S",
            topic=f"projects/{project}/topics/T",
        )
        msg.modify_subscription_acl(
            session, PLATFORM, project=project, subscription="S", users=[live.user("consumer")]
        )
    settings = Settings(
        database_url=database_url,
        log_format="text",
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        **overrides,
    )
    app = create_app(settings, engine=ws_engine, session_factory=factory)
    with TestClient(app) as client:
        live.client = client
        yield live


def _init(socket: WebSocketTestSession, payload: dict[str, Any]) -> None:
    socket.send_json({"type": "connection_init", "payload": payload})
    assert receive_json(socket)["type"] == "connection_ack"


def _next(socket: WebSocketTestSession) -> list[dict[str, Any]]:
    message = receive_json(socket)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    batch: list[dict[str, Any]] = message["payload"]["data"]["subscriptionMessages"]
    return batch


def test_a_stream_with_an_api_key_receives_what_is_published(live: Live) -> None:
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"x-api-key": live.api_key("consumer")})
        live.subscribe(socket)
        live.publish("first", "second")
        batch = _next(socket)
        assert [m["messageId"] for m in batch] == ["0", "1"]
        assert [m["data"] for m in batch] == [b64("first"), b64("second")]
        assert batch[0]["ackId"] == f"projects/{live.project}/subscriptions/S:0"
        # the stream has drained the topic and waits for the next publish
        live.publish("third")
        assert [m["data"] for m in _next(socket)] == [b64("third")]
        socket.send_json({"id": "1", "type": "complete"})


def test_auto_ack_advances_the_offset(live: Live) -> None:
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"authorization": live.bearer("consumer")})
        live.subscribe(socket)
        live.publish("a", "b")
        assert [m["messageId"] for m in _next(socket)] == ["0", "1"]
        live.publish("c")
        # only what came after the acknowledged batch: the offset moved past it
        assert [m["messageId"] for m in _next(socket)] == ["2"]
        assert live.offset() >= 2
        socket.send_json({"id": "1", "type": "complete"})


def test_without_auto_ack_the_client_acknowledges(live: Live) -> None:
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"authorization": live.bearer("consumer")})
        live.subscribe(socket, auto_ack=False)
        live.publish("a")
        batch = _next(socket)
        assert live.offset() == 0
        response = live.client.post(
            "/graphql",
            json={
                "query": "mutation($i: AcknowledgeInput!) "
                "{ acknowledge(input: $i) { subscription { name } } }",
                "variables": {
                    "i": {
                        "project": live.project,
                        "subscription": "S",
                        "ackIds": [batch[-1]["ackId"]],
                    }
                },
            },
            headers={"authorization": live.bearer("consumer")},
        )
        assert "errors" not in response.json(), response.json()
        assert live.offset() == 1
        live.publish("b")
        assert [m["messageId"] for m in _next(socket)] == ["1"]
        socket.send_json({"id": "1", "type": "complete"})


def test_a_consumer_outside_the_acl_is_refused(live: Live) -> None:
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"authorization": live.bearer("outsider")})
        live.subscribe(socket)
        message = receive_json(socket)
        assert message["type"] == "next"
        assert message["payload"]["data"] is None
        error = message["payload"]["errors"][0]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["path"] == ["subscriptionMessages"]
        assert receive_json(socket) == {"id": "1", "type": "complete"}


def test_an_anonymous_stream_is_unauthenticated(live: Live) -> None:
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {})
        live.subscribe(socket)
        message = receive_json(socket)
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert receive_json(socket) == {"id": "1", "type": "complete"}


def test_bad_max_messages_is_bad_input(live: Live) -> None:
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"authorization": live.bearer("consumer")})
        live.subscribe(socket, max_messages=0)
        error = receive_json(socket)["payload"]["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["field"] == "maxMessages"


def test_complete_ends_the_stream(live: Live) -> None:
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"authorization": live.bearer("consumer")})
        live.subscribe(socket)
        live.publish("a")
        assert [m["messageId"] for m in _next(socket)] == ["0"]
        socket.send_json({"id": "1", "type": "complete"})
        socket.send_json({"type": "ping"})
        assert receive_json(socket) == {"type": "pong"}
        # nothing pulls any more: what is published now waits for the next consumer
        live.publish("b")
        response = live.client.post(
            "/graphql",
            json={
                "query": "mutation($i: PullInput!) "
                "{ pull(input: $i) { receivedMessages { messageId } } }",
                "variables": {
                    "i": {"project": live.project, "subscription": "S", "maxMessages": 5}
                },
            },
            headers={"authorization": live.bearer("consumer")},
        )
        # (the ack of "0" may or may not have run before the stream stopped)
        pulled = [m["messageId"] for m in response.json()["data"]["pull"]["receivedMessages"]]
        assert pulled[-1:] == ["1"]
