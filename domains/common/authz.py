"""One authorization idiom for every domain.

A service function that writes, or reads what is not public, begins with

    authorize(session, principal, Action.X, entity)

where `Action` is the domain's enum of actions (in its `rules.py`) and `entity` the row the
action is on (a site, a topic, a downtime; None for actions on nothing in particular, such
as creating one's own API token). `authorize` refuses the anonymous caller
(Unauthenticated), lets a superuser (the platform, a platform administrator) do anything,
and otherwise asks the policy its domain registered for that enum (`@policy(Action)`),
raising Forbidden with the policy's reason. `can(...)` asks the same question without
raising: masking of personal data and the `viewerCan…` fields use it, so no rule is
written twice.

Two actions belong to no domain (`Caller`): SIGNED_IN (any authenticated caller, acting
on their own things) and PLATFORM_ADMIN (platform administrators only).

Mutations declare what they need with `@requires(action, on=...)` under
`@strawberry.mutation`; the declaration is what the permission meta-test
(tests/test_permissions.py) and the front end's `viewerCan…` fields read. The service
still calls `authorize` itself: the declaration documents, the service enforces.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from domains.common.errors import Forbidden, Unauthenticated
from domains.common.identity import Principal

# (session, principal, action, entity) -> None when allowed, else the reason it is not.
# Called only for an authenticated caller who is not a superuser.
Policy = Callable[[Session, Principal, Any, Any], str | None]

_POLICIES: dict[type[enum.Enum], Policy] = {}

F = TypeVar("F", bound=Callable[..., Any])


class Caller(enum.StrEnum):
    """Actions that depend only on who the caller is."""

    SIGNED_IN = "SIGNED_IN"
    # signed in as a user with an account: not a client certificate linked to no user
    REGISTERED_USER = "REGISTERED_USER"
    PLATFORM_ADMIN = "PLATFORM_ADMIN"


def policy(actions: type[enum.Enum]) -> Callable[[Policy], Policy]:
    """Register the function deciding the actions of one domain's enum."""

    def register(decide: Policy) -> Policy:
        if actions in _POLICIES:
            raise TypeError(f"{actions.__name__} already has a policy")
        _POLICIES[actions] = decide
        return decide

    return register


def _caller_policy(
    _session: Session, principal: Principal, action: Caller, _entity: object
) -> str | None:
    # reached only by an authenticated non-superuser
    if action is Caller.PLATFORM_ADMIN:
        return "only platform administrators may do this"
    if action is Caller.REGISTERED_USER and principal.user_id is None:
        return "only registered users may do this (this certificate is linked to no user)"
    return None


_POLICIES[Caller] = _caller_policy


def refusal(
    session: Session, principal: Principal, action: enum.Enum, entity: object = None
) -> str | None:
    """Why `principal` may not do `action` on `entity`; None when it may."""
    if principal.is_anonymous:
        return "authentication required"
    if principal.is_superuser:
        return None
    decide = _POLICIES.get(type(action))
    if decide is None:
        raise TypeError(f"no policy is registered for {type(action).__name__}")
    return decide(session, principal, action, entity)


def can(session: Session, principal: Principal, action: enum.Enum, entity: object = None) -> bool:
    return refusal(session, principal, action, entity) is None


def authorize(
    session: Session, principal: Principal, action: enum.Enum, entity: object = None
) -> None:
    """Unauthenticated for the anonymous caller; Forbidden, with the policy's reason, for a
    caller who may not; nothing for one who may."""
    if principal.is_anonymous:
        raise Unauthenticated("authentication required")
    reason = refusal(session, principal, action, entity)
    if reason is not None:
        raise Forbidden(reason)


@dataclass(frozen=True, slots=True)
class Permission:
    """What a mutation needs: `action`, checked on `on` (in words, e.g. "the NGI of
    input.ngiId"; empty for Caller actions)."""

    action: enum.Enum
    on: str = ""


def requires(action: enum.Enum, *, on: str = "") -> Callable[[F], F]:
    """Declare the permission a mutation resolver needs (put it under @strawberry.mutation)."""

    def mark(resolver: F) -> F:
        resolver.__permission__ = Permission(action, on)  # type: ignore[attr-defined]
        return resolver

    return mark


def permission_of(resolver: object) -> Permission | None:
    found = getattr(resolver, "__permission__", None)
    return found if isinstance(found, Permission) else None
