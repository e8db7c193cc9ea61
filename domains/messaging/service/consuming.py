"""Consuming a subscription: its topic's messages read (what a pull returns and what a push
cycle sends), acknowledged, and the committed offset moved."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from domains.common.authz import authorize
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.messaging import rules
from domains.messaging.errors import AckRejected, AckTimeout, AmsConflict, AmsInvalid
from domains.messaging.rows import Offsets, ReceivedMessage
from domains.messaging.rules import Action, MessagingRule
from domains.messaging.service._common import (
    T_MESSAGE,
    T_TOPIC,
    add_usage,
    consumer_sub,
    project_for,
    record_audit,
    sub_row,
)

NO_TOPIC = "Subscription's topic doesn't exist"


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


def read_payloads(
    session: Session, *, topic_id: int, offset: int, limit: int
) -> list[tuple[int, bytes, Mapping[str, Any]]]:
    """(offset, data, attributes) of up to `limit` (1..MAX_PULL) messages of the topic from
    `offset` on, in order: `read_messages` for an in-process consumer that needs no ack id,
    publish time or size (the monitoring topic's ingester). The attributes come as JSON text
    and each distinct text is decoded once (a publisher's messages mostly share theirs), so
    the mappings may be shared between messages: read them, never change them."""
    rows = session.execute(
        select(T_MESSAGE.c.offset, T_MESSAGE.c.data, cast(T_MESSAGE.c.attributes, Text))
        .where(T_MESSAGE.c.topic_id == topic_id, T_MESSAGE.c.offset >= offset)
        .order_by(T_MESSAGE.c.offset)
        .limit(min(max(limit, 1), rules.MAX_PULL))
    ).all()
    decoded: dict[str | None, Mapping[str, Any]] = {}
    out: list[tuple[int, bytes, Mapping[str, Any]]] = []
    for at, data, attributes in rows:
        found = decoded.get(attributes)
        if found is None:
            found = decoded[attributes] = (json.loads(attributes) if attributes else None) or {}
        out.append((int(at), bytes(data), found))
    return out


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
    proj = project_for(session, principal, project, Action.CONSUME)
    sub = sub_row(session, pk(proj), subscription, lock=True)
    authorize(session, principal, Action.PULL, sub)
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
        add_usage(session, pk(proj), principal.user_id, messages_out=len(received), bytes_out=out)
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
    _, sub = consumer_sub(session, principal, project, subscription, lock=True)
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
    _, sub = consumer_sub(session, principal, project, subscription, lock=False)
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
    _, sub = consumer_sub(session, principal, project, subscription, lock=False)
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
    _, sub = consumer_sub(session, principal, project, subscription, lock=True)
    if sub.topic_id is None:
        raise AmsConflict(NO_TOPIC)
    low, high = _bounds(session, sub.topic_id)
    if isinstance(offset, bool) or not isinstance(offset, int) or not low <= offset <= high:
        raise AmsInvalid(
            "offset",
            MessagingRule.SUBSCRIPTION_OFFSET_OUT_OF_BOUNDS,
            "Offset out of bounds",
        )
    before = sub.offset
    sub.offset = offset
    sub.next_offset = offset
    sub.pending_ack_at = None
    session.flush()
    record_audit(
        session,
        principal,
        "msg_subscription.offset",
        "msg_subscription",
        pk(sub),
        f"{project}/{subscription}",
        {"offset": [before, offset]},
    )
