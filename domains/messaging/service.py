"""The messaging service: AMS semantics over SQL (argo-messaging's rules, see the reference
notes §1). Every function is `(session, principal, *, ...)`, authorizes first, flushes and
never commits. Who may call what (AMS roles; platform admins act as service_admin):

| call                                              | roles                                  |
|---------------------------------------------------|----------------------------------------|
| create/update/delete project                      | platform admin                         |
| get project, list projects                        | members (list: the caller's projects)  |
| members, topic/subscription create/delete/ACLs,   | project_admin                          |
| push config, verification, topic's subscriptions, |                                        |
| project metrics                                   |                                        |
| list/get topic, publish, topic metrics            | project_admin; publisher (topic ACL)   |
| list/get subscription, pull, acknowledge, offsets,| project_admin; consumer (subscription  |
| timeToOffset, modifyOffset, modifyAckDeadline,    | ACL)                                   |
| subscription metrics                              |                                        |
| pull from a push subscription                     | platform admin / platform (push worker)|
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, Table, and_, delete, false, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domains.common import audit, outbox
from domains.common.egress import STRICT, EgressPolicy, EgressRefused, failure_class
from domains.common.errors import Forbidden, Unauthenticated
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.identity.models import User
from domains.identity.service import require_superuser, user_by_subject
from domains.messaging import notify, rules
from domains.messaging.errors import (
    AckRejected,
    AckTimeout,
    AlreadyExists,
    AmsConflict,
    AmsInvalid,
    AmsNotFound,
    MessageTooLarge,
    UnknownProject,
    VerificationFailed,
)
from domains.messaging.models import (
    PROJECT_ROLES,
    ROLE_CONSUMER,
    ROLE_PROJECT_ADMIN,
    ROLE_PUBLISHER,
    MsgMember,
    MsgMessage,
    MsgProject,
    MsgSubscription,
    MsgSubscriptionAcl,
    MsgTopic,
    MsgTopicAcl,
    MsgUsage,
)
from domains.messaging.rules import PUSH_FIELDS, PUSH_HTTP, PUSH_MATTERMOST, PushSettings
from domains.messaging.views import (
    AmsPage,
    MemberView,
    Offsets,
    ProfileView,
    ProjectMetrics,
    ProjectRoles,
    ProjectView,
    PushDelivery,
    ReceivedMessage,
    SubscriptionMetrics,
    SubscriptionView,
    TopicMetrics,
    TopicView,
    Usage,
)

T_PROJECT: Table = MsgProject.__table__  # type: ignore[attr-defined]
T_MEMBER: Table = MsgMember.__table__  # type: ignore[attr-defined]
T_TOPIC: Table = MsgTopic.__table__  # type: ignore[attr-defined]
T_MESSAGE: Table = MsgMessage.__table__  # type: ignore[attr-defined]
T_SUB: Table = MsgSubscription.__table__  # type: ignore[attr-defined]
T_TOPIC_ACL: Table = MsgTopicAcl.__table__  # type: ignore[attr-defined]
T_SUB_ACL: Table = MsgSubscriptionAcl.__table__  # type: ignore[attr-defined]
T_USAGE: Table = MsgUsage.__table__  # type: ignore[attr-defined]
T_USER: Table = User.__table__  # type: ignore[attr-defined]

Fetch = Callable[[str], tuple[int, str]]

NO_TOPIC = "Subscription's topic doesn't exist"


# --- events (outbox hook) ---------------------------------------------------------------


def _record_event(session: Session, kind: str, payload: Mapping[str, Any]) -> None:
    """In the change's own transaction (the outbox). Kinds: messaging.published,
    messaging.push_changed."""
    outbox.emit(session, kind, payload)


# --- access -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Access:
    project: MsgProject
    roles: frozenset[str]
    superuser: bool
    user_id: int | None

    @property
    def project_id(self) -> int:
        return pk(self.project)

    @property
    def is_admin(self) -> bool:
        return self.superuser or ROLE_PROJECT_ADMIN in self.roles


def _access(
    session: Session, principal: Principal, project: str, allowed: Sequence[str]
) -> _Access:
    """Unauthenticated for the anonymous caller; NotFound for an unknown project; Forbidden
    unless the caller is a platform admin or holds one of `allowed` in the project."""
    if principal.is_anonymous:
        raise Unauthenticated("authentication required")
    member_match = (
        and_(T_MEMBER.c.project_id == T_PROJECT.c.id, T_MEMBER.c.user_id == principal.user_id)
        if principal.user_id is not None
        else false()
    )
    row = session.execute(
        select(MsgProject, T_MEMBER.c.roles)
        .outerjoin(T_MEMBER, member_match)
        .where(T_PROJECT.c.name == project)
    ).first()
    if row is None:
        raise UnknownProject()
    roles = frozenset(row[1] or ())
    access = _Access(row[0], roles, principal.is_superuser, principal.user_id)
    if not access.superuser and not roles & set(allowed):
        raise Forbidden(f"not allowed: needs one of {', '.join(allowed)} in project {project}")
    return access


def _admin(session: Session, principal: Principal, project: str) -> _Access:
    return _access(session, principal, project, (ROLE_PROJECT_ADMIN,))


@dataclass(frozen=True, slots=True)
class _Acl:
    """One of the two ACLs: its link table, the column naming what it guards, the table of
    what it guards, and the entity type its audit entries carry."""

    table: Table
    key: str
    owner: Table
    entity_type: str


TOPIC_ACL = _Acl(T_TOPIC_ACL, "topic_id", T_TOPIC, "msg_topic")
SUBSCRIPTION_ACL = _Acl(T_SUB_ACL, "subscription_id", T_SUB, "msg_subscription")


def _in_acl(session: Session, acl: _Acl, entity_id: int, user_id: int | None) -> bool:
    if user_id is None:
        return False
    table = acl.table
    found = session.execute(
        select(table.c.user_id).where(table.c[acl.key] == entity_id, table.c.user_id == user_id)
    ).first()
    return found is not None


def _require_topic_acl(session: Session, access: _Access, topic: MsgTopic) -> None:
    if not access.is_admin and not _in_acl(session, TOPIC_ACL, pk(topic), access.user_id):
        raise Forbidden(f"not allowed: you are not in the ACL of topic {topic.name}")


def _require_sub_acl(session: Session, access: _Access, sub: MsgSubscription) -> None:
    if not access.is_admin and not _in_acl(session, SUBSCRIPTION_ACL, pk(sub), access.user_id):
        raise Forbidden(f"not allowed: you are not in the ACL of subscription {sub.name}")


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    entity_type: str,
    entity_id: int,
    name: str,
    changes: Mapping[str, list[Any]] | None = None,
) -> None:
    audit.record(
        session,
        principal,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_name=name,
        changes=changes,
    )


# --- lookups and views ----------------------------------------------------------------


def _topic(session: Session, project_id: int, name: str) -> MsgTopic:
    # populate_existing: publish moves counters with Core UPDATEs behind the ORM's back
    topic = session.execute(
        select(MsgTopic)
        .where(T_TOPIC.c.project_id == project_id, T_TOPIC.c.name == name)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if topic is None:
        raise AmsNotFound("Topic doesn't exist")
    return topic


def _sub(session: Session, project_id: int, name: str, *, lock: bool = False) -> MsgSubscription:
    stmt = (
        select(MsgSubscription)
        .where(T_SUB.c.project_id == project_id, T_SUB.c.name == name)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update()
    sub = session.execute(stmt).scalar_one_or_none()
    if sub is None:
        raise AmsNotFound("Subscription doesn't exist")
    return sub


def _subject_of(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.execute(
        select(T_USER.c.subject).where(T_USER.c.id == user_id)
    ).scalar_one_or_none()


def _project_view(session: Session, project: MsgProject) -> ProjectView:
    return ProjectView(
        id=pk(project),
        name=project.name,
        description=project.description,
        created_at=project.created_at,
        modified_at=project.modified_at,
        created_by=_subject_of(session, project.created_by),
    )


def _topic_view(project: str, topic: MsgTopic) -> TopicView:
    return TopicView(
        id=pk(topic),
        project=project,
        name=topic.name,
        created_at=topic.created_at,
        next_offset=topic.next_offset,
        message_count=topic.message_count,
        bytes_in=topic.bytes_in,
        published_at=topic.published_at,
    )


def settings_of(sub: MsgSubscription) -> PushSettings:
    return PushSettings(**{name: getattr(sub, name) for name in PUSH_FIELDS})


def _sub_view(project: str, sub: MsgSubscription) -> SubscriptionView:
    return SubscriptionView(
        id=pk(sub),
        project=project,
        name=sub.name,
        topic_id=sub.topic_id,
        topic=sub.topic_name,
        ack_deadline=sub.ack_deadline,
        offset=sub.offset,
        next_offset=sub.next_offset,
        pending_ack_at=sub.pending_ack_at,
        created_at=sub.created_at,
        push=settings_of(sub),
        push_status=_push_status(project, sub),
        message_count=sub.message_count,
        bytes_out=sub.bytes_out,
        delivery=PushDelivery(
            status=_push_status(project, sub),
            last_error=sub.last_error,
            consecutive_failures=sub.consecutive_failures,
            next_attempt_at=sub.next_attempt_at,
            last_attempt_at=sub.last_attempt_at,
            last_success_at=sub.last_success_at,
            delivered_count=sub.delivered_count,
            backoff_ms=sub.backoff_ms,
        ),
    )


def _push_status(project: str, sub: MsgSubscription) -> str:
    """What the push worker last reported; a verified push subscription it has not served
    yet is active (AMS activates it at the push server when verified)."""
    if sub.push_status or not (sub.push_type and sub.verified):
        return sub.push_status
    return f"Subscription /projects/{project}/subscriptions/{sub.name} is currently active"


def _ams_page(
    session: Session, stmt: Select[Any], key: Any, page_size: int | None, page_token: str | None
) -> tuple[list[Any], str, int]:
    """AMS paging: ascending ids; the token is the (base64) id of the next page's first
    item; pageSize 0 means everything."""
    size = rules.check_page_size(page_size)
    after = rules.decode_page_token(page_token)
    total = int(
        session.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        ).scalar_one()
    )
    paged = stmt.order_by(key)
    if after is not None:
        paged = paged.where(key >= after)
    if size:
        paged = paged.limit(size + 1)
    rows = list(session.execute(paged).all())
    next_token = ""
    if size and len(rows) > size:
        next_token = rules.encode_page_token(int(rows[size][0].id))
        rows = rows[:size]
    return rows, next_token, total


# --- usage ------------------------------------------------------------------------------


def _add_usage(session: Session, project_id: int, user_id: int | None, **deltas: int) -> None:
    """Add to the user's counters in the project in one statement (an upsert)."""
    if user_id is None:  # the platform itself (e.g. the push worker) is not a user
        return
    values = {"messages_in": 0, "bytes_in": 0, "messages_out": 0, "bytes_out": 0, **deltas}
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = make(T_USAGE).values(project_id=project_id, user_id=user_id, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[T_USAGE.c.project_id, T_USAGE.c.user_id],
            set_={name: T_USAGE.c[name] + stmt.excluded[name] for name in deltas},
        )
    )


