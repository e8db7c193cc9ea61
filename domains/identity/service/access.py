"""Granted roles, and the signed-in gate for the code that does not call
`domains.common.authz.authorize(..., Caller.SIGNED_IN)` yet (downtimes' queries, the
notification channels)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.identity.models import Role, RoleStatus


def granted_roles(session: Session, user_id: int) -> list[Role]:
    return list(
        session.execute(
            select(Role).where(
                Role.user_id == user_id,  # type: ignore[arg-type]
                Role.status == RoleStatus.GRANTED,  # type: ignore[arg-type]
            )
        ).scalars()
    )
