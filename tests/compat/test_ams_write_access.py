"""Every AMS write route (each method and `:verb`): without a key it is 401, with the key of
a caller whose role or ACL entry does not reach it is 403, and neither writes anything."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from domains.common.identity import PLATFORM
from domains.identity.service import tokens
from domains.messaging import service as msg
from tests.conftest import AppFactory
from tests.messaging.conftest import World, b64, world  # noqa: F401  (the world fixture)
from tests.refusals import writes_nothing

P = "/v1/projects/ARGO"


class Write(NamedTuple):
    method: str
    path: str  # the request's path; the route template is `route`
    route: str
    body: dict[str, Any] | None
    wrong: str  # a caller of the world whose role or ACL entry does not reach


PROJECT = "/v1/projects/{project}"
MEMBER = "/v1/projects/{project}/members/{user}"
TOPIC = "/v1/projects/{project}/topics/{topic}"
SUB = "/v1/projects/{project}/subscriptions/{subscription}"
S1 = f"{P}/subscriptions/S1"

WRITES: list[Write] = [
    Write("POST", "/v1/projects/NEW", PROJECT, {}, "owner"),  # platform admins only
    Write("PUT", P, PROJECT, {"description": "x"}, "owner"),
    Write("DELETE", P, PROJECT, None, "owner"),
    Write("PUT", f"{P}/members/new@egi.eu", MEMBER, {"roles": ["consumer"]}, "pub_in"),
    Write("POST", f"{P}/members/new@egi.eu", MEMBER, {"roles": ["consumer"]}, "pub_in"),
    Write("POST", f"{P}/members/new@egi.eu:add", MEMBER, {"roles": ["consumer"]}, "con_in"),
    Write("POST", f"{P}/members/con.out@egi.eu:remove", MEMBER, None, "other_admin"),
    Write("PUT", f"{P}/topics/T9", TOPIC, None, "pub_in"),
    Write("DELETE", f"{P}/topics/T1", TOPIC, None, "pub_in"),
    Write("POST", f"{P}/topics/T1:publish", TOPIC, {"messages": [{"data": b64("x")}]}, "pub_out"),
    Write("POST", f"{P}/topics/T1:modifyAcl", TOPIC, {"authorized_users": []}, "pub_in"),
    Write("PUT", f"{P}/subscriptions/S9", SUB, {"topic": "projects/ARGO/topics/T1"}, "con_in"),
    Write("DELETE", S1, SUB, None, "con_in"),
    Write("POST", f"{S1}:pull", SUB, {"maxMessages": "5"}, "con_out"),
    Write(
        "POST",
        f"{S1}:acknowledge",
        SUB,
        {"ackIds": ["projects/ARGO/subscriptions/S1:0"]},
        "con_out",
    ),
    Write("POST", f"{S1}:modifyAckDeadline", SUB, {"ackDeadlineSeconds": 60}, "pub_in"),
    Write(
        "POST",
        f"{S1}:modifyPushConfig",
        SUB,
        {"pushConfig": {"pushEndpoint": "https://push.example.org/h"}},
        "con_in",
    ),
    Write("POST", f"{P}/subscriptions/S2:verifyPushEndpoint", SUB, None, "con_in"),
    Write("POST", f"{S1}:modifyOffset", SUB, {"offset": 0}, "con_out"),
    Write("POST", f"{S1}:modifyAcl", SUB, {"authorized_users": []}, "con_in"),
]
IDS = [f"{w.method} {w.path.removeprefix(P)}" for w in WRITES]


def verb(write: Write) -> str:
    last = write.path.rsplit("/", 1)[-1]
    return last.partition(":")[2]


class Keys(NamedTuple):
    client: TestClient
    keys: dict[str, str]


@pytest.fixture
def fast_executor() -> bool:
    """The AMS routes run no GraphQL: a second executor would only repeat them."""
    return True


@pytest.fixture
def keyed(world: World, make_client: AppFactory, session: Session) -> Keys:  # noqa: F811
    """An API key for each caller of the world; a pending ack on S1; a push config on S2."""
    keys = {}
    for who, principal in world.callers.items():
        if principal.subject is not None and who != "admin":
            _, keys[who] = tokens.create_api_token(
                session, PLATFORM, name="key", user_subject=principal.subject
            )
    world.publish("a")
    world.pull(1)
    msg.modify_push_config(
        session,
        PLATFORM,
        project="ARGO",
        subscription="S2",
        push_config={"pushEndpoint": "https://push.example.org/hook"},
    )
    session.commit()
    return Keys(make_client().client, keys)


def _call(keyed: Keys, write: Write, who: str | None) -> int:
    headers = {"x-api-key": keyed.keys[who]} if who else {}
    content = b"" if write.body is None else json.dumps(write.body).encode()
    response = keyed.client.request(write.method, write.path, content=content, headers=headers)
    return response.status_code


@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_without_a_key_is_401_and_writes_nothing(
    keyed: Keys, session: Session, write: Write
) -> None:
    with writes_nothing(session):
        assert _call(keyed, write, None) == 401


@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_the_wrong_role_is_403_and_writes_nothing(
    keyed: Keys, session: Session, write: Write
) -> None:
    with writes_nothing(session):
        assert _call(keyed, write, write.wrong) == 403
