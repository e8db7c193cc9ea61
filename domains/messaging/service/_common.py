"""What the service modules share: the tables, the access and ACL checks, the audit and
outbox hooks, table rows turned into the rows of `rows.py`, AMS paging, usage counters and
the push settings a subscription is given. Their names are public for the modules of this
package; the package itself exports only the tables, the two ACLs and settings_of."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, delete, false, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domains.common import audit, outbox
from domains.common.authz import Caller, authorize, can
from domains.common.egress import EgressPolicy, EgressRefused
from domains.common.identity import Principal
from domains.common.models import pk
from domains.identity.models import User
from domains.messaging import rules
from domains.messaging.errors import AmsInvalid, AmsNotFound, UnknownProject
from domains.messaging.models import (
    MsgMember,
    MsgMessage,
    MsgProject,
    MsgSubscription,
    MsgSubscriptionAcl,
    MsgTopic,
    MsgTopicAcl,
    MsgUsage,
)
from domains.messaging.rows import ProjectView, PushDelivery, SubscriptionView, TopicView
from domains.messaging.rules import (
    PUSH_FIELDS,
    PUSH_HTTP,
    PUSH_MATTERMOST,
    Action,
    MessagingRule,
    PushSettings,
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


# --- events (outbox hook) -----------------------------------------------------------------


def record_event(session: Session, kind: str, payload: Mapping[str, Any]) -> None:
    """In the change's own transaction (the outbox). Kinds: messaging.published,
    messaging.push_changed."""
    outbox.emit(session, kind, payload)


# --- access -------------------------------------------------------------------------------


def project_for(session: Session, principal: Principal, project: str, action: Action) -> MsgProject:
    """The named project, once the caller may do `action` in it: Unauthenticated for the
    anonymous caller (before anything is looked up), NotFound for an unknown project,
    Forbidden for a caller without the action's role. The caller's member row comes with
    the project, so the policy reads the roles without another statement."""
    authorize(session, principal, Caller.SIGNED_IN)
    member_match = (
        and_(T_MEMBER.c.project_id == T_PROJECT.c.id, T_MEMBER.c.user_id == principal.user_id)
        if principal.user_id is not None
        else false()
    )
    row = session.execute(
        select(MsgProject, MsgMember)
        .outerjoin(MsgMember, member_match)
        .where(T_PROJECT.c.name == project)
    ).first()
    if row is None:
        raise UnknownProject()
    authorize(session, principal, action, row[0])
    return row[0]


def project_row(session: Session, project: str) -> MsgProject:
    """The named project, for a caller already authorized (a platform administrator)."""
    row = session.execute(select(MsgProject).where(T_PROJECT.c.name == project)).scalar()
    if row is None:
        raise UnknownProject()
    return row


def administers(session: Session, principal: Principal, project: MsgProject) -> bool:
    """Whether the caller administers the project (and so sees every topic, subscription
    and ACL in it, whatever the ACLs say)."""
    return can(session, principal, Action.MANAGE_PROJECT, project)


@dataclass(frozen=True, slots=True)
class Acl:
    """One of the two ACLs: its link table, the column naming what it guards, the table of
    what it guards, and the entity type its audit entries carry."""

    table: Table
    key: str
    owner: Table
    entity_type: str


TOPIC_ACL = Acl(T_TOPIC_ACL, "topic_id", T_TOPIC, "msg_topic")
SUBSCRIPTION_ACL = Acl(T_SUB_ACL, "subscription_id", T_SUB, "msg_subscription")


def consumer_sub(
    session: Session,
    principal: Principal,
    project: str,
    subscription: str,
    *,
    lock: bool,
    action: Action = Action.CONSUME,
) -> tuple[MsgProject, MsgSubscription]:
    """The subscription, once the caller may consume from it (`action`: CONSUME or PULL)."""
    row = project_for(session, principal, project, action)
    sub = sub_row(session, pk(row), subscription, lock=lock)
    authorize(session, principal, action, sub)
    return row, sub


def record_audit(
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


# --- lookups and views --------------------------------------------------------------------


def topic_row(session: Session, project_id: int, name: str) -> MsgTopic:
    # populate_existing: publish moves counters with Core UPDATEs behind the ORM's back
    topic = session.execute(
        select(MsgTopic)
        .where(T_TOPIC.c.project_id == project_id, T_TOPIC.c.name == name)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if topic is None:
        raise AmsNotFound("Topic doesn't exist")
    return topic


def sub_row(session: Session, project_id: int, name: str, *, lock: bool = False) -> MsgSubscription:
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


def subject_of(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.execute(
        select(T_USER.c.subject).where(T_USER.c.id == user_id)
    ).scalar_one_or_none()


def project_view(session: Session, project: MsgProject) -> ProjectView:
    return ProjectView(
        id=pk(project),
        name=project.name,
        description=project.description,
        created_at=project.created_at,
        modified_at=project.modified_at,
        created_by=subject_of(session, project.created_by),
    )


def topic_view(project: str, topic: MsgTopic) -> TopicView:
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


def sub_view(project: str, sub: MsgSubscription) -> SubscriptionView:
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


def keyset(
    session: Session, stmt: Select[Any], key: Any, first: int | None, after: int | None
) -> tuple[list[Any], bool, bool, int]:
    """Keyset paging (domains/common/pagination): the rows of `stmt` by ascending `key`
    after the key `after`, at most `first` of them (None: all), whether more follow,
    whether any came before, and the size of the whole list."""
    total = int(
        session.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        ).scalar_one()
    )
    paged = stmt.order_by(key)
    if after is not None:
        paged = paged.where(key > after)
    if first is not None:
        paged = paged.limit(first + 1)
    rows = list(session.execute(paged).all())
    has_next = first is not None and len(rows) > first
    return (rows[:first] if first is not None else rows), has_next, after is not None, total


# --- ACLs ---------------------------------------------------------------------------------


def acl_subjects(session: Session, acl: Acl, entity_id: int) -> list[str]:
    return list(
        session.execute(
            select(T_USER.c.subject)
            .join(acl.table, acl.table.c.user_id == T_USER.c.id)
            .where(acl.table.c[acl.key] == entity_id)
            .order_by(T_USER.c.subject)
        ).scalars()
    )


def replace_acl(
    session: Session,
    principal: Principal,
    project: MsgProject,
    acl: Acl,
    entity_id: int,
    name: str,
    users: object,
) -> list[str]:
    """Replace an ACL by project members named by subject, audited when it changed; the
    new ACL."""
    if not isinstance(users, list | tuple) or not all(isinstance(u, str) for u in users):
        raise AmsInvalid(
            "authorized_users", MessagingRule.MESSAGING_ACL_USERS_INVALID, "Invalid ACL Arguments"
        )
    wanted = list(dict.fromkeys(users))
    rows = session.execute(
        select(T_USER.c.subject, T_USER.c.id)
        .join(T_MEMBER, T_MEMBER.c.user_id == T_USER.c.id)
        .where(T_MEMBER.c.project_id == pk(project), T_USER.c.subject.in_(wanted))
    ).all()
    found: dict[str, int] = {row.subject: row.id for row in rows}
    missing = [u for u in wanted if u not in found]
    if missing:
        raise AmsNotFound(f"User(s): {', '.join(missing)} do not exist")
    before = acl_subjects(session, acl, entity_id)
    session.execute(delete(acl.table).where(acl.table.c[acl.key] == entity_id))
    if wanted:
        session.execute(
            insert(acl.table), [{acl.key: entity_id, "user_id": found[u]} for u in wanted]
        )
    session.flush()
    after = sorted(wanted)
    if before != after:
        record_audit(
            session,
            principal,
            f"{acl.entity_type}.acl",
            acl.entity_type,
            entity_id,
            name,
            {"authorized_users": [before, after]},
        )
    return after


# --- usage --------------------------------------------------------------------------------


def add_usage(session: Session, project_id: int, user_id: int | None, **deltas: int) -> None:
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


# --- push settings (a new subscription's and a changed one's) -----------------------------


def apply_push(sub: MsgSubscription, settings: PushSettings, now: datetime) -> None:
    for name in PUSH_FIELDS:
        setattr(sub, name, getattr(settings, name))
    sub.push_status = ""
    sub.backoff_ms = rules.initial_backoff_ms(settings)
    sub.consecutive_failures = 0
    sub.last_error = None
    sub.next_attempt_at = now if settings.is_push and settings.verified else None


def push_changes(before: PushSettings, after: PushSettings) -> dict[str, list[Any]]:
    """The audit diff of a push configuration; audit.record masks its secrets."""
    changes: dict[str, list[Any]] = {}
    for name in PUSH_FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes[name] = [old, new]
    return changes


def check_destination(settings: PushSettings, egress: EgressPolicy) -> None:
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
            MessagingRule.SUBSCRIPTION_PUSH_DESTINATION_REFUSED,
            f"Push endpoint refused by the egress policy: {exc.reason}",
        ) from exc
