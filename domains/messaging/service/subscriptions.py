"""AMS subscriptions (a topic's consumers, not GraphQL's live streams) and their ACLs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.authz import authorize
from domains.common.egress import STRICT, EgressPolicy
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.messaging import rules
from domains.messaging.errors import AlreadyExists, AmsNotFound
from domains.messaging.models import MsgSubscription
from domains.messaging.rows import KeysetPage, SubscriptionView
from domains.messaging.rules import Action
from domains.messaging.service._common import (
    SUBSCRIPTION_ACL,
    T_SUB,
    T_SUB_ACL,
    acl_subjects,
    administers,
    apply_push,
    check_destination,
    keyset,
    project_for,
    push_changes,
    record_audit,
    record_event,
    replace_acl,
    sub_row,
    sub_view,
    topic_row,
)


def create_subscription(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    topic: str,
    ack_deadline: int | None = None,
    push_config: Mapping[str, Any] | None = None,
    egress: EgressPolicy = STRICT,
    now: datetime | None = None,
) -> SubscriptionView:
    """`topic` is "projects/P/topics/T" (leading slash optional), in this project. A new
    subscription starts at the topic's end: it sees only messages published after it."""
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    rules.check_name("Subscription", subscription)
    topic_project, topic_name = rules.parse_topic_ref(topic)
    deadline = rules.check_ack_deadline(ack_deadline)
    settings = rules.parse_push_config(push_config, allow_insecure=egress.allow_loopback)
    check_destination(settings, egress)
    if topic_project != project:
        raise AmsNotFound("Topic doesn't exist")
    target = topic_row(session, pk(proj), topic_name)
    taken = session.execute(
        select(T_SUB.c.id).where(T_SUB.c.project_id == pk(proj), T_SUB.c.name == subscription)
    ).first()
    if taken is not None:
        raise AlreadyExists("Subscription")
    now = now or utcnow()
    sub = MsgSubscription(
        project_id=pk(proj),
        name=subscription,
        topic_id=pk(target),
        topic_name=topic_name,
        ack_deadline=deadline,
        offset=target.next_offset,
        next_offset=target.next_offset,
        created_at=now,
    )
    apply_push(sub, settings, now)
    session.add(sub)
    session.flush()
    changes: dict[str, list[Any]] = {
        "topic": [None, topic_name],
        "ack_deadline": [None, deadline],
        **push_changes(rules.PULL, settings),
    }
    record_audit(
        session,
        principal,
        "msg_subscription.create",
        "msg_subscription",
        pk(sub),
        f"{project}/{subscription}",
        changes,
    )
    if settings.is_push:
        record_event(session, "messaging.push_changed", {"subscription_id": pk(sub)})
    return sub_view(project, sub)


def get_subscription(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> SubscriptionView:
    proj = project_for(session, principal, project, Action.CONSUME)
    sub = sub_row(session, pk(proj), subscription)
    authorize(session, principal, Action.CONSUME, sub)
    return sub_view(project, sub)


def list_subscriptions(
    session: Session,
    principal: Principal,
    *,
    project: str,
    first: int | None = None,
    after: int | None = None,
) -> KeysetPage[SubscriptionView]:
    """By id, after the id `after`, at most `first` (None: all). A consumer sees only the
    subscriptions whose ACL lists them."""
    proj = project_for(session, principal, project, Action.CONSUME)
    stmt = (
        select(MsgSubscription)
        .where(T_SUB.c.project_id == pk(proj))
        .execution_options(populate_existing=True)
    )
    if not administers(session, principal, proj):
        acl = select(T_SUB_ACL.c.subscription_id).where(T_SUB_ACL.c.user_id == principal.user_id)
        stmt = stmt.where(T_SUB.c.id.in_(acl))
    rows, more, before, total = keyset(session, stmt, T_SUB.c.id, first, after)
    return KeysetPage([sub_view(project, r[0]) for r in rows], more, before, total)


def delete_subscription(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> None:
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    sub = sub_row(session, pk(proj), subscription)
    sub_id, was_push = pk(sub), bool(sub.push_type)
    session.delete(sub)
    session.flush()
    record_audit(
        session,
        principal,
        "msg_subscription.delete",
        "msg_subscription",
        sub_id,
        f"{project}/{subscription}",
    )
    if was_push:
        record_event(session, "messaging.push_changed", {"subscription_id": sub_id})


def modify_ack_deadline(
    session: Session, principal: Principal, *, project: str, subscription: str, ack_deadline: int
) -> SubscriptionView:
    """0..600 (0 means the default, 10 s)."""
    proj = project_for(session, principal, project, Action.CONSUME)
    sub = sub_row(session, pk(proj), subscription)
    authorize(session, principal, Action.CONSUME, sub)
    deadline = rules.check_ack_deadline(ack_deadline)
    if deadline != sub.ack_deadline:
        before = sub.ack_deadline
        sub.ack_deadline = deadline
        session.flush()
        record_audit(
            session,
            principal,
            "msg_subscription.ack_deadline",
            "msg_subscription",
            pk(sub),
            f"{project}/{subscription}",
            {"ack_deadline": [before, deadline]},
        )
    return sub_view(project, sub)


def get_subscription_acl(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> list[str]:
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    sub = sub_row(session, pk(proj), subscription)
    return acl_subjects(session, SUBSCRIPTION_ACL, pk(sub))


def modify_subscription_acl(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    users: Sequence[str],
) -> list[str]:
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    sub = sub_row(session, pk(proj), subscription)
    return replace_acl(
        session, principal, proj, SUBSCRIPTION_ACL, pk(sub), f"{project}/{subscription}", users
    )
