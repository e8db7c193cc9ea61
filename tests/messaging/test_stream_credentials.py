"""A stream ends with its credential (gateway/ws.py): a revoked API token or an expired
OIDC token closes the socket with 4401, an API token whose user lost platform
administration with 4403 — on the next event, or at the next periodic re-check when
nothing happens (OPSGRAPH_STREAM_RECHECK_SECONDS, 1 s here)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, update
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from domains.common.db import unit_of_work
from domains.common.identity import PLATFORM
from domains.common.time import utcnow
from domains.identity import service as identity
from domains.identity.models import ApiToken, User
from domains.identity.service import tokens
from tests.auth.issuer import OIDCIssuer
from tests.messaging.conftest import b64
from tests.messaging.test_graphql_ws import PROTOCOL, Live, _init, _next, open_live
from tests.messaging.test_graphql_ws import ws_engine as ws_engine  # a database of its own
from tests.websocket import receive_json


@pytest.fixture
def live(ws_engine: Engine, oidc_issuer: OIDCIssuer, database_url: str) -> Iterator[Live]:
    with open_live(ws_engine, oidc_issuer, database_url, stream_recheck_seconds=1.0) as live:
        yield live


def _closed_with(socket: WebSocketTestSession) -> int:
    """The close code the server ends the socket with (30 s at most: then the test fails);
    anything else sent meanwhile fails the test."""
    try:
        message = receive_json(socket)
    except WebSocketDisconnect as closed:
        return closed.code
    raise AssertionError(f"the stream went on: {message}")


def _revoke_all(live: Live, subject: str) -> None:
    with unit_of_work(live.factory) as session:
        user = session.execute(
            select(User).where(User.subject == subject)  # type: ignore[arg-type]
        ).scalar_one()
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id)  # type: ignore[arg-type]
            .values(revoked_at=utcnow())
        )


def test_a_revoked_api_token_ends_the_stream_before_the_next_event(live: Live) -> None:
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"x-api-key": live.api_key("consumer")})
        live.subscribe(socket)
        live.publish("before")
        assert [m["data"] for m in _next(socket)] == [b64("before")]
        _revoke_all(live, live.user("consumer"))
        live.publish("after")
        assert _closed_with(socket) == 4401


def test_a_revoked_api_token_ends_an_idle_stream(live: Live) -> None:
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"x-api-key": live.api_key("consumer")})
        live.subscribe(socket)
        _revoke_all(live, live.user("consumer"))
        assert _closed_with(socket) == 4401


def test_an_expired_oidc_token_ends_the_stream(live: Live) -> None:
    subject = live.user("consumer")
    token = live.issuer.issue_access_token({"sub": subject, "voperson_id": subject}, expires_in=3)
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"authorization": f"Bearer {token}"})
        live.subscribe(socket)
        live.publish("while valid")
        assert [m["data"] for m in _next(socket)] == [b64("while valid")]
        assert _closed_with(socket) == 4401


def test_a_token_of_a_user_no_longer_admin_is_forbidden(live: Live) -> None:
    subject = f"root.{live.project}@egi.eu"
    with unit_of_work(live.factory) as session:
        identity.make_admin(session, PLATFORM, subject=subject)
        _, secret = tokens.create_api_token(session, PLATFORM, name="x", user_subject=subject)
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"x-api-key": secret})
        live.subscribe(socket)  # a platform administrator reads any subscription
        live.publish("a")
        assert [m["data"] for m in _next(socket)] == [b64("a")]
        with unit_of_work(live.factory) as session:
            session.execute(update(User).where(User.subject == subject).values(is_admin=False))  # type: ignore[arg-type]
        assert _closed_with(socket) == 4403


def test_a_live_credential_keeps_its_stream(live: Live) -> None:
    """Re-checks that pass change nothing: three re-check periods later it still streams."""
    with live.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as socket:
        _init(socket, {"x-api-key": live.api_key("consumer")})
        live.subscribe(socket)
        live.publish("one")
        assert [m["data"] for m in _next(socket)] == [b64("one")]
        socket.send_json({"type": "ping"})
        assert receive_json(socket) == {"type": "pong"}
        time.sleep(2.5)  # two re-checks pass
        live.publish("two")
        assert [m["data"] for m in _next(socket)] == [b64("two")]
        socket.send_json({"id": "1", "type": "complete"})
