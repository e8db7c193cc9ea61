"""The AMS v1 routes on the wire: paths, JSON shapes and number types, authentication by
`x-api-key` or `?key=`, and AMS's error bodies for bad input, which changes nothing."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from domains.common.identity import PLATFORM
from domains.common.time import utcnow
from domains.identity.service import tokens
from domains.messaging import notify
from domains.messaging import service as messaging
from domains.messaging.models import MsgSubscription
from tests.conftest import AppFactory
from tests.identity.helpers import snapshot

P = "/v1/projects/OPS"


@dataclass
class Wire:
    client: TestClient
    keys: dict[str, str]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        who: str = "admin",
        raw: bytes | None = None,
    ) -> tuple[int, Any, str]:
        content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        response = self.client.request(
            method, path, content=content, headers={"x-api-key": self.keys[who]}
        )
        parsed = json.loads(response.content) if response.content else None
        return response.status_code, parsed, response.headers.get("content-type", "")


@pytest.fixture
def fast_executor() -> bool:
    """The AMS routes run no GraphQL: a second executor (tests/conftest.py) only repeats them."""
    return True


@pytest.fixture
def wire(make_client: AppFactory, session: Session) -> Wire:
    messaging.create_project(session, PLATFORM, name="OPS", description="operations")
    keys = {}
    for who, roles in (("admin", ["project_admin"]), ("pub", ["publisher"]), ("con", ["consumer"])):
        messaging.add_member(session, PLATFORM, project="OPS", subject=f"{who}@egi.eu", roles=roles)
        _, keys[who] = tokens.create_api_token(
            session, PLATFORM, name="t", user_subject=f"{who}@egi.eu"
        )
    session.commit()
    return Wire(make_client(max_message_bytes=64).client, keys)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def error(body: Any) -> tuple[int, str, str]:
    e = body["error"]
    return e["code"], e["status"], e["message"]


def test_round_trip_shapes(wire: Wire) -> None:
    code, topic, ctype = wire.call("PUT", f"{P}/topics/t")
    assert code == 200
    assert ctype.startswith("application/json")
    assert topic["name"] == "/projects/OPS/topics/t"
    assert topic["created_on"].endswith("Z")
    code, sub, _ = wire.call(
        "PUT", f"{P}/subscriptions/s", {"topic": "projects/OPS/topics/t", "ackDeadlineSeconds": 30}
    )
    assert code == 200
    assert sub["name"] == "/projects/OPS/subscriptions/s"
    assert sub["topic"] == "/projects/OPS/topics/t"
    assert sub["ackDeadlineSeconds"] == 30
    assert sub["pushConfig"]["pushEndpoint"] == ""
    assert "createdOn" in sub

    code, published, _ = wire.call(
        "POST",
        f"{P}/topics/t:publish",
        {
            "messages": [
                {"attributes": {"b": "2", "a": "1"}, "data": b64("one")},
                {"data": b64("two")},
            ]
        },
    )
    assert code == 200
    ids = published["messageIds"]
    assert all(isinstance(i, str) for i in ids)

    code, pulled, _ = wire.call(
        "POST", f"{P}/subscriptions/s:pull", {"maxMessages": "5", "returnImmediately": "true"}
    )
    received = pulled["receivedMessages"]
    assert [base64.b64decode(r["message"]["data"]) for r in received] == [b"one", b"two"]
    first = received[0]
    assert first["ackId"] == f"projects/OPS/subscriptions/s:{ids[0]}"
    assert set(first["message"]) == {"messageId", "attributes", "data", "publishTime"}
    assert list(first["message"]["attributes"]) == ["a", "b"]  # sorted
    assert set(received[1]["message"]) == {"messageId", "data", "publishTime"}  # none: omitted
    assert first["message"]["publishTime"].endswith("Z")

    code, acked, _ = wire.call(
        "POST", f"{P}/subscriptions/s:acknowledge", {"ackIds": [received[1]["ackId"]]}
    )
    assert (code, acked) == (200, {})
    code, offsets, _ = wire.call("GET", f"{P}/subscriptions/s:offsets")
    assert offsets == {"max": int(ids[1]) + 1, "min": int(ids[0]), "current": int(ids[1]) + 1}
    # modify calls answer 200 with an empty body
    code, body, _ = wire.call(
        "POST", f"{P}/subscriptions/s:modifyAckDeadline", {"ackDeadlineSeconds": 60}
    )
    assert (code, body) == (200, None)
    code, listed, _ = wire.call("GET", f"{P}/subscriptions?pageSize=1")
    assert listed["totalSize"] == 1
    assert listed["subscriptions"][0]["ackDeadlineSeconds"] == 60
    code, names, _ = wire.call("GET", f"{P}/topics/t/subscriptions")
    assert names == {"subscriptions": ["/projects/OPS/subscriptions/s"]}


def test_key_in_the_query_string_and_status(wire: Wire) -> None:
    key = wire.keys["admin"]
    assert wire.client.put(f"{P}/topics/q?key={key}").status_code == 200
    assert wire.client.get(f"{P}/topics/q?key={key}").json()["name"] == "/projects/OPS/topics/q"
    assert wire.client.get("/v1/status").json() == {"status": "ok"}
    missing = wire.client.get(f"{P}/topics/q")
    assert missing.status_code == 401
    assert error(missing.json()) == (401, "UNAUTHORIZED", "Unauthorized")
    profile = wire.client.get("/v1/users/profile", headers={"x-api-key": wire.keys["pub"]}).json()
    assert profile["name"] == "pub@egi.eu"
    assert profile["projects"][0]["roles"] == ["publisher"]


@pytest.fixture
def topic_and_sub(wire: Wire) -> None:
    wire.call("PUT", f"{P}/topics/t")
    wire.call("PUT", f"{P}/subscriptions/s", {"topic": "projects/OPS/topics/t"})


@pytest.mark.usefixtures("topic_and_sub")
@pytest.mark.parametrize(
    ("path", "raw", "expected"),
    [
        (
            f"{P}/topics/t:publish",
            b"{not json",
            (400, "INVALID_ARGUMENT", "Invalid Message Arguments"),
        ),
        (
            f"{P}/topics/t:publish",
            b'{"messages": "x"}',
            (400, "INVALID_ARGUMENT", "Invalid Message Arguments"),
        ),
        (
            f"{P}/topics/t:publish",
            json.dumps({"messages": [{"data": b64("ok")}, {"data": "not base64!"}]}).encode(),
            (400, "INVALID_ARGUMENT", None),
        ),
        (
            f"{P}/topics/t:publish",
            json.dumps({"messages": [{"data": b64("x" * 100)}]}).encode(),
            (413, "INVALID_ARGUMENT", "Message size is too large"),
        ),
        (
            "/v1/projects/NOPE/topics/t:publish",
            json.dumps({"messages": [{"data": b64("x")}]}).encode(),
            (404, "NOT_FOUND", None),
        ),
        (
            f"{P}/subscriptions/s:acknowledge",
            b'{"ackIds": ["projects/OPS/subscriptions/s:zz"]}',
            (400, "INVALID_ARGUMENT", "Invalid ack id"),
        ),
        (
            f"{P}/subscriptions/s:modifyAckDeadline",
            b'{"ackDeadlineSeconds": 601}',
            (400, "INVALID_ARGUMENT", None),
        ),
        (f"{P}/subscriptions/s:pull", b"[]", (400, "BAD_REQUEST", "Invalid Request Body")),
        (f"{P}/subscriptions/nope:pull", b"{}", (404, "NOT_FOUND", "Subscription doesn't exist")),
    ],
)
def test_bad_input_gets_the_ams_error_and_changes_nothing(
    wire: Wire, session: Session, path: str, raw: bytes, expected: tuple[int, str, str | None]
) -> None:
    before = snapshot(session)
    code, body, _ = wire.call("POST", path, raw=raw)
    got = error(body)
    assert code == expected[0]
    assert got[:2] == expected[:2]
    if expected[2] is not None:
        assert got[2] == expected[2]
    assert snapshot(session) == before


@pytest.mark.usefixtures("topic_and_sub")
def test_late_ack_is_a_timeout_and_changes_nothing(wire: Wire, session: Session) -> None:
    wire.call("POST", f"{P}/topics/t:publish", {"messages": [{"data": b64("late")}]})
    _, pulled, _ = wire.call("POST", f"{P}/subscriptions/s:pull", {"maxMessages": "1"})
    ack_id = pulled["receivedMessages"][0]["ackId"]
    # the pull happened a minute ago, well past the 10 s deadline
    session.execute(update(MsgSubscription).values(pending_ack_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    before = snapshot(session)
    code, body, _ = wire.call("POST", f"{P}/subscriptions/s:acknowledge", {"ackIds": [ack_id]})
    assert code == 408
    assert error(body) == (408, "TIMEOUT", "ack timeout")
    assert snapshot(session) == before
    _, again, _ = wire.call("POST", f"{P}/subscriptions/s:pull", {"maxMessages": "1"})
    assert again["receivedMessages"][0]["ackId"] == ack_id  # still there


@pytest.mark.usefixtures("topic_and_sub")
def test_roles_and_acls_on_the_wire(wire: Wire) -> None:
    code, body, _ = wire.call(
        "POST", f"{P}/topics/t:publish", {"messages": [{"data": b64("x")}]}, who="pub"
    )
    assert (code, error(body)[1]) == (403, "FORBIDDEN")
    code, body, _ = wire.call("PUT", f"{P}/topics/other", who="pub")
    assert code == 403
    assert (
        wire.call("POST", f"{P}/topics/t:modifyAcl", {"authorized_users": ["pub@egi.eu"]})[0] == 200
    )
    code, acl, _ = wire.call("GET", f"{P}/topics/t:acl")
    assert acl == {"authorized_users": ["pub@egi.eu"]}
    code, _, _ = wire.call(
        "POST", f"{P}/topics/t:publish", {"messages": [{"data": b64("x")}]}, who="pub"
    )
    assert code == 200


@pytest.mark.usefixtures("topic_and_sub")
def test_existing_topic_and_unknown_action(wire: Wire) -> None:
    code, body, _ = wire.call("PUT", f"{P}/topics/t")
    assert (code, error(body)[1:]) == (409, ("ALREADY_EXISTS", "Topic already exists"))
    code, body, _ = wire.call("POST", f"{P}/topics/t:explode")
    assert code == 404
    code, body, _ = wire.call("GET", f"{P}/topics?pageSize=-1")
    assert code == 400


def test_returning_immediately_false_waits_briefly_then_answers_empty(
    make_client: AppFactory, wire: Wire
) -> None:
    wire.call("PUT", f"{P}/topics/w")
    wire.call("PUT", f"{P}/subscriptions/w", {"topic": "projects/OPS/topics/w"})
    code, body, _ = wire.call(
        "POST", f"{P}/subscriptions/w:pull", {"maxMessages": "3", "returnImmediately": "false"}
    )
    assert (code, body) == (200, {"receivedMessages": []})


def test_a_waiting_pull_wakes_up_when_a_message_is_published(
    make_client: AppFactory, session: Session
) -> None:
    """returnImmediately "false": the pull waits outside any transaction, and a publish that
    commits meanwhile wakes it."""
    import threading
    import time

    messaging.create_project(session, PLATFORM, name="OPS")
    messaging.add_member(
        session, PLATFORM, project="OPS", subject="a@egi.eu", roles=["project_admin"]
    )
    _, key = tokens.create_api_token(session, PLATFORM, name="t", user_subject="a@egi.eu")
    session.commit()
    wire = Wire(make_client(pull_wait_ms=20_000).client, {"admin": key})
    wire.call("PUT", f"{P}/topics/w")
    wire.call("PUT", f"{P}/subscriptions/w", {"topic": "projects/OPS/topics/w"})
    results: list[Any] = []
    puller = threading.Thread(
        target=lambda: results.append(
            wire.call("POST", f"{P}/subscriptions/w:pull", {"returnImmediately": "false"})
        )
    )
    started = time.monotonic()
    puller.start()
    # until the pull has found nothing and waits (its transactions are over: the test's
    # connection is free for the publish)
    deadline = time.monotonic() + 10
    while not any(notify._waiters.values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert puller.is_alive()
    wire.call("POST", f"{P}/topics/w:publish", {"messages": [{"data": b64("wake")}]})
    puller.join(timeout=15)
    assert not puller.is_alive()
    assert time.monotonic() - started < 15  # woken, not timed out (the wait was 20 s)
    code, body, _ = results[0]
    assert code == 200
    assert [base64.b64decode(m["message"]["data"]) for m in body["receivedMessages"]] == [b"wake"]


def test_verify_push_endpoint_over_the_wire(
    make_client: AppFactory, session: Session, wire: Wire
) -> None:
    """The verification GET runs between the route's two transactions; only a project
    admin makes the server fetch anything; a wrong hash is AMS's 401 and changes nothing."""
    from tests.messaging.receiver import Receiver

    receiver = Receiver()
    try:
        wire = Wire(make_client(allow_insecure_push=True).client, wire.keys)
        wire.call("PUT", f"{P}/topics/t")
        code, sub, _ = wire.call(
            "PUT",
            f"{P}/subscriptions/s",
            {
                "topic": "projects/OPS/topics/t",
                "pushConfig": {"pushEndpoint": f"{receiver.url}/in"},
            },
        )
        assert code == 200
        assert sub["pushConfig"]["verified"] is False

        code, body, _ = wire.call("POST", f"{P}/subscriptions/s:verifyPushEndpoint", who="con")
        assert code == 403
        assert receiver.gets() == []  # refused before any request went out

        receiver.hash = "not the hash"
        before = snapshot(session)
        code, body, _ = wire.call("POST", f"{P}/subscriptions/s:verifyPushEndpoint")
        assert code == 401
        assert body["error"]["status"] == "UNAUTHORIZED"
        assert body["error"]["message"].startswith("Endpoint verification failed")
        assert snapshot(session) == before

        receiver.hash = sub["pushConfig"]["verificationHash"]
        code, verified, _ = wire.call("POST", f"{P}/subscriptions/s:verifyPushEndpoint")
        assert code == 200
        assert verified["pushConfig"]["verified"] is True
        assert [g.path for g in receiver.gets()] == ["/ams_verification_hash"] * 2
    finally:
        receiver.close()


