"""Loading a GOCDB's users and their granted roles as they are (`opsgraph import gocdb`):
a user keeps GOCDB's id; their identities are the X.509 DN (issuer `X.509`, what a client
certificate signs in as) and the EGI Check-in identifier GOCDB holds, the latter also
being the user's subject (what an OIDC login from Check-in finds them by). Personal data
is audited as set or unset only. Roles are added (granted) and never taken away: a role
granted here after the migration is not GOCDB's to revoke."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.authz import Caller, authorize
from domains.common.identity import Principal
from domains.common.imports import (
    ImportRefused,
    Tally,
    advance_id_sequences,
    check_distinct,
    finish,
    prefetch,
    upsert_row,
)
from domains.common.time import utcnow
from domains.identity.models import EntityKind, Role, RoleStatus, User, UserIdentity

X509_ISSUER = "X.509"
PERSONAL = frozenset(
    {
        "name",
        "email",
        "forename",
        "surname",
        "title",
        "telephone",
        "working_hours_start",
        "working_hours_end",
    }
)


@dataclass(frozen=True)
class RoleRow:
    """A granted role over an entity already resolved to our (kind, id)."""

    role_type: str
    entity_type: EntityKind
    entity_id: int


@dataclass(frozen=True)
class UserRow:
    """`values`: User's columns (id, forename, surname, title, email, telephone, working
    hours, home_site_id); `dn` and `checkin`: the identifiers GOCDB holds, at least one."""

    values: Mapping[str, Any]
    dn: str | None
    checkin: str | None
    roles: tuple[RoleRow, ...] = ()


def _identities(row: UserRow, checkin_issuer: str | None) -> list[tuple[str, str]]:
    found = []
    if row.dn:
        found.append((X509_ISSUER, row.dn))
    if row.checkin and checkin_issuer:
        found.append((checkin_issuer, row.checkin))
    return found


def import_users(
    session: Session,
    principal: Principal,
    rows: Sequence[UserRow],
    tally: Tally,
    *,
    checkin_issuer: str | None = None,
) -> None:
    """`checkin_issuer`: the OIDC issuer the Check-in identifiers are linked under (the
    instance's OIDC issuer); without one they are only the users' subjects."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    check_distinct((r.values["id"] for r in rows), "user")
    subjects = {}
    for r in rows:
        subject = r.checkin or r.dn
        if not subject:
            raise ImportRefused(f"user {r.values['id']}G0", "has neither a DN nor a Check-in id")
        subjects[r.values["id"]] = subject
    held: dict[str, int] = dict(
        session.execute(
            select(User.subject, User.id).where(User.subject.in_(sorted(subjects.values())))  # type: ignore[attr-defined,call-overload]
        ).all()
    )
    pairs = [p for r in rows for p in _identities(r, checkin_issuer)]
    linked = {
        (i.issuer, i.subject): i.user_id
        for i in session.execute(
            select(UserIdentity).where(UserIdentity.subject.in_(sorted({s for _, s in pairs})))  # type: ignore[attr-defined]
        ).scalars()
    }
    for r in rows:
        ident, entity = r.values["id"], f"user {r.values['id']}G0"
        if held.get(subjects[ident], ident) != ident:
            raise ImportRefused(entity, f"subject {subjects[ident]!r} is another user's")
        for pair in _identities(r, checkin_issuer):
            if linked.get(pair, ident) != ident:
                raise ImportRefused(entity, f"identity {pair[1]!r} is another user's")
    prefetch(session, User, subjects)
    for ident, subject in subjects.items():
        there = session.get(User, ident)
        if there is not None and there.subject != subject:
            # an identity is never moved from one person to another by an import
            raise ImportRefused(f"user {ident}G0", f"id {ident} is held by user {there.subject!r}")
    for r in rows:
        ident = r.values["id"]
        values = {**r.values, "subject": subjects[ident]}
        full = " ".join(p for p in (r.values.get("forename"), r.values.get("surname")) if p)
        values["name"] = full or None
        row, created, changes = upsert_row(session, User, values, entity=f"user {ident}G0")
        for issuer, subject in _identities(r, checkin_issuer):
            if (issuer, subject) not in linked:
                session.add(UserIdentity(user_id=ident, issuer=issuer, subject=subject))
                changes[f"identity:{issuer}"] = [None, subject]
        changes |= _grant(session, principal, ident, r.roles)
        finish(
            session,
            principal,
            "user",
            row,
            created=created,
            changes=changes,
            tally=tally,
            private=PERSONAL,
            name=subjects[ident],
        )
    advance_id_sequences(session, User)


def _grant(
    session: Session, principal: Principal, user_id: int, roles: Sequence[RoleRow]
) -> dict[str, list[Any]]:
    """The user's roles made to include `roles`, granted; what changed, per role."""
    current = {
        (r.role_type, r.entity_type, r.entity_id): r
        for r in session.execute(select(Role).where(Role.user_id == user_id)).scalars()  # type: ignore[arg-type]
    }
    changes: dict[str, list[Any]] = {}
    for wanted in roles:
        key = (wanted.role_type, wanted.entity_type, wanted.entity_id)
        label = f"role:{wanted.role_type} on {wanted.entity_type.value} {wanted.entity_id}"
        role = current.get(key)
        if role is None:
            role = Role(
                user_id=user_id,
                role_type=wanted.role_type,
                entity_type=wanted.entity_type,
                entity_id=wanted.entity_id,
                status=RoleStatus.GRANTED,
                decided_at=utcnow(),
                decided_by=audit.actor_of(principal),
            )
            session.add(role)
            current[key] = role
            changes[label] = [None, RoleStatus.GRANTED.value]
        elif role.status is not RoleStatus.GRANTED:
            changes[label] = [role.status.value, RoleStatus.GRANTED.value]
            role.status = RoleStatus.GRANTED
            role.decided_at = utcnow()
    session.flush()
    return changes
