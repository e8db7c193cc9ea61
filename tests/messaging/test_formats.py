"""The AMS JSON shapes and error bodies the REST layer will send (reference §1.1-1.2, §2.3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from domains.common.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from domains.messaging import formats
from domains.messaging.errors import (
    AckRejected,
    AckTimeout,
    AlreadyExists,
    AmsConflict,
    AmsInvalid,
    AmsNotFound,
    MessageTooLarge,
    VerificationFailed,
    ams_error_body,
)
from domains.messaging.rows import ReceivedMessage, SubscriptionView, TopicView
from domains.messaging.rules import PULL, MessagingRule, PushSettings

WHEN = datetime(2016, 2, 24, 11, 55, 9, 786127, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (WHEN, "2016-02-24T11:55:09.786127Z"),
        (WHEN.replace(microsecond=0), "2016-02-24T11:55:09Z"),
        (WHEN.replace(microsecond=500_000), "2016-02-24T11:55:09.5Z"),
        (WHEN.replace(microsecond=1), "2016-02-24T11:55:09.000001Z"),
    ],
)
def test_publish_time_is_go_rfc3339_nano(moment: datetime, text: str) -> None:
    assert formats.rfc3339_nano(moment) == text


def test_topic_json_has_the_leading_slash_and_created_on() -> None:
    topic = TopicView(1, "ARGO", "T1", WHEN, 0, 0, 0, None)
    assert formats.topic_json(topic) == {
        "name": "/projects/ARGO/topics/T1",
        "created_on": "2016-02-24T11:55:09Z",
    }
    page = formats.topics_page_json(formats.AmsPage([topic], "", 1))
    assert page == {"topics": [formats.topic_json(topic)], "nextPageToken": "", "totalSize": 1}


def _sub(push: PushSettings = PULL, status: str = "") -> SubscriptionView:
    return SubscriptionView(
        id=1,
        project="ARGO",
        name="S1",
        topic_id=3,
        topic="T1",
        ack_deadline=10,
        offset=0,
        next_offset=0,
        pending_ack_at=None,
        created_at=WHEN,
        push=push,
        push_status=status,
        message_count=0,
        bytes_out=0,
    )


def test_a_pull_subscription_still_has_a_push_config_with_an_empty_endpoint() -> None:
    assert formats.subscription_json(_sub()) == {
        "name": "/projects/ARGO/subscriptions/S1",
        "topic": "/projects/ARGO/topics/T1",
        "pushConfig": {
            "type": "",
            "pushEndpoint": "",
            "maxMessages": 0,
            "authorizationHeader": {},
            "retryPolicy": {},
            "verificationHash": "",
            "verified": False,
            "mattermostUrl": "",
            "mattermostUsername": "",
            "mattermostChannel": "",
            "base64Decode": False,
        },
        "ackDeadlineSeconds": 10,
        "createdOn": "2016-02-24T11:55:09Z",
    }


def test_a_verified_push_subscription_shows_its_config_and_status() -> None:
    push = PushSettings(
        push_type="http_endpoint",
        push_endpoint="https://x.org/h",
        push_max_messages=1,
        auth_header_type="autogen",
        auth_header_value="abc",
        retry_type="linear",
        retry_period_ms=3000,
        verification_hash="h",
        verified=True,
    )
    body = formats.subscription_json(_sub(push, "Subscription is active"))
    assert body["pushConfig"]["authorizationHeader"] == {"type": "autogen", "value": "abc"}
    assert body["pushConfig"]["retryPolicy"] == {"type": "linear", "period": 3000}
    assert body["pushConfig"]["pushEndpoint"] == "https://x.org/h"
    assert body["pushStatus"] == "Subscription is active"


def test_received_messages_carry_only_the_four_library_fields() -> None:
    with_attrs = ReceivedMessage(
        "projects/ARGO/subscriptions/S1:12", 12, b"hello", {"z": "1", "a": "2"}, WHEN, 7
    )
    bare = ReceivedMessage("projects/ARGO/subscriptions/S1:13", 13, b"", {}, WHEN, 0)
    body = formats.pull_json([with_attrs, bare])
    first, second = body["receivedMessages"]
    assert first["ackId"] == "projects/ARGO/subscriptions/S1:12"
    assert first["message"] == {
        "messageId": "12",
        "attributes": {"a": "2", "z": "1"},
        "data": "aGVsbG8=",
        "publishTime": "2016-02-24T11:55:09.786127Z",
    }
    assert list(first["message"]["attributes"]) == ["a", "z"]  # sorted keys
    assert set(second["message"]) == {"messageId", "data", "publishTime"}
    assert formats.pull_json([]) == {"receivedMessages": []}
    assert formats.publish_json([12, 13]) == {"messageIds": ["12", "13"]}
    json.dumps(body)  # plain JSON


@pytest.mark.parametrize(
    ("error", "code", "status", "message"),
    [
        (Unauthenticated("x"), 401, "UNAUTHORIZED", "Unauthorized"),
        (Forbidden("x"), 403, "FORBIDDEN", "Access to this resource is forbidden"),
        (AmsNotFound("Topic doesn't exist"), 404, "NOT_FOUND", "Topic doesn't exist"),
        (NotFound("no user"), 404, "NOT_FOUND", "no user"),
        (AlreadyExists("Topic"), 409, "ALREADY_EXISTS", "Topic already exists"),
        (AmsConflict("Subscription's topic doesn't exist"), 409, "CONFLICT", None),
        (Conflict("x"), 409, "CONFLICT", "x"),
        (
            AmsInvalid("ackIds[0]", MessagingRule.SUBSCRIPTION_ACK_ID_MALFORMED, "Invalid ack id"),
            400,
            "INVALID_ARGUMENT",
            None,
        ),
        (Invalid("f", "rule"), 400, "INVALID_ARGUMENT", "f: rule"),
        (MessageTooLarge("messages[0]", 10), 413, "INVALID_ARGUMENT", "Message size is too large"),
        (AckTimeout(10), 408, "TIMEOUT", "ack timeout"),
        (AckRejected("wrong ack"), 500, "INTERNAL_SERVER_ERROR", "wrong ack"),
        (VerificationFailed("Wrong verification hash"), 401, "UNAUTHORIZED", None),
    ],
)
def test_error_bodies(error: Exception, code: int, status: str, message: str | None) -> None:
    from domains.common.errors import DomainError

    assert isinstance(error, DomainError)
    http, body = ams_error_body(error)
    assert http == code
    assert body["error"]["code"] == code
    assert body["error"]["status"] == status
    assert body["error"]["message"] == (message or error.message)


def test_graphql_codes_of_the_ams_errors() -> None:
    assert AlreadyExists("Topic").code == "CONFLICT"
    assert AckTimeout(10).code == "BAD_USER_INPUT"
    assert MessageTooLarge("messages[0]", 1).code == "BAD_USER_INPUT"
    assert AckRejected("wrong ack").code == "CONFLICT"
    assert VerificationFailed("x").code == "CONFLICT"
    assert AmsNotFound("Topic doesn't exist").code == "NOT_FOUND"
