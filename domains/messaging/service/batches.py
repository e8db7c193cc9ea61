"""Reads by id and in batches, for GraphQL's node lookups and loaders, and the caller's
roles in a project."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from domains.common.authz import can
from domains.common.identity import Principal
from domains.common.models import pk
from domains.messaging.errors import AmsNotFound, UnknownProject
from domains.messaging.models import (
    PROJECT_ROLES,
    MsgProject,
    MsgSubscription,
    MsgTopic,
)
from domains.messaging.rows import Offsets, ProjectView, SubscriptionView, TopicView
from domains.messaging.rules import Action, member_roles
from domains.messaging.service._common import (
    SUBSCRIPTION_ACL,
    T_MESSAGE,
    T_PROJECT,
    T_SUB,
    T_SUB_ACL,
    T_TOPIC,
    T_TOPIC_ACL,
    T_USER,
    TOPIC_ACL,
    administers,
    project_for,
    sub_view,
    topic_view,
)
from domains.messaging.service.projects import get_project
from domains.messaging.service.subscriptions import get_subscription
from domains.messaging.service.topics import get_topic


def project_roles(session: Session, principal: Principal, *, project: str) -> frozenset[str]:
    """The caller's roles in a project they belong to; platform admins hold every role."""
    proj = project_for(session, principal, project, Action.READ_PROJECT)
    if principal.is_superuser:
        return frozenset(PROJECT_ROLES)
    return member_roles(session, principal, pk(proj))


def reads_push_secrets(session: Session, principal: Principal, *, project: str) -> bool:
    """Whether the caller sees the secrets of the project's push subscriptions (the
    authorization header's value, the verification hash): its administrators do
    (MANAGE_PROJECT), nobody else; decided here, so every reader of subscriptions applies
    the one rule. False for an unknown project."""
    row = session.execute(select(MsgProject).where(T_PROJECT.c.name == project)).scalar()
    return row is not None and can(session, principal, Action.MANAGE_PROJECT, row)


def _name_of(session: Session, table: Table, entity_id: int) -> tuple[str, str]:
    """(project name, name) of a topic or subscription by id; NotFound if there is none."""
    row = session.execute(
        select(T_PROJECT.c.name, table.c.name)
        .join(T_PROJECT, T_PROJECT.c.id == table.c.project_id)
        .where(table.c.id == entity_id)
    ).first()
    if row is None:
        raise AmsNotFound("Resource doesn't exist")
    return str(row[0]), str(row[1])


def get_project_by_id(session: Session, principal: Principal, *, project_id: int) -> ProjectView:
    name = session.execute(
        select(T_PROJECT.c.name).where(T_PROJECT.c.id == project_id)
    ).scalar_one_or_none()
    if name is None:
        raise UnknownProject()
    return get_project(session, principal, project=name)


def get_topic_by_id(session: Session, principal: Principal, *, topic_id: int) -> TopicView:
    project, name = _name_of(session, T_TOPIC, topic_id)
    return get_topic(session, principal, project=project, topic=name)


def get_subscription_by_id(
    session: Session, principal: Principal, *, subscription_id: int
) -> SubscriptionView:
    project, name = _name_of(session, T_SUB, subscription_id)
    return get_subscription(session, principal, project=project, subscription=name)


def topics_by_name(
    session: Session, principal: Principal, *, project: str, names: Sequence[str]
) -> dict[str, TopicView]:
    """Those of the named topics the caller may read (get_topic's rule), in one statement;
    the others are left out, not refused (a consumer may see a subscription's topic name
    without being allowed to read the topic)."""
    proj = project_for(session, principal, project, Action.READ_PROJECT)
    if not can(session, principal, Action.PUBLISH, proj):
        return {}
    stmt = (
        select(MsgTopic)
        .where(T_TOPIC.c.project_id == pk(proj), T_TOPIC.c.name.in_(list(names)))
        .execution_options(populate_existing=True)
    )
    if not administers(session, principal, proj):
        acl = select(T_TOPIC_ACL.c.topic_id).where(T_TOPIC_ACL.c.user_id == principal.user_id)
        stmt = stmt.where(T_TOPIC.c.id.in_(acl))
    return {row.name: topic_view(project, row) for row in session.execute(stmt).scalars()}