# --- projects ------------------------------------------------------------------------


def create_project(
    session: Session, principal: Principal, *, name: str, description: str = ""
) -> ProjectView:
    require_superuser(principal)
    rules.check_name("Project", name)
    taken = session.execute(select(T_PROJECT.c.id).where(T_PROJECT.c.name == name)).first()
    if taken is not None:
        raise AlreadyExists("Project")
    now = utcnow()
    project = MsgProject(
        name=name,
        description=description,
        created_at=now,
        modified_at=now,
        created_by=principal.user_id,
    )
    session.add(project)
    session.flush()
    _audit(
        session,
        principal,
        "msg_project.create",
        "msg_project",
        pk(project),
        name,
        {"description": [None, description]},
    )
    return _project_view(session, project)


def get_project(session: Session, principal: Principal, *, project: str) -> ProjectView:
    access = _access(
        session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_PUBLISHER, ROLE_CONSUMER)
    )
    return _project_view(session, access.project)


def list_projects(session: Session, principal: Principal) -> list[ProjectView]:
    """Every project for platform admins; the caller's own projects for anyone else."""
    if principal.is_anonymous:
        raise Unauthenticated("authentication required")
    stmt = select(MsgProject).order_by(T_PROJECT.c.id)
    if not principal.is_superuser:
        mine = select(T_MEMBER.c.project_id).where(T_MEMBER.c.user_id == principal.user_id)
        stmt = stmt.where(T_PROJECT.c.id.in_(mine))
    return [_project_view(session, p) for p in session.execute(stmt).scalars()]


