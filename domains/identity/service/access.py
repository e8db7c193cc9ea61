"""Who may do what: the superuser gate, and actions allowed by granted roles over the
ownership tree."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.errors import Forbidden, Unauthenticated
from domains.common.identity import Principal
from domains.identity.models import EntityKind, Role, RoleStatus
from domains.identity.rules import Action, allowed_holders
from domains.topology import ownership


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


def can(session: Session, principal: Principal, action: Action, kind: str, entity_id: int) -> bool:
    """Whether `principal` may do `action` on the entity: a platform admin may do
    anything; anyone else needs a granted role allowing it on the entity or above it."""
    if principal.is_superuser:
        return True
    if principal.user_id is None:
        return False
    target = EntityKind("site" if kind == "service" else kind)
    holders = allowed_holders(action, target)
    if not holders:
        return False
    above = set(ownership.chain(session, kind, entity_id))
    for role in granted_roles(session, principal.user_id):
        allowed = holders.get(role.entity_type, frozenset())
        if role.role_type in allowed and (role.entity_type.value, role.entity_id) in above:
            return True
    return False


def authorize(
    session: Session, principal: Principal, action: Action, kind: str, entity_id: int
) -> None:
    """Raise Unauthenticated for the anonymous caller, Forbidden for a caller whose roles
    do not allow the action. The first line of every write."""
    if principal.is_anonymous:
        raise Unauthenticated("authentication required")
    if not can(session, principal, action, kind, entity_id):
        raise Forbidden(f"not allowed: {action.value} on this {kind.replace('_', ' ')}")


def require_authenticated(principal: Principal) -> None:
    if principal.is_anonymous:
        raise Unauthenticated("authentication required")


def projects_with_roles(session: Session, principal: Principal) -> frozenset[int]:
    """The projects in which the principal holds any granted role (directly on the project,
    or on one of its NGIs or their sites): the scope of READ_PERSONAL_DATA."""
    if principal.user_id is None:
        return frozenset()
    projects_of_ngi = ownership.projects_of_ngis(session)
    found: set[int] = set()
    for role in granted_roles(session, principal.user_id):
        for kind, entity_id in ownership.chain(session, role.entity_type.value, role.entity_id):
            if kind == "project":
                found.add(entity_id)
            elif kind == "ngi":
                found |= projects_of_ngi.get(entity_id, frozenset())
    return frozenset(found)


# --- roles ----------------------------------------------------------------------------


def personal_data_ngis(
    session: Session, principal: Principal, *, restricted: bool = True
) -> frozenset[int] | None:
    """NGIs whose personal data (contact e-mails, phones) the principal may read, or None
    for all of them. GOCDB's READ_PERSONAL_DATA: a granted role anywhere in the same
    project. With `restricted` off, every authenticated caller reads everything."""
    if principal.is_superuser or (not restricted and not principal.is_anonymous):
        return None
    if principal.user_id is None:
        return frozenset()
    projects = projects_with_roles(session, principal)
    return frozenset(
        ngi
        for ngi, in_projects in ownership.projects_of_ngis(session).items()
        if in_projects & projects
    )


def holds_any_role(session: Session, principal: Principal) -> bool:
    return principal.is_superuser or (
        principal.user_id is not None and bool(granted_roles(session, principal.user_id))
    )
