"""graphql-transport-ws at /graphql: subscriptions only, with the same credentials as HTTP.
Streaming itself is tested with the subscriptions (tests/messaging)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from tests.conftest import Callers, GraphQLClient
from tests.websocket import receive_json

PROTOCOL = ["graphql-transport-ws"]


def _init(socket: WebSocketTestSession, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    socket.send_json({"type": "connection_init", "payload": payload or {}})
    message: dict[str, Any] = receive_json(socket)
    return message


def test_queries_and_mutations_are_refused_over_the_socket(gql: GraphQLClient) -> None:
    """They would run outside the request's transaction: HTTP is their transport."""
    with gql.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        assert _init(socket)["type"] == "connection_ack"
        socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { subject } }"}}
        )
        reply = receive_json(socket)
        assert reply["type"] == "error"
        assert "not allowed" in reply["payload"][0]["message"]


def test_a_bad_api_key_in_connection_init_closes_the_socket(callers: Callers) -> None:
    client = callers.client.client
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        socket.send_json({"type": "connection_init", "payload": {"x-api-key": "0" * 40}})
        with pytest.raises(WebSocketDisconnect) as closed:
            receive_json(socket)
    assert closed.value.code == 4403


def test_a_bad_bearer_token_in_connection_init_closes_the_socket(callers: Callers) -> None:
    client = callers.client.client
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        socket.send_json(
            {"type": "connection_init", "payload": {"authorization": "Bearer not-a-token"}}
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            receive_json(socket)
    assert closed.value.code == 4403


def test_a_valid_bearer_token_is_accepted(callers: Callers) -> None:
    token = callers.issuer.issue_access_token({"sub": "ws@egi.eu", "voperson_id": "ws@egi.eu"})
    client = callers.client.client
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        assert _init(socket, {"authorization": f"Bearer {token}"})["type"] == "connection_ack"


def test_legacy_graphql_ws_protocol_is_not_spoken(gql: GraphQLClient) -> None:
    def handshake() -> None:
        with gql.client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as socket:
            _init(socket)

    with pytest.raises(WebSocketDisconnect):
        handshake()


def test_a_silent_socket_fails_the_test_instead_of_hanging_it(gql: GraphQLClient) -> None:
    with gql.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        assert _init(socket)["type"] == "connection_ack"
        with pytest.raises(TimeoutError):
            receive_json(socket, seconds=0.2)  # nothing was asked for: nothing comes
