"""Who reads and who writes (domains/common/db.py): a GraphQL query, a feed and an AMS GET run in a
reader's transaction, a mutation and an AMS call that changes something in a writer's; the
bookkeeping a read owes (a token's last use, a user seen for the first time) is written in
a short writer's transaction of its own, never in the reader's.

Before: every request's transaction was the same kind (under `serve`, all took the write
lock), and the lookup of the caller wrote inside the request's own transaction."""

from __future__ import annotations

import base64
import json
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domains.common import db
from domains.common.errors import Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM
from domains.identity.models import ApiToken, User
from domains.identity.service import tokens
from domains.messaging import service as messaging
from gateway.auth.authenticator import Authenticator, Credentials
from gateway.config import Settings
from tests.conftest import AppFactory, GraphQLClient

ISSUER = "https://issuer.example"


@pytest.fixture
def intents(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The intent of every request's transaction, in order."""
    seen: list[bool] = []

    def unit_of_work(
        factory: sessionmaker[Session], *, write: bool = True
    ) -> AbstractContextManager[Session]:
        seen.append(write)
        return db.unit_of_work(factory, write=write)

    monkeypatch.setattr("gateway.view.unit_of_work", unit_of_work)
    monkeypatch.setattr("gateway.compat.ams.unit_of_work", unit_of_work)
    monkeypatch.setattr("gateway.feeds.unit_of_work", unit_of_work)
    return seen


@pytest.fixture
def key(session: Session) -> str:
    """An API token of a project admin, its use already recorded."""
    messaging.create_project(session, PLATFORM, name="OPS")
    messaging.add_member(
        session, PLATFORM, project="OPS", subject="admin@egi.eu", roles=["project_admin"]
    )
    token, secret = tokens.create_api_token(
        session, PLATFORM, name="t", user_subject="admin@egi.eu"
    )
    tokens.user_for_api_token(session, secret)
    messaging.create_topic(
        session, tokens.principal_from_api_token(session, secret), project="OPS", topic="t"
    )
    session.commit()
    return secret


TOPIC = '{ topic(project: "OPS", name: "t") { name } }'
PUBLISH = """mutation { publish(input: {project: "OPS", topic: "t",
  messages: [{data: "aGk="}]}) { messageIds } }"""


def test_queries_read_and_mutations_write(
    make_client: AppFactory, key: str, intents: list[bool]
) -> None:
    gql = GraphQLClient(make_client().client, headers={"x-api-key": key})
    gql.data(TOPIC)
    gql.data(PUBLISH)
    both = f"query Q {TOPIC}\nmutation M {PUBLISH[len('mutation ') :]}"
    for name in ("Q", "M"):
        answer = gql.client.post(
            "/graphql", json={"query": both, "operationName": name}, headers=gql.headers
        )
        assert answer.json()["data"], answer.text
    got = gql.client.get("/graphql", params={"query": TOPIC}, headers=gql.headers)
    assert got.json()["data"]["topic"]["name"] == "t"
    # not a document: refused before anything runs, in a reader
    assert gql.post("mutation {")["errors"]
    assert intents == [False, True, False, True, False, False]


def test_ams_gets_read_and_the_other_calls_write(
    make_client: AppFactory, key: str, intents: list[bool]
) -> None:
    client = make_client().client
    headers = {"x-api-key": key}
    assert client.get("/v1/projects/OPS/topics/t", headers=headers).status_code == 200
    body = json.dumps({"messages": [{"data": base64.b64encode(b"x").decode()}]})
    published = client.post("/v1/projects/OPS/topics/t:publish", content=body, headers=headers)
    assert published.status_code == 200
    assert client.get("/v1/projects/OPS/topics", headers=headers).status_code == 200
    assert client.put("/v1/projects/OPS/topics/u", headers=headers).status_code == 200
    assert intents == [False, True, False, True]


def test_feeds_read(make_client: AppFactory, intents: list[bool]) -> None:
    assert make_client().client.get("/feeds/downtimes.rss").status_code == 200
    assert intents == [False]


def _authenticator() -> Authenticator:
    return Authenticator(replace(Settings(), oidc_issuer=ISSUER), validator=None)


def _last_used(factory: sessionmaker[Session], secret: str) -> Any:
    with db.unit_of_work(factory, write=False) as session:
        token = session.execute(
            select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(secret))  # type: ignore[arg-type]
        ).scalar_one()
        return token.last_used_at


def test_a_tokens_first_use_is_recorded_outside_the_readers_transaction(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    _token, secret = tokens.create_api_token(
        session, PLATFORM, name="t", user_subject="reader@egi.eu"
    )
    session.commit()
    auth, credentials = _authenticator(), Credentials(api_key=secret)
    with db.unit_of_work(session_factory, write=False) as reader:
        assert auth.lookup(reader, credentials) is None  # its use is due to be recorded
    # written in the reader's own transaction, it would be refused
    with pytest.raises(db.ReadOnlySession), db.unit_of_work(session_factory, write=False) as r:
        auth.principal(r, credentials)
    with db.unit_of_work(session_factory, write=False) as reader:
        principal = auth.principal_for_reading(reader, session_factory, credentials)
        assert principal.subject == "reader@egi.eu"
        assert auth.lookup(reader, credentials) == principal  # the reader sees the write
    assert _last_used(session_factory, secret) is not None


def test_a_user_seen_for_the_first_time_is_created_outside_the_readers_transaction(
    session_factory: sessionmaker[Session],
) -> None:
    auth = _authenticator()
    credentials = Credentials(claims={"sub": "new@egi.eu", "name": "New", "email": "n@e.org"})
    with db.unit_of_work(session_factory, write=False) as reader:
        assert auth.lookup(reader, credentials) is None
        principal = auth.principal_for_reading(reader, session_factory, credentials)
        assert (principal.subject, principal.name) == ("new@egi.eu", "New")
        again = auth.lookup(reader, credentials)
        assert again is not None
        assert again.user_id == principal.user_id
    with db.unit_of_work(session_factory, write=False) as reader:
        user = reader.execute(
            select(User).where(User.subject == "new@egi.eu")  # type: ignore[arg-type]
        ).scalar_one()
        assert user.email == "n@e.org"
    # a changed name is owed a write again
    renamed = Credentials(claims={"sub": "new@egi.eu", "name": "Renamed"})
    with db.unit_of_work(session_factory, write=False) as reader:
        assert auth.lookup(reader, renamed) is None
        assert auth.principal_for_reading(reader, session_factory, renamed).name == "Renamed"


def test_anonymous_and_refused_callers_need_no_write(
    session_factory: sessionmaker[Session],
) -> None:
    auth = _authenticator()
    with db.unit_of_work(session_factory, write=False) as reader:
        assert auth.principal_for_reading(reader, session_factory, Credentials()) is ANONYMOUS
        with pytest.raises(Unauthenticated):
            auth.principal_for_reading(reader, session_factory, Credentials(api_key="0" * 40))
