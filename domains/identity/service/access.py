"""Granted roles, and the signed-in gate for the code that does not call
`domains.common.authz.authorize(..., Caller.SIGNED_IN)` yet (downtimes' queries, the
notification channels)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.db import reader_memo
from domains.identity.models import Role, RoleStatus


def granted_roles(session: Session, user_id: int) -> list[Role]:
    """The user's granted roles; a reader asks the database once per request (every
    authorization decision of a page of sites reads them)."""
    memo = reader_memo(session, "granted_roles")
    if memo is not None and user_id in memo:
        return list(memo[user_id])
    found = list(
        session.execute(
            select(Role).where(
                Role.user_id == user_id,  # type: ignore[arg-type]
                Role.status == RoleStatus.GRANTED,  # type: ignore[arg-type]
            )
        ).scalars()
    )
    if memo is not None:
        memo[user_id] = tuple(found)
    return found
