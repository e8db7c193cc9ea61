"""The one authorization idiom: anonymous callers, superusers, a domain's policy."""

from __future__ import annotations

import enum

import pytest
from sqlalchemy.orm import Session

from domains.common.authz import (
    Caller,
    Permission,
    authorize,
    can,
    permission_of,
    policy,
    refusal,
    requires,
)
from domains.common.errors import Forbidden, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal


class Door(enum.StrEnum):
    OPEN = "OPEN"


@policy(Door)
def _doors(_session: Session, principal: Principal, _action: Door, entity: object) -> str | None:
    return None if entity == principal.subject else f"the door of {entity} is not yours"


ALICE = Principal(subject="alice", user_id=1)
ADMIN = Principal(subject="root", user_id=2, is_admin=True)
# the policies never touch the session in these cases
NO_SESSION: Session = Session()


def test_the_anonymous_caller_is_refused_before_any_policy() -> None:
    with pytest.raises(Unauthenticated):
        authorize(NO_SESSION, ANONYMOUS, Door.OPEN, "alice")
    assert refusal(NO_SESSION, ANONYMOUS, Caller.SIGNED_IN) == "authentication required"
    assert not can(NO_SESSION, ANONYMOUS, Caller.SIGNED_IN)


def test_the_policy_decides_for_a_signed_in_caller_and_gives_its_reason() -> None:
    authorize(NO_SESSION, ALICE, Door.OPEN, "alice")
    with pytest.raises(Forbidden, match="the door of bob is not yours"):
        authorize(NO_SESSION, ALICE, Door.OPEN, "bob")
    assert can(NO_SESSION, ALICE, Door.OPEN, "alice")
    assert not can(NO_SESSION, ALICE, Door.OPEN, "bob")


@pytest.mark.parametrize("superuser", [ADMIN, PLATFORM])
def test_a_superuser_may_do_anything(superuser: Principal) -> None:
    authorize(NO_SESSION, superuser, Door.OPEN, "bob")
    authorize(NO_SESSION, superuser, Caller.PLATFORM_ADMIN)


def test_caller_actions() -> None:
    authorize(NO_SESSION, ALICE, Caller.SIGNED_IN)
    with pytest.raises(Forbidden, match="only platform administrators"):
        authorize(NO_SESSION, ALICE, Caller.PLATFORM_ADMIN)


def test_an_enum_without_policy_is_a_bug_not_a_refusal() -> None:
    class Stray(enum.StrEnum):
        X = "X"

    with pytest.raises(TypeError, match="no policy"):
        can(NO_SESSION, ALICE, Stray.X)


def test_one_policy_per_enum() -> None:
    with pytest.raises(TypeError, match="already has a policy"):
        policy(Door)(_doors)


def test_requires_marks_the_resolver() -> None:
    @requires(Door.OPEN, on="the door of input.id")
    def resolver() -> None:
        return None

    def bare() -> None:
        return None

    assert permission_of(resolver) == Permission(Door.OPEN, "the door of input.id")
    assert permission_of(bare) is None
