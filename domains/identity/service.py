"""Users, roles and authorization. `authorize` is the one gate every write passes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.entitlements import (
    claims_entitlements,
    entitlement_matches,
    parse_entitlements,
)
from domains.common.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.identity.models import EntityKind, Role, RoleStatus, User, UserIdentity
from domains.identity.rules import ROLE_TYPES, Action, allowed_holders
from domains.topology import ownership

# --- users --------------------------------------------------------------------------

LAST_SEEN_GRANULARITY = timedelta(minutes=5)


def _identified_user(session: Session, *, issuer: str, subject: str) -> User | None:
    identity = session.execute(
        select(UserIdentity).where(
            UserIdentity.issuer == issuer,  # type: ignore[arg-type]
            UserIdentity.subject == subject,  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    if identity is None:
        return None
    user = session.get(User, identity.user_id)
    assert user is not None  # the foreign key cascades
    return user


def _user_is_current(user: User, *, name: str | None, email: str | None, now: datetime) -> bool:
    """Whether ensure_user would write nothing."""
    return (
        (not name or user.name == name)
        and (not email or user.email == email)
        and user.last_seen_at is not None
        and now - user.last_seen_at <= LAST_SEEN_GRANULARITY
    )


def ensure_user(
    session: Session,
    *,
    issuer: str,
    subject: str,
    name: str | None = None,
    email: str | None = None,
) -> User:
    """The user behind an identity, created on first sight; name and e-mail refreshed."""
    user = _identified_user(session, issuer=issuer, subject=subject)
    if user is None:
        user = session.execute(
            select(User).where(User.subject == subject)  # type: ignore[arg-type]
        ).scalar_one_or_none()
        if user is None:
            user = User(subject=subject)
            session.add(user)
            session.flush()
        session.add(UserIdentity(user_id=pk(user), issuer=issuer, subject=subject))
    # Written only when something changed (what _user_is_current checks): a read request
    # looks the user up read-only and comes here, in a write of its own, only then.
    now = utcnow()
    if name and user.name != name:
        user.name = name
    if email and user.email != email:
        user.email = email
    if user.last_seen_at is None or now - user.last_seen_at > LAST_SEEN_GRANULARITY:
        user.last_seen_at = now
    session.flush()
    return user


class _Claimed(NamedTuple):
    """Who validated token claims say the caller is."""

    subject: str
    name: str | None
    email: str | None


def _claimed(claims: Mapping[str, Any]) -> _Claimed:
    subject = claims.get("voperson_id") or claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("the token names no subject")
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    return _Claimed(subject, name, email)


def _claims_principal(
    user: User, claims: Mapping[str, Any], admin_entitlements: Sequence[str]
) -> Principal:
    entitlements = claims_entitlements(claims)
    raw_assurance = claims.get("eduperson_assurance") or ()
    assurance = (raw_assurance,) if isinstance(raw_assurance, str) else tuple(raw_assurance)
    is_admin = user.is_admin or any(
        entitlement_matches(entitlements, wanted) for wanted in admin_entitlements
    )
    return Principal(
        # the user's own subject: one person under whichever linked identity they came
        subject=user.subject,
        name=user.name,
        email=user.email,
        is_admin=is_admin,
        user_id=pk(user),
        assurance=tuple(str(a) for a in assurance),
        vos=tuple(parse_entitlements(entitlements).values()),
    )


def principal_from_claims(
    session: Session,
    claims: Mapping[str, Any],
    *,
    issuer: str,
    admin_entitlements: Sequence[str] = (),
) -> Principal:
    """The Principal for validated token claims; the user is created on first sight.

    The subject is `voperson_id` (EGI's stable identifier), falling back to `sub`."""
    subject, name, email = _claimed(claims)
    user = ensure_user(session, issuer=issuer, subject=subject, name=name, email=email)
    return _claims_principal(user, claims, admin_entitlements)


def lookup_principal_from_claims(
    session: Session,
    claims: Mapping[str, Any],
    *,
    issuer: str,
    admin_entitlements: Sequence[str] = (),
    now: datetime | None = None,
) -> Principal | None:
    """principal_from_claims without writing, for a read-only transaction: None when the
    user is owed a write first (seen for the first time, name or e-mail changed, last sight
    to note), which principal_from_claims then does in a transaction of its own."""
    subject, name, email = _claimed(claims)
    user = _identified_user(session, issuer=issuer, subject=subject)
    if user is None or not _user_is_current(user, name=name, email=email, now=now or utcnow()):
        return None
    return _claims_principal(user, claims, admin_entitlements)


def link_identity(
    session: Session, principal: Principal, *, user_subject: str, issuer: str, subject: str
) -> UserIdentity:
    """Attach another identity (e.g. from a second IdP) to an existing user. Admins only."""
    require_superuser(principal)
    user = user_by_subject(session, user_subject)
    taken = session.execute(
        select(UserIdentity).where(
            UserIdentity.issuer == issuer,  # type: ignore[arg-type]
            UserIdentity.subject == subject,  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    if taken is not None:
        raise Conflict("that identity already belongs to a user")
    identity = UserIdentity(user_id=pk(user), issuer=issuer, subject=subject)
    session.add(identity)
    session.flush()
    audit.record(
        session,
        principal,
        action="user.link_identity",
        entity_type="user",
        entity_id=pk(user),
        entity_name=user.subject,
        changes={"identity": [None, f"{issuer} {subject}"]},
    )
    return identity


def make_admin(session: Session, principal: Principal, *, subject: str) -> User:
    require_superuser(principal)
    user = user_by_subject(session, subject, create=True)
    if not user.is_admin:
        user.is_admin = True
        session.flush()
        audit.record(
            session,
            principal,
            action="user.make_admin",
            entity_type="user",
            entity_id=pk(user),
            entity_name=subject,
            changes={"is_admin": [False, True]},
        )
    return user


def register_user(
    session: Session,
    principal: Principal,
    *,
    subject: str,
    name: str | None = None,
    email: str | None = None,
) -> User:
    """Bootstrap: the user with this subject, created if new, with the name and e-mail
    given (platform and admins only). Users otherwise come from their first login."""
    require_superuser(principal)
    user = user_by_subject(session, subject, create=True)
    changed = [
        field
        for field, value in (("name", name), ("email", email))
        if value is not None and getattr(user, field) != value
    ]
    if changed:
        if name is not None:
            user.name = name
        if email is not None:
            user.email = email
        session.flush()
        # which fields changed, not their values: an e-mail address is personal data
        audit.record(
            session,
            principal,
            action="user.register",
            entity_type="user",
            entity_id=pk(user),
            entity_name=subject,
            changes={field: [None, "set"] for field in changed},
        )
    return user


def user_by_subject(session: Session, subject: str, *, create: bool = False) -> User:
    """The user known by an OIDC subject; `create`: made on first mention (a role, a token
    or a project membership may be granted before the person ever logs in), else NotFound.
    No authorization: callers check theirs first."""
    user = session.execute(
        select(User).where(User.subject == subject)  # type: ignore[arg-type]
    ).scalar_one_or_none()
    if user is None:
        if not create:
            raise NotFound(f"no user with subject {subject!r}")
        user = User(subject=subject)
        session.add(user)
        session.flush()
    return user


def user_is_admin(session: Session, user_id: int) -> bool:
    user = session.get(User, user_id)
    return bool(user and user.is_admin)


# --- authorization --------------------------------------------------------------------


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


def _check_role_type(role_type: str, kind: EntityKind) -> None:
    if role_type not in ROLE_TYPES[kind]:
        allowed = ", ".join(sorted(ROLE_TYPES[kind]))
        raise Invalid("roleType", f"one of {allowed} for a {kind.value.replace('_', ' ')}")


def _entity_or_not_found(session: Session, kind: EntityKind, entity_id: int) -> str:
    name = ownership.name_of(session, kind.value, entity_id)
    if name is None:
        raise NotFound(f"no {kind.value.replace('_', ' ')} with id {entity_id}")
    return name


def _audit_role(
    session: Session,
    principal: Principal,
    role: Role,
    action: str,
    before: RoleStatus | None,
    reason: str | None = None,
) -> None:
    user = session.get(User, role.user_id)
    audit.record(
        session,
        principal,
        action=f"role.{action}",
        entity_type=role.entity_type.value,
        entity_id=role.entity_id,
        entity_name=ownership.name_of(session, role.entity_type.value, role.entity_id) or "",
        changes={
            "role": [None, role.role_type],
            "user": [None, user.subject if user else None],
            "status": [None if before is None else before.value, role.status.value],
        },
        reason=reason,
    )


def request_role(
    session: Session, principal: Principal, *, role_type: str, kind: EntityKind, entity_id: int
) -> Role:
    """Ask for a role: it waits in PENDING until someone entitled grants or rejects it."""
    require_authenticated(principal)
    if principal.user_id is None:
        raise Forbidden("only registered users may request roles")
    _check_role_type(role_type, kind)
    _entity_or_not_found(session, kind, entity_id)
    role = session.execute(
        select(Role).where(
            Role.user_id == principal.user_id,  # type: ignore[arg-type]
            Role.role_type == role_type,  # type: ignore[arg-type]
            Role.entity_type == kind,  # type: ignore[arg-type]
            Role.entity_id == entity_id,  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    before = None if role is None else role.status
    if role is not None and role.status in (RoleStatus.GRANTED, RoleStatus.PENDING):
        raise Invalid("roleType", f"you already hold or requested this role ({role.status.value})")
    if role is None:
        role = Role(
            user_id=principal.user_id,
            role_type=role_type,
            entity_type=kind,
            entity_id=entity_id,
            status=RoleStatus.PENDING,
        )
        session.add(role)
    else:
        role.status = RoleStatus.PENDING
        role.requested_at = utcnow()
        role.decided_at = None
        role.decided_by = None
    session.flush()
    _audit_role(session, principal, role, "request", before)
    return role


def _role(session: Session, role_id: int) -> Role:
    role = session.get(Role, role_id)
    if role is None:
        raise NotFound(f"no role with id {role_id}")
    return role


def _decide(
    session: Session,
    principal: Principal,
    role_id: int,
    action: Action,
    new_status: RoleStatus,
    verb: str,
    *,
    from_status: RoleStatus,
) -> Role:
    require_authenticated(principal)
    role = _role(session, role_id)
    authorize(session, principal, action, role.entity_type.value, role.entity_id)
    if role.status is not from_status:
        raise Invalid(
            "roleId",
            f"only a {from_status.value} role can be {verb}; this one is {role.status.value}",
        )
    before = role.status
    role.status = new_status
    role.decided_at = utcnow()
    role.decided_by = principal.subject
    session.flush()
    _audit_role(session, principal, role, verb, before)
    return role


def grant_role(session: Session, principal: Principal, *, role_id: int) -> Role:
    return _decide(
        session,
        principal,
        role_id,
        Action.GRANT_ROLE,
        RoleStatus.GRANTED,
        "granted",
        from_status=RoleStatus.PENDING,
    )


def reject_role(session: Session, principal: Principal, *, role_id: int) -> Role:
    return _decide(
        session,
        principal,
        role_id,
        Action.REJECT_ROLE,
        RoleStatus.REJECTED,
        "rejected",
        from_status=RoleStatus.PENDING,
    )


def revoke_role(session: Session, principal: Principal, *, role_id: int) -> Role:
    """Users may give up their own roles; revoking someone else's needs REVOKE_ROLE."""
    require_authenticated(principal)
    role = _role(session, role_id)
    if role.user_id == principal.user_id and role.status is RoleStatus.GRANTED:
        before = role.status
        role.status = RoleStatus.REVOKED
        role.decided_at = utcnow()
        role.decided_by = principal.subject
        session.flush()
        _audit_role(session, principal, role, "revoked", before)
        return role
    return _decide(
        session,
        principal,
        role_id,
        Action.REVOKE_ROLE,
        RoleStatus.REVOKED,
        "revoked",
        from_status=RoleStatus.GRANTED,
    )


def grant_role_directly(
    session: Session,
    principal: Principal,
    *,
    subject: str,
    role_type: str,
    kind: EntityKind,
    entity_id: int,
) -> Role:
    """Bootstrap: give a user a role without a request (platform and admins only)."""
    require_superuser(principal)
    _check_role_type(role_type, kind)
    _entity_or_not_found(session, kind, entity_id)
    user = user_by_subject(session, subject, create=True)
    role = session.execute(
        select(Role).where(
            Role.user_id == pk(user),  # type: ignore[arg-type]
            Role.role_type == role_type,  # type: ignore[arg-type]
            Role.entity_type == kind,  # type: ignore[arg-type]
            Role.entity_id == entity_id,  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    before = None if role is None else role.status
    if role is None:
        role = Role(
            user_id=pk(user),
            role_type=role_type,
            entity_type=kind,
            entity_id=entity_id,
            status=RoleStatus.GRANTED,
        )
        session.add(role)
    elif role.status is RoleStatus.GRANTED:
        return role
    role.status = RoleStatus.GRANTED
    role.decided_at = utcnow()
    role.decided_by = principal.subject
    session.flush()
    _audit_role(session, principal, role, "granted", before)
    return role


@dataclass(frozen=True, slots=True)
class RoleView:
    id: int
    role_type: str
    entity_type: str
    entity_id: int
    entity_name: str
    status: str
    user_subject: str | None


def roles_of_user(session: Session, principal: Principal, *, user_id: int) -> list[RoleView]:
    """A user's roles of every status; a user reads their own, admins anyone's."""
    require_authenticated(principal)
    if principal.user_id != user_id and not principal.is_superuser:
        raise Forbidden("you may only list your own roles")
    roles = session.execute(
        select(Role).where(Role.user_id == user_id).order_by(Role.id)  # type: ignore[arg-type]
    ).scalars()
    return [_view(session, role) for role in roles]


def pending_roles(session: Session, principal: Principal) -> list[RoleView]:
    """Role requests the principal may decide on."""
    require_authenticated(principal)
    roles = session.execute(
        select(Role).where(Role.status == RoleStatus.PENDING).order_by(Role.id)  # type: ignore[arg-type]
    ).scalars()
    return [
        _view(session, role)
        for role in roles
        if can(session, principal, Action.GRANT_ROLE, role.entity_type.value, role.entity_id)
    ]


def visible_roles(
    session: Session, principal: Principal, *, role_ids: Sequence[int]
) -> list[RoleView]:
    """Roles by id that the principal may see: their own, or ones they may decide on."""
    out: list[RoleView] = []
    for role_id in role_ids:
        role = session.get(Role, role_id)
        if role is None:
            continue
        if role.user_id == principal.user_id or can(
            session, principal, Action.GRANT_ROLE, role.entity_type.value, role.entity_id
        ):
            out.append(_view(session, role))
    return out


def view_of(session: Session, role: Role) -> RoleView:
    return _view(session, role)


def _view(session: Session, role: Role) -> RoleView:
    user = session.get(User, role.user_id)
    return RoleView(
        id=pk(role),
        role_type=role.role_type,
        entity_type=role.entity_type.value,
        entity_id=role.entity_id,
        entity_name=ownership.name_of(session, role.entity_type.value, role.entity_id) or "",
        status=role.status.value,
        user_subject=user.subject if user else None,
    )


def entity_kind(value: str) -> EntityKind:
    try:
        return EntityKind(value)
    except ValueError as exc:
        kinds = ", ".join(k.value for k in EntityKind)
        raise Invalid("entityType", f"one of {kinds}") from exc


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
