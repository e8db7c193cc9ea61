"""Counters of topics, subscriptions, projects and users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domains.common.authz import Caller, authorize
from domains.common.identity import Principal
from domains.common.models import pk
from domains.messaging.rows import ProjectMetrics, SubscriptionMetrics, TopicMetrics, Usage
from domains.messaging.rules import Action
from domains.messaging.service._common import (
    T_PROJECT,
    T_SUB,
    T_TOPIC,
    T_USAGE,
    T_USER,
    consumer_sub,
    project_for,
    topic_row,
)


def topic_metrics(
    session: Session, principal: Principal, *, project: str, topic: str
) -> TopicMetrics:
    proj = project_for(session, principal, project, Action.PUBLISH)
    row = topic_row(session, pk(proj), topic)
    authorize(session, principal, Action.PUBLISH, row)
    subs = session.execute(
        select(func.count()).select_from(T_SUB).where(T_SUB.c.topic_id == pk(row))
    ).scalar_one()
    return TopicMetrics(
        topic=f"/projects/{project}/topics/{topic}",
        subscriptions=int(subs),
        messages=row.message_count,
        bytes=row.bytes_in,
        published_at=row.published_at,
    )


def subscription_metrics(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> SubscriptionMetrics:
    _, sub = consumer_sub(session, principal, project, subscription, lock=False)
    return SubscriptionMetrics(
        subscription=f"/projects/{project}/subscriptions/{subscription}",
        messages=sub.message_count,
        bytes=sub.bytes_out,
        delivered=sub.delivered_count,
    )


def _usage(row: Any) -> Usage:
    return Usage(
        messages_in=int(row.messages_in or 0),
        bytes_in=int(row.bytes_in or 0),
        messages_out=int(row.messages_out or 0),
        bytes_out=int(row.bytes_out or 0),
    )


def project_metrics(session: Session, principal: Principal, *, project: str) -> ProjectMetrics:
    """Counts of topics and subscriptions; messages and bytes in and out, in all and per user."""
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    pid = pk(proj)
    topics = session.execute(
        select(func.count()).select_from(T_TOPIC).where(T_TOPIC.c.project_id == pid)
    ).scalar_one()
    subs = session.execute(
        select(func.count()).select_from(T_SUB).where(T_SUB.c.project_id == pid)
    ).scalar_one()
    per_user = {
        row.subject: _usage(row)
        for row in session.execute(
            select(T_USER.c.subject, T_USAGE)
            .join(T_USER, T_USER.c.id == T_USAGE.c.user_id)
            .where(T_USAGE.c.project_id == pid)
            .order_by(T_USER.c.subject)
        ).all()
    }
    total = Usage(
        messages_in=sum(u.messages_in for u in per_user.values()),
        bytes_in=sum(u.bytes_in for u in per_user.values()),
        messages_out=sum(u.messages_out for u in per_user.values()),
        bytes_out=sum(u.bytes_out for u in per_user.values()),
    )
    return ProjectMetrics(
        project=project, topics=int(topics), subscriptions=int(subs), usage=total, per_user=per_user
    )


def user_usage(
    session: Session, principal: Principal, *, subject: str | None = None
) -> dict[str, Usage]:
    """A user's counters per project name: one's own, or anyone's for platform admins."""
    authorize(session, principal, Caller.SIGNED_IN)
    subject = subject or principal.subject
    authorize(session, principal, Action.READ_USAGE, subject)
    rows = session.execute(
        select(T_PROJECT.c.name, T_USAGE)
        .join(T_USAGE, T_USAGE.c.project_id == T_PROJECT.c.id)
        .join(T_USER, T_USER.c.id == T_USAGE.c.user_id)
        .where(T_USER.c.subject == subject)
        .order_by(T_PROJECT.c.name)
    ).all()
    return {row.name: _usage(row) for row in rows}
