"""Execution bounds (issue 10): the request time limit stops the database statement and the
executor and keeps nothing; the response size cap; JSON nested too deeply in variables and
bodies is refused before anything recurses over it. The same attacks against a real server
are in tests/security/test_bounds.py."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from domains.common.db import DEFAULT_BUSY_TIMEOUT_MS, make_engine, make_session_factory
from domains.common.deadline import Deadline, RequestTimeout
from domains.common.graphql import to_global_id
from gateway import deadlines, jsonlimits
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import AppFactory, Callers, GraphQLClient
from tests.identity.helpers import snapshot
from tests.websocket import receive_json

ADMIN = "urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu"
# a statement that would run for minutes (SQLite: two billion rows counted; PostgreSQL: a
# minute of sleep); the tests pass only if the deadline stops it
ENDLESS = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 2000000000) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(60)",
}


def _bounded(session_factory: sessionmaker[Session], engine: Engine, seconds: float) -> Session:
    deadlines.install(engine, session_factory)
    session = session_factory()
    deadlines.limit(session, Deadline(seconds))
    return session


# --- the database honours the deadline ---------------------------------------------------


def test_a_running_statement_is_stopped_at_the_deadline(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    session = _bounded(session_factory, engine, 0.3)
    with pytest.raises(RequestTimeout):
        session.execute(text(ENDLESS[engine.dialect.name]))
    session.rollback()
    session.close()
    # the bound went with the request: the same connection runs unbounded work again
    other = session_factory()
    assert other.execute(text("SELECT 1")).scalar_one() == 1
    other.close()


def test_a_long_run_of_cheap_statements_stops_too(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    session = _bounded(session_factory, engine, 0.3)
    ran = 0

    def run_cheap_statements() -> None:
        nonlocal ran
        while ran < 10**8:
            session.execute(text("SELECT 1"))
            ran += 1

    with pytest.raises(RequestTimeout):
        run_cheap_statements()
    assert ran > 0
    session.rollback()
    session.close()


def test_a_committed_request_leaves_no_bound_on_the_connection(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    """PostgreSQL's SET LOCAL outlives a released savepoint: a caller's transaction that
    goes on (as each test's does) must not inherit a request's statement_timeout."""
    session = _bounded(session_factory, engine, 0.2)
    assert session.execute(text("SELECT 1")).scalar_one() == 1
    session.commit()
    session.close()
    time.sleep(0.3)  # the request's deadline has passed
    later = session_factory()
    slow = "SELECT pg_sleep(0.3)" if engine.dialect.name == "postgresql" else "SELECT 1"
    later.execute(text(slow))
    later.close()


def test_a_wait_for_another_writer_ends_at_the_deadline(tmp_path: Path) -> None:
    """SQLite: waiting for the write lock runs no statement (the progress handler never
    fires); the busy timeout is cut to the time left instead of SQLite's 5 s."""
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        factory = make_session_factory(engine)
        holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
        try:
            session = _bounded(factory, engine, 0.3)
            with pytest.raises(RequestTimeout):
                session.execute(text("INSERT INTO t VALUES (1)"))
            session.rollback()
            session.close()
        finally:
            holder.rollback()
            holder.close()
        with factory() as session:  # the connection's own busy timeout is back
            busy = session.execute(text("PRAGMA busy_timeout")).scalar_one()
            assert busy == DEFAULT_BUSY_TIMEOUT_MS
    finally:
        engine.dispose()


# --- GraphQL over HTTP -------------------------------------------------------------------


def test_a_query_past_its_time_answers_timeout(make_client: AppFactory) -> None:
    client = make_client(request_timeout=1e-9)
    body = client.post("{ sites(first: 5) { nodes { shortName } } }")
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert "OPSGRAPH_REQUEST_TIMEOUT" in error["message"]


def test_a_mutation_stopped_by_the_timeout_keeps_nothing(
    make_client: AppFactory,
    oidc_issuer: OIDCIssuer,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The property is written, then the request runs out of time before it ends (the
    executor stops at the payload, with no SQL left to refuse): all of it rolls back."""
    from domains.topology.service import writes

    client = make_client(
        request_timeout=0.5,
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        admin_entitlements=(ADMIN,),
    )
    admin = Callers(client, oidc_issuer).as_user("bounds@egi.eu", entitlements=(ADMIN,))
    assert admin.data("{ viewer { subject } }")  # the user exists before the snapshot
    site_id = session.execute(text("SELECT id FROM site ORDER BY id LIMIT 1")).scalar_one()
    before = snapshot(session)
    original = writes.set_property

    def slow_set_property(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        session_of_request = args[0]
        session_of_request.flush()  # the row is in the database now
        time.sleep(0.6)

    monkeypatch.setattr(writes, "set_property", slow_set_property)
    body = admin.post(
        "mutation($i: SetPropertyInput!) { setProperty(input: $i) { property { key value } } }",
        {"i": {"entityId": to_global_id("Site", site_id), "key": "bounds", "value": "x"}},
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert snapshot(session) == before


def test_a_response_over_the_cap_is_refused_and_keeps_nothing(
    make_client: AppFactory, oidc_issuer: OIDCIssuer, session: Session
) -> None:
    small = make_client(max_response_bytes=2000)
    assert "errors" not in small.post("{ sites(first: 2) { nodes { shortName } } }")
    body = small.post("{ sites(first: 100) { nodes { shortName officialName ngi { name } } } }")
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "query"
    assert error["extensions"]["rule"] == "RESPONSE_TOO_LARGE"

    client = make_client(
        max_response_bytes=200,
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        admin_entitlements=(ADMIN,),
    )
    admin = Callers(client, oidc_issuer).as_user("bounds@egi.eu", entitlements=(ADMIN,))
    assert admin.data("{ viewer { subject } }")
    site_id = session.execute(text("SELECT id FROM site ORDER BY id LIMIT 1")).scalar_one()
    before = snapshot(session)
    body = admin.post(
        "mutation($i: SetPropertyInput!) { setProperty(input: $i) { property { key value } } }",
        {"i": {"entityId": to_global_id("Site", site_id), "key": "k", "value": "v" * 250}},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert snapshot(session) == before


def test_the_default_cap_lets_large_answers_through(gql: GraphQLClient) -> None:
    data = gql.data(
        "{ sites(first: 100, filter: {scopes: []}) { nodes { shortName officialName description "
        "services { hostName url endpoints { name url } } } } }"
    )
    assert data["sites"]["nodes"]


# --- JSON nested too deeply --------------------------------------------------------------

QUERY = "query($f: PropertyFilter) { sites(filter: {properties: $f}) { totalCount } }"


def _nested(depth: int) -> str:
    return '{"not":' * depth + '{"key":"a"}' + "}" * depth


@pytest.mark.parametrize("depth", [40, 5000])
def test_a_variable_nested_too_deeply_is_refused_naming_it(gql: GraphQLClient, depth: int) -> None:
    body = f'{{"query": {json.dumps(QUERY)}, "variables": {{"f": {_nested(depth)}}}}}'
    response = gql.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "$f"
    assert "32 levels" in error["message"]


def test_a_deep_variable_in_a_get_request_is_refused_naming_it(gql: GraphQLClient) -> None:
    deep = "[" * 5000 + "]" * 5000  # brackets: short enough for a URL once escaped
    response = gql.client.get("/graphql", params={"query": QUERY, "variables": f'{{"f": {deep}}}'})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["field"] == "$f"


def test_a_deep_body_elsewhere_is_refused(gql: GraphQLClient) -> None:
    body = f'{{"query": "{{ __typename }}", "extensions": {"[" * 5000}{"]" * 5000}}}'
    response = gql.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["field"] == "extensions"


def test_a_deep_websocket_message_closes_the_socket(gql: GraphQLClient) -> None:
    with gql.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_text('{"type": "connection_init", "payload": ' + "[" * 5000 + "]" * 5000 + "}")
        with pytest.raises(WebSocketDisconnect) as closed:
            receive_json(ws)
    assert closed.value.code == 4400


def test_a_deep_ams_body_is_a_400(gql: GraphQLClient) -> None:
    response = gql.client.post(
        "/v1/projects/P/topics/t:publish", content='{"messages": ' + "[" * 5000 + "]" * 5000 + "}"
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_nesting_is_found_without_recursion() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    assert jsonlimits.nests_deeper(deep, 32)
    assert not jsonlimits.nests_deeper([[[]]], 3)
    with pytest.raises(jsonlimits.TooDeep) as refused:
        jsonlimits.loads('{"a": [1, {"b": ' + "[" * 3000 + "]" * 3000 + "}]}", max_depth=8)
    assert refused.value.path[:3] == ("a", 0, "b")


def test_a_bound_left_on_a_connection_does_not_stand_for_the_next_sessions(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    """A session closed without commit or rollback leaves its bound on a connection that is
    not pooled (a caller's, as in the tests); the next session's own deadline applies."""
    stale = _bounded(session_factory, engine, 60)
    assert stale.execute(text("SELECT 1")).scalar_one() == 1
    stale.close()
    session = _bounded(session_factory, engine, 1e-9)
    with pytest.raises(RequestTimeout):
        session.execute(text("SELECT 1"))
    session.rollback()
    session.close()
