"""Downtime notification subscriptions: the anonymous caller gets UNAUTHENTICATED, another
user reaching for someone's subscription gets NOT_FOUND (others' subscriptions are not
theirs to know of), and neither writes anything."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import Callers
from tests.refusals import assert_refused


@pytest.fixture
def made(callers: Callers, session: Session) -> tuple[dict[str, Any], str]:
    """Alice's subscription to a demo site, and the values that subscribe to it."""
    site = session.execute(text("SELECT short_name FROM site ORDER BY id LIMIT 1")).scalar_one()
    values = {"name": "mine", "site": site, "events": ["DECLARED"], "email": True}
    made = callers.as_user("alice@egi.eu").data(
        "mutation($i: SubscribeToDowntimesInput!) {"
        " subscribeToDowntimes(input: $i) { subscription { id } } }",
        {"i": values},
    )
    return values, made["subscribeToDowntimes"]["subscription"]["id"]


def _values(name: str, made: tuple[dict[str, Any], str]) -> dict[str, Any]:
    values, sub_id = made
    if name == "subscribeToDowntimes":
        return {"input": values}
    if name == "updateDowntimeSubscription":
        return {"input": {**values, "id": sub_id, "name": "taken over"}}
    return {"input": {"id": sub_id}}


# any signed-in caller may subscribe (to what anybody may read): no wrong caller exists
WRONG = {"updateDowntimeSubscription": "NOT_FOUND", "deleteDowntimeSubscription": "NOT_FOUND"}
MUTATIONS = frozenset({"subscribeToDowntimes", *WRONG})
NO_WRONG_CALLER = MUTATIONS - WRONG.keys()


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_anonymous_is_unauthenticated_and_writes_nothing(
    callers: Callers, session: Session, made: tuple[dict[str, Any], str], name: str
) -> None:
    assert_refused(callers.anonymous, session, name, _values(name, made), "UNAUTHENTICATED")


@pytest.mark.parametrize("name", sorted(WRONG))
def test_another_user_finds_nothing_and_writes_nothing(
    callers: Callers, session: Session, made: tuple[dict[str, Any], str], name: str
) -> None:
    bob = callers.as_user("bob@egi.eu")
    bob.data("{ viewer { subject } }")  # first sight writes the user row: not the case's
    assert_refused(bob, session, name, _values(name, made), WRONG[name])