def user_profile(session: Session, principal: Principal) -> ProfileView:
    """The caller as AMS's `/users/profile` shows them: their projects and roles there."""
    if principal.is_anonymous:
        raise Unauthenticated("authentication required")
    rows = session.execute(
        select(T_PROJECT.c.name, T_MEMBER.c.roles)
        .join(T_MEMBER, T_MEMBER.c.project_id == T_PROJECT.c.id)
        .where(T_MEMBER.c.user_id == principal.user_id)
        .order_by(T_PROJECT.c.name)
    ).all()
    return ProfileView(
        subject=principal.subject or "",
        email=principal.email,
        projects=tuple(ProjectRoles(name, tuple(roles)) for name, roles in rows),
        service_roles=("service_admin",) if principal.is_superuser else (),
    )


def update_project(
    session: Session,
    principal: Principal,
    *,
    project: str,
    description: str | None = None,
    new_name: str | None = None,
) -> ProjectView:
    require_superuser(principal)
    row = _access(session, principal, project, ()).project
    before = {"name": row.name, "description": row.description}
    if new_name is not None and new_name != row.name:
        rules.check_name("Project", new_name)
        if session.execute(select(T_PROJECT.c.id).where(T_PROJECT.c.name == new_name)).first():
            raise AlreadyExists("Project")
        row.name = new_name
    if description is not None:
        row.description = description
    after = {"name": row.name, "description": row.description}
    if after != before:
        row.modified_at = utcnow()
        session.flush()
        _audit(
            session,
            principal,
            "msg_project.update",
            "msg_project",
            pk(row),
            row.name,
            audit.diff(before, after),
        )
    return _project_view(session, row)


def delete_project(session: Session, principal: Principal, *, project: str) -> None:
    """Deletes the project with its topics, messages, subscriptions, members and ACLs."""
    require_superuser(principal)
    row = _access(session, principal, project, ()).project
    project_id = pk(row)
    session.delete(row)
    session.flush()
    _audit(session, principal, "msg_project.delete", "msg_project", project_id, project)


def add_member(
    session: Session, principal: Principal, *, project: str, subject: str, roles: Sequence[str]
) -> MemberView:
    """Give a user (created by subject if new) these roles in the project (replacing any)."""
    access = _admin(session, principal, project)
    wanted = rules.check_roles(roles)
    user = user_by_subject(session, subject, create=True)
    member = session.get(MsgMember, (access.project_id, pk(user)))
    before = None if member is None else list(member.roles)
    if member is None:
        member = MsgMember(project_id=access.project_id, user_id=pk(user), roles=wanted)
        session.add(member)
    else:
        member.roles = wanted
    session.flush()
    if before != wanted:
        _audit(
            session,
            principal,
            "msg_project.member",
            "msg_project",
            access.project_id,
            project,
            {f"roles of {subject}": [before, wanted]},
        )
    return MemberView(subject=subject, user_id=pk(user), roles=tuple(wanted))


def remove_member(session: Session, principal: Principal, *, project: str, subject: str) -> None:
    """Remove a user from the project and from its topics' and subscriptions' ACLs."""
    access = _admin(session, principal, project)
    user_id = session.execute(
        select(T_USER.c.id).where(T_USER.c.subject == subject)
    ).scalar_one_or_none()
    member = None if user_id is None else session.get(MsgMember, (access.project_id, user_id))
    if member is None or user_id is None:
        raise AmsNotFound("User doesn't exist")
    before = list(member.roles)
    session.delete(member)
    topics = select(T_TOPIC.c.id).where(T_TOPIC.c.project_id == access.project_id)
    subs = select(T_SUB.c.id).where(T_SUB.c.project_id == access.project_id)
    session.execute(
        delete(T_TOPIC_ACL).where(
            T_TOPIC_ACL.c.user_id == user_id, T_TOPIC_ACL.c.topic_id.in_(topics)
        )
    )
    session.execute(
        delete(T_SUB_ACL).where(
            T_SUB_ACL.c.user_id == user_id, T_SUB_ACL.c.subscription_id.in_(subs)
        )
    )
    session.flush()
    _audit(
        session,
        principal,
        "msg_project.member",
        "msg_project",
        access.project_id,
        project,
        {f"roles of {subject}": [before, None]},
    )


def list_members(session: Session, principal: Principal, *, project: str) -> list[MemberView]:
    access = _admin(session, principal, project)
    rows = session.execute(
        select(T_USER.c.subject, T_MEMBER.c.user_id, T_MEMBER.c.roles)
        .join(T_USER, T_USER.c.id == T_MEMBER.c.user_id)
        .where(T_MEMBER.c.project_id == access.project_id)
        .order_by(T_USER.c.subject)
    ).all()
    return [MemberView(subject=r[0], user_id=r[1], roles=tuple(r[2])) for r in rows]


# --- topics ---------------------------------------------------------------------------


