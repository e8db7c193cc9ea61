"""Who may change the monitoring catalogue: platform administrators; everyone else is
refused with a reason, the anonymous caller before any policy."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from domains.common.authz import authorize, can, refusal
from domains.common.errors import Forbidden, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.monitoring.rules import Action

ALICE = Principal(subject="alice", user_id=1)
ADMIN = Principal(subject="root", user_id=2, is_admin=True)
NO_SESSION: Session = Session()  # the policy never reads the database


@pytest.mark.parametrize("action", [Action.MANAGE_CATALOGUE])
def test_only_platform_administrators_may_change_the_catalogue(action: Action) -> None:
    with pytest.raises(Unauthenticated):
        authorize(NO_SESSION, ANONYMOUS, action)
    with pytest.raises(Forbidden, match="only platform administrators"):
        authorize(NO_SESSION, ALICE, action)
    assert not can(NO_SESSION, ALICE, action)
    for superuser in (ADMIN, PLATFORM):
        authorize(NO_SESSION, superuser, action)
        assert refusal(NO_SESSION, superuser, action) is None


def test_the_refusal_names_what_was_refused() -> None:
    assert refusal(NO_SESSION, ALICE, Action.MANAGE_CATALOGUE) == (
        "only platform administrators may manage catalogue"
    )
