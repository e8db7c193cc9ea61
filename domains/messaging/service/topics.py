"""Topics and their ACLs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domains.common.authz import authorize
from domains.common.identity import Principal
from domains.common.models import pk
from domains.messaging import rules
from domains.messaging.errors import AlreadyExists
from domains.messaging.models import MsgTopic
from domains.messaging.rows import KeysetPage, TopicView
from domains.messaging.rules import Action
from domains.messaging.service._common import (
    T_SUB,
    T_TOPIC,
    T_TOPIC_ACL,
    TOPIC_ACL,
    acl_subjects,
    administers,
    keyset,
    project_for,
    record_audit,
    replace_acl,
    topic_row,
    topic_view,
)


def create_topic(session: Session, principal: Principal, *, project: str, topic: str) -> TopicView:
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    rules.check_name("Topic", topic)
    taken = session.execute(
        select(T_TOPIC.c.id).where(T_TOPIC.c.project_id == pk(proj), T_TOPIC.c.name == topic)
    ).first()
    if taken is not None:
        raise AlreadyExists("Topic")
    row = MsgTopic(project_id=pk(proj), name=topic)
    session.add(row)
    session.flush()
    record_audit(session, principal, "msg_topic.create", "msg_topic", pk(row), f"{project}/{topic}")
    return topic_view(project, row)


def get_topic(session: Session, principal: Principal, *, project: str, topic: str) -> TopicView:
    proj = project_for(session, principal, project, Action.PUBLISH)
    row = topic_row(session, pk(proj), topic)
    authorize(session, principal, Action.PUBLISH, row)
    return topic_view(project, row)


def list_topics(
    session: Session,
    principal: Principal,
    *,
    project: str,
    first: int | None = None,
    after: int | None = None,
) -> KeysetPage[TopicView]:
    """By id, after the id `after`, at most `first` (None: all). A publisher sees only
    the topics whose ACL lists them."""
    proj = project_for(session, principal, project, Action.PUBLISH)
    stmt = select(MsgTopic).where(T_TOPIC.c.project_id == pk(proj))
    if not administers(session, principal, proj):
        acl = select(T_TOPIC_ACL.c.topic_id).where(T_TOPIC_ACL.c.user_id == principal.user_id)
        stmt = stmt.where(T_TOPIC.c.id.in_(acl))
    stmt = stmt.execution_options(populate_existing=True)
    rows, more, before, total = keyset(session, stmt, T_TOPIC.c.id, first, after)
    return KeysetPage([topic_view(project, r[0]) for r in rows], more, before, total)


def delete_topic(session: Session, principal: Principal, *, project: str, topic: str) -> None:
    """Its messages go with it; its subscriptions stay, unable to pull (409)."""
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    row = topic_row(session, pk(proj), topic)
    topic_id = pk(row)
    # what ON DELETE SET NULL does, said explicitly (and seen by this session at once)
    session.execute(update(T_SUB).where(T_SUB.c.topic_id == topic_id).values(topic_id=None))
    session.delete(row)
    session.flush()
    session.expire_all()
    record_audit(
        session, principal, "msg_topic.delete", "msg_topic", topic_id, f"{project}/{topic}"
    )


def topic_subscriptions(
    session: Session, principal: Principal, *, project: str, topic: str
) -> list[str]:
    """The AMS names of the topic's subscriptions."""
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    row = topic_row(session, pk(proj), topic)
    names = session.execute(
        select(T_SUB.c.name).where(T_SUB.c.topic_id == pk(row)).order_by(T_SUB.c.id)
    ).scalars()
    return [f"/projects/{project}/subscriptions/{name}" for name in names]


def get_topic_acl(session: Session, principal: Principal, *, project: str, topic: str) -> list[str]:
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    row = topic_row(session, pk(proj), topic)
    return acl_subjects(session, TOPIC_ACL, pk(row))


def modify_topic_acl(
    session: Session, principal: Principal, *, project: str, topic: str, users: Sequence[str]
) -> list[str]:
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    row = topic_row(session, pk(proj), topic)
    return replace_acl(session, principal, proj, TOPIC_ACL, pk(row), f"{project}/{topic}", users)
