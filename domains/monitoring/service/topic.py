"""ARGO's `metric_data` messages from the monitoring topic (OPSGRAPH_MONITORING_PROJECT /
OPSGRAPH_MONITORING_TOPIC, default `monitoring` / `metric_data`) into `ingest_results`.

External monitoring engines publish there exactly as they publish to ARGO (the AMS routes,
argo-ams-library, argo-nagios-ams-publisher); whoever the topic's ACL lets publish is a
monitoring host. The ingester reads the topic with a cursor of its own
(`monitoring_topic_cursor`, no AMS subscription a user could see or break): one batch, its
results and the cursor's move commit in one transaction, so a batch is ingested once, and a
crash before the commit reads it again. The cursor row is locked for the batch (FOR UPDATE
on PostgreSQL; SQLite's writers take turns), so two workers never ingest the same messages.
A message that is no result (malformed Avro, another `type`) is a rejection like a bad
result; neither stops the batch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domains.common.time import utcnow
from domains.messaging import service as messaging
from domains.monitoring.models.results import TopicCursor
from domains.monitoring.service.results import (
    IngestOutcome,
    IngestPolicy,
    Message,
    ingest_messages,
)

T_CURSOR: Table = TopicCursor.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class TopicBatch:
    messages: int  # read from the topic (ingested or rejected)
    next_offset: int  # the cursor after the batch
    outcome: IngestOutcome


def topic_source(project: str, topic: str) -> str:
    return f"topic:{project}/{topic}"


def _topic(session: Session, project: str, topic: str) -> tuple[int, int] | None:
    """(id, next offset to be assigned) of the topic; None while it does not exist."""
    found = session.execute(
        select(messaging.T_TOPIC.c.id, messaging.T_TOPIC.c.next_offset)
        .join(messaging.T_PROJECT, messaging.T_PROJECT.c.id == messaging.T_TOPIC.c.project_id)
        .where(messaging.T_PROJECT.c.name == project, messaging.T_TOPIC.c.name == topic)
    ).first()
    return None if found is None else (int(found[0]), int(found[1]))


def _locked_cursor(session: Session, project: str, topic: str, now: dt.datetime) -> int:
    locked = (
        select(T_CURSOR.c.next_offset)
        .where(T_CURSOR.c.project == project, T_CURSOR.c.topic == topic)
        .with_for_update()
    )
    found = session.execute(locked).scalar_one_or_none()
    if found is not None:  # every batch but the topic's first: one round trip
        return int(found)
    make = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        make(T_CURSOR)
        .values(project=project, topic=topic, next_offset=0, updated_at=now)
        .on_conflict_do_nothing()
    )
    return int(session.execute(locked).scalar_one())


def ingest_topic(
    session: Session,
    *,
    project: str,
    topic: str,
    limit: int = 1000,
    policy: IngestPolicy | None = None,
    now: dt.datetime | None = None,
) -> TopicBatch | None:
    """Ingest up to `limit` messages from the cursor on and move it past them; None while
    the topic does not exist. Flushes, never commits."""
    now = now or utcnow()
    found = _topic(session, project, topic)
    if found is None:
        return None
    topic_id, high = found
    offset = _locked_cursor(session, project, topic, now)
    if offset > high:
        offset = 0  # the topic was deleted and made again: its offsets start over
    received = messaging.read_payloads(session, topic_id=topic_id, offset=offset, limit=limit)
    if received:
        outcome = ingest_messages(
            session,
            topic_source(project, topic),
            [Message(attributes, data) for _, data, attributes in received],
            policy=policy,
            now=now,
        )
        offset = received[-1][0] + 1
    else:
        outcome = IngestOutcome(accepted=0)
    session.execute(
        update(T_CURSOR)
        .where(T_CURSOR.c.project == project, T_CURSOR.c.topic == topic)
        .values(next_offset=offset, updated_at=now)
    )
    session.flush()
    return TopicBatch(messages=len(received), next_offset=offset, outcome=outcome)
