"""The AMS v1 JSON shapes, built from the service's rows (argo-messaging's own field names,
casing and number types; see the reference notes §1.2 and the library traps §2.3)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from domains.messaging.rows import (
    MemberView,
    Offsets,
    ProfileView,
    ProjectMetrics,
    ProjectView,
    ReceivedMessage,
    SubscriptionMetrics,
    SubscriptionView,
    TopicMetrics,
    TopicView,
)
from domains.messaging.rules import PUSH_HTTP

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AmsPage(Generic[T]):
    """One AMS page: items, the token of the next page ("" when none) and the total."""

    items: list[T]
    next_page_token: str
    total_size: int


def rfc3339_seconds(moment: datetime) -> str:
    """`2020-11-19T00:00:00Z` (created_on / createdOn)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_nano(moment: datetime) -> str:
    """Go's `2006-01-02T15:04:05.999999999Z`: up to nine fractional digits, trailing zeros
    dropped, and no dot at all on a whole second."""
    moment = moment.astimezone(UTC)
    fraction = f"{moment.microsecond:06d}000".rstrip("0")
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


def project_json(project: ProjectView) -> dict[str, Any]:
    return {
        "name": project.name,
        "created_on": rfc3339_seconds(project.created_at),
        "modified_on": rfc3339_seconds(project.modified_at),
        "created_by": project.created_by or "",
        "description": project.description,
    }


def topic_json(topic: TopicView) -> dict[str, Any]:
    return {"name": topic.full_name, "created_on": rfc3339_seconds(topic.created_at)}


def topics_page_json(page: AmsPage[TopicView]) -> dict[str, Any]:
    return {
        "topics": [topic_json(t) for t in page.items],
        "nextPageToken": page.next_page_token,
        "totalSize": page.total_size,
    }


def push_config_json(sub: SubscriptionView) -> dict[str, Any]:
    """Always present, pushEndpoint "" for pull subscriptions (library trap §2.3.2)."""
    push = sub.push
    header = {
        k: v for k, v in (("type", push.auth_header_type), ("value", push.auth_header_value)) if v
    }
    retry: dict[str, Any] = {}
    if push.retry_type:
        retry["type"] = push.retry_type
    if push.retry_period_ms:
        retry["period"] = push.retry_period_ms
    return {
        "type": push.push_type,
        "pushEndpoint": push.push_endpoint,
        "maxMessages": push.push_max_messages,
        "authorizationHeader": header,
        "retryPolicy": retry,
        "verificationHash": push.verification_hash,
        "verified": push.verified,
        "mattermostUrl": push.mattermost_url,
        "mattermostUsername": push.mattermost_username,
        "mattermostChannel": push.mattermost_channel,
        "base64Decode": push.base64_decode,
    }


def subscription_json(sub: SubscriptionView) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": sub.full_name,
        "topic": sub.full_topic,
        "pushConfig": push_config_json(sub),
        "ackDeadlineSeconds": sub.ack_deadline,
        "createdOn": rfc3339_seconds(sub.created_at),
    }
    if sub.push.push_type == PUSH_HTTP and sub.push.verified:
        body["pushStatus"] = sub.push_status
    return body


def subscriptions_page_json(page: AmsPage[SubscriptionView]) -> dict[str, Any]:
    return {
        "subscriptions": [subscription_json(s) for s in page.items],
        "nextPageToken": page.next_page_token,
        "totalSize": page.total_size,
    }


def message_json(message: ReceivedMessage) -> dict[str, Any]:
    """Only messageId, attributes (sorted; left out when empty), data and publishTime: the
    library passes this object as keyword arguments (trap §2.3.3)."""
    body: dict[str, Any] = {"messageId": message.message_id}
    if message.attributes:
        body["attributes"] = dict(sorted(message.attributes.items()))
    body["data"] = base64.b64encode(message.data).decode("ascii")
    body["publishTime"] = rfc3339_nano(message.publish_time)
    return body


def received_message_json(message: ReceivedMessage) -> dict[str, Any]:
    return {"ackId": message.ack_id, "message": message_json(message)}