def create_topic(session: Session, principal: Principal, *, project: str, topic: str) -> TopicView:
    access = _admin(session, principal, project)
    rules.check_name("Topic", topic)
    taken = session.execute(
        select(T_TOPIC.c.id).where(
            T_TOPIC.c.project_id == access.project_id, T_TOPIC.c.name == topic
        )
    ).first()
    if taken is not None:
        raise AlreadyExists("Topic")
    row = MsgTopic(project_id=access.project_id, name=topic)
    session.add(row)
    session.flush()
    _audit(session, principal, "msg_topic.create", "msg_topic", pk(row), f"{project}/{topic}")
    return _topic_view(project, row)


def get_topic(session: Session, principal: Principal, *, project: str, topic: str) -> TopicView:
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_PUBLISHER))
    row = _topic(session, access.project_id, topic)
    _require_topic_acl(session, access, row)
    return _topic_view(project, row)


def list_topics(
    session: Session,
    principal: Principal,
    *,
    project: str,
    page_size: int | None = 0,
    page_token: str | None = None,
) -> AmsPage[TopicView]:
    """A publisher sees only the topics whose ACL lists them."""
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_PUBLISHER))
    stmt = select(MsgTopic).where(T_TOPIC.c.project_id == access.project_id)
    if not access.is_admin:
        acl = select(T_TOPIC_ACL.c.topic_id).where(T_TOPIC_ACL.c.user_id == access.user_id)
        stmt = stmt.where(T_TOPIC.c.id.in_(acl))
    stmt = stmt.execution_options(populate_existing=True)
    rows, token, total = _ams_page(session, stmt, T_TOPIC.c.id, page_size, page_token)
    return AmsPage([_topic_view(project, r[0]) for r in rows], token, total)


def delete_topic(session: Session, principal: Principal, *, project: str, topic: str) -> None:
    """Its messages go with it; its subscriptions stay, unable to pull (409)."""
    access = _admin(session, principal, project)
    row = _topic(session, access.project_id, topic)
    topic_id = pk(row)
    # what ON DELETE SET NULL does, said explicitly (and seen by this session at once)
    session.execute(update(T_SUB).where(T_SUB.c.topic_id == topic_id).values(topic_id=None))
    session.delete(row)
    session.flush()
    session.expire_all()
    _audit(session, principal, "msg_topic.delete", "msg_topic", topic_id, f"{project}/{topic}")


def topic_subscriptions(
    session: Session, principal: Principal, *, project: str, topic: str
) -> list[str]:
    """The AMS names of the topic's subscriptions."""
    access = _admin(session, principal, project)
    row = _topic(session, access.project_id, topic)
    names = session.execute(
        select(T_SUB.c.name).where(T_SUB.c.topic_id == pk(row)).order_by(T_SUB.c.id)
    ).scalars()
    return [f"/projects/{project}/subscriptions/{name}" for name in names]


def _acl_subjects(session: Session, acl: _Acl, entity_id: int) -> list[str]:
    return list(
        session.execute(
            select(T_USER.c.subject)
            .join(acl.table, acl.table.c.user_id == T_USER.c.id)
            .where(acl.table.c[acl.key] == entity_id)
            .order_by(T_USER.c.subject)
        ).scalars()
    )


def _replace_acl(
    session: Session,
    principal: Principal,
    access: _Access,
    acl: _Acl,
    entity_id: int,
    name: str,
    users: object,
) -> list[str]:
    """Replace an ACL by project members named by subject, audited when it changed; the
    new ACL."""
    if not isinstance(users, list | tuple) or not all(isinstance(u, str) for u in users):
        raise AmsInvalid("authorized_users", "a list of user names", "Invalid ACL Arguments")
    wanted = list(dict.fromkeys(users))
    rows = session.execute(
        select(T_USER.c.subject, T_USER.c.id)
        .join(T_MEMBER, T_MEMBER.c.user_id == T_USER.c.id)
        .where(T_MEMBER.c.project_id == access.project_id, T_USER.c.subject.in_(wanted))
    ).all()
    found: dict[str, int] = {row.subject: row.id for row in rows}
    missing = [u for u in wanted if u not in found]
    if missing:
        raise AmsNotFound(f"User(s): {', '.join(missing)} do not exist")
    before = _acl_subjects(session, acl, entity_id)
    session.execute(delete(acl.table).where(acl.table.c[acl.key] == entity_id))
    if wanted:
        session.execute(
            insert(acl.table), [{acl.key: entity_id, "user_id": found[u]} for u in wanted]
        )
    session.flush()
    after = sorted(wanted)
    if before != after:
        _audit(
            session,
            principal,
            f"{acl.entity_type}.acl",
            acl.entity_type,
            entity_id,
            name,
            {"authorized_users": [before, after]},
        )
    return after


def get_topic_acl(session: Session, principal: Principal, *, project: str, topic: str) -> list[str]:
    access = _admin(session, principal, project)
    row = _topic(session, access.project_id, topic)
    return _acl_subjects(session, TOPIC_ACL, pk(row))


def modify_topic_acl(
    session: Session, principal: Principal, *, project: str, topic: str, users: Sequence[str]
) -> list[str]:
    access = _admin(session, principal, project)
    row = _topic(session, access.project_id, topic)
    return _replace_acl(session, principal, access, TOPIC_ACL, pk(row), f"{project}/{topic}", users)


class _Checked(NamedTuple):
    """A message to publish, decoded and within bounds."""

    data: bytes
    attributes: dict[str, str]
    size: int  # as AMS counts it: the data and the attributes


def _check_messages(messages: object, max_message_bytes: int) -> list[_Checked]:
    if not isinstance(messages, list | tuple) or not messages:
        raise AmsInvalid("messages", "a non-empty list", "Invalid Message Arguments")
    batch: list[_Checked] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise AmsInvalid(f"messages[{i}]", "an object", "Invalid Message Arguments")
        data = rules.decode_data(message.get("data", ""), f"messages[{i}].data")
        attributes = rules.check_attributes(message.get("attributes"), f"messages[{i}].attributes")
        size = rules.message_size(data, attributes)
        if size > max_message_bytes:
            raise MessageTooLarge(f"messages[{i}]", max_message_bytes)
        batch.append(_Checked(data, attributes, size))
    return batch


