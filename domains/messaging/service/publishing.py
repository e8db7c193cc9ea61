"""Publishing: a batch of messages appended to a topic in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from domains.common.authz import authorize
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.messaging import notify, rules
from domains.messaging.errors import AmsInvalid, MessageTooLarge
from domains.messaging.rules import Action, MessagingRule
from domains.messaging.service._common import (
    T_MESSAGE,
    T_SUB,
    T_TOPIC,
    add_usage,
    project_for,
    record_event,
    topic_row,
)


class _Checked(NamedTuple):
    """A message to publish, decoded and within bounds."""

    data: bytes
    attributes: dict[str, str]
    size: int  # as AMS counts it: the data and the attributes


def _check_messages(messages: object, max_message_bytes: int) -> list[_Checked]:
    if not isinstance(messages, list | tuple) or not messages:
        raise AmsInvalid("messages", MessagingRule.MESSAGE_LIST_EMPTY, "Invalid Message Arguments")
    batch: list[_Checked] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise AmsInvalid(
                f"messages[{i}]", MessagingRule.MESSAGE_NOT_OBJECT, "Invalid Message Arguments"
            )
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
    proj = project_for(session, principal, project, Action.PUBLISH)
    target = topic_row(session, pk(proj), topic)
    authorize(session, principal, Action.PUBLISH, target)
    topic_id = pk(target)
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
    add_usage(session, pk(proj), principal.user_id, messages_in=count, bytes_in=total)
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
        record_event(
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
