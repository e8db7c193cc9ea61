"""Granted roles, and the two gates of callers' standing (signed in, platform administrator)
for domains that do not call `domains.common.authz.authorize` yet (messaging)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.errors import Forbidden, Unauthenticated
from domains.common.identity import Principal
from domains.identity.models import Role, RoleStatus


def require_superuser(principal: Principal) -> None:
    if principal.is_anonymous:
        raise Unauthenticated("authentication required")
    if not principal.is_superuser:
        raise Forbidden("only platform administrators may do this")


def granted_roles(session: Session, user_id: int) -> list[Role]:
    return list(
        session.execute(
            select(Role).where(
                Role.user_id == user_id,  # type: ignore[arg-type]
                Role.status == RoleStatus.GRANTED,  # type: ignore[arg-type]
            )
        ).scalars()
    )


def require_authenticated(principal: Principal) -> None:
    if principal.is_anonymous:
        raise Unauthenticated("authentication required")
