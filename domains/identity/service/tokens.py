"""Per-user API tokens: created and revoked by their owner (or an administrator), shown in
clear once, stored as SHA-256. A token acts as its user, with the user's own rights."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.authz import Caller, authorize
from domains.common.errors import Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.identity.models import ApiToken, User
from domains.identity.rules import MAX_TOKEN_NAME, MAX_TOKENS_PER_USER, IdentityRule
from domains.identity.service.users import user_by_subject

# Writing last_used_at on every request would turn each read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=5)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    session: Session,
    principal: Principal,
    *,
    name: str,
    user_subject: str | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the caller, or for `user_subject` (administrators only; the user is
    created if unknown, as the CLI bootstrap needs). Returns the row and the secret."""
    authorize(session, principal, Caller.REGISTERED_USER)
    if user_subject is not None and user_subject != principal.subject:
        if not principal.is_superuser:
            raise Forbidden("only platform administrators may create tokens for others")
        user = user_by_subject(session, user_subject, create=True)
    else:
        if principal.user_id is None:
            # the platform, or a client certificate linked to no user
            raise Forbidden("only registered users hold API tokens; name a user")
        own = session.get(User, principal.user_id)
        if own is None:
            raise NotFound("no such user")
        user = own
    name = name.strip()
    if not name:
        raise Invalid("name", IdentityRule.TOKEN_NAME_EMPTY)
    if len(name) > MAX_TOKEN_NAME:
        raise Invalid(
            "name", IdentityRule.TOKEN_NAME_TOO_LONG, f"name: at most {MAX_TOKEN_NAME} characters"
        )
    current = now or utcnow()
    if expires_at is not None and expires_at.tzinfo is None:
        raise Invalid("expiresAt", IdentityRule.TOKEN_EXPIRY_WITHOUT_OFFSET)
    if expires_at is not None and expires_at <= current:
        raise Invalid("expiresAt", IdentityRule.TOKEN_EXPIRY_PAST)
    live = [t for t in _tokens_of(session, pk(user)) if _is_live(t, current)]
    if len(live) >= MAX_TOKENS_PER_USER:
        raise Invalid(
            "name",
            IdentityRule.TOKEN_LIMIT_REACHED,
            f"name: a user may hold at most {MAX_TOKENS_PER_USER} live tokens",
        )
    secret = secrets.token_hex(20)
    token = ApiToken(
        user_id=pk(user),
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:8],
        created_at=current,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        principal,
        action="api_token.create",
        entity_type="api_token",
        entity_id=pk(token),
        entity_name=f"{user.subject}: {name}",
    )
    return token, secret


def _tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.execute(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)  # type: ignore[arg-type]
            .order_by(ApiToken.id)  # type: ignore[arg-type]
        ).scalars()
    )


def _is_live(token: ApiToken, now: datetime) -> bool:
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def list_api_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    """The caller's own tokens, revoked ones included (never the secrets)."""
    authorize(session, principal, Caller.SIGNED_IN)
    if principal.user_id is None:
        return []
    return _tokens_of(session, principal.user_id)


def revoke_api_token(
    session: Session, principal: Principal, *, token_id: int, now: datetime | None = None
) -> ApiToken:
    authorize(session, principal, Caller.SIGNED_IN)
    token = session.get(ApiToken, token_id)
    # Someone else's token reads as missing: its existence is not the caller's business.
    if token is None or (token.user_id != principal.user_id and not principal.is_superuser):
        raise NotFound(f"no API token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        session.flush()
        audit.record(
            session,
            principal,
            action="api_token.revoke",
            entity_type="api_token",
            entity_id=pk(token),
            entity_name=token.name,
        )
    return token


def revoke_api_tokens_named(
    session: Session, principal: Principal, *, user_subject: str, name: str
) -> int:
    """Revoke a user's live tokens of this name (administrators only); how many. For tokens
    whose secret is lost, such as the demo personas' when their file is gone."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    user = user_by_subject(session, user_subject, create=True)
    now = utcnow()
    revoked = 0
    for token in _tokens_of(session, pk(user)):
        if token.name == name and _is_live(token, now):
            revoke_api_token(session, principal, token_id=pk(token), now=now)
            revoked += 1
    return revoked


def reissue_api_token(
    session: Session,
    principal: Principal,
    *,
    user_subject: str,
    name: str,
    keep: int = 1,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token `name` for the user (created if new), who keeps at most `keep` earlier
    live tokens of that name: older ones, and dead ones of that name, are deleted. For a
    client that asks for a token each time it starts (AMS's `authx509` route, where only
    the SHA-256 of earlier secrets is known, so none can be handed out again): its tokens
    stay bounded, and a run still using the previous token is not cut off. Platform
    administrators only (the platform, for a caller proved some other way)."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    if keep < 0:
        raise ValueError("keep: 0 or more")
    user = user_by_subject(session, user_subject, create=True)
    current = now or utcnow()
    named = [t for t in _tokens_of(session, pk(user)) if t.name == name]
    kept = [t for t in named if _is_live(t, current)][-keep:] if keep else []
    for token in named:
        if token not in kept:
            session.delete(token)
    session.flush()
    return create_api_token(session, principal, name=name, user_subject=user.subject, now=current)


def _live_token(session: Session, secret: str, now: datetime) -> tuple[ApiToken, User]:
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(secret))  # type: ignore[arg-type]
    ).first()
    if found is None or not _is_live(found[0], now):
        raise Unauthenticated("invalid API token")
    return found[0], found[1]


def _use_is_recorded(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is not None and now - token.last_used_at <= LAST_USED_GRANULARITY


def user_for_api_token(session: Session, secret: str, *, now: datetime | None = None) -> User:
    """The user a presented secret stands for; refused when unknown, revoked or expired.
    Records the token's use (at most once per LAST_USED_GRANULARITY)."""
    current = now or utcnow()
    token, user = _live_token(session, secret, current)
    if not _use_is_recorded(token, current):
        token.last_used_at = current
        session.flush()
    return user


def recheck_api_token(
    session: Session,
    secret: str,
    *,
    user_id: int | None,
    was_admin: bool,
    now: datetime | None = None,
) -> None:
    """Whether a token accepted earlier still stands: live, for the same user, and that user
    no less privileged than then. Reads only (a live stream asks on every event).
    Unauthenticated when the token ended, Forbidden when the user lost administration."""
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(secret))  # type: ignore[arg-type]
    ).first()
    if found is None or not _is_live(found[0], now or utcnow()) or pk(found[1]) != user_id:
        raise Unauthenticated("the API token was revoked or has expired")
    if was_admin and not found[1].is_admin:
        raise Forbidden("no longer a platform administrator")


def _token_principal(user: User) -> Principal:
    # No entitlements travel with an API token: VO memberships and assurance are empty,
    # platform administration comes from the user record only.
    return Principal(
        subject=user.subject,
        name=user.name,
        email=user.email,
        is_admin=user.is_admin,
        user_id=pk(user),
    )


def principal_from_api_token(session: Session, secret: str) -> Principal:
    return _token_principal(user_for_api_token(session, secret))


def lookup_principal_from_api_token(
    session: Session, secret: str, *, now: datetime | None = None
) -> Principal | None:
    """principal_from_api_token without writing, for a read-only transaction: None when
    the token's use is due to be recorded, which principal_from_api_token then does in a
    transaction of its own. Refused tokens are refused here already."""
    current = now or utcnow()
    token, user = _live_token(session, secret, current)
    return _token_principal(user) if _use_is_recorded(token, current) else None