def acls(
    session: Session, principal: Principal, *, project: str, kind: str, ids: Sequence[int]
) -> dict[int, list[str]]:
    """The ACLs (subjects) of many topics (`kind` "topic") or subscriptions ("subscription")
    of the project, in one statement; project admins only, like get_*_acl."""
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    acl = TOPIC_ACL if kind == "topic" else SUBSCRIPTION_ACL
    table, key, owner = acl.table, acl.key, acl.owner
    rows = session.execute(
        select(table.c[key], T_USER.c.subject)
        .join(T_USER, T_USER.c.id == table.c.user_id)
        .join(owner, owner.c.id == table.c[key])
        .where(owner.c.project_id == pk(proj), table.c[key].in_(list(ids)))
        .order_by(T_USER.c.subject)
    ).all()
    found: dict[int, list[str]] = {i: [] for i in ids}
    for entity_id, subject in rows:
        found[int(entity_id)].append(subject)
    return found


def subscriptions_of_topics(
    session: Session, principal: Principal, *, project: str, topic_ids: Sequence[int]
) -> dict[int, list[SubscriptionView]]:
    """The subscriptions of many topics of the project (topic_subscriptions' rule: project
    admins only), by topic id, in one statement."""
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    rows = session.execute(
        select(MsgSubscription)
        .where(T_SUB.c.project_id == pk(proj), T_SUB.c.topic_id.in_(list(topic_ids)))
        .order_by(T_SUB.c.id)
        .execution_options(populate_existing=True)
    ).scalars()
    found: dict[int, list[SubscriptionView]] = {i: [] for i in topic_ids}
    for sub in rows:
        assert sub.topic_id is not None
        found[sub.topic_id].append(sub_view(project, sub))
    return found


def offsets_of(
    session: Session, principal: Principal, *, project: str, subscriptions: Sequence[str]
) -> dict[str, Offsets]:
    """`offsets` of many subscriptions of the project in three statements; those the caller
    may not read, or whose topic is gone, are left out."""
    proj = project_for(session, principal, project, Action.CONSUME)
    stmt = select(T_SUB.c.name, T_SUB.c.offset, T_SUB.c.topic_id).where(
        T_SUB.c.project_id == pk(proj),
        T_SUB.c.name.in_(list(subscriptions)),
        T_SUB.c.topic_id.is_not(None),
    )
    if not administers(session, principal, proj):
        acl = select(T_SUB_ACL.c.subscription_id).where(T_SUB_ACL.c.user_id == principal.user_id)
        stmt = stmt.where(T_SUB.c.id.in_(acl))
    subs = session.execute(stmt).all()
    topic_ids = sorted({int(s.topic_id) for s in subs})
    if not topic_ids:
        return {}
    high = dict(
        session.execute(
            select(T_TOPIC.c.id, T_TOPIC.c.next_offset).where(T_TOPIC.c.id.in_(topic_ids))
        ).all()
    )
    low = dict(
        session.execute(
            select(T_MESSAGE.c.topic_id, func.min(T_MESSAGE.c.offset))
            .where(T_MESSAGE.c.topic_id.in_(topic_ids))
            .group_by(T_MESSAGE.c.topic_id)
        ).all()
    )
    found: dict[str, Offsets] = {}
    for name, offset, topic_id in subs:
        top = int(high[topic_id])
        bottom = top if low.get(topic_id) is None else int(low[topic_id])
        found[str(name)] = Offsets(max=top, min=bottom, current=max(int(offset), bottom))
    return found


def target_row(
    session: Session, kind: str, entity_id: int, *, its_project: bool = False
) -> MsgProject | MsgTopic | MsgSubscription | None:
    """The row a messaging action is authorized on, as the services hand it to `authorize`
    (a project, a topic or a subscription), or with `its_project` the project of the topic
    or subscription; None if it is gone. For the `viewerCan…` fields; the session's identity
    map keeps each row once per request."""
    row: MsgProject | MsgTopic | MsgSubscription | None
    if kind == "project":
        row = session.get(MsgProject, entity_id)
    elif kind == "topic":
        row = session.get(MsgTopic, entity_id)
    else:
        row = session.get(MsgSubscription, entity_id)
    if its_project and isinstance(row, MsgTopic | MsgSubscription):
        return session.get(MsgProject, row.project_id)
    return row