def publish(
    session: Session,
    principal: Principal,
    *,
    project: str,
    topic: str,
    messages: Sequence[Mapping[str, Any]],
    max_message_bytes: int = rules.DEFAULT_MAX_MESSAGE_BYTES,
    now: datetime | None = None,
) -> list[int]:
    """Append the messages to the topic; their offsets (AMS messageIds), in order.

    The offsets come from one `UPDATE msg_topic ... RETURNING next_offset`: on PostgreSQL
    it row-locks the topic until commit, so publishes to a topic commit in offset order and
    a reader never sees offset n+1 before n. The batch goes in with one executemany."""
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_PUBLISHER))
    topic_id = session.execute(
        select(T_TOPIC.c.id).where(
            T_TOPIC.c.project_id == access.project_id, T_TOPIC.c.name == topic
        )
    ).scalar_one_or_none()
    if topic_id is None:
        raise AmsNotFound("Topic doesn't exist")
    if not access.is_admin and not _in_acl(session, TOPIC_ACL, topic_id, access.user_id):
        raise Forbidden(f"not allowed: you are not in the ACL of topic {topic}")
    batch = _check_messages(messages, max_message_bytes)
    count, total = len(batch), sum(m.size for m in batch)
    now = now or utcnow()

    end = session.execute(
        update(T_TOPIC)
        .where(T_TOPIC.c.id == topic_id)
        .values(
            next_offset=T_TOPIC.c.next_offset + count,
            message_count=T_TOPIC.c.message_count + count,
            bytes_in=T_TOPIC.c.bytes_in + total,
            published_at=now,
        )
        .returning(T_TOPIC.c.next_offset)
    ).scalar_one()
    first = int(end) - count
    session.execute(
        insert(T_MESSAGE),
        [
            {
                "topic_id": topic_id,
                "offset": first + i,
                "data": m.data,
                "attributes": m.attributes,
                "size": m.size,
                "published_at": now,
            }
            for i, m in enumerate(batch)
        ],
    )
    _add_usage(session, access.project_id, access.user_id, messages_in=count, bytes_in=total)
    pushed = session.execute(
        select(T_SUB.c.id)
        .where(
            T_SUB.c.topic_id == topic_id,
            T_SUB.c.push_type != "",
            T_SUB.c.verified.is_(True),
        )
        .limit(1)
    ).first()
    if pushed is not None:
        # wake idle push subscriptions (next_attempt_at NULL); one in backoff keeps its time
        session.execute(
            update(T_SUB)
            .where(
                T_SUB.c.topic_id == topic_id,
                T_SUB.c.push_type != "",
                T_SUB.c.verified.is_(True),
                T_SUB.c.next_attempt_at.is_(None),
            )
            .values(next_attempt_at=now)
        )
        # work elsewhere (push delivery) only where a push subscription will take it
        _record_event(
            session,
            "messaging.published",
            {
                "topic_id": topic_id,
                "project": project,
                "topic": topic,
                "first": first,
                "count": count,
            },
        )
    notify.published(session, topic_id)
    session.flush()
    return list(range(first, first + count))


# --- subscriptions ----------------------------------------------------------------------


def _apply_push(sub: MsgSubscription, settings: PushSettings, now: datetime) -> None:
    for name in PUSH_FIELDS:
        setattr(sub, name, getattr(settings, name))
    sub.push_status = ""
    sub.backoff_ms = rules.initial_backoff_ms(settings)
    sub.consecutive_failures = 0
    sub.last_error = None
    sub.next_attempt_at = now if settings.is_push and settings.verified else None


def _push_changes(before: PushSettings, after: PushSettings) -> dict[str, list[Any]]:
    """The audit diff of a push configuration; audit.record masks its secrets."""
    changes: dict[str, list[Any]] = {}
    for name in PUSH_FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes[name] = [old, new]
    return changes


def _check_destination(settings: PushSettings, egress: EgressPolicy) -> None:
    """Where a push configuration sends messages, judged by the egress policy now (the
    delivery checks again when it connects)."""
    if settings.push_type == PUSH_HTTP:
        url, field = settings.push_endpoint, "pushConfig.pushEndpoint"
    elif settings.push_type == PUSH_MATTERMOST:
        url, field = settings.mattermost_url, "pushConfig.mattermostUrl"
    else:
        return
    try:
        egress.check_url(url)
    except EgressRefused as exc:
        raise AmsInvalid(
            field,
            f"a destination the egress policy allows: {exc.reason}",
            f"Push endpoint refused by the egress policy: {exc.reason}",
        ) from exc


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
    access = _admin(session, principal, project)
    rules.check_name("Subscription", subscription)
    topic_project, topic_name = rules.parse_topic_ref(topic)
    deadline = rules.check_ack_deadline(ack_deadline)
    settings = rules.parse_push_config(push_config, allow_insecure=egress.allow_loopback)
    _check_destination(settings, egress)
    if topic_project != project:
        raise AmsNotFound("Topic doesn't exist")
    target = _topic(session, access.project_id, topic_name)
    taken = session.execute(
        select(T_SUB.c.id).where(
            T_SUB.c.project_id == access.project_id, T_SUB.c.name == subscription
        )
    ).first()
    if taken is not None:
        raise AlreadyExists("Subscription")
    now = now or utcnow()
    sub = MsgSubscription(
        project_id=access.project_id,
        name=subscription,
        topic_id=pk(target),
        topic_name=topic_name,
        ack_deadline=deadline,
        offset=target.next_offset,
        next_offset=target.next_offset,
        created_at=now,
    )
    _apply_push(sub, settings, now)
    session.add(sub)
    session.flush()
    changes: dict[str, list[Any]] = {
        "topic": [None, topic_name],
        "ack_deadline": [None, deadline],
        **_push_changes(rules.PULL, settings),
    }
    _audit(
        session,
        principal,
        "msg_subscription.create",
        "msg_subscription",
        pk(sub),
        f"{project}/{subscription}",
        changes,
    )
    if settings.is_push:
        _record_event(session, "messaging.push_changed", {"subscription_id": pk(sub)})
    return _sub_view(project, sub)