def pull_json(messages: list[ReceivedMessage]) -> dict[str, Any]:
    """`receivedMessages` is always there, [] when empty (trap §2.3.4)."""
    return {"receivedMessages": [received_message_json(m) for m in messages]}


def publish_json(offsets: list[int]) -> dict[str, Any]:
    return {"messageIds": [str(o) for o in offsets]}


def offsets_json(offsets: Offsets) -> dict[str, Any]:
    return {"max": offsets.max, "min": offsets.min, "current": offsets.current}


def acl_json(subjects: list[str]) -> dict[str, Any]:
    return {"authorized_users": subjects}


def user_json(profile: ProfileView) -> dict[str, Any]:
    """`/users/profile`: the AMS user object (the user's name is their subject)."""
    return {
        "name": profile.subject,
        "email": profile.email or "",
        "projects": [
            {"project": p.project, "roles": list(p.roles), "topics": [], "subscriptions": []}
            for p in profile.projects
        ],
        "service_roles": list(profile.service_roles),
    }


def member_json(project: str, member: MemberView) -> dict[str, Any]:
    return {
        "name": member.subject,
        "projects": [
            {"project": project, "roles": list(member.roles), "topics": [], "subscriptions": []}
        ],
    }


def _metric(
    name: str, resource_type: str, resource: str, value: int, at: datetime, description: str
) -> dict[str, Any]:
    return {
        "metric": name,
        "metric_type": "counter",
        "value_type": "int64",
        "resource_type": resource_type,
        "resource_name": resource,
        "timeseries": [{"timestamp": rfc3339_nano(at), "value": value}],
        "description": description,
    }


def topic_metrics_json(metrics: TopicMetrics, now: datetime) -> dict[str, Any]:
    t = metrics.topic
    return {
        "metrics": [
            _metric(
                "topic.number_of_subscriptions",
                "topic",
                t,
                metrics.subscriptions,
                now,
                "Counter that displays the number of subscriptions belonging to a topic",
            ),
            _metric(
                "topic.number_of_messages",
                "topic",
                t,
                metrics.messages,
                now,
                "Counter that displays the number of messages published to the topic",
            ),
            _metric(
                "topic.number_of_bytes",
                "topic",
                t,
                metrics.bytes,
                now,
                "Counter that displays the total size of data (in bytes) published",
            ),
        ]
    }


def subscription_metrics_json(metrics: SubscriptionMetrics, now: datetime) -> dict[str, Any]:
    s = metrics.subscription
    return {
        "metrics": [
            _metric(
                "subscription.number_of_messages",
                "subscription",
                s,
                metrics.messages,
                now,
                "Counter that displays the number of messages consumed",
            ),
            _metric(
                "subscription.number_of_bytes",
                "subscription",
                s,
                metrics.bytes,
                now,
                "Counter that displays the total size of data (in bytes) consumed",
            ),
        ]
    }


def project_metrics_json(metrics: ProjectMetrics, now: datetime) -> dict[str, Any]:
    p = metrics.project
    found = [
        _metric(
            "project.number_of_topics",
            "project",
            p,
            metrics.topics,
            now,
            "Counter that displays the number of topics belonging to the project",
        ),
        _metric(
            "project.number_of_subscriptions",
            "project",
            p,
            metrics.subscriptions,
            now,
            "Counter that displays the number of subscriptions belonging to the project",
        ),
        _metric(
            "project.number_of_messages",
            "project",
            p,
            metrics.usage.messages_in,
            now,
            "Counter that displays the number of messages published to the project",
        ),
        _metric(
            "project.number_of_bytes",
            "project",
            p,
            metrics.usage.bytes_in,
            now,
            "Counter that displays the total size of data (in bytes) published",
        ),
    ]
    for user, usage in sorted(metrics.per_user.items()):
        found.append(
            _metric(
                "project.user.number_of_messages",
                "project.user",
                f"{p}.{user}",
                usage.messages_in,
                now,
                "Messages the user published to the project",
            )
        )
    return {"metrics": found}