def test_member_bodies(wire: Wire, session: Session) -> None:
    code, user, _ = wire.call(
        "POST",
        f"{P}/members/new@egi.eu",
        {"projects": [{"project": "OPS", "roles": ["publisher"]}]},
    )
    assert code == 200
    assert user["projects"][0]["roles"] == ["publisher"]
    code, user, _ = wire.call("POST", f"{P}/members/new@egi.eu:add", {"roles": ["consumer"]})
    assert user["projects"][0]["roles"] == ["consumer"]  # replaced, as AMS's :add does
    _, members, _ = wire.call("GET", f"{P}/members")
    assert "new@egi.eu" in [m["name"] for m in members["users"]]
    before = snapshot(session)
    for body in ({"roles": "consumer"}, {"projects": "x"}, {"roles": ["king"]}):
        code, refused, _ = wire.call("POST", f"{P}/members/other@egi.eu:add", body)
        assert code == 400, body
        assert refused["error"]["status"] == "INVALID_ARGUMENT"
    assert snapshot(session) == before
    assert wire.call("POST", f"{P}/members/new@egi.eu:remove")[0] == 200
    assert wire.call("GET", f"{P}/members/new@egi.eu")[0] == 404


# Input that used to be a 500 (issue 10): AMS's 400 naming the problem, nothing written.
@pytest.mark.parametrize("size", [str(10**30), str(2**31), "-1", "abc", "1e3"])
@pytest.mark.parametrize("what", ["topics", "subscriptions"])
def test_page_size_outside_32_bits_or_not_a_number(wire: Wire, what: str, size: str) -> None:
    code, body, _ = wire.call("GET", f"{P}/{what}?pageSize={size}")
    assert (code, body["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert body["error"]["message"] == "Invalid page size: an integer from 0 to 2147483647"
    assert wire.call("GET", f"{P}/{what}?pageSize={2**31 - 1}")[0] == 200


@pytest.mark.parametrize("key", [2**31, 2**63, 10**30])
def test_page_token_beyond_any_key(wire: Wire, key: int) -> None:
    token = base64.b64encode(str(key).encode()).decode()
    code, body, _ = wire.call("GET", f"{P}/topics?pageToken={token}")
    assert (code, body["error"]["message"]) == (400, "Invalid page token")


def test_a_body_that_is_not_utf8_or_holds_a_lone_surrogate(wire: Wire, session: Session) -> None:
    assert wire.call("PUT", f"{P}/topics/t")[0] == 200
    before = snapshot(session)
    code, body, _ = wire.call("POST", f"{P}/topics/t:publish", raw=b'{"messages": "\xff"}')
    assert code == 400
    assert body["error"]["message"] == "Invalid Message Arguments: the body is not valid UTF-8"
    code, body, _ = wire.call(
        "POST", f"{P}/topics/t:publish", raw=rb'{"messages": [{"attributes": {"a": "\ud800"}}]}'
    )
    assert (code, body["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert body["error"]["message"] == (
        "Invalid Message Arguments: messages[0].attributes.a: a lone surrogate is not a "
        "Unicode character"
    )
    code, body, _ = wire.call("PUT", f"{P}/subscriptions/s", raw=rb'{"topic": "t\udc00"}')
    assert (code, body["error"]["status"]) == (400, "BAD_REQUEST")
    assert "topic: a lone surrogate" in body["error"]["message"]
    assert snapshot(session) == before


@pytest.mark.parametrize(
    ("method", "path", "parameter"),
    [
        ("GET", f"{P}/topics/t%00", "topic"),
        ("PUT", f"{P}/topics/t%00", "topic"),
        ("POST", f"{P}/subscriptions/s%00:pull", "subscription"),
        ("GET", "/v1/projects/%00/topics", "project"),
        ("GET", f"{P}/topics?pageToken=%00", "pageToken"),
    ],
)
def test_nul_in_the_url_is_400_naming_the_parameter(
    wire: Wire, session: Session, method: str, path: str, parameter: str
) -> None:
    """`%00` decodes to NUL, which PostgreSQL cannot store nor compare."""
    assert wire.call("PUT", f"{P}/topics/t")[0] == 200
    before = snapshot(session)
    code, body, _ = wire.call(method, path)
    assert (code, body["error"]["status"]) == (400, "INVALID_ARGUMENT"), body
    assert body["error"]["message"].startswith(f"{parameter}: text holds no U+0000")
    assert snapshot(session) == before


def test_nul_in_a_body_is_400(wire: Wire, session: Session) -> None:
    assert wire.call("PUT", f"{P}/topics/t")[0] == 200
    before = snapshot(session)
    code, body, _ = wire.call(
        "POST", f"{P}/topics/t:publish", raw=rb'{"messages": [{"attributes": {"a": "\u0000"}}]}'
    )
    assert (code, body["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert body["error"]["message"] == (
        "Invalid Message Arguments: messages[0].attributes.a: U+0000 (NUL) cannot be stored"
    )
    assert snapshot(session) == before


@pytest.mark.parametrize(
    "push",
    [{"maxMessages": 10**30}, {"maxMessages": 2**31}, {"retryPolicy": {"period": 10**30}}],
)
def test_push_numbers_beyond_32_bits(wire: Wire, push: dict[str, Any]) -> None:
    assert wire.call("PUT", f"{P}/topics/t")[0] == 200
    config = {"pushEndpoint": "https://push.example.org/x", **push}
    code, body, _ = wire.call("PUT", f"{P}/subscriptions/s", {"topic": "t", "pushConfig": config})
    assert (code, body["error"]["status"]) == (400, "INVALID_ARGUMENT")


def test_page_tokens_name_the_next_pages_first_item_across_gaps(
    wire: Wire, session: Session
) -> None:
    """The service pages by keyset; the route still gives AMS's token: the base64 id of the
    next page's first topic, also when a deleted topic left a gap in the ids."""
    for name in ("a", "b", "c", "d"):
        assert wire.call("PUT", f"{P}/topics/{name}")[0] == 200
    assert wire.call("DELETE", f"{P}/topics/b")[0] == 200
    ids = {t.name: t.id for t in messaging.list_topics(session, PLATFORM, project="OPS").items}
    names: list[str] = []
    tokens_seen: list[str] = []
    token = ""
    while True:
        query = "pageSize=1" + (f"&pageToken={token}" if token else "")
        code, page, _ = wire.call("GET", f"{P}/topics?{query}")
        assert (code, page["totalSize"]) == (200, 3)
        names += [t["name"].rsplit("/", 1)[1] for t in page["topics"]]
        token = page["nextPageToken"]
        if not token:
            break
        tokens_seen.append(token)
    assert names == ["a", "c", "d"]
    assert tokens_seen == [b64(str(ids["c"])), b64(str(ids["d"]))]
    code, everything, _ = wire.call("GET", f"{P}/topics")
    assert (len(everything["topics"]), everything["nextPageToken"]) == (3, "")


def test_a_bad_page_token_comes_after_the_callers_rights(wire: Wire) -> None:
    """As when the service decoded tokens: who may not list topics hears 403 first."""
    code, body, _ = wire.call("GET", f"{P}/topics?pageToken=%40%40%40", who="con")
    assert (code, error(body)[1]) == (403, "FORBIDDEN")
    code, body, _ = wire.call("GET", f"{P}/topics?pageToken=%40%40%40")
    assert (code, body["error"]["message"]) == (400, "Invalid page token")