def get_subscription(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> SubscriptionView:
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_CONSUMER))
    sub = _sub(session, access.project_id, subscription)
    _require_sub_acl(session, access, sub)
    return _sub_view(project, sub)


def list_subscriptions(
    session: Session,
    principal: Principal,
    *,
    project: str,
    page_size: int | None = 0,
    page_token: str | None = None,
) -> AmsPage[SubscriptionView]:
    """A consumer sees only the subscriptions whose ACL lists them."""
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_CONSUMER))
    stmt = (
        select(MsgSubscription)
        .where(T_SUB.c.project_id == access.project_id)
        .execution_options(populate_existing=True)
    )
    if not access.is_admin:
        acl = select(T_SUB_ACL.c.subscription_id).where(T_SUB_ACL.c.user_id == access.user_id)
        stmt = stmt.where(T_SUB.c.id.in_(acl))
    rows, token, total = _ams_page(session, stmt, T_SUB.c.id, page_size, page_token)
    return AmsPage([_sub_view(project, r[0]) for r in rows], token, total)


def delete_subscription(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> None:
    access = _admin(session, principal, project)
    sub = _sub(session, access.project_id, subscription)
    sub_id, was_push = pk(sub), bool(sub.push_type)
    session.delete(sub)
    session.flush()
    _audit(
        session,
        principal,
        "msg_subscription.delete",
        "msg_subscription",
        sub_id,
        f"{project}/{subscription}",
    )
    if was_push:
        _record_event(session, "messaging.push_changed", {"subscription_id": sub_id})


def modify_ack_deadline(
    session: Session, principal: Principal, *, project: str, subscription: str, ack_deadline: int
) -> SubscriptionView:
    """0..600 (0 means the default, 10 s)."""
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_CONSUMER))
    sub = _sub(session, access.project_id, subscription)
    _require_sub_acl(session, access, sub)
    deadline = rules.check_ack_deadline(ack_deadline)
    if deadline != sub.ack_deadline:
        before = sub.ack_deadline
        sub.ack_deadline = deadline
        session.flush()
        _audit(
            session,
            principal,
            "msg_subscription.ack_deadline",
            "msg_subscription",
            pk(sub),
            f"{project}/{subscription}",
            {"ack_deadline": [before, deadline]},
        )
    return _sub_view(project, sub)


def modify_push_config(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    push_config: Mapping[str, Any] | None,
    egress: EgressPolicy = STRICT,
    now: datetime | None = None,
) -> SubscriptionView:
    """`{}` (or None) turns the subscription back into a pull one (rules.parse_push_config)."""
    access = _admin(session, principal, project)
    sub = _sub(session, access.project_id, subscription)
    before = settings_of(sub)
    after = rules.parse_push_config(push_config, before, allow_insecure=egress.allow_loopback)
    if after != before:
        _check_destination(after, egress)
        _apply_push(sub, after, now or utcnow())
        session.flush()
        _audit(
            session,
            principal,
            "msg_subscription.push_config",
            "msg_subscription",
            pk(sub),
            f"{project}/{subscription}",
            _push_changes(before, after),
        )
        _record_event(session, "messaging.push_changed", {"subscription_id": pk(sub)})
    return _sub_view(project, sub)


def _unverified_push_sub(
    session: Session, principal: Principal, project: str, subscription: str
) -> MsgSubscription:
    access = _admin(session, principal, project)
    sub = _sub(session, access.project_id, subscription)
    if sub.push_type != PUSH_HTTP:
        raise AmsConflict("Subscription is not in http push mode")
    if sub.verified:
        raise AmsConflict("Push endpoint is already verified")
    return sub


def push_verification_url(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> str:
    """What `verify_push_endpoint` will GET, checked as it will check it: lets a caller
    fetch it with no transaction open, then replay the answer to verify_push_endpoint."""
    sub = _unverified_push_sub(session, principal, project, subscription)
    return rules.verification_url(sub.push_endpoint)


def verify_push_endpoint(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    fetch: Fetch,
    now: datetime | None = None,
) -> SubscriptionView:
    """Prove the endpoint's ownership: `fetch(url)` (the caller's HTTP GET, returning
    (status, body)) of {scheme}://{host}/ams_verification_hash must give 200 and the hash."""
    sub = _unverified_push_sub(session, principal, project, subscription)
    url = rules.verification_url(sub.push_endpoint)
    try:
        status, body = fetch(url)
    except Exception as exc:  # whatever the caller's HTTP client raises: not verified
        # the class of failure only: "connection failed" vs "timeout" per port is a scanner
        raise VerificationFailed(f"Could not reach {url}: {failure_class(exc)}") from exc
    if status != 200:
        raise VerificationFailed("Wrong response status code")
    if body.strip() != sub.verification_hash:
        raise VerificationFailed("Wrong verification hash")
    sub.verified = True
    sub.next_attempt_at = now or utcnow()
    session.flush()
    _audit(
        session,
        principal,
        "msg_subscription.verify",
        "msg_subscription",
        pk(sub),
        f"{project}/{subscription}",
        {"verified": [False, True]},
    )
    _record_event(session, "messaging.push_changed", {"subscription_id": pk(sub)})
    return _sub_view(project, sub)


def get_subscription_acl(
    session: Session, principal: Principal, *, project: str, subscription: str
) -> list[str]:
    access = _admin(session, principal, project)
    sub = _sub(session, access.project_id, subscription)
    return _acl_subjects(session, SUBSCRIPTION_ACL, pk(sub))


def modify_subscription_acl(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    users: Sequence[str],
) -> list[str]:
    access = _admin(session, principal, project)
    sub = _sub(session, access.project_id, subscription)
    return _replace_acl(
        session, principal, access, SUBSCRIPTION_ACL, pk(sub), f"{project}/{subscription}", users
    )


def _consumer_sub(
    session: Session, principal: Principal, project: str, subscription: str, *, lock: bool
) -> tuple[_Access, MsgSubscription]:
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_CONSUMER))
    sub = _sub(session, access.project_id, subscription, lock=lock)
    _require_sub_acl(session, access, sub)
    return access, sub


