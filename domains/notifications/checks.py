"""The channels a subscription asks for, checked when it is made or replaced: a webhook the
egress policy allows, a topic its owner may publish to, an e-mail address to send to.

Errors name the fields of the GraphQL input every subscription mutation shares
(`input.email`, `input.topic`, `input.webhookUrl`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from domains.common.egress import EgressPolicy, EgressRefused
from domains.common.errors import DomainError, Invalid
from domains.common.identity import Principal
from domains.common.models import pk
from domains.identity.models import User
from domains.messaging import service as messaging
from domains.notifications.models import WEBHOOK_URL_MAX
from domains.notifications.rules import NotificationRule


@dataclass(frozen=True, slots=True)
class TopicRef:
    project: str
    topic: str


def owner_principal(user: User) -> Principal:
    """The subscription's owner as a caller: a topic is checked and published to with the
    owner's rights, whoever (an administrator) made the subscription."""
    return Principal(
        subject=user.subject, email=user.email, user_id=pk(user), is_admin=user.is_admin
    )


def check_webhook(url: str | None, *, egress: EgressPolicy) -> str | None:
    """https only, as for push endpoints; plain http only to loopback, and only where the
    instance allows it (OPSGRAPH_ALLOW_INSECURE_PUSH: tests, development); and a
    destination the egress policy allows (checked again when the worker connects)."""
    if url is None:
        return None
    url = url.strip()
    if len(url) > WEBHOOK_URL_MAX:
        raise Invalid("input.webhookUrl", NotificationRule.NOTIFICATION_WEBHOOK_URL_TOO_LONG)
    parts = urlsplit(url)
    try:
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if egress.scheme_refusal(parts.scheme, host) is not None:
        raise Invalid("input.webhookUrl", NotificationRule.NOTIFICATION_WEBHOOK_URL_NOT_HTTPS)
    try:
        egress.check_url(url)
    except EgressRefused as exc:
        rule = NotificationRule.NOTIFICATION_WEBHOOK_DESTINATION_REFUSED
        raise Invalid(
            "input.webhookUrl", rule, f"input.webhookUrl: {rule.text}: {exc.reason}"
        ) from exc
    return url


def check_topic(session: Session, owner: Principal, topic: TopicRef) -> None:
    """The owner must be allowed to publish to the topic (what messaging.publish checks:
    project_admin, or publisher in the topic's ACL)."""
    try:
        messaging.get_topic(session, owner, project=topic.project, topic=topic.topic)
    except DomainError as exc:  # no such project or topic, or not allowed to publish
        raise Invalid(
            "input.topic",
            NotificationRule.NOTIFICATION_TOPIC_NOT_PUBLISHABLE,
            f"input.topic: {exc.message}",
        ) from exc


def channel_values(
    session: Session,
    owner: User,
    *,
    email: bool,
    topic: TopicRef | None,
    webhook_url: str | None,
    egress: EgressPolicy,
) -> dict[str, Any]:
    """The channel columns (models.SUBSCRIPTION_COLUMNS) of a valid choice: at least one
    channel, each usable by `owner`; Invalid naming the input field otherwise."""
    webhook_url = check_webhook(webhook_url, egress=egress)
    if not email and topic is None and webhook_url is None:
        raise Invalid("input.email", NotificationRule.NOTIFICATION_CHANNEL_REQUIRED)
    if email and not (owner.email or "").strip():
        raise Invalid("input.email", NotificationRule.NOTIFICATION_EMAIL_ADDRESS_MISSING)
    if topic is not None:
        check_topic(session, owner_principal(owner), topic)
    return {
        "email": email,
        "topic_project": topic.project if topic else None,
        "topic_name": topic.topic if topic else None,
        "webhook_url": webhook_url,
    }
