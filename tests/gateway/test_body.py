"""Request bodies are bounded before any route runs (issue 10): too large is 413 in each
surface's error shape, whether Content-Length says so or a chunked body grows past the
limit; AMS's publish has its own, larger limit; a body that does not arrive in time is 408.
tests/security/test_http.py checks the same against a real server."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from sqlalchemy.orm import Session
from starlette.types import Message

from domains.common.identity import PLATFORM
from domains.identity.service import tokens
from domains.messaging import service as messaging
from gateway.body import BodyLimitMiddleware
from gateway.config import Settings
from tests.conftest import AppFactory, GraphQLClient

LIMIT = 70_000
PUBLISH_LIMIT = 300_000
QUERY = b'{"query": "{ __typename }"}'


@pytest.fixture
def small(make_client: AppFactory) -> GraphQLClient:
    return make_client(max_body_bytes=LIMIT, max_publish_bytes=PUBLISH_LIMIT)


def padded(size: int) -> bytes:
    """A valid GraphQL request body of exactly `size` bytes."""
    head, tail = b'{"query": "{ __typename }", "extensions": {"pad": "', b'"}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    """Sent chunked: no Content-Length, the limit is found while reading."""
    for i in range(0, len(body), size):
        yield body[i : i + size]


def test_graphql_body_at_the_limit_passes_one_byte_more_is_413(small: GraphQLClient) -> None:
    json_type = {"content-type": "application/json"}
    ok = small.client.post("/graphql", content=padded(LIMIT), headers=json_type)
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"data": {"__typename": "Query"}}
    over = small.client.post("/graphql", content=padded(LIMIT + 1), headers=json_type)
    assert over.status_code == 413
    assert over.headers["connection"] == "close"
    (error,) = over.json()["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "body",
        "rule": "BODY_TOO_LARGE",
    }
    assert error["message"] == f"request body too large: at most {LIMIT} bytes"


def test_chunked_body_over_the_limit_is_413(small: GraphQLClient) -> None:
    response = small.client.post(
        "/graphql", content=chunks(padded(LIMIT * 3)), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["field"] == "body"
    fits = small.client.post(
        "/graphql", content=chunks(padded(LIMIT)), headers={"content-type": "application/json"}
    )
    assert fits.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/feeds/downtimes.rss"), ("GET", "/healthz"), ("POST", "/auth/login")],
)
def test_other_routes_413_before_routing(small: GraphQLClient, method: str, path: str) -> None:
    response = small.client.request(method, path, content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "BAD_USER_INPUT",
            "message": f"request body too large: at most {LIMIT} bytes",
            "rule": "BODY_TOO_LARGE",
        }
    }


@pytest.fixture
def ams_key(session: Session) -> str:
    messaging.create_project(session, PLATFORM, name="BIG", description="")
    messaging.add_member(
        session, PLATFORM, project="BIG", subject="big@egi.eu", roles=["project_admin"]
    )
    _, key = tokens.create_api_token(session, PLATFORM, name="t", user_subject="big@egi.eu")
    session.commit()
    return key


def test_ams_publish_has_its_own_limit_and_ams_error_shape(
    small: GraphQLClient, ams_key: str
) -> None:
    client, headers = small.client, {"x-api-key": ams_key}
    assert client.put("/v1/projects/BIG/topics/t", headers=headers).status_code == 200
    data = base64.b64encode(b"m" * 1024).decode()
    batch = json.dumps({"messages": [{"data": data}] * 100}).encode()  # benchmarks/pubsub.py
    assert LIMIT < len(batch) < PUBLISH_LIMIT
    published = client.post("/v1/projects/BIG/topics/t:publish", content=batch, headers=headers)
    assert published.status_code == 200, published.text
    assert len(published.json()["messageIds"]) == 100
    # the same size elsewhere under /v1 is over the general limit
    elsewhere = client.post("/v1/projects/BIG/topics/t:modifyAcl", content=batch, headers=headers)
    assert elsewhere.status_code == 413
    too_big = json.dumps({"messages": [{"data": data}] * 300}).encode()
    refused = client.post("/v1/projects/BIG/topics/t:publish", content=too_big, headers=headers)
    assert refused.status_code == 413
    assert refused.json() == {
        "error": {
            "code": 413,
            "message": f"request body too large: at most {PUBLISH_LIMIT} bytes",
            "status": "INVALID_ARGUMENT",
        }
    }


async def _run(app: BodyLimitMiddleware, receive_messages: list[Message | None]) -> list[Message]:
    """Drive the middleware with these request messages (None: the client stalls)."""
    sent: list[Message] = []
    pending = list(receive_messages)

    async def receive() -> Message:
        message = pending.pop(0) if pending else None
        if message is None:
            await anyio.sleep_forever()
        assert message is not None
        return message

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/v1/projects/P/topics/T:publish",
        "headers": [(b"content-length", b"10")],
    }
    with anyio.fail_after(30):  # a hang, not a timing assertion
        await app(scope, receive, send)
    return sent


def test_a_stalled_body_is_answered_408_and_the_route_never_runs() -> None:
    called: list[bytes] = []

    async def route(scope: Any, receive: Any, send: Any) -> None:
        called.append((await receive())["body"])

    app = BodyLimitMiddleware(route, max_bytes=100, max_publish_bytes=100, timeout=0.2)
    first: Message = {"type": "http.request", "body": b"12345", "more_body": True}
    sent = anyio.run(_run, app, [first, None])
    assert called == []
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"]) == {
        "error": {
            "code": 408,
            "message": "request body not received in time: sent within 0.2 seconds",
            "status": "TIMEOUT",
        }
    }
    # a body that arrives in pieces in time reaches the route whole
    pieces: list[Message | None] = [first, {"type": "http.request", "body": b"67890"}]
    whole = anyio.run(_run, app, pieces)
    assert called == [b"1234567890"]
    assert whole == []


def test_settings_keep_room_for_one_largest_message() -> None:
    settings = Settings.from_env(
        {
            "OPSGRAPH_MAX_BODY_BYTES": "3000000",
            "OPSGRAPH_MAX_PUBLISH_BYTES": "9000000",
            "OPSGRAPH_HEADER_TIMEOUT": "2.5",
            "OPSGRAPH_BODY_TIMEOUT": "7",
        }
    )
    assert (settings.max_body_bytes, settings.max_publish_bytes) == (3_000_000, 9_000_000)
    assert (settings.header_timeout, settings.body_timeout) == (2.5, 7.0)
    defaults = Settings.from_env({})
    assert (defaults.max_body_bytes, defaults.max_publish_bytes) == (4 << 20, 16 << 20)
    # 1.5 MiB of data is 2 MiB of base64: a 2 MiB limit could not carry it
    with pytest.raises(Exception, match="OPSGRAPH_MAX_BODY_BYTES: at least 2162688"):
        Settings.from_env({"OPSGRAPH_MAX_BODY_BYTES": str(2 << 20)})
    with pytest.raises(Exception, match="OPSGRAPH_MAX_PUBLISH_BYTES: at least 16842752"):
        Settings.from_env(
            {"OPSGRAPH_MAX_MESSAGE_BYTES": str(12 << 20), "OPSGRAPH_MAX_BODY_BYTES": str(20 << 20)}
        )
    assert (
        Settings.from_env(
            {
                "OPSGRAPH_MAX_MESSAGE_BYTES": "1024",
                "OPSGRAPH_MAX_BODY_BYTES": "70000",
                "OPSGRAPH_MAX_PUBLISH_BYTES": "70000",
            }
        ).max_body_bytes
        == 70_000
    )