def read_messages(
    session: Session, *, topic_id: int, offset: int, limit: int, ack_prefix: str
) -> list[ReceivedMessage]:
    """Up to `limit` (1..MAX_PULL) messages of the topic from `offset` on, in order: what a
    pull returns and what a push cycle sends."""
    rows = session.execute(
        select(
            T_MESSAGE.c.offset,
            T_MESSAGE.c.data,
            T_MESSAGE.c.attributes,
            T_MESSAGE.c.size,
            T_MESSAGE.c.published_at,
        )
        .where(T_MESSAGE.c.topic_id == topic_id, T_MESSAGE.c.offset >= offset)
        .order_by(T_MESSAGE.c.offset)
        .limit(min(max(limit, 1), rules.MAX_PULL))
    ).all()
    return [
        ReceivedMessage(
            ack_id=f"{ack_prefix}{r.offset}",
            offset=int(r.offset),
            data=bytes(r.data),
            attributes=r.attributes or {},
            publish_time=r.published_at,
            size=int(r.size),
        )
        for r in rows
    ]


def pull(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    max_messages: int = rules.DEFAULT_PULL,
    now: datetime | None = None,
) -> list[ReceivedMessage]:
    """Up to `max_messages` messages from the committed offset on: what was pulled and not
    acknowledged comes again. Sets next_offset past the last one and pending_ack_at = now.
    Never waits: a long-polling caller waits on `notify` outside the transaction."""
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_CONSUMER))
    sub = _sub(session, access.project_id, subscription, lock=True)
    if sub.push_type and not principal.is_superuser:
        raise Forbidden("only the push worker may pull from a push subscription")
    _require_sub_acl(session, access, sub)
    if sub.topic_id is None:
        raise AmsConflict(NO_TOPIC)
    received = read_messages(
        session,
        topic_id=sub.topic_id,
        offset=sub.offset,
        limit=max_messages,
        ack_prefix=rules.ack_prefix(project, subscription),
    )
    if received and received[0].offset > sub.offset:
        sub.offset = received[0].offset  # retention dropped what lay at the committed offset
    sub.next_offset = received[-1].offset + 1 if received else sub.offset
    sub.pending_ack_at = now or utcnow()
    if received:
        out = sum(m.size for m in received)
        sub.message_count += len(received)
        sub.bytes_out += out
        _add_usage(
            session, access.project_id, access.user_id, messages_out=len(received), bytes_out=out
        )
    session.flush()
    return received


def acknowledge(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    ack_ids: Sequence[str],
    now: datetime | None = None,
) -> None:
    """Cumulative: the highest ack id commits everything up to it. AMS's checks, in order:
    ack id form (400), "no ack pending", "wrong ack" (max+1 outside (offset, next_offset]),
    then the deadline in whole seconds (408 "ack timeout" when more than ackDeadline
    seconds passed since the pull)."""
    _, sub = _consumer_sub(session, principal, project, subscription, lock=True)
    highest = rules.parse_ack_ids(project, subscription, ack_ids)
    target = highest + 1
    if sub.pending_ack_at is None:
        raise AckRejected("no ack pending")
    if target <= sub.offset or target > sub.next_offset:
        raise AckRejected("wrong ack")
    moment = (now or utcnow()).replace(microsecond=0)
    elapsed = (moment - sub.pending_ack_at.replace(microsecond=0)).total_seconds()
    if int(elapsed) > sub.ack_deadline:
        raise AckTimeout(sub.ack_deadline)
    sub.offset = target
    sub.next_offset = target
    sub.pending_ack_at = None
    session.flush()


def _bounds(session: Session, topic_id: int) -> tuple[int, int]:
    """(min, max): the oldest retained offset and the next offset to be assigned."""
    high = session.execute(
        select(T_TOPIC.c.next_offset).where(T_TOPIC.c.id == topic_id)
    ).scalar_one()
    low = session.execute(
        select(func.min(T_MESSAGE.c.offset)).where(T_MESSAGE.c.topic_id == topic_id)
    ).scalar_one()
    return (int(high) if low is None else int(low)), int(high)


def offsets(session: Session, principal: Principal, *, project: str, subscription: str) -> Offsets:
    _, sub = _consumer_sub(session, principal, project, subscription, lock=False)
    if sub.topic_id is None:
        raise AmsConflict(NO_TOPIC)
    low, high = _bounds(session, sub.topic_id)
    return Offsets(max=high, min=low, current=max(sub.offset, low))


