"""Bad input over GraphQL: BAD_USER_INPUT naming the field and the rule (an unknown project
included; NOT_FOUND for a topic or subscription that does not exist, CONFLICT for what does
not fit), and nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from domains.common.egress import EgressPolicy
from domains.common.time import utcnow
from domains.messaging import service as msg
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import AppFactory, Callers
from tests.messaging.conftest import ADMIN_ENTITLEMENT, Api, World, b64, written

P = "ARGO"
PUBLISH = "mutation($i: PublishInput!) { publish(input: $i) { messageIds } }"
ACK = "mutation($i: AcknowledgeInput!) { acknowledge(input: $i) { subscription { name } } }"
CREATE_SUB = (
    "mutation($i: CreateSubscriptionInput!) "
    "{ createSubscription(input: $i) { subscription { id } } }"
)


def _refused(
    api: Api, session: Session, who: str, document: str, variables: dict[str, Any]
) -> dict[str, Any]:
    client = api(who)
    before = written(session)
    body = client.post(document, variables)
    assert body["data"] is None, body
    assert written(session) == before
    error: dict[str, Any] = body["errors"][0]
    return error


# case, document, variables, field named, rule code
BAD_INPUT: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "invalid base64",
        PUBLISH,
        {"i": {"project": P, "topic": "T1", "messages": [{"data": b64("ok")}, {"data": "%%"}]}},
        "messages[1].data",
        "MESSAGE_DATA_NOT_BASE64",
    ),
    (
        "no messages",
        PUBLISH,
        {"i": {"project": P, "topic": "T1", "messages": []}},
        "messages",
        "MESSAGE_LIST_EMPTY",
    ),
    (
        "ack id of another subscription",
        ACK,
        {
            "i": {
                "project": P,
                "subscription": "S1",
                "ackIds": ["projects/ARGO/subscriptions/S2:0"],
            }
        },
        "ackIds[0]",
        "SUBSCRIPTION_ACK_ID_MALFORMED",
    ),
    (
        "malformed ack id",
        ACK,
        {"i": {"project": P, "subscription": "S1", "ackIds": ["nonsense"]}},
        "ackIds[0]",
        "SUBSCRIPTION_ACK_ID_MALFORMED",
    ),
    (
        "ack deadline over 600",
        CREATE_SUB,
        {"i": {"project": P, "name": "S9", "topic": "T1", "ackDeadlineSeconds": 601}},
        "ackDeadlineSeconds",
        "SUBSCRIPTION_ACK_DEADLINE_OUT_OF_RANGE",
    ),
    (
        "negative ack deadline",
        "mutation($i: ModifyAckDeadlineInput!) "
        "{ modifyAckDeadline(input: $i) { subscription { name } } }",
        {"i": {"project": P, "subscription": "S1", "ackDeadlineSeconds": -1}},
        "ackDeadlineSeconds",
        "SUBSCRIPTION_ACK_DEADLINE_OUT_OF_RANGE",
    ),
    (
        "bad subscription name",
        CREATE_SUB,
        {"i": {"project": P, "name": "no spaces", "topic": "T1"}},
        "subscription",
        "SUBSCRIPTION_NAME_INVALID",
    ),
    (
        "bad topic name",
        "mutation($i: CreateTopicInput!) { createTopic(input: $i) { topic { id } } }",
        {"i": {"project": P, "name": "a/b"}},
        "topic",
        "TOPIC_NAME_INVALID",
    ),
    (
        "plain http push endpoint",
        CREATE_SUB,
        {
            "i": {
                "project": P,
                "name": "S9",
                "topic": "T1",
                "pushConfig": {"pushEndpoint": "http://push.example.org/h"},
            }
        },
        "pushConfig.pushEndpoint",
        "SUBSCRIPTION_PUSH_ENDPOINT_NOT_HTTPS",
    ),
    (
        "unknown retry policy",
        "mutation($i: ModifyPushConfigInput!) "
        "{ modifyPushConfig(input: $i) { subscription { name } } }",
        {
            "i": {
                "project": P,
                "subscription": "S1",
                "pushConfig": {
                    "pushEndpoint": "https://push.example.org/h",
                    "retryPolicy": {"type": "sometimes"},
                },
            }
        },
        "pushConfig.retryPolicy.type",
        "SUBSCRIPTION_RETRY_POLICY_UNKNOWN",
    ),
    (
        "offset out of bounds",
        "mutation($i: ModifyOffsetInput!) { modifyOffset(input: $i) { subscription { name } } }",
        {"i": {"project": P, "subscription": "S1", "offset": 99}},
        "offset",
        "SUBSCRIPTION_OFFSET_OUT_OF_BOUNDS",
    ),
    (
        "unknown role",
        "mutation($i: AddProjectMemberInput!) "
        "{ addProjectMember(input: $i) { member { subject } } }",
        {"i": {"project": P, "subject": "new@egi.eu", "roles": []}},
        "roles",
        "MESSAGING_ROLES_INVALID",
    ),
]


@pytest.mark.parametrize(
    ("case", "document", "variables", "field", "rule"),
    BAD_INPUT,
    ids=[c[0] for c in BAD_INPUT],
)
def test_bad_input_names_the_field_and_the_rule_and_writes_nothing(
    api: Api,
    session: Session,
    case: str,
    document: str,
    variables: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    error = _refused(api, session, "owner", document, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert error["extensions"]["rule"] == rule


def test_a_late_acknowledgement_is_bad_input(api: Api, world: World, session: Session) -> None:
    world.publish("a")
    world.pull(now=utcnow() - timedelta(seconds=11))  # the default deadline is 10 s
    world.session.commit()
    error = _refused(
        api,
        session,
        "con_in",
        ACK,
        {"i": {"project": P, "subscription": "S1", "ackIds": ["projects/ARGO/subscriptions/S1:0"]}},
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "ackIds"
    assert error["extensions"]["rule"] == "SUBSCRIPTION_ACK_TOO_LATE"
    assert error["message"] == "ack timeout"


def test_an_ack_without_a_pull_is_a_conflict(api: Api, world: World, session: Session) -> None:
    world.publish("a")
    world.session.commit()
    error = _refused(
        api,
        session,
        "con_in",
        ACK,
        {"i": {"project": P, "subscription": "S1", "ackIds": ["projects/ARGO/subscriptions/S1:0"]}},
    )
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["message"] == "no ack pending"


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (PUBLISH, {"i": {"project": P, "topic": "NOPE", "messages": [{"data": b64("x")}]}}),
        (CREATE_SUB, {"i": {"project": P, "name": "S9", "topic": "NOPE"}}),
        (
            "mutation($i: PullInput!) { pull(input: $i) { receivedMessages { ackId } } }",
            {"i": {"project": P, "subscription": "NOPE"}},
        ),
        (
            "mutation($i: RemoveProjectMemberInput!) "
            "{ removeProjectMember(input: $i) { project { name } } }",
            {"i": {"project": P, "subject": "nobody@egi.eu"}},
        ),
    ],
    ids=["topic", "subscription's topic", "subscription", "member"],
)
def test_unknown_things_are_not_found_and_write_nothing(
    api: Api, session: Session, document: str, variables: dict[str, Any]
) -> None:
    error = _refused(api, session, "admin", document, variables)
    assert error["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (
            "mutation($i: CreateTopicInput!) { createTopic(input: $i) { topic { id } } }",
            {"i": {"project": "NOPE", "name": "T"}},
        ),
        (PUBLISH, {"i": {"project": "NOPE", "topic": "T1", "messages": [{"data": b64("x")}]}}),
        (
            "mutation($i: PullInput!) { pull(input: $i) { receivedMessages { ackId } } }",
            {"i": {"project": "NOPE", "subscription": "S1"}},
        ),
    ],
    ids=["create topic", "publish", "pull"],
)
def test_an_unknown_project_is_bad_input_and_writes_nothing(
    api: Api, session: Session, document: str, variables: dict[str, Any]
) -> None:
    error = _refused(api, session, "admin", document, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "project"
    assert error["extensions"]["rule"] == "MESSAGING_PROJECT_UNKNOWN"


def test_an_existing_topic_is_a_conflict(api: Api, session: Session) -> None:
    error = _refused(
        api,
        session,
        "owner",
        "mutation($i: CreateTopicInput!) { createTopic(input: $i) { topic { id } } }",
        {"i": {"project": P, "name": "T1"}},
    )
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["message"] == "Topic already exists"


def test_a_failed_verification_is_a_conflict(api: Api, world: World, session: Session) -> None:
    # nothing listens on port 9 of loopback: the endpoint cannot prove its ownership
    msg.modify_push_config(
        session,
        world.owner,
        project=P,
        subscription="S2",
        push_config={"pushEndpoint": "http://127.0.0.1:9/h"},
        egress=EgressPolicy(allow_loopback=True),
    )
    session.commit()
    error = _refused(
        api,
        session,
        "owner",
        "mutation($i: VerifyPushEndpointInput!) "
        "{ verifyPushEndpoint(input: $i) { subscription { name } } }",
        {"i": {"project": P, "subscription": "S2"}},
    )
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["message"].startswith("Endpoint verification failed.Could not reach")


@pytest.fixture
def small_api(world: World, make_client: AppFactory, oidc_issuer: OIDCIssuer) -> Api:
    """The world behind an app whose messages may weigh 16 bytes at most."""
    client = make_client(
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        admin_entitlements=(ADMIN_ENTITLEMENT,),
        max_message_bytes=16,
    )
    world.session.commit()
    return Api(world, Callers(client, oidc_issuer))


def test_the_message_size_limit_comes_from_the_settings(small_api: Api, session: Session) -> None:
    ok = {"data": b64("x" * 12), "attributes": [{"key": "k", "value": "vvv"}]}  # 16 bytes
    too_big = {"data": b64("x" * 12), "attributes": [{"key": "k", "value": "vvvv"}]}
    assert small_api("pub_in").data(
        PUBLISH, {"i": {"project": P, "topic": "T1", "messages": [ok]}}
    ) == {"publish": {"messageIds": ["0"]}}
    error = _refused(
        small_api,
        session,
        "pub_in",
        PUBLISH,
        {"i": {"project": P, "topic": "T1", "messages": [ok, too_big]}},
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "messages[1]"
    assert error["extensions"]["rule"] == "MESSAGE_TOO_LARGE"
    assert error["message"] == "Message size is too large"
