"""Users and their linked identities; the Principal of validated token claims."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common import audit
from domains.common.authz import Caller, authorize
from domains.common.entitlements import (
    claims_entitlements,
    entitlement_matches,
    parse_entitlements,
)
from domains.common.errors import Conflict, NotFound, Unauthenticated
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.identity.models import User, UserIdentity

LAST_SEEN_GRANULARITY = timedelta(minutes=5)
# the issuer of a UserIdentity whose subject is an X.509 DN (GOCDB's identifier type)
X509_ISSUER = "X.509"


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


def principal_for_client_dn(session: Session, dn: str) -> Principal:
    """The caller behind a verified client certificate: the user the DN is linked to
    (UserIdentity issuer "X.509") or whose own subject is the DN (a user registered under
    it, e.g. by `admin grant-role --subject DN`), or else a principal of the DN alone (no
    user row is made: GOCDB's API credentials are such DNs). Reads only."""
    user = _identified_user(session, issuer=X509_ISSUER, subject=dn)
    if user is None:
        user = session.execute(
            select(User).where(User.subject == dn)  # type: ignore[arg-type]
        ).scalar_one_or_none()
    if user is None:
        return Principal(subject=dn, name=dn, client_dn=dn)
    return Principal(
        subject=user.subject,
        name=user.name,
        email=user.email,
        is_admin=user.is_admin,
        user_id=pk(user),
        client_dn=dn,
    )


def link_identity(
    session: Session, principal: Principal, *, user_subject: str, issuer: str, subject: str
) -> UserIdentity:
    """Attach another identity (e.g. from a second IdP) to an existing user. Admins only."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
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
    authorize(session, principal, Caller.PLATFORM_ADMIN)
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
    authorize(session, principal, Caller.PLATFORM_ADMIN)
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


def own_user(session: Session, principal: Principal) -> User | None:
    """The caller's own user row (their profile: what GOCDB keeps of a person), or None for
    a caller without one. Nobody else's: no authorization beyond being that user."""
    if principal.user_id is None:
        return None
    return session.get(User, principal.user_id)


def user_is_admin(session: Session, user_id: int) -> bool:
    user = session.get(User, user_id)
    return bool(user and user.is_admin)


def certificate_dns(session: Session, principal: Principal) -> tuple[str, ...]:
    """The X.509 DNs (slash form) that are the caller's own: the client certificate they
    presented, and, for a user, the DNs linked to them (UserIdentity issuer "X.509") and
    their subject when it is a DN (a user registered under it). Sorted, without repeats."""
    found: set[str] = set()
    if principal.client_dn:
        found.add(principal.client_dn)
    if principal.user_id is not None:
        found.update(
            session.execute(
                select(col(UserIdentity.subject)).where(
                    col(UserIdentity.user_id) == principal.user_id,
                    col(UserIdentity.issuer) == X509_ISSUER,
                )
            ).scalars()
        )
        user = session.get(User, principal.user_id)
        if user is not None and user.subject.startswith("/"):
            found.add(user.subject)
    return tuple(sorted(found))
