"""Every messaging mutation over GraphQL: the anonymous caller gets UNAUTHENTICATED, a caller
without the right role (or outside the ACL) gets FORBIDDEN, and neither writes anything:
no row, no offset, no pending ack, no audit entry."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.messaging import service as msg
from tests.messaging.conftest import Api, b64, written

P = "ARGO"
S1 = {"project": P, "subscription": "S1"}

# name, document, variables, a caller whose role does not reach
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "createMessagingProject",
        "mutation($i: CreateMessagingProjectInput!) "
        "{ createMessagingProject(input: $i) { project { id } } }",
        {"i": {"name": "NEW"}},
        "owner",  # a project admin is not a platform admin
    ),
    (
        "deleteMessagingProject",
        "mutation($i: DeleteMessagingProjectInput!) { deleteMessagingProject(input: $i) { id } }",
        {"i": {"name": P}},
        "owner",
    ),
    (
        "addProjectMember",
        "mutation($i: AddProjectMemberInput!) "
        "{ addProjectMember(input: $i) { member { subject } } }",
        {"i": {"project": P, "subject": "new@egi.eu", "roles": ["CONSUMER"]}},
        "pub_in",
    ),
    (
        "removeProjectMember",
        "mutation($i: RemoveProjectMemberInput!) "
        "{ removeProjectMember(input: $i) { project { name } } }",
        {"i": {"project": P, "subject": "con.out@egi.eu"}},
        "other_admin",  # admin of another project
    ),
    (
        "createTopic",
        "mutation($i: CreateTopicInput!) { createTopic(input: $i) { topic { id } } }",
        {"i": {"project": P, "name": "T9"}},
        "pub_in",
    ),
    (
        "deleteTopic",
        "mutation($i: DeleteTopicInput!) { deleteTopic(input: $i) { id } }",
        {"i": {"project": P, "name": "T1"}},
        "pub_in",  # may read the topic, not delete it
    ),
    (
        "setTopicAcl",
        "mutation($i: SetTopicAclInput!) { setTopicAcl(input: $i) { topic { name } } }",
        {"i": {"project": P, "topic": "T1", "users": ["pub.out@egi.eu"]}},
        "pub_in",
    ),
    (
        "publish",
        "mutation($i: PublishInput!) { publish(input: $i) { messageIds } }",
        {"i": {"project": P, "topic": "T1", "messages": [{"data": b64("x")}]}},
        "pub_out",  # a publisher outside the topic's ACL
    ),
    (
        "createSubscription",
        "mutation($i: CreateSubscriptionInput!) "
        "{ createSubscription(input: $i) { subscription { id } } }",
        {"i": {"project": P, "name": "S9", "topic": "T1"}},
        "con_in",
    ),
    (
        "deleteSubscription",
        "mutation($i: DeleteSubscriptionInput!) { deleteSubscription(input: $i) { id } }",
        {"i": {"project": P, "name": "S1"}},
        "con_in",  # may read the subscription, not delete it
    ),
    (
        "setSubscriptionAcl",
        "mutation($i: SetSubscriptionAclInput!) "
        "{ setSubscriptionAcl(input: $i) { subscription { name } } }",
        {"i": {**S1, "users": ["con.out@egi.eu"]}},
        "con_in",
    ),
    (
        "pull",
        "mutation($i: PullInput!) { pull(input: $i) { receivedMessages { ackId } } }",
        {"i": {**S1, "maxMessages": 5}},
        "con_out",  # a consumer outside the subscription's ACL
    ),
    (
        "acknowledge",
        "mutation($i: AcknowledgeInput!) { acknowledge(input: $i) { subscription { name } } }",
        {"i": {**S1, "ackIds": ["projects/ARGO/subscriptions/S1:0"]}},
        "con_out",
    ),
    (
        "modifyAckDeadline",
        "mutation($i: ModifyAckDeadlineInput!) "
        "{ modifyAckDeadline(input: $i) { subscription { name } } }",
        {"i": {**S1, "ackDeadlineSeconds": 60}},
        "pub_in",
    ),
    (
        "modifyPushConfig",
        "mutation($i: ModifyPushConfigInput!) "
        "{ modifyPushConfig(input: $i) { subscription { name } } }",
        {"i": {**S1, "pushConfig": {"pushEndpoint": "https://push.example.org/h"}}},
        "con_in",
    ),
    (
        "verifyPushEndpoint",
        "mutation($i: VerifyPushEndpointInput!) "
        "{ verifyPushEndpoint(input: $i) { subscription { name } } }",
        {"i": {"project": P, "subscription": "S2"}},
        "con_in",
    ),
    (
        "modifyOffset",
        "mutation($i: ModifyOffsetInput!) { modifyOffset(input: $i) { subscription { name } } }",
        {"i": {**S1, "offset": 0}},
        "con_out",
    ),
]
IDS = [case[0] for case in CASES]
MUTATIONS = frozenset(IDS)


@pytest.fixture
def pending(api: Api) -> Api:
    """Messages published to T1 and pulled from S1 (an ack is pending); S2 is a push
    subscription waiting for verification."""
    w = api.world
    w.publish("a", "b")
    w.pull(2)
    msg.modify_push_config(
        w.session,
        PLATFORM,
        project=P,
        subscription="S2",
        push_config={"pushEndpoint": "https://push.example.org/hook"},
    )
    w.session.commit()
    return api


@pytest.mark.parametrize(("name", "document", "variables", "wrong"), CASES, ids=IDS)
def test_anonymous_is_unauthenticated_and_writes_nothing(
    pending: Api, session: Session, name: str, document: str, variables: dict[str, Any], wrong: str
) -> None:
    client = pending("anonymous")
    before = written(session)
    body = client.post(document, variables)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == [name]
    assert written(session) == before


@pytest.mark.parametrize(("name", "document", "variables", "wrong"), CASES, ids=IDS)
def test_the_wrong_role_is_forbidden_and_writes_nothing(
    pending: Api, session: Session, name: str, document: str, variables: dict[str, Any], wrong: str
) -> None:
    client = pending(wrong)
    before = written(session)
    body = client.post(document, variables)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == [name]
    assert written(session) == before


def test_a_stranger_cannot_read_a_project(api: Api) -> None:
    error = api("stranger").error('{ messagingProject(name: "ARGO") { name } }')
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert api("stranger").data("{ messagingProjects { nodes { name } } }") == {
        "messagingProjects": {"nodes": []}
    }


def test_members_and_metrics_are_for_project_admins(api: Api) -> None:
    for field in ("members { subject }", "metrics { topics }"):
        error = api("con_in").error(f'{{ messagingProject(name: "ARGO") {{ {field} }} }}')
        assert error["extensions"]["code"] == "FORBIDDEN"


def test_a_consumer_cannot_read_topics(api: Api) -> None:
    error = api("con_in").error('{ topic(project: "ARGO", name: "T1") { name } }')
    assert error["extensions"]["code"] == "FORBIDDEN"


def test_a_consumer_cannot_pull_from_a_push_subscription(pending: Api, session: Session) -> None:
    msg.modify_subscription_acl(
        session, PLATFORM, project=P, subscription="S2", users=["con.in@egi.eu"]
    )
    session.commit()
    consumer = pending("con_in")
    before = written(session)
    error = consumer.error(
        "mutation($i: PullInput!) { pull(input: $i) { receivedMessages { ackId } } }",
        {"i": {"project": P, "subscription": "S2"}},
    )
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert written(session) == before
