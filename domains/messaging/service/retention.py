"""Retention: a periodic job drops expired messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from domains.messaging.service._common import T_MESSAGE


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