def time_to_offset(
    session: Session,
    principal: Principal,
    *,
    project: str,
    subscription: str,
    time: str | datetime,
) -> int:
    """The first offset published at or after `time`; Conflict when there is none."""
    _, sub = _consumer_sub(session, principal, project, subscription, lock=False)
    moment = rules.parse_zulu(time) if isinstance(time, str) else time
    if sub.topic_id is None:
        raise AmsConflict(NO_TOPIC)
    found = session.execute(
        select(T_MESSAGE.c.offset)
        .where(T_MESSAGE.c.topic_id == sub.topic_id, T_MESSAGE.c.published_at >= moment)
        .order_by(T_MESSAGE.c.published_at, T_MESSAGE.c.offset)
        .limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise AmsConflict("Timestamp is out of bounds for the subscription's topic/partition")
    return int(found)


def modify_offset(
    session: Session, principal: Principal, *, project: str, subscription: str, offset: int
) -> None:
    """Move the committed offset anywhere in [min, max]; any pending ack is dropped."""
    _, sub = _consumer_sub(session, principal, project, subscription, lock=True)
    if sub.topic_id is None:
        raise AmsConflict(NO_TOPIC)
    low, high = _bounds(session, sub.topic_id)
    if isinstance(offset, bool) or not isinstance(offset, int) or not low <= offset <= high:
        raise AmsInvalid("offset", f"between {low} and {high}", "Offset out of bounds")
    before = sub.offset
    sub.offset = offset
    sub.next_offset = offset
    sub.pending_ack_at = None
    session.flush()
    _audit(
        session,
        principal,
        "msg_subscription.offset",
        "msg_subscription",
        pk(sub),
        f"{project}/{subscription}",
        {"offset": [before, offset]},
    )


# --- metrics ---------------------------------------------------------------------------


def topic_metrics(
    session: Session, principal: Principal, *, project: str, topic: str
) -> TopicMetrics:
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_PUBLISHER))
    row = _topic(session, access.project_id, topic)
    _require_topic_acl(session, access, row)
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
    _, sub = _consumer_sub(session, principal, project, subscription, lock=False)
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
    access = _admin(session, principal, project)
    pid = access.project_id
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
    if principal.is_anonymous:
        raise Unauthenticated("authentication required")
    subject = subject or principal.subject
    if subject != principal.subject and not principal.is_superuser:
        raise Forbidden("you may only read your own usage")
    rows = session.execute(
        select(T_PROJECT.c.name, T_USAGE)
        .join(T_USAGE, T_USAGE.c.project_id == T_PROJECT.c.id)
        .join(T_USER, T_USER.c.id == T_USAGE.c.user_id)
        .where(T_USER.c.subject == subject)
        .order_by(T_PROJECT.c.name)
    ).all()
    return {row.name: _usage(row) for row in rows}


# --- reads by id and in batches (GraphQL: node lookups and loaders) -------------------


def project_roles(session: Session, principal: Principal, *, project: str) -> frozenset[str]:
    """The caller's roles in a project they belong to; platform admins hold every role."""
    access = _access(session, principal, project, PROJECT_ROLES)
    return frozenset(PROJECT_ROLES) if access.superuser else access.roles


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
    access = _access(session, principal, project, PROJECT_ROLES)
    if not access.is_admin and ROLE_PUBLISHER not in access.roles:
        return {}
    stmt = (
        select(MsgTopic)
        .where(T_TOPIC.c.project_id == access.project_id, T_TOPIC.c.name.in_(list(names)))
        .execution_options(populate_existing=True)
    )
    if not access.is_admin:
        acl = select(T_TOPIC_ACL.c.topic_id).where(T_TOPIC_ACL.c.user_id == access.user_id)
        stmt = stmt.where(T_TOPIC.c.id.in_(acl))
    return {row.name: _topic_view(project, row) for row in session.execute(stmt).scalars()}


def acls(
    session: Session, principal: Principal, *, project: str, kind: str, ids: Sequence[int]
) -> dict[int, list[str]]:
    """The ACLs (subjects) of many topics (`kind` "topic") or subscriptions ("subscription")
    of the project, in one statement; project admins only, like get_*_acl."""
    access = _admin(session, principal, project)
    acl = TOPIC_ACL if kind == "topic" else SUBSCRIPTION_ACL
    table, key, owner = acl.table, acl.key, acl.owner
    rows = session.execute(
        select(table.c[key], T_USER.c.subject)
        .join(T_USER, T_USER.c.id == table.c.user_id)
        .join(owner, owner.c.id == table.c[key])
        .where(owner.c.project_id == access.project_id, table.c[key].in_(list(ids)))
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
    access = _admin(session, principal, project)
    rows = session.execute(
        select(MsgSubscription)
        .where(T_SUB.c.project_id == access.project_id, T_SUB.c.topic_id.in_(list(topic_ids)))
        .order_by(T_SUB.c.id)
        .execution_options(populate_existing=True)
    ).scalars()
    found: dict[int, list[SubscriptionView]] = {i: [] for i in topic_ids}
    for sub in rows:
        assert sub.topic_id is not None
        found[sub.topic_id].append(_sub_view(project, sub))
    return found


def offsets_of(
    session: Session, principal: Principal, *, project: str, subscriptions: Sequence[str]
) -> dict[str, Offsets]:
    """`offsets` of many subscriptions of the project in three statements; those the caller
    may not read, or whose topic is gone, are left out."""
    access = _access(session, principal, project, (ROLE_PROJECT_ADMIN, ROLE_CONSUMER))
    stmt = select(T_SUB.c.name, T_SUB.c.offset, T_SUB.c.topic_id).where(
        T_SUB.c.project_id == access.project_id,
        T_SUB.c.name.in_(list(subscriptions)),
        T_SUB.c.topic_id.is_not(None),
    )
    if not access.is_admin:
        acl = select(T_SUB_ACL.c.subscription_id).where(T_SUB_ACL.c.user_id == access.user_id)
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


# --- retention ----------------------------------------------------------------------------


def purge_expired_messages(session: Session, *, older_than: datetime) -> int:
    """Drop messages published before `older_than` (a periodic job's call; no principal).
    Per topic, everything up to its last expired offset goes, so what stays is contiguous
    (offsets stay the prefix-free [min, max) AMS reports)."""
    removed = 0
    cutoffs = session.execute(
        select(T_MESSAGE.c.topic_id, func.max(T_MESSAGE.c.offset))
        .where(T_MESSAGE.c.published_at < older_than)
        .group_by(T_MESSAGE.c.topic_id)
    ).all()
    for topic_id, cutoff in cutoffs:
        result = session.execute(
            delete(T_MESSAGE).where(T_MESSAGE.c.topic_id == topic_id, T_MESSAGE.c.offset <= cutoff)
        )
        removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.flush()
    return removed
